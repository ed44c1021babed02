"""The report's responsibility section (Fan et al.'s responsibility probes, issue 18): watermark
strength (the z-scores of unmarked and marked generations per scheme, TPR at 1% and 0.1% FPR),
robustness per edit per scheme (a heat map of TPR at 1% FPR), the watermark's quality cost side
by side (perplexity ratio and the paired change of TrustLLM task scores), and the ROC curves of
the zero-shot detectors of generated text.

A task is in the section when it is Fan et al.'s (dimension ``fan2023``) and tagged with a
``fan2023:responsibility/`` item, or is one of :data:`RESPONSIBILITY_TASKS`; what it shows
follows from its metric names (the contract of ``docs``/``notes``), not its id:

- a **watermark** task has ``z_mean[S]`` metrics; per scheme ``S`` it may have
  ``tpr@1%fpr[S]``, ``tpr@0.1%fpr[S]``, ``fpr@z4[S]``, ``undetermined[S]``, ``ppl[none]``,
  ``ppl[S]``, ``ppl_ratio[S]``, and per edit ``A`` ``tpr@1%fpr[S/A]``, ``z_mean[S/A]``;
- a **utility** task has ``delta[S]`` and ``score[<arm>/<task>]`` metrics (``delta[S/<task>]``);
- a **detection** task has ``auroc[D]`` metrics for detector ``D`` (``tpr@1%fpr[D]``,
  ``auroc[D/len:<bucket>]``, ``auroc[D/src:<source>]``).

What a sample says (read from ``samples.jsonl``; every key may be missing, and then that plot is
left out while the tables from ``scores.json`` stay):

- watermark samples: ``score["z[none/S]"]``, the z-score under scheme ``S``'s detector (its key)
  of the generation made WITHOUT a mark, and ``score["z[S]"]``, of the generation marked with
  ``S``; the histograms of the two are the strength plot (unmarked text scores about N(0, 1));
- detection samples: detector ``D``'s statistic, oriented "higher = more likely
  machine-generated" (``stats/detection.py``), either for a pair of texts, ``score["human:D"]``
  (the human continuation) and ``score["model:D"]`` (the model's), or for one text,
  ``score[D]`` with the class in ``target`` (machine-written when ``True``, ``1``, ``"machine"``
  or ``"model"``; else ``metadata["machine"]``, a bool); the ROC curve per detector is rebuilt
  from them (as the privacy section rebuilds the membership ROC curves), so no ROC points need
  storing in ``scores.json``. A slice ``auroc[D/<slice>]`` is a length bucket when written
  ``len:<bucket>`` or named in the aggregator params' ``lengths``, else a source.

Only numbers, names and identifiers reach the page; the template autoescapes every one of them
(SVG text and attributes included), and :func:`markdown_lines` escapes them with
:mod:`trustgauge.report._markdown` (scheme, edit, detector and task names are untrusted).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from trustgauge.report._markdown import md_code, md_text
from trustgauge.report._page import scale_colour
from trustgauge.results.schema import SampleRecord, ScoresFile, TaskScores
from trustgauge.stats.roc import roc_curve
from trustgauge.types import MetricValue, split_metric

#: a task is in the section when it is tagged with one of Fan et al.'s responsibility items
RESPONSIBILITY_TAG = "fan2023:responsibility/"
#: ... or is one of these (runs that do not record their tags)
RESPONSIBILITY_TASKS = ("fan2023.watermark", "fan2023.watermark_utility", "fan2023.generated_text_detection")
#: the unmarked arm
NONE = "none"
#: z thresholds drawn on the strength plot: 1% and 0.1% FPR under N(0, 1), and Kirchenbauer et al.'s 4
THRESHOLDS = ((2.326, "1% FPR"), (3.090, "0.1% FPR"), (4.0, "z = 4"))
#: the strength histograms' bins
BINS = 24
#: most points drawn per ROC curve
MAX_POINTS = 240

# plot geometry (SVG user units)
_HW, _HH = 380, 230
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 14, 14, 42
_RW, _RH = 380, 320
_CW, _CH, _PAD = 84, 36, 8
_MONO = 7.4
_CHAR = 6.6
_ANGLE = math.radians(40)
#: the robustness heat map's scale (ColorBrewer Blues, colour-blind safe): TPR 0 -> 1
_STOPS = ((0.0, (247, 251, 255)), (0.25, (198, 219, 239)), (0.5, (107, 174, 214)),
          (0.75, (33, 113, 181)), (1.0, (8, 48, 107)))
LEGEND = "TPR at 1% FPR; dashed: not measured"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _groups(task: TaskScores, base: str) -> dict[str, MetricValue]:
    """The task's ``base[group]`` metrics by group."""
    out: dict[str, MetricValue] = {}
    for m in task.metrics:
        name, group = split_metric(m.metric)
        if name == base and group is not None:
            out[group] = m
    return out


