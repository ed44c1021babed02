"""Calibration of stated confidence against what a model actually does (Liu et al.'s
miscalibration study, ``tasks/liu2023/miscalibration.py``), as pure functions over pairs
``(stated, observed)`` in [0, 1]: one pair per question and answer option, the option's mean
stated confidence over a question's draws against the share of draws that chose it.

- :func:`mean_abs_gap`: mean ``|stated − observed|`` (the paper's headline number);
- :func:`gap_share`: share of pairs whose gap exceeds a threshold (the paper counts gaps
  above 0.05);
- :func:`wasserstein`: the 1-D Wasserstein (earth mover's) distance between the multiset of
  stated values and the multiset of observed ones (the paper's ``scipy.stats.wasserstein_distance``
  of the two pooled columns);
- :func:`ece`: the expected calibration error over equal-width bins of the stated value;
- :func:`reliability_bins`: the bins behind :func:`ece`, for a reliability diagram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

Pair = tuple[float, float]


def mean_abs_gap(pairs: Sequence[Pair]) -> float | None:
    """Mean of ``|stated − observed|``; ``None`` without pairs."""
    if not pairs:
        return None
    return sum(abs(s - o) for s, o in pairs) / len(pairs)


def gap_share(pairs: Sequence[Pair], threshold: float = 0.05) -> float | None:
    """Share of pairs with ``|stated − observed| > threshold``; ``None`` without pairs. A gap
    within 1e-9 of the threshold is not above it (0.8 − 0.75 is 0.05000000000000004 in floats)."""
    if not pairs:
        return None
    return sum(1 for s, o in pairs if abs(s - o) > threshold + 1e-9) / len(pairs)


def wasserstein(a: Sequence[float], b: Sequence[float]) -> float | None:
    """1-D Wasserstein-1 distance between two empirical distributions: the area between their
    distribution functions (what ``scipy.stats.wasserstein_distance(a, b)`` returns).
    ``None`` when either is empty."""
    if not a or not b:
        return None
    xs, ys = sorted(a), sorted(b)
    points = sorted(set(xs) | set(ys))
    total = 0.0
    i = j = 0
    for left, right in pairwise(points):
        while i < len(xs) and xs[i] <= left:
            i += 1
        while j < len(ys) and ys[j] <= left:
            j += 1
        total += abs(i / len(xs) - j / len(ys)) * (right - left)
    return total


@dataclass(frozen=True)
class Bin:
    """One bin of a reliability diagram: its range, how many pairs fall in it and their mean
    stated and observed values (``None`` for an empty bin)."""

    low: float
    high: float
    n: int
    stated: float | None
    observed: float | None


def reliability_bins(pairs: Sequence[Pair], bins: int = 10) -> list[Bin]:
    """``bins`` equal-width bins of the stated value over [0, 1] (each ``[low, high)``, the last
    one closed: a stated 1.0 falls in the top bin)."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    members: list[list[Pair]] = [[] for _ in range(bins)]
    for s, o in pairs:
        members[min(int(s * bins), bins - 1)].append((s, o))
    out = []
    for k, inside in enumerate(members):
        n = len(inside)
        out.append(Bin(
            low=k / bins, high=(k + 1) / bins, n=n,
            stated=sum(s for s, _ in inside) / n if n else None,
            observed=sum(o for _, o in inside) / n if n else None,
        ))
    return out


def ece(pairs: Sequence[Pair], bins: int = 10) -> float | None:
    """Expected calibration error: over :func:`reliability_bins`, the mean of
    ``|mean stated − mean observed|`` per bin weighted by the bin's share of pairs.
    ``None`` without pairs."""
    if not pairs:
        return None
    return sum(
        b.n / len(pairs) * abs(b.stated - b.observed)
        for b in reliability_bins(pairs, bins)
        if b.n and b.stated is not None and b.observed is not None
    )
