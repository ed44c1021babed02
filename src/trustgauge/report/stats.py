"""Statistics for comparing runs and ranking models: pure functions, seeded, no I/O.

- :func:`mcnemar_exact_p`: exact (binomial) McNemar test for paired binary outcomes.
- :func:`sign_flip_p`: paired permutation test (random sign flips of the differences), flipping
  whole clusters (sample groups) when given.
- :func:`cluster_mcnemar_p`: exact McNemar test for clustered paired 0/1 outcomes (whole
  clusters swapped); reduces to :func:`mcnemar_exact_p` when every cluster is one pair.
- :func:`cluster_bootstrap_mean_ci`: percentile interval of a mean paired difference,
  resampling whole clusters (sample groups) when given.
- :func:`holm`: Holm's step-down adjustment for many p-values.
- :func:`competition_ranks`: ranks where ties share the best rank ("1224"), missing last.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

#: resamples / permutations when the caller does not say
DEFAULT_RESAMPLES = 1000
DEFAULT_PERMUTATIONS = 10000


def mcnemar_exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar test.

    ``b`` = pairs where the first run scored 1 and the second 0, ``c`` = the reverse (the
    discordant pairs; concordant pairs carry no information). Under the null hypothesis each
    discordant pair goes either way with probability 1/2, so ``min(b, c)`` is binomial
    ``(b + c, 1/2)`` and ``p = min(1, 2 · P(X <= min(b, c)))``. No discordant pair: ``p = 1``.
    """
    if b < 0 or c < 0:
        raise ValueError(f"counts must be non-negative, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    if n <= 2000:  # exact integer arithmetic (int / int is correctly rounded)
        tail = sum(math.comb(n, i) for i in range(k + 1)) / (1 << n)
    else:
        from scipy.stats import binom

        tail = float(binom.cdf(k, n, 0.5))
    return min(1.0, 2.0 * tail)


def sign_flip_p(
    diffs: Sequence[float],
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    clusters: Sequence[str] | None = None,
) -> float:
    """Two-sided paired permutation test of a zero mean difference.

    Under the null hypothesis the two members of each pair are exchangeable, so each difference
    is as likely to have either sign. With ``clusters`` (one label per difference: sample groups
    such as AdvGLUE's original/modified pairs) the pairs of a cluster are not independent and a
    whole cluster is swapped at once: the test flips the signs of the clusters' sums of
    differences instead (each difference its own cluster when ``None``, and singleton clusters
    give exactly the same p-value). The statistic is ``|sum(d)|`` (``|mean(d)|`` times the fixed
    count); with 12 or fewer non-zero (cluster) differences every sign pattern is enumerated
    (exact p), otherwise ``n_permutations`` random patterns are drawn (seeded) and
    ``p = (1 + #{|mean*| >= |mean|}) / (1 + n_permutations)``. No non-zero difference: ``p = 1``.
    """
    if clusters is not None:
        diffs = cluster_sums(diffs, clusters).tolist()
    d = np.asarray([x for x in diffs if x != 0.0], dtype=float)
    n_total = len(diffs)
    if len(d) == 0 or n_total == 0:
        return 1.0
    observed = abs(float(d.sum()))
    tol = 1e-12 * max(1.0, observed)
    if len(d) <= 12:
        signs = np.array(
            [[1.0 if (mask >> i) & 1 else -1.0 for i in range(len(d))] for mask in range(2 ** len(d))]
        )
        sums = np.abs(signs @ d)
        return float(np.mean(sums >= observed - tol))
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    chunk = 1000
    while done < n_permutations:
        size = min(chunk, n_permutations - done)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(size, len(d)))
        hits += int(np.sum(np.abs(signs @ d) >= observed - tol))
        done += size
    return (1 + hits) / (1 + n_permutations)


def cluster_sums(values: Sequence[float], clusters: Sequence[str] | None) -> NDArray[np.float64]:
    """The sum of ``values`` per cluster, clusters in order of first appearance (the values
    themselves, in order, when ``clusters`` is ``None`` or every cluster is a singleton)."""
    x = np.asarray(values, dtype=float)
    return np.array([x[g].sum() for g in _clusters(len(x), clusters)], dtype=float)