def _value(m: MetricValue | None) -> float | None:
    return None if m is None else m.value


# ---------------------------------------------------------------------------------------------
# which task is which


def responsibility_tasks(scores: ScoresFile, tags: Mapping[str, Iterable[str]] | None) -> list[TaskScores]:
    """The run's tasks of the section: Fan et al.'s tagged with a ``fan2023:responsibility/``
    item (TrustLLM's ethics tasks carry one too, but are TrustLLM's), or one of
    :data:`RESPONSIBILITY_TASKS`."""
    tagged = {t for t, ts in (tags or {}).items() if any(str(x).startswith(RESPONSIBILITY_TAG) for x in ts)}
    return [t for t in scores.tasks
            if (t.task in tagged and t.dimension == "fan2023") or t.task in RESPONSIBILITY_TASKS]


def kind(task: TaskScores) -> str | None:
    """``watermark``, ``utility``, ``detection`` or ``None``, by the task's metric names."""
    bases = {split_metric(m.metric)[0] for m in task.metrics if split_metric(m.metric)[1] is not None}
    if "z_mean" in bases:
        return "watermark"
    if "delta" in bases and "score" in bases:
        return "utility"
    if "auroc" in bases:
        return "detection"
    return None


# ---------------------------------------------------------------------------------------------
# watermark strength


def schemes_of(task: TaskScores) -> list[str]:
    """The schemes of a watermark task, in metric order (``z_mean[S]``, no edit)."""
    return [g for g in _groups(task, "z_mean") if "/" not in g]


def edits_of(task: TaskScores, schemes: Sequence[str]) -> list[str]:
    """The edits measured (``tpr@1%fpr[S/A]``), in metric order."""
    out: dict[str, None] = {}
    for group in _groups(task, "tpr@1%fpr"):
        scheme, sep, edit = group.partition("/")
        if sep and scheme in schemes and edit:
            out[edit] = None
    return list(out)


#: the strength table's columns: key in a row -> metric base name
STRENGTH = (("z_mean", "z_mean"), ("tpr1", "tpr@1%fpr"), ("tpr01", "tpr@0.1%fpr"), ("fpr_z4", "fpr@z4"),
            ("undetermined", "undetermined"))


def strength_rows(task: TaskScores) -> list[dict[str, Any]]:
    """Per scheme: z mean, TPR at 1% and 0.1% FPR, FPR at z 4, undetermined share (keys of
    :data:`STRENGTH`; a metric the task lacks is ``None``)."""
    by = {key: _groups(task, base) for key, base in STRENGTH}
    return [{"scheme": s, **{key: by[key].get(s) for key, _ in STRENGTH}} for s in schemes_of(task)]


def z_values(samples: Sequence[SampleRecord], task: str, scheme: str) -> tuple[list[float], list[float]]:
    """The z-scores under ``scheme``'s detector of the unmarked and of the marked generations."""
    unmarked: list[float] = []
    marked: list[float] = []
    for s in samples:
        if s.task != task:
            continue
        u = _number(s.score.get(f"z[{NONE}/{scheme}]"))
        m = _number(s.score.get(f"z[{scheme}]"))
        if u is not None:
            unmarked.append(u)
        if m is not None:
            marked.append(m)
    return unmarked, marked


