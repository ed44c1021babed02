"""Reliability diagrams of the calibration tasks (``liu2023.miscalibration``): for each task
scored by ``liu2023.calibration@…``, the (question, option) pairs rebuilt from ``samples.jsonl``
the way the aggregator builds them, binned by the stated confidence (and, where the model gave
log-probabilities, by the letter's token probability), as SVG geometry for the report.

Only numbers and the task id reach the page (autoescaped by the template); no model text does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trustgauge.results.schema import SampleRecord, ScoresFile
from trustgauge.stats.aggregators.liu2023_calibration import questions
from trustgauge.stats.calibration import Bin, reliability_bins
from trustgauge.types import Sample, SampleScore

#: aggregators whose tasks get a reliability diagram
CALIBRATION_AGGREGATORS = ("liu2023.calibration@",)
SIZE = (360, 300)
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 14, 14, 42


def _series(bins: Sequence[Bin], name: str, sx: Any, sy: Any) -> dict[str, Any]:
    points = [
        {"cx": sx(b.stated), "cy": sy(b.observed), "n": b.n,
         "label": f"{name} {b.low:.1f}–{b.high:.1f}: stated {b.stated:.2f}, observed {b.observed:.2f} ({b.n} pairs)"}
        for b in bins if b.n and b.stated is not None and b.observed is not None
    ]
    return {"name": name, "points": points, "path": " ".join(f"{p['cx']},{p['cy']}" for p in points)}


def reliability_plots(scores: ScoresFile, samples: Sequence[SampleRecord]) -> list[dict[str, Any]]:
    """One plot per calibration task of the run that has scored pairs (none: an empty list)."""
    out = []
    w, h = SIZE
    pw, ph = w - _LEFT - _RIGHT, h - _TOP - _BOTTOM

    def sx(v: float) -> float:
        return round(_LEFT + v * pw, 2)

    def sy(v: float) -> float:
        return round(_TOP + (1 - v) * ph, 2)

    for task in scores.tasks:
        if not (task.aggregator or "").startswith(CALIBRATION_AGGREGATORS):
            continue
        params: Mapping[str, Any] = task.aggregator_params or {}
        scored = [
            (Sample(id=s.sample_id, prompt="", group=s.group, metadata=s.metadata),
             SampleScore(label=s.label, valid=s.valid, values=s.score))
            for s in samples if s.task == task.task and s.response is not None
        ]
        qs = questions(scored, int(params.get("min_draws", 3))).values()
        n_bins = int(params.get("bins", 10))
        stated = [(s, f) for q in qs for s, f, _ in q]
        token = [(t, f) for q in qs for _, f, t in q if t is not None]
        if not stated:
            continue
        series = [_series(reliability_bins(stated, n_bins), "verbalised", sx, sy)]
        if token:
            series.append(_series(reliability_bins(token, n_bins), "token probability", sx, sy))
        ticks = [{"v": f"{v:g}", "x": sx(v), "y": sy(v)} for v in (0, 0.25, 0.5, 0.75, 1)]
        out.append({
            "task": task.task, "w": w, "h": h, "left": _LEFT, "top": _TOP, "pw": pw, "ph": ph,
            "right": _LEFT + pw, "bottom": _TOP + ph, "ticks": ticks, "series": series,
            "diag": {"x0": sx(0), "y0": sy(0), "x1": sx(1), "y1": sy(1)}, "pairs": len(stated),
            "questions": len(qs),
        })
    return out
