"""The report's privacy section (Fan et al.'s privacy probes, ``tasks/fan2023``): ROC curves of
the membership-inference attacks rebuilt from ``samples.jsonl``, the shift check next to them,
and the leak and extraction rates of the other privacy probes with their intervals, per attack
family or PII type, with each probe's worst examples.

Only numbers, metric names, task ids and the samples' own text reach the page; the template
autoescapes every one of them (model output is untrusted text).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from trustgauge.results.schema import SampleRecord, ScoresFile, TaskScores
from trustgauge.stats.roc import roc_curve
from trustgauge.types import MetricValue

#: aggregators whose tasks get ROC curves
MEMBERSHIP_AGGREGATORS = ("fan2023.membership@",)
#: a task is in the privacy section when it is tagged with one of Fan et al.'s privacy items
PRIVACY_TAG = "fan2023:privacy/"
SIZE = (380, 320)
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 14, 14, 42
#: most points drawn per curve (the curve is thinned evenly beyond that)
MAX_POINTS = 240
#: examples shown per probe
WORST = 3
#: characters of a prompt or response shown in the section (the explorer has the rest)
CAP = 400


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_POINTS:
        return points
    step = (len(points) - 1) / (MAX_POINTS - 1)
    return [points[round(i * step)] for i in range(MAX_POINTS)]


def roc_plot(task: TaskScores, samples: Sequence[SampleRecord]) -> dict[str, Any] | None:
    """SVG geometry of one membership task's ROC curves (one per attack with a score), or
    ``None`` when no attack has both classes scored."""
    w, h = SIZE
    pw, ph = w - _LEFT - _RIGHT, h - _TOP - _BOTTOM

    def sx(v: float) -> float:
        return round(_LEFT + v * pw, 2)

    def sy(v: float) -> float:
        return round(_TOP + (1 - v) * ph, 2)

    attacks = [str(a) for a in (task.aggregator_params or {}).get("attacks", [])]
    aurocs = {m.metric: m for m in task.metrics}
    mine = [s for s in samples if s.task == task.task and s.valid and s.response is not None]
    series = []
    for attack in attacks:
        pairs = [(s.score.get(attack), bool(s.target)) for s in mine]
        usable = [(v, y) for v, y in pairs if isinstance(v, (int, float))]
        curve = roc_curve([float(v) for v, _ in usable], [y for _, y in usable]) if usable else None
        if curve is None:
            continue
        points = _thin(list(zip(curve.fpr, curve.tpr)))
        metric = aurocs.get(f"auroc[{attack}]")
        value = metric.value if metric is not None else None
        series.append({
            "name": attack,
            "auroc": value,
            "path": " ".join(f"{sx(f)},{sy(t)}" for f, t in points),
            "label": f"{attack}: AUROC {value:.3f}" if value is not None else attack,
        })
    if not series:
        return None
    ticks = [{"v": f"{v:g}", "x": sx(v), "y": sy(v)} for v in (0, 0.25, 0.5, 0.75, 1)]
    shift = {m.metric: m.value for m in task.metrics if m.metric in ("shift_auroc", "shift_p", "shifted")}
    return {
        "task": task.task, "w": w, "h": h, "left": _LEFT, "top": _TOP, "pw": pw, "ph": ph,
        "right": _LEFT + pw, "bottom": _TOP + ph, "ticks": ticks, "series": series,
        "diag": {"x0": sx(0), "y0": sy(0), "x1": sx(1), "y1": sy(1)},
        "members": sum(1 for s in mine if s.target), "nonmembers": sum(1 for s in mine if not s.target),
        "shift_auroc": shift.get("shift_auroc"), "shift_p": shift.get("shift_p"),
        "shifted": shift.get("shifted") == 1.0,
    }


def _rows(task: TaskScores) -> list[MetricValue]:
    """The task's headline metric, then every metric of the same base name per group; a headline
    without groups is followed by the task's other metrics instead."""
    if not task.metrics:
        return []
    head = task.metrics[0]
    groups = [m for m in task.metrics[1:] if m.base_metric == head.base_metric and m.group is not None]
    return [head, *(groups or task.metrics[1:])]


def _cut(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= CAP else text[:CAP] + " …"


def privacy_section(
    scores: ScoresFile, samples: Sequence[SampleRecord], tags: Mapping[str, Iterable[str]] | None
) -> dict[str, Any] | None:
    """What the privacy section shows, or ``None`` when the run has no task tagged with one of Fan
    et al.'s privacy items (``tags``: each task's taxonomy tags): ``roc`` (plots of the membership
    tasks), ``probes`` (per other probe: its headline and per-group rates with intervals, and up
    to :data:`WORST` failing examples)."""
    tagged = {t for t, ts in (tags or {}).items() if any(str(x).startswith(PRIVACY_TAG) for x in ts)}
    tasks = [t for t in scores.tasks if t.task in tagged and t.dimension == "fan2023"]
    if not tasks:
        return None
    roc = []
    probes = []
    for task in tasks:
        if (task.aggregator or "").startswith(MEMBERSHIP_AGGREGATORS):
            plot = roc_plot(task, samples)
            if plot is not None:
                roc.append(plot)
            continue
        failing = [s for s in samples if s.task == task.task and s.outcome == "fail"][:WORST]
        probes.append({
            "task": task.task, "title": task.title, "rows": _rows(task),
            "examples": [{"id": s.sample_id, "prompt": _cut(s.prompt), "response": _cut(s.response),
                          "label": s.label} for s in failing],
        })
    return {"roc": roc, "probes": probes}