def histogram(values: Sequence[float], lo: float, hi: float, bins: int = BINS) -> list[int]:
    """Counts of ``values`` in ``bins`` equal bins over ``[lo, hi]`` (values outside: the end bins)."""
    counts = [0] * bins
    width = (hi - lo) / bins
    for v in values:
        i = int((v - lo) / width) if width > 0 else 0
        counts[min(bins - 1, max(0, i))] += 1
    return counts


def strength_plot(scheme: str, unmarked: Sequence[float], marked: Sequence[float]) -> dict[str, Any] | None:
    """SVG geometry of one scheme's z histograms (unmarked and marked, each as a share of its
    texts) with the thresholds; ``None`` without a z-score."""
    if not unmarked and not marked:
        return None
    values = [*unmarked, *marked]
    lo = math.floor(min(-4.0, *values))
    hi = math.ceil(max(6.0, *values))
    pw, ph = _HW - _LEFT - _RIGHT, _HH - _TOP - _BOTTOM
    bars: list[dict[str, Any]] = []
    shares: dict[str, list[float]] = {}
    for name, group in (("unmarked", unmarked), ("marked", marked)):
        counts = histogram(group, lo, hi)
        shares[name] = [c / len(group) if group else 0.0 for c in counts]
    top = max(max(v) for v in shares.values()) or 1.0
    bw = pw / BINS
    for name in ("unmarked", "marked"):
        for i, share in enumerate(shares[name]):
            if share <= 0:
                continue
            height = share / top * ph
            x0 = lo + i * (hi - lo) / BINS
            bars.append({"cls": name, "x": round(_LEFT + i * bw, 2), "y": round(_TOP + ph - height, 2),
                         "w": round(bw - 1, 2), "h": round(height, 2),
                         "title": f"{name}: {share:.1%} of texts with z in [{x0:.2f}, {x0 + (hi - lo) / BINS:.2f})"})

    def sx(z: float) -> float:
        return round(_LEFT + (z - lo) / (hi - lo) * pw, 2)

    step = 2 if hi - lo <= 24 else 5 if hi - lo <= 60 else 10
    ticks = [{"x": sx(z), "v": f"{z:g}"} for z in range(int(lo), int(hi) + 1) if z % step == 0]
    lines = [{"x": sx(z), "label": label, "z": z} for z, label in THRESHOLDS if lo <= z <= hi]
    return {
        "scheme": scheme, "w": _HW, "h": _HH, "left": _LEFT, "top": _TOP, "pw": pw, "ph": ph,
        "bottom": _TOP + ph, "right": _LEFT + pw, "bars": bars, "ticks": ticks, "lines": lines,
        "n_unmarked": len(unmarked), "n_marked": len(marked),
        "mean_unmarked": sum(unmarked) / len(unmarked) if unmarked else None,
        "mean_marked": sum(marked) / len(marked) if marked else None,
    }


# ---------------------------------------------------------------------------------------------
# robustness heat map


def colour(rate: float) -> str:
    """The fill of a cell: TPR 0-1 on the Blues scale, as ``#rrggbb``."""
    return scale_colour(rate, _STOPS)


def _short(label: str, width: float) -> str:
    fits = max(4, int((width - 14) / _MONO))
    return label if len(label) <= fits else label[: fits - 1] + "…"


