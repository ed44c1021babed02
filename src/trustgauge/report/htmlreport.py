"""The HTML report of one run: a single self-contained file (styles, script and data inline,
no network), rendered with jinja2 (autoescape) plus a small vanilla-JS explorer of the samples.

What it shows and how the numbers are derived: ``docs/reports.md``. Security model: model
output is untrusted. The page's own markup is autoescaped by jinja2; the samples travel as
gzip-compressed JSON in base64 (no ``<``, ``&`` or quote can appear in it) inside a
non-executable ``<script type="application/octet-stream">`` data block; the JSON block (scores.json)
escapes ``<``, ``>``, ``&`` and U+2028/U+2029; the script builds the examples with
``textContent`` only and never creates links or loads anything; and a Content-Security-Policy
(``default-src 'none'``, the one inline script and stylesheet allowed by their SHA-256 hashes,
images only from ``data:``) blocks any script, request or form the data could smuggle in.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from trustgauge._secrets import redact
from trustgauge.net.atomic import atomic_write_text
from trustgauge.report.categories import run_taxonomy
from trustgauge.report.privacy import privacy_section
from trustgauge.report.reliability import reliability_plots
from trustgauge.report.responsibility import responsibility_section
from trustgauge.report.security import fmt_cost, security_section
from trustgauge.results.dimensions import (
    DimensionScore,
    TaskSummary,
    dimension_scores,
    headline_metrics,
    metric_score,
    task_summaries,
)
from trustgauge.results.outcomes import Outcome, metric_directions, sample_outcome, task_judged
from trustgauge.results.schema import RunInfo, SampleRecord, ScoresFile, TaskScores
from trustgauge.taxonomy.legacy import FROZEN_ON, tags_for_run
from trustgauge.types import MetricValue

#: backends that run on this machine: no API charge
LOCAL_BACKENDS = frozenset({"gguf", "hf", "scripted"})
#: outcome codes in the embedded data (index = code)
OUTCOME_CODES: tuple[Outcome, ...] = ("pass", "fail", "none", "invalid", "failed", "unjudged")
#: characters of prompt + response kept per sample in the page, over the whole run (before
#: compression); each text is cut to its share, between the bounds below
TEXT_BUDGET = 64_000_000
MAX_TEXT = 4000
MIN_TEXT = 280
#: other fields kept short in any case
MAX_SMALL = 600
#: characters of the conversations' calls (``turns``: the prompt and response of every call)
#: kept over the whole run, each text cut to its share (between the bounds above); a failing
#: sample's calls (a successful attack's transcript) keep up to MAX_TEXT each
TURN_BUDGET = 16_000_000
GZIP_LEVEL = 4


@dataclass(frozen=True)
class Prices:
    """USD per million tokens; either may be unknown."""

    input_per_m: float | None = None
    output_per_m: float | None = None


# ---------------------------------------------------------------------------------------------
# numbers and the overview


def fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    if x != 0 and abs(x) < 10 ** (-digits):
        return f"{x:.1e}"
    return f"{x:.{digits}f}"


def colour_class(score: float | None) -> str:
    """Five steps of a colour-blind-safe diverging scale (blue = good, orange = bad) on the
    oriented 0-1 metric score."""
    if score is None:
        return "na"
    if score >= 0.8:
        return "g2"
    if score >= 0.6:
        return "g1"
    if score >= 0.4:
        return "mid"
    if score >= 0.2:
        return "b1"
    return "b2"


def missing_text(m: MetricValue) -> str:
    """How a metric without a value is shown: "not scored" when its task could not be scored
    (no judge model), "undefined" when the responses leave it undefined (e.g. no readable
    answer, constant ratings); the reason is shown beside it."""
    return "not scored" if (m.reason or "").startswith("not scored") else "undefined"


def undefined_text(summary: TaskSummary) -> str | None:
    """How a task whose headline metric has no value enters its dimension score (``None``
    when it has a value)."""
    if summary.undefined_as == "failure":
        return "undefined by the responses: counted as a failure (task score 0)"
    if summary.undefined_as == "nothing_to_score":
        if summary.score is None:
            return "nothing to score in these items: left out of the dimension score"
        return f"nothing to score (every answer read): task score {summary.score:.2f}"
    if summary.undefined_as == "not_scored":
        return "not scored (no judge model): left out of the dimension score"
    return None


VERDICT = {"g2": "good", "g1": "fairly good", "mid": "middling", "b1": "poor", "b2": "bad", "na": "not scored"}


@dataclass
class MetricRow:
    task: TaskScores
    metric: MetricValue
    primary: bool
    category: bool
    score: float | None
    cls: str
    value_text: str
    ci_text: str


def metric_rows(task: TaskScores) -> list[MetricRow]:
    """The task's metrics as table rows; per-category metrics (``name[category]``, other than
    the headline) are marked to be folded away by default."""
    rows = []
    headline = {m.metric for m in headline_metrics(task)}
    for i, m in enumerate(task.metrics):
        score = metric_score(m)
        cls = colour_class(score)
        rows.append(
            MetricRow(
                task=task,
                metric=m,
                primary=i == 0,
                category=i > 0 and m.group is not None and m.metric not in headline,
                score=score,
                cls=cls,
                value_text=fmt(m.value) if m.value is not None else missing_text(m),
                ci_text=f"[{fmt(m.ci[0])}, {fmt(m.ci[1])}]" if m.ci is not None else "—",
            )
        )
    return rows


def _polar(cx: float, cy: float, r: float, i: int, k: int) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * i / k
    return round(cx + r * math.cos(angle), 2), round(cy + r * math.sin(angle), 2)


def radar(dims: Sequence[DimensionScore], size: int = 380) -> dict[str, Any] | None:
    """Geometry of the radar chart (SVG coordinates), or None with fewer than 3 dimensions."""
    k = len(dims)
    if k < 3:
        return None
    c, r = size / 2, size / 2 - 72
    rings = [
        " ".join(f"{x},{y}" for x, y in (_polar(c, c, r * f, i, k) for i in range(k)))
        for f in (0.25, 0.5, 0.75, 1.0)
    ]
    axes, labels, points = [], [], []
    for i, d in enumerate(dims):
        x, y = _polar(c, c, r, i, k)
        axes.append((x, y))
        lx, ly = _polar(c, c, r + 20, i, k)
        anchor = "middle" if abs(lx - c) < 4 else ("start" if lx > c else "end")
        labels.append({"x": lx, "y": ly + 4, "anchor": anchor, "text": d.dimension,
                       "value": fmt(d.score, 2) if d.score is not None else "n/a"})
        px, py = _polar(c, c, r * (d.score or 0.0), i, k)
        points.append({"x": px, "y": py, "scored": d.score is not None, "dimension": d.dimension})
    return {
        "size": size, "c": c, "rings": rings, "axes": axes, "labels": labels, "points": points,
        "polygon": " ".join(f"{p['x']},{p['y']}" for p in points),
    }


def _primary(tasks: Mapping[str, TaskScores], task_id: str, metric: str) -> MetricValue | None:
    t = tasks.get(task_id)
    if t is None:
        return None
    return next((m for m in t.metrics if m.metric == metric), None)


def tradeoff(scores: ScoresFile, size: tuple[int, int] = (460, 340)) -> dict[str, Any]:
    """The safety trade-off plot: RtA on harmful prompts (jailbreak, misuse; higher is safer)
    against RtA on benign prompts (exaggerated safety; lower is better)."""
    tasks = {t.task: t for t in scores.tasks}
    x_metric = _primary(tasks, "safety.exaggerated", "rta")
    w, h = size
    left, right, top, bottom = 56, 18, 16, 46
    pw, ph = w - left - right, h - top - bottom

    def sx(v: float) -> float:
        return round(left + v * pw, 2)

    def sy(v: float) -> float:
        return round(top + (1 - v) * ph, 2)

    points = []
    missing = []
    if x_metric is None or x_metric.value is None:
        missing.append("safety.exaggerated")
    for task_id, name, shape in (("safety.jailbreak", "jailbreak", "circle"), ("safety.misuse", "misuse", "square")):
        y_metric = _primary(tasks, task_id, "rta")
        if y_metric is None or y_metric.value is None:
            missing.append(task_id)
            continue
        if x_metric is None or x_metric.value is None:
            continue
        xv, yv = x_metric.value, y_metric.value
        xci = x_metric.ci or (xv, xv)
        yci = y_metric.ci or (yv, yv)
        points.append({
            "name": name, "task": task_id, "shape": shape,
            "x": xv, "y": yv, "xci": xci, "yci": yci,
            "cx": sx(xv), "cy": sy(yv),
            "x0": sx(xci[0]), "x1": sx(xci[1]), "y0": sy(yci[0]), "y1": sy(yci[1]),
            "label": f"{name}: RtA {fmt(yv)} vs over-refusal {fmt(xv)}",
        })
    ticks = [{"v": f"{v:.2f}".rstrip("0").rstrip(".") if v not in (0, 1) else str(int(v)),
              "x": sx(v), "y": sy(v)} for v in (0, 0.25, 0.5, 0.75, 1)]
    return {
        "w": w, "h": h, "left": left, "top": top, "pw": pw, "ph": ph, "right": left + pw,
        "bottom": top + ph, "points": points, "ticks": ticks, "missing": missing,
        "x_metric": x_metric, "ideal": {"x": sx(0), "y": sy(1)},
        "diag": {"x0": sx(0), "y0": sy(0), "x1": sx(1), "y1": sy(1)},
    }


# ---------------------------------------------------------------------------------------------
# metadata


def cost_estimate(run: RunInfo, prices: Prices | None) -> dict[str, Any]:
    """Token usage and, when prices are known, the estimated API cost of the model's requests."""
    tokens_in = int(run.usage.get("input_tokens", 0))
    tokens_out = int(run.usage.get("output_tokens", 0))
    backend = run.model_identity.get("backend", "")
    out: dict[str, Any] = {"input_tokens": tokens_in, "output_tokens": tokens_out, "usd": None, "local": False}
    if backend in LOCAL_BACKENDS:
        out["note"] = f"no API charge: the model ran locally ({backend} backend)"
        out["usd"] = 0.0
        out["local"] = True
        return out
    if prices is None or prices.input_per_m is None or prices.output_per_m is None:
        out["note"] = (
            "unknown: no prices given (trustgauge report RUN_DIR --price-in USD --price-out USD, "
            "per million tokens); trustgauge does not guess prices"
        )
        return out
    usd = tokens_in / 1e6 * prices.input_per_m + tokens_out / 1e6 * prices.output_per_m
    out["usd"] = usd
    out["note"] = (
        f"at ${prices.input_per_m:g} / ${prices.output_per_m:g} per million input / output tokens "
        "(requests sent in this run only; cached answers and judge-model calls not included)"
    )
    return out


