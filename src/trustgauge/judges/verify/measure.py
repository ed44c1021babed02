"""Agreement of a judge's verdicts with a labelled set (pure functions).

* Labelled kinds (refusal, harmfulness, attack success, any text labels): accuracy and Cohen's
  kappa of the judge's labels with the set's. A verdict that is not a label (``unparsed``,
  ``error``) stays in: it is a category of its own, so it counts as a disagreement, never as a
  missing row (a judge model that stops answering must not look better).
* Scored kinds (toxicity): Spearman's rho (the verdict's metric, as ``docs/judge-agreement.md``)
  and Pearson's r of the judge's ``score`` with the set's numbers, over the rows with a score;
  rows without one are counted (``unjudged``) and fail the check when they are more than
  :data:`MAX_UNJUDGED` of the set.

Intervals: percentile bootstrap over rows (:func:`trustgauge.stats.metrics.bootstrap_ci`,
:data:`N_BOOT` resamples, seed :data:`SEED`), as ``scripts/judge_agreement_security.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from trustgauge.stats.metrics import bootstrap_ci, cohen_kappa, pearson, spearman
from trustgauge.types import Judgement

__all__ = ["MAX_UNJUDGED", "N_BOOT", "SEED", "Measurement", "measure_labels", "measure_scores", "measure_verdicts"]

N_BOOT = 1000
SEED = 0
#: a scored set fails when more than this share of its rows got no score
MAX_UNJUDGED = 0.05


@dataclass(frozen=True)
class Measurement:
    """What one judge scored on one set."""

    #: rows in the set
    n: int
    #: rows the judge gave no usable verdict (labelled kinds: counted as disagreements)
    unjudged: int
    values: dict[str, float | None] = field(default_factory=dict)
    cis: dict[str, tuple[float, float] | None] = field(default_factory=dict)

    def value(self, metric: str) -> float | None:
        return self.values.get(metric)

    def ci(self, metric: str) -> tuple[float, float] | None:
        return self.cis.get(metric)


LabelPair = tuple[str, str]
ScorePair = tuple[float, float]


def _accuracy(pairs: Sequence[LabelPair]) -> float | None:
    return sum(1 for h, j in pairs if h == j) / len(pairs) if pairs else None


def _kappa(pairs: Sequence[LabelPair]) -> float | None:
    return cohen_kappa([h for h, _ in pairs], [j for _, j in pairs])


def _spearman(pairs: Sequence[ScorePair]) -> float | None:
    return spearman([h for h, _ in pairs], [j for _, j in pairs])


def _pearson(pairs: Sequence[ScorePair]) -> float | None:
    return pearson([h for h, _ in pairs], [j for _, j in pairs])


def _with_intervals(
    pairs: Sequence[LabelPair] | Sequence[ScorePair], metrics: dict[str, Callable[..., float | None]], n_boot: int,
) -> tuple[dict[str, float | None], dict[str, tuple[float, float] | None]]:
    values: dict[str, float | None] = {}
    cis: dict[str, tuple[float, float] | None] = {}
    for name, fn in metrics.items():
        values[name] = fn(pairs)
        cis[name] = bootstrap_ci(pairs, fn, n_boot=n_boot, seed=SEED) if values[name] is not None else None
    return values, cis


def measure_labels(human: Sequence[str], judged: Sequence[str], *, n_boot: int = N_BOOT) -> Measurement:
    """Accuracy and kappa of ``judged`` with ``human`` (same order); judged labels outside the
    human label set (``unparsed``, ``error``) count as disagreements and as ``unjudged``."""
    if len(human) != len(judged):
        raise ValueError(f"{len(human)} labels but {len(judged)} verdicts")
    known = set(human)
    pairs = list(zip(human, judged))
    values, cis = _with_intervals(pairs, {"accuracy": _accuracy, "kappa": _kappa}, n_boot)
    return Measurement(n=len(pairs), unjudged=sum(1 for j in judged if j not in known), values=values, cis=cis)


def measure_scores(human: Sequence[float], scores: Sequence[float | None], *, n_boot: int = N_BOOT) -> Measurement:
    """Spearman and Pearson of ``scores`` with ``human`` over the rows with a score."""
    if len(human) != len(scores):
        raise ValueError(f"{len(human)} labels but {len(scores)} verdicts")
    pairs = [(h, s) for h, s in zip(human, scores) if s is not None]
    values, cis = _with_intervals(pairs, {"spearman": _spearman, "pearson": _pearson}, n_boot)
    return Measurement(n=len(human), unjudged=len(human) - len(pairs), values=values, cis=cis)


def measure_verdicts(
    labels: Sequence[str | float], verdicts: Sequence[Judgement], *, scored: bool, n_boot: int = N_BOOT,
) -> Measurement:
    """:func:`measure_scores` (``scored``) or :func:`measure_labels` of a set's labels and a
    judge's verdicts on its rows."""
    if scored:
        return measure_scores([float(x) for x in labels], [v.score for v in verdicts], n_boot=n_boot)
    return measure_labels([str(x) for x in labels], [v.label for v in verdicts], n_boot=n_boot)