def robustness_heatmap(task: TaskScores) -> dict[str, Any] | None:
    """SVG geometry: one row per scheme, one column for the unedited text then one per edit; a
    cell is the TPR at 1% FPR (hover: its interval and the mean z). ``None`` without an edit."""
    schemes = schemes_of(task)
    edits = edits_of(task, schemes)
    if not schemes or not edits:
        return None
    tpr = _groups(task, "tpr@1%fpr")
    zmean = _groups(task, "z_mean")
    headers = ["no edit", *edits]
    label_w = min(320.0, max(70.0, _MONO * max(len(s) for s in schemes) + 14))
    head_h = min(220.0, max(40.0, math.sin(_ANGLE) * _CHAR * max(len(h) for h in headers) + 18))
    left, top = _PAD + label_w, _PAD + head_h
    col_x = [round(left + i * _CW + _CW / 2, 2) for i in range(len(headers))]
    columns = [{"label": h, "x": x, "y": round(top - 6, 2)} for h, x in zip(headers, col_x)]
    rows = []
    for r, scheme in enumerate(schemes):
        y = top + r * _CH
        cells = []
        for c, edit in enumerate([None, *edits]):
            key = scheme if edit is None else f"{scheme}/{edit}"
            m = tpr.get(key)
            z = _value(zmean.get(key))
            rate = _value(m)
            what = "no edit" if edit is None else edit
            if rate is None:
                title = f"{scheme} × {what}: not measured" + (f" ({m.reason})" if m is not None and m.reason else "")
            else:
                assert m is not None
                title = f"{scheme} × {what}: TPR at 1% FPR {rate:.3f} (n={m.n})"
                if m.ci is not None:
                    title += f", 95% CI [{m.ci[0]:.3f}, {m.ci[1]:.3f}]"
                if z is not None:
                    title += f"; mean z {z:.2f}"
            x = left + c * _CW
            cells.append({"x": round(x, 2), "y": round(y, 2), "w": _CW - 2, "h": _CH - 2,
                          "cx": round(x + (_CW - 2) / 2, 2), "rate": rate, "edit": what,
                          "value": "—" if rate is None else f"{rate:.2f}",
                          "sub": "" if z is None else f"z {z:.1f}",
                          "fill": None if rate is None else colour(rate),
                          "ink": "dark" if rate is None or rate < 0.6 else "light", "title": title})
        rows.append({"scheme": scheme, "short": _short(scheme, label_w), "y": round(y + _CH / 2 + 4, 2),
                     "cells": cells})
    width = max(left + len(headers) * _CW + _PAD,
                max(x + math.cos(_ANGLE) * _CHAR * len(h) for x, h in zip(col_x, headers)) + _PAD)
    legend_y = top + len(schemes) * _CH + 14
    legend = [{"x": round(left + i * 44, 2), "y": round(legend_y, 2), "fill": colour(v), "v": f"{v:g}"}
              for i, v in enumerate((0, 0.25, 0.5, 0.75, 1))]
    legend_text_x = left + 5 * 44 + 6
    width = max(width, legend_text_x + _CHAR * len(LEGEND) + _PAD)
    return {"w": round(width, 2), "h": round(legend_y + 30 + _PAD, 2), "label_x": round(left - 8, 2),
            "columns": columns, "rows": rows, "legend": legend, "legend_y": round(legend_y, 2),
            "legend_text_x": round(legend_text_x, 2), "legend_text": LEGEND, "edits": edits, "schemes": schemes}


# ---------------------------------------------------------------------------------------------
# quality cost


def cost_rows(watermark: TaskScores | None, utility: TaskScores | None) -> list[dict[str, Any]]:
    """Per scheme (of either task): perplexity unmarked and marked and their ratio (watermark
    task), the paired change of the TrustLLM slice's score (utility task)."""
    schemes: dict[str, None] = {}
    ppl = _groups(watermark, "ppl") if watermark else {}
    ratio = _groups(watermark, "ppl_ratio") if watermark else {}
    deltas = {g: m for g, m in (_groups(utility, "delta") if utility else {}).items() if "/" not in g}
    for s in [*(schemes_of(watermark) if watermark else []), *ratio, *deltas]:
        if s != NONE:
            schemes[s] = None
    return [{"scheme": s, "ppl_none": ppl.get(NONE), "ppl": ppl.get(s), "ppl_ratio": ratio.get(s),
             "delta": deltas.get(s)} for s in schemes]


