"""ROC analysis of a score that should separate two classes (members from non-members):
AUROC, the TPR at a fixed low FPR, the curve itself, and bootstrap intervals (pure functions).

Scores are oriented "higher means positive" (:mod:`trustgauge.stats.membership`); labels are
``True`` for a positive (a member). Ties are handled as scikit-learn does: equal scores form one
threshold, and AUROC counts a tied positive-negative pair as one half.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trustgauge.stats.metrics import bootstrap_ci, ranks

__all__ = ["RocCurve", "auroc", "bootstrap_roc", "roc_curve", "tpr_at_fpr", "with_ci"]


@dataclass(frozen=True)
class RocCurve:
    """The curve's points, from (0, 0) to (1, 1), one per distinct threshold."""

    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    thresholds: tuple[float, ...]


def _check(scores: Sequence[float], labels: Sequence[bool]) -> tuple[int, int]:
    if len(scores) != len(labels):
        raise ValueError("one label per score")
    if any(math.isnan(s) for s in scores):
        raise ValueError("a score is NaN")
    positives = sum(1 for label in labels if label)
    return positives, len(labels) - positives


def roc_curve(scores: Sequence[float], labels: Sequence[bool]) -> RocCurve | None:
    """The ROC curve (every distinct threshold, highest first, after a first point at (0, 0)
    with threshold +inf); ``None`` without both classes."""
    pos, neg = _check(scores, labels)
    if pos == 0 or neg == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    fpr, tpr, thresholds = [0.0], [0.0], [math.inf]
    tp = fp = 0
    for j, i in enumerate(order):
        if labels[i]:
            tp += 1
        else:
            fp += 1
        last = j == len(order) - 1
        if last or scores[order[j + 1]] != scores[i]:
            fpr.append(fp / neg)
            tpr.append(tp / pos)
            thresholds.append(scores[i])
    return RocCurve(tuple(fpr), tuple(tpr), tuple(thresholds))


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The area under the ROC curve: the probability that a random positive scores above a
    random negative (a tie counts one half); ``None`` without both classes."""
    pos, neg = _check(scores, labels)
    if pos == 0 or neg == 0:
        return None
    # rank-sum (Mann-Whitney U) with mid-ranks for ties
    rank_sum = math.fsum(r for r, label in zip(ranks(scores), labels) if label)
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def tpr_at_fpr(scores: Sequence[float], labels: Sequence[bool], fpr: float) -> float | None:
    """The highest TPR of a threshold whose FPR is at most ``fpr`` (e.g. 0.01: the share of
    members caught while wrongly flagging at most 1% of non-members; Carlini et al. 2022);
    ``None`` without both classes."""
    curve = roc_curve(scores, labels)
    if curve is None:
        return None
    return max(t for f, t in zip(curve.fpr, curve.tpr) if f <= fpr + 1e-12)


def with_ci(
    statistic: str, scores: Sequence[float], labels: Sequence[bool], *, fpr: float = 0.01, n_boot: int = 1000,
    seed: int = 0, alpha: float = 0.05,
) -> tuple[float | None, tuple[float, float] | None]:
    """``auroc`` or ``tpr_at_fpr`` with a percentile-bootstrap interval (texts resampled with
    replacement; a resample lacking a class is skipped)."""
    items = list(zip(scores, labels))

    def stat(sample: Sequence[tuple[float, bool]]) -> float | None:
        s = [x for x, _ in sample]
        lab = [y for _, y in sample]
        return auroc(s, lab) if statistic == "auroc" else tpr_at_fpr(s, lab, fpr)

    if statistic not in ("auroc", "tpr_at_fpr"):
        raise ValueError(f"unknown statistic {statistic!r}")
    return stat(items), bootstrap_ci(items, stat, n_boot=n_boot, seed=seed, alpha=alpha)


def _row_stats(scores: Any, labels: Any, fprs: Sequence[float]) -> list[float] | None:
    """AUROC and the TPR at each FPR of one resample (numpy arrays), as :func:`auroc` and
    :func:`tpr_at_fpr` compute them; ``None`` without both classes."""
    import numpy as np
    from scipy.stats import rankdata

    pos = int(labels.sum())
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return None
    ranks = rankdata(scores)  # mid-ranks for ties
    out = [float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))]
    negatives = np.sort(scores[~labels])[::-1]
    positives = scores[labels]
    for fpr in fprs:
        allowed = math.floor(fpr * neg + 1e-12)  # negatives a threshold may let through
        if allowed >= neg:
            out.append(1.0)
        else:
            # the best threshold sits just above the (allowed + 1)-th highest negative score
            out.append(float((positives > negatives[allowed]).sum() / pos))
    return out


def bootstrap_roc(
    scores: Sequence[float], labels: Sequence[bool], fprs: Sequence[float] = (0.01, 0.001), *,
    n_boot: int = 1000, seed: int = 0, alpha: float = 0.05,
) -> list[tuple[float, float] | None]:
    """Percentile-bootstrap intervals of the AUROC and of the TPR at each of ``fprs``, from one
    set of resamples (texts drawn with replacement, the draws :func:`with_ci` makes; a resample
    lacking a class is skipped): vectorised, for thousands of texts. Each interval is ``None``
    when fewer than half the resamples define it, or with fewer than 2 texts."""
    import numpy as np

    n = len(scores)
    if n != len(labels):
        raise ValueError("one label per score")
    if n < 2:
        return [None] * (1 + len(fprs))
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray([bool(v) for v in labels])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    rows = [r for r in (_row_stats(x[d], y[d], fprs) for d in draws) if r is not None]
    if len(rows) * 2 < n_boot:
        return [None] * (1 + len(fprs))
    table = np.asarray(rows)
    lo, hi = np.quantile(table, [alpha / 2, 1 - alpha / 2], axis=0)
    return [(float(a), float(b)) for a, b in zip(lo, hi)]