def cluster_mcnemar_p(
    xs: Sequence[float], ys: Sequence[float], clusters: Sequence[str] | None = None
) -> float:
    """Two-sided exact McNemar test for paired 0/1 outcomes that come in clusters.

    ``xs`` and ``ys`` are the first and second run's 0/1 outcomes of the same items; items of one
    cluster (a sample group) are not independent. Under the null hypothesis the two runs'
    outcomes are exchangeable cluster by cluster, so each cluster's difference
    ``D_g = #{x=0,y=1} − #{x=1,y=0}`` is as likely to be ``+D_g`` as ``−D_g``; the statistic is
    ``|Σ D_g|`` and ``p = P(|Σ s_g·D_g| >= |Σ D_g|)`` over the ``2^G`` equally likely sign
    patterns, computed exactly (the ``D_g`` are integers, so the null distribution is built by
    convolution, however many clusters). When every non-zero ``|D_g|`` is 1 (in particular when
    each cluster is one pair) this is the binomial of :func:`mcnemar_exact_p`, which is returned
    (with ``b`` = clusters at −1, ``c`` = clusters at +1): the ordinary McNemar test exactly.
    """
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} first-run outcomes but {len(ys)} second-run outcomes")
    if any(v not in (0.0, 1.0) for v in (*xs, *ys)):
        raise ValueError("McNemar's test needs 0/1 outcomes")
    diffs = [float(y) - float(x) for x, y in zip(xs, ys)]
    sums = [round(v) for v in cluster_sums(diffs, clusters).tolist() if round(v) != 0]
    if all(abs(v) == 1 for v in sums):
        return mcnemar_exact_p(sum(1 for v in sums if v < 0), sum(1 for v in sums if v > 0))
    observed = abs(sum(sums))
    total = sum(abs(v) for v in sums)
    # dist[k] = P(Σ s_g·D_g = k − total) under independent fair signs
    dist = np.zeros(2 * total + 1)
    dist[total] = 1.0
    for v in (abs(v) for v in sums):
        dist = 0.5 * (np.roll(dist, v) + np.roll(dist, -v))  # no wrap-around: |Σ| <= total
    k = np.arange(-total, total + 1)
    return float(min(1.0, dist[np.abs(k) >= observed].sum()))


def _clusters(n: int, clusters: Sequence[str] | None) -> list[list[int]]:
    if clusters is None:
        return [[i] for i in range(n)]
    if len(clusters) != n:
        raise ValueError(f"{n} values but {len(clusters)} cluster labels")
    index: dict[str, list[int]] = {}
    for i, c in enumerate(clusters):
        index.setdefault(c, []).append(i)
    return list(index.values())


def cluster_bootstrap_means(
    values: Sequence[float],
    clusters: Sequence[str] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> NDArray[np.float64]:
    """Bootstrap distribution of ``mean(values)``, resampling whole clusters with replacement
    (each value its own cluster when ``clusters`` is ``None``)."""
    x = np.asarray(values, dtype=float)
    groups = _clusters(len(x), clusters)
    sums = np.array([x[g].sum() for g in groups])
    counts = np.array([len(g) for g in groups], dtype=float)
    rng = np.random.default_rng(seed)
    out = np.empty(n_resamples)
    chunk = max(1, min(n_resamples, 2_000_000 // max(1, len(groups))))
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        draws = rng.integers(0, len(groups), size=(size, len(groups)))
        out[start : start + size] = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    return out


def percentile_ci(
    draws: Sequence[float] | NDArray[np.float64], alpha: float = 0.05
) -> tuple[float, float] | None:
    """The ``alpha/2`` and ``1 - alpha/2`` percentiles of a bootstrap distribution."""
    arr = np.asarray(draws, dtype=float)
    if arr.size == 0:
        return None
    low, high = np.percentile(arr, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)


def cluster_bootstrap_mean_ci(
    values: Sequence[float],
    clusters: Sequence[str] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``mean(values)`` (e.g. paired differences); ``None``
    for fewer than 2 values."""
    if len(values) < 2:
        return None
    return percentile_ci(cluster_bootstrap_means(values, clusters, n_resamples, seed), alpha)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (controls the family-wise error rate): sort
    ascending, ``p_(i) * (m - i)`` (0-based ``i``), running maximum, capped at 1."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, pvalues[i] * (m - rank)))
        adjusted[i] = running
    return adjusted


def competition_ranks(
    values: Sequence[float | None], direction: Literal["higher", "lower"], tol: float = 1e-12
) -> list[int]:
    """Standard competition ranks ("1224"): the best value ranks 1, ties share the best rank
    of their block and the next rank skips; ``None`` (no value) ranks after every value, all
    missing values sharing that last rank."""
    present = [v for v in values if v is not None and not math.isnan(v)]
    ranks: list[int] = []
    for v in values:
        if v is None or math.isnan(v):
            ranks.append(len(present) + 1)
            continue
        if direction == "higher":
            better = sum(1 for w in present if w > v + tol)
        else:
            better = sum(1 for w in present if w < v - tol)
        ranks.append(better + 1)
    return ranks