def utility_rows(utility: TaskScores) -> dict[str, Any]:
    """The slice's per-task scores side by side: ``arms`` (``none`` first) and one row per task
    with each arm's score and each scheme's paired change."""
    scores = _groups(utility, "score")
    deltas = _groups(utility, "delta")
    arms: dict[str, None] = {}
    tasks: dict[str, None] = {}
    for group in scores:
        arm, sep, task = group.partition("/")
        if sep:
            arms[arm] = None
            tasks[task] = None
    ordered = sorted(arms, key=lambda a: a != NONE)
    schemes = [a for a in ordered if a != NONE]
    rows = [{"task": t, "scores": [scores.get(f"{a}/{t}") for a in ordered],
             "deltas": [deltas.get(f"{s}/{t}") for s in schemes]} for t in tasks]
    return {"arms": ordered, "schemes": schemes, "rows": rows}


# ---------------------------------------------------------------------------------------------
# detection ROC


def _machine(s: SampleRecord) -> bool | None:
    """The class of a one-text detection sample: ``True`` machine-written, ``False`` human,
    ``None`` unknown."""
    t = s.target
    if isinstance(t, bool):
        return t
    if isinstance(t, (int, float)) and t in (0, 1):
        return bool(t)
    if isinstance(t, str) and t.lower() in ("machine", "model", "human"):
        return t.lower() != "human"
    meta = s.metadata.get("machine") if isinstance(s.metadata, Mapping) else None
    return meta if isinstance(meta, bool) else None


def detectors_of(task: TaskScores) -> list[str]:
    """The detectors of a detection task (``auroc[D]``, no slice), in metric order."""
    return [g for g in _groups(task, "auroc") if "/" not in g]


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_POINTS:
        return points
    step = (len(points) - 1) / (MAX_POINTS - 1)
    return [points[round(i * step)] for i in range(MAX_POINTS)]


def detection_points(task: TaskScores, samples: Sequence[SampleRecord], detector: str) -> list[tuple[float, bool]]:
    """Detector ``detector``'s (statistic, machine-written) pairs of the task's samples: a sample
    holding a pair of texts gives ``score["human:D"]`` (negative) and ``score["model:D"]``
    (positive); a sample of one text gives ``score[D]`` with its class (:func:`_machine`)."""
    out: list[tuple[float, bool]] = []
    for s in samples:
        if s.task != task.task or s.error is not None:
            continue
        if f"human:{detector}" in s.score or f"model:{detector}" in s.score:
            for side, machine in (("human", False), ("model", True)):
                v = _number(s.score.get(f"{side}:{detector}"))
                if v is not None:
                    out.append((v, machine))
            continue
        y = _machine(s)
        v = _number(s.score.get(detector))
        if y is not None and v is not None:
            out.append((v, y))
    return out


def detection_roc(task: TaskScores, samples: Sequence[SampleRecord]) -> dict[str, Any] | None:
    """SVG geometry of the detectors' ROC curves (machine-written = positive), or ``None`` when
    no detector has both classes scored."""
    pw, ph = _RW - _LEFT - _RIGHT, _RH - _TOP - _BOTTOM

    def sx(v: float) -> float:
        return round(_LEFT + v * pw, 2)

    def sy(v: float) -> float:
        return round(_TOP + (1 - v) * ph, 2)

    aurocs = _groups(task, "auroc")
    series = []
    machine = human = 0
    for d in detectors_of(task):
        usable = detection_points(task, samples, d)
        curve = roc_curve([v for v, _ in usable], [y for _, y in usable]) if usable else None
        if curve is None:
            continue
        machine = max(machine, sum(1 for _, y in usable if y))
        human = max(human, sum(1 for _, y in usable if not y))
        value = _value(aurocs.get(d))
        series.append({"name": d, "auroc": value, "n": len(usable),
                       "path": " ".join(f"{sx(f)},{sy(t)}" for f, t in _thin(list(zip(curve.fpr, curve.tpr)))),
                       "label": f"{d}: AUROC {value:.3f}" if value is not None else d})
    if not series:
        return None
    ticks = [{"v": f"{v:g}", "x": sx(v), "y": sy(v)} for v in (0, 0.25, 0.5, 0.75, 1)]
    return {"task": task.task, "w": _RW, "h": _RH, "left": _LEFT, "top": _TOP, "pw": pw, "ph": ph,
            "right": _LEFT + pw, "bottom": _TOP + ph, "ticks": ticks, "series": series,
            "diag": {"x0": sx(0), "y0": sy(0), "x1": sx(1), "y1": sy(1)}, "machine": machine, "human": human}


