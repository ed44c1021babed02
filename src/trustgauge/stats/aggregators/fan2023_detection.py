"""Aggregator of generated-text detection (``tasks/fan2023/generated_text_detection.py``): how
well each zero-shot detector tells the model's continuations from the human ones.

Each scored sample is one human passage and carries both texts' scores: ``values["human:D"]``
and ``values["model:D"]`` for each detector ``D`` (higher = machine-generated; ``None`` where
not scored), ``values["human_tokens"]`` and ``values["model_tokens"]`` (tokens scored), and
its source in ``sample.metadata["source"]``. Human texts are the negatives, the model's the
positives. AUROC, TPR at 1% FPR and their bootstrap intervals are the membership aggregator's
(:func:`~trustgauge.stats.aggregators.fan2023_membership.attack_metrics`, over
:mod:`trustgauge.stats.roc`).

:func:`roc_curves` gives each detector's ROC points (thinned) for the report's curves; it is
computed from the same samples (``samples.jsonl``), so a stored run can be drawn again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trustgauge.stats import roc
from trustgauge.stats.aggregators.fan2023_membership import attack_metrics
from trustgauge.stats.aggregators.registry import Params, Scored, register_aggregator
from trustgauge.types import MetricValue

#: the false-positive rate a TPR is reported at (human texts wrongly flagged), with its name
FPRS = ((0.01, "tpr@1%fpr"),)
#: why a detector has no score, when no text has it
MISSING = {
    "binoculars": "undefined: Binoculars needs an observer model sharing the target's tokenizer "
                  "(hf: option observer=SPEC); binoculars_self is the one-model ratio",
    "log_rank": "undefined: no text has this score (it needs token ranks: the hf: backend gives them)",
    "fast_detectgpt": "undefined: no text has this score (it needs the next-token distribution: the hf: backend gives it)",
    "binoculars_self": "undefined: no text has this score (it needs the next-token distribution: the hf: backend gives it)",
}


@dataclass(frozen=True)
class Text:
    """One scored text: its detector score, whether the model wrote it, its groups."""

    score: float
    machine: bool
    source: str
    length: str


def length_name(tokens: float, lengths: Sequence[Sequence[Any]]) -> str:
    """The name of the first ``[name, fewest, most]`` bucket (``most`` ``None``: no bound)
    holding ``tokens``; ``"other"`` when none does."""
    for name, least, most in lengths:
        if tokens >= least and (most is None or tokens <= most):
            return str(name)
    return "other"


def texts(scored: Scored, detector: str, lengths: Sequence[Sequence[Any]]) -> tuple[list[Text], int]:
    """Both texts of every valid sample that have ``detector``'s score, and how many texts
    (two per sample given) do not."""
    out: list[Text] = []
    for sample, score in scored:
        if not score.valid:
            continue
        source = str(sample.metadata.get("source", "other"))
        for side, machine in (("human", False), ("model", True)):
            value = score.values.get(f"{side}:{detector}")
            if value is not None:
                tokens = score.values.get(f"{side}_tokens") or 0.0
                out.append(Text(float(value), machine, source, length_name(tokens, lengths)))
    return out, 2 * len(scored) - len(out)


def _metrics(name: str, chosen: Sequence[Text], n_invalid: int, missing: str) -> list[MetricValue]:
    return attack_metrics(name, [t.score for t in chosen], [t.machine for t in chosen], n_invalid, missing,
                          fprs=FPRS, positives="model texts", negatives="human texts", direction="higher")


@register_aggregator("fan2023.detection@1")
def detection_v1(scored: Scored, params: Params) -> list[MetricValue]:
    """``auroc`` (primary: the strongest detector's AUROC, with its interval; higher is better:
    the model's text can be told apart, 0.5 is chance; the strongest is chosen on the same
    texts, so the headline is optimistic), then ``auroc[D]`` and ``tpr@1%fpr[D]`` per detector
    of ``params["detectors"]``, then the same per source (``auroc[D/news]``) and per length
    bucket of ``params["lengths"]`` (``auroc[D/tokens_0-63]``; a text falls in the bucket of
    its own tokens scored). Undefined, with the reason, without both kinds of text or with
    fewer than 100 human texts for the 1% FPR."""
    detectors: list[str] = list(params["detectors"])
    sources: list[str] = list(params["sources"])
    lengths: list[list[Any]] = [list(b) for b in params["lengths"]]
    overall: list[MetricValue] = []
    grouped: list[MetricValue] = []
    for detector in detectors:
        chosen, invalid = texts(scored, detector, lengths)
        missing = MISSING.get(detector, "undefined: no text has this score")
        overall += _metrics(detector, chosen, invalid, missing)
        for source in sources:
            part = [t for t in chosen if t.source == source]
            grouped += _metrics(f"{detector}/{source}", part, 0, f"undefined: no {source} text has this score")
        for name, _, _ in lengths:
            part = [t for t in chosen if t.length == name]
            grouped += _metrics(f"{detector}/{name}", part, 0, f"undefined: no text of {name} has this score")
    aurocs = [m for m in overall if m.base_metric == "auroc" and m.value is not None]
    if aurocs:
        best = max(aurocs, key=lambda m: m.value or 0.0)
        headline = best.model_copy(update={"metric": "auroc"})
    else:
        headline = MetricValue(metric="auroc", value=None, direction="higher", n=len(scored), n_invalid=len(scored),
                               reason="undefined: no detector could be scored")
    return [headline, *overall, *grouped]


def _thin(points: Sequence[float], keep: Sequence[int]) -> list[float]:
    return [round(float(points[i]), 6) for i in keep]


def roc_curves(scored: Scored, params: Params, *, max_points: int = 101) -> dict[str, dict[str, Any]]:
    """Each detector's ROC curve for the report: ``{detector: {"fpr": [...], "tpr": [...],
    "auroc": float, "n_human": int, "n_model": int}}`` (points from (0, 0) to (1, 1), at most
    ``max_points``, evenly thinned keeping both ends); a detector without both kinds of text
    is left out."""
    lengths: list[list[Any]] = [list(b) for b in params.get("lengths", [])]
    out: dict[str, dict[str, Any]] = {}
    for detector in params["detectors"]:
        chosen, _ = texts(scored, detector, lengths)
        scores, labels = [t.score for t in chosen], [t.machine for t in chosen]
        curve = roc.roc_curve(scores, labels)
        if curve is None:
            continue
        n = len(curve.fpr)
        keep = list(range(n)) if n <= max_points else sorted({round(i * (n - 1) / (max_points - 1)) for i in range(max_points)})
        out[detector] = {
            "fpr": _thin(curve.fpr, keep), "tpr": _thin(curve.tpr, keep), "auroc": roc.auroc(scores, labels),
            "n_human": labels.count(False), "n_model": labels.count(True),
        }
    return out