def generation_groups(run: RunInfo) -> list[dict[str, Any]]:
    """Tasks grouped by identical generation parameters."""
    groups: dict[str, dict[str, Any]] = {}
    for task_id, params in run.generation.items():
        key = json.dumps(params, sort_keys=True, default=str)
        g = groups.setdefault(key, {"params": params, "tasks": []})
        g["tasks"].append(task_id)
    return list(groups.values())


# ---------------------------------------------------------------------------------------------
# the samples, as compressed columns


def text_cap(n_samples: int) -> int:
    """Characters kept of each prompt and response for a run of ``n_samples``."""
    if n_samples <= 0:
        return MAX_TEXT
    return max(MIN_TEXT, min(MAX_TEXT, TEXT_BUDGET // (2 * n_samples)))


def _cut(text: str, cap: int) -> str:
    return text if len(text) <= cap else text[:cap]


def turn_cap(n_texts: int) -> int:
    """Characters kept of each prompt and response of a conversation's calls when the run
    has ``n_texts`` of them (two per call)."""
    if n_texts <= 0:
        return MAX_TEXT
    return max(MIN_TEXT, min(MAX_TEXT, TURN_BUDGET // n_texts))


def turn_columns(turns: Sequence[Any] | None, cap: int) -> list[list[Any]] | int:
    """A sample's ``turns`` for the explorer: per call ``[role, prompt, prompt length,
    response, response length, finish_reason, cached]`` (texts cut to ``cap``); 0 without."""
    out: list[list[Any]] = []
    for t in turns or ():
        if not isinstance(t, Mapping):
            continue
        prompt = "" if t.get("prompt") is None else str(t.get("prompt"))
        response = t.get("response")
        text = None if response is None else str(response)
        out.append([
            _cut(str(t.get("role") or "?"), MAX_SMALL), _cut(prompt, cap), len(prompt),
            None if text is None else _cut(text, cap), 0 if text is None else len(text),
            None if t.get("finish_reason") is None else _cut(str(t.get("finish_reason")), MAX_SMALL),
            1 if t.get("cached") else 0,
        ])
    return out or 0


def _small_json(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return _cut(text, MAX_SMALL)


def sample_columns(
    samples: Sequence[SampleRecord], tasks: Sequence[TaskScores], cap: int
) -> tuple[dict[str, Any], list[Outcome]]:
    """The samples as columns (compact keys, see ``report.js``) and each sample's outcome."""
    index = {t.task: i for i, t in enumerate(tasks)}
    judged = {t.task: task_judged(t.judges) for t in tasks}
    extra = [s.task for s in samples if s.task not in index]
    for t in dict.fromkeys(extra):
        index[t] = len(index)
    directions = {t: metric_directions(t) for t in index}
    labels: dict[str, int] = {}
    col_t: list[int] = []
    col_id: list[str] = []
    col_o: list[int] = []
    col_lb: list[int] = []
    col_p: list[str] = []
    col_pn: list[int] = []
    col_r: list[str | None] = []
    col_rn: list[int] = []
    col_e: list[str | None] = []
    col_j: list[list[list[Any]] | int] = []
    col_sc: list[dict[str, float | None] | int] = []
    col_tg: list[str | None] = []
    col_md: list[str | None] = []
    col_c: list[int] = []
    col_tu: list[list[list[Any]] | int] = []
    t_cap = turn_cap(sum(2 * len(s.turns or ()) for s in samples))
    outcomes: list[Outcome] = []
    for s in samples:
        outcome = sample_outcome(s, directions[s.task], judged=judged.get(s.task, True))
        outcomes.append(outcome)
        col_t.append(index[s.task])
        col_id.append(s.sample_id)
        col_o.append(OUTCOME_CODES.index(outcome))
        col_lb.append(-1 if s.label is None else labels.setdefault(s.label, len(labels)))
        col_p.append(_cut(s.prompt, cap))
        col_pn.append(len(s.prompt))
        if s.response is None:
            col_r.append(None)
            col_rn.append(0)
        else:
            col_r.append(_cut(s.response, cap))
            col_rn.append(len(s.response))
        col_e.append(None if s.error is None else _cut(s.error, MAX_SMALL))
        judgements: list[list[Any]] = []
        for kind, j in s.judgements.items():
            if isinstance(j, Mapping):
                judgements.append([kind, j.get("label"), j.get("score"), j.get("judge"), _small_json(j.get("raw"))])
            else:
                judgements.append([kind, None, None, None, _small_json(j)])
        col_j.append(judgements or 0)
        col_sc.append(s.score or 0)
        col_tg.append(_small_json(s.target))
        col_md.append(_small_json(s.metadata) if s.metadata else None)
        col_c.append(1 if s.cached else 0)
        col_tu.append(turn_columns(s.turns, MAX_TEXT if outcome == "fail" else t_cap))
    data = {
        "v": 1, "cap": cap, "tasks": list(index), "labels": list(labels),
        "t": col_t, "id": col_id, "o": col_o, "lb": col_lb, "p": col_p, "pn": col_pn,
        "r": col_r, "rn": col_rn, "e": col_e, "j": col_j, "sc": col_sc, "tg": col_tg,
        "md": col_md, "c": col_c, "tu": col_tu,
    }
    return data, outcomes


def encode_samples(data: Mapping[str, Any]) -> str:
    """JSON (secrets redacted) -> gzip -> base64: the inline sample data."""
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    except ValueError:  # a NaN or infinity somewhere: not JSON
        text = json.dumps(_clean_floats(data), ensure_ascii=False, separators=(",", ":"), default=str)
    raw = redact(text).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)).decode("ascii")


def decode_samples(blob: str) -> dict[str, Any]:
    """The inverse of :func:`encode_samples` (tests, tools)."""
    data: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(blob)).decode("utf-8"))
    return data


def json_block(value: Any) -> str:
    """JSON safe inside an HTML data block: no ``<``, ``>``, ``&``, U+2028 or U+2029."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _clean_floats(value: Any) -> Any:
    """NaN/inf (not valid JSON) -> None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_floats(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# rendering


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str]:
    """(script, stylesheet, CSP) - the script and stylesheet are allowed by their hashes."""
    base = resources.files("trustgauge.report") / "assets"
    script = (base / "report.js").read_text(encoding="utf-8")
    style = (base / "report.css").read_text(encoding="utf-8")
    if "</script" in script.lower() or "</style" in style.lower():  # pragma: no cover
        raise RuntimeError("report assets must not close their own element")

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"

    csp = (
        f"default-src 'none'; script-src {sha(script)}; style-src {sha(style)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    return script, style, csp


@lru_cache(maxsize=1)
def _template() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("trustgauge.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["colour"] = colour_class
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    env.filters["cost"] = fmt_cost
    return env.get_template("report.html.j2")


def render_report(
    run: RunInfo,
    scores: ScoresFile,
    samples: Sequence[SampleRecord],
    *,
    prices: Prices | None = None,
    tags_by_task: Mapping[str, Iterable[str]] | None = None,
) -> str:
    """The report page as one HTML string. ``tags_by_task``: each task's taxonomy tags for the
    taxonomy view; ``None``: those the run recorded (``run.json``'s ``taxonomy``), and without
    them the view says the run does not record them."""
    import secrets

    import markupsafe

    script, style, csp = _assets()
    blob_mark = f"@@samples-{secrets.token_hex(16)}@@"
    data, outcomes = sample_columns(samples, scores.tasks, text_cap(len(samples)))
    per_task: dict[str, Counter[str]] = {}
    for s, o in zip(samples, outcomes):
        per_task.setdefault(s.task, Counter())[o] += 1
    dims = dimension_scores(scores.tasks)
    summaries = {s.task: s for s in task_summaries(scores.tasks)}
    tags_from_table = False
    if tags_by_task is not None:
        tags: Mapping[str, Iterable[str]] | None = tags_by_task
    else:
        tags, tags_from_table = tags_for_run(run.taxonomy, (t.task for t in scores.tasks))
    rows = [r for t in scores.tasks for r in metric_rows(t)]
    tasks_info = []
    for t in scores.tasks:
        c = per_task.get(t.task, Counter())
        tasks_info.append({
            "task": t,
            "score": summaries[t.task].score,
            "summary": summaries[t.task],
            "how": undefined_text(summaries[t.task]),
            "headline": [m.metric for m in headline_metrics(t)],
            "failing": c["fail"] + c["invalid"] + c["failed"],
            "counts": dict(c),
        })
    page = _template().render(
        run=run,
        scores=scores,
        dims=dims,
        taxonomy=run_taxonomy(scores.tasks, tags) if tags is not None else None,
        taxonomy_from_table=FROZEN_ON if tags_from_table else None,
        dim_by_name={d.dimension: d for d in dims},
        datasets=list({(d.dataset, d.path, d.sha256): d for d in run.datasets}.values()),
        radar=radar(dims),
        rows=rows,
        tasks_info=tasks_info,
        tasks_by_name=dict(zip((t.task for t in scores.tasks), tasks_info)),
        tradeoff=tradeoff(scores),
        reliability=reliability_plots(scores, samples),
        privacy=privacy_section(scores, samples, tags),
        security=security_section(scores, samples, tags),
        responsibility=responsibility_section(scores, samples, tags),
        cost=cost_estimate(run, prices),
        generation=generation_groups(run),
        n_samples=len(samples),
        n_categories=sum(1 for r in rows if r.category),
        outcome_totals=Counter(outcomes),
        cap=data["cap"],
        verdict=VERDICT,
        csp=csp,
        script=markupsafe.Markup(script),
        style=markupsafe.Markup(style),
        scores_json=markupsafe.Markup(json_block(_clean_floats(scores.model_dump(mode="json")))),
        blob=markupsafe.Markup(blob_mark),
    )
    # a NUL is an HTML parse error (browsers show U+FFFD): written as U+FFFD, never as a NUL
    page = redact(page).replace("\x00", "\ufffd")
    # the blob is inserted after redaction: base64 must not be touched (its JSON was redacted)
    return page.replace(blob_mark, encode_samples(data), 1)


def write_report(
    path: Path,
    run: RunInfo,
    scores: ScoresFile,
    samples: Sequence[SampleRecord],
    *,
    prices: Prices | None = None,
    tags_by_task: Mapping[str, Iterable[str]] | None = None,
) -> Path:
    """Render and write the report atomically; returns ``path``."""
    text = render_report(run, scores, samples, prices=prices, tags_by_task=tags_by_task)
    path.parent.mkdir(parents=True, exist_ok=True)
    # private to the user (0o600), as the mkstemp of earlier versions made it
    atomic_write_text(path, text, mode=0o600)
    return path