def _slice_kinds(task: TaskScores) -> tuple[set[str], set[str]]:
    """The length buckets and sources the task's aggregator params name (``lengths``: rows
    ``[name, fewest, most]`` or names; ``sources``: names)."""
    params = task.aggregator_params or {}
    lengths = {str(x[0]) if isinstance(x, (list, tuple)) and x else str(x) for x in params.get("lengths") or []}
    sources = {str(x) for x in params.get("sources") or []}
    return lengths, sources


def detection_rows(task: TaskScores) -> dict[str, Any]:
    """Per detector: AUROC, TPR at 1% FPR, and AUROC per length bucket and per source. A slice
    ``auroc[D/<slice>]`` is a length bucket when written ``len:<bucket>`` or named in the
    aggregator's ``lengths``, a source when written ``src:<source>`` or anything else."""
    auroc = _groups(task, "auroc")
    tpr = _groups(task, "tpr@1%fpr")
    named_lengths, _ = _slice_kinds(task)
    lengths: dict[str, str] = {}  # shown name -> slice
    sources: dict[str, str] = {}
    for group in auroc:
        _, sep, rest = group.partition("/")
        if not sep or not rest:
            continue
        if rest.startswith("len:"):
            lengths.setdefault(rest[4:], rest)
        elif rest in named_lengths:
            lengths.setdefault(rest, rest)
        else:
            sources.setdefault(rest.removeprefix("src:"), rest)
    rows = [{"detector": d, "auroc": auroc.get(d), "tpr": tpr.get(d),
             "lengths": [auroc.get(f"{d}/{x}") for x in lengths.values()],
             "sources": [auroc.get(f"{d}/{x}") for x in sources.values()]} for d in detectors_of(task)]
    return {"rows": rows, "lengths": list(lengths), "sources": list(sources)}


# ---------------------------------------------------------------------------------------------
# the section


def responsibility_section(
    scores: ScoresFile, samples: Sequence[SampleRecord], tags: Mapping[str, Iterable[str]] | None
) -> dict[str, Any] | None:
    """What the section shows, or ``None`` when the run has no responsibility task:
    ``watermark`` (per watermark task: strength rows, z histograms per scheme, robustness heat
    map), ``cost`` (per scheme: perplexity ratio beside the utility change) with ``utility`` (the
    slice's per-task scores), ``detection`` (per detection task: ROC plot and AUROC table), and
    ``other`` (tasks of the section none of those fit: their metrics listed)."""
    tasks = responsibility_tasks(scores, tags)
    if not tasks:
        return None
    watermark = [t for t in tasks if kind(t) == "watermark"]
    utility = [t for t in tasks if kind(t) == "utility"]
    detection = [t for t in tasks if kind(t) == "detection"]
    other = [t for t in tasks if kind(t) is None]
    wm_views = []
    for t in watermark:
        plots = []
        for s in schemes_of(t):
            plot = strength_plot(s, *z_values(samples, t.task, s))
            if plot is not None:
                plots.append(plot)
        wm_views.append({"task": t.task, "title": t.title, "rows": strength_rows(t), "plots": plots,
                         "heatmap": robustness_heatmap(t)})
    cost = cost_rows(watermark[0] if watermark else None, utility[0] if utility else None)
    return {
        "watermark": wm_views,
        "cost": cost,
        "cost_tasks": [t.task for t in (*watermark[:1], *utility[:1])],
        "utility": [{"task": t.task, "title": t.title, **utility_rows(t)} for t in utility],
        "detection": [{"task": t.task, "title": t.title, "roc": detection_roc(t, samples), **detection_rows(t)}
                      for t in detection],
        "other": [{"task": t.task, "title": t.title, "rows": t.metrics} for t in other],
    }


# ---------------------------------------------------------------------------------------------
# report.md


def _f(m: MetricValue | None, digits: int = 3) -> str:
    if m is None:
        return "—"
    if m.value is None:
        return "n/a"
    text = f"{m.value:.{digits}f}"
    if m.ci is not None:
        text += f" [{m.ci[0]:.{digits}f}, {m.ci[1]:.{digits}f}]"
    return text


def markdown_lines(section: Mapping[str, Any] | None) -> list[str]:
    """The compact responsibility section of ``report.md``: strength per scheme, TPR per edit,
    the quality cost side by side, the slice's per-task scores and the detectors' AUROCs. Every
    name is escaped (:func:`md_text`)."""
    if not section:
        return []
    t_ = md_text
    lines = ["## Responsibility: watermarking and detection of generated text", ""]
    for w in section["watermark"]:
        lines += [f"### Watermark strength ({md_code(w['task'])})", "",
                  "| scheme | mean z (marked) | TPR @1% FPR | TPR @0.1% FPR | FPR @z=4 | undetermined |",
                  "|---|---|---|---|---|---|"]
        for r in w["rows"]:
            lines.append(f"| {t_(r['scheme'])} | {_f(r['z_mean'], 2)} | {_f(r['tpr1'])} | "
                         f"{_f(r['tpr01'])} | {_f(r['fpr_z4'])} | {_f(r['undetermined'])} |")
        lines.append("")
        hm = w["heatmap"]
        if hm is not None:
            lines += ["TPR at 1% FPR after each edit:", "",
                      "| scheme | no edit | " + " | ".join(t_(e) for e in hm["edits"]) + " |",
                      "|---" * (len(hm["edits"]) + 2) + "|"]
            for row in hm["rows"]:
                lines.append(f"| {t_(row['scheme'])} | " + " | ".join(c["value"] for c in row["cells"]) + " |")
            lines.append("")
    if section["cost"]:
        lines += ["### Quality cost of the watermark", "",
                  "| scheme | perplexity unmarked | perplexity marked | ratio | Δ TrustLLM slice score [95% CI] |",
                  "|---|---|---|---|---|"]
        for r in section["cost"]:
            lines.append(f"| {t_(r['scheme'])} | {_f(r['ppl_none'], 2)} | {_f(r['ppl'], 2)} | "
                         f"{_f(r['ppl_ratio'])} | {_f(r['delta'])} |")
        lines.append("")
    for u in section["utility"]:
        arms: list[str] = u["arms"]
        schemes: list[str] = u["schemes"]
        head = ["task", *(f"score {t_(a)}" for a in arms), *(f"Δ {t_(s)}" for s in schemes)]
        lines += [f"TrustLLM slice ({md_code(u['task'])}), each task's own headline metric:", "",
                  "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for row in u["rows"]:
            cells = [t_(row["task"]), *(_f(m) for m in row["scores"]), *(_f(m) for m in row["deltas"])]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    for d in section["detection"]:
        lengths: list[str] = d["lengths"]
        head = ["detector", "AUROC", "TPR @1% FPR", *(f"AUROC len {t_(b)}" for b in lengths)]
        lines += [f"### Detection of generated text ({md_code(d['task'])})", "",
                  "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for row in d["rows"]:
            cells = [t_(row["detector"]), _f(row["auroc"]), _f(row["tpr"]), *(_f(m) for m in row["lengths"])]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines
