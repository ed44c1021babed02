"""Run health: how many answers were empty, cut at the token limit, missing (failed requests)
or unreadable, per task and for the whole run.

A metric computed over degenerate answers measures the server, not the model: a server that
answers ``""`` to everything scores a perfect refusal rate on jailbreak, misuse and leakage.
The counts go into ``run.json`` (``health``) and ``scores.json`` (each task's ``health``), every
kind whose share exceeds :data:`WARN_RATE` gets a warning in the summary and both reports, and
``trustgauge run --max-empty-rate/--max-truncated-rate`` turn shares into the exit code
(``--max-empty-rate`` is 0.5 by default: over half the answers empty is a broken server or
chat template, not a model's behaviour).

The counts are part of the run-dir format (the writer computes them, readers and the exit code
use them), so they live here; the report.md section is rendered by :mod:`trustgauge.report.health`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence

from trustgauge.results.schema import HealthCounts, RunHealth, SampleRecord

#: the share of a kind above which the run is warned about
WARN_RATE = 0.05

KINDS: tuple[str, ...] = ("empty", "truncated", "failed", "unreadable")
_WHAT = {
    "empty": "responses are empty",
    "truncated": "responses were cut at the token limit (finish_reason: length)",
    "failed": "requests failed",
    "unreadable": "answers could not be read by the scorer",
}


def blank(text: str) -> bool:
    """Whether ``text`` shows nothing: white space and invisible format characters only
    (zero-width space U+200B, word joiner, BOM, ...), which ``str.strip`` keeps."""
    stripped = text.strip()
    return not stripped or all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in stripped)


def _kind(s: SampleRecord, scored: bool) -> set[str]:
    if s.response is None:
        return {"failed"}
    kinds = set()
    if blank(s.response):
        kinds.add("empty")
    elif scored and not s.valid:
        kinds.add("unreadable")
    if s.finish_reason == "length":
        kinds.add("truncated")
    return kinds


def count(samples: Sequence[SampleRecord], unscored: Collection[str] = ()) -> HealthCounts:
    """The health counts of ``samples`` (those of ``unscored`` tasks, which lacked a judge, are
    never counted unreadable)."""
    c = HealthCounts(n=len(samples))
    for s in samples:
        for kind in _kind(s, s.task not in unscored):
            setattr(c, kind, getattr(c, kind) + 1)
    return c


def _pct(x: float) -> str:
    return f"{x:.1%}"


def run_health(
    samples: Sequence[SampleRecord], tasks: Sequence[str], *, unscored: Collection[str] = (),
    warn_rate: float = WARN_RATE,
) -> RunHealth:
    """Counts for the run and each of ``tasks`` (in that order), with a warning per kind whose
    share of the run exceeds ``warn_rate`` (naming the tasks above it) or, below that, per task
    above it. ``unscored``: tasks not scored for want of a judge (no answer is unreadable)."""
    by_task: dict[str, list[SampleRecord]] = {t: [] for t in tasks}
    for s in samples:
        by_task.setdefault(s.task, []).append(s)
    per_task = {t: count(ss, unscored) for t, ss in by_task.items()}
    total = count(samples, unscored)
    warnings: list[str] = []
    for kind in KINDS:
        worst = [t for t, c in per_task.items() if c.rate(kind) > warn_rate]
        if total.rate(kind) > warn_rate:
            where = ", ".join(f"{t} {_pct(per_task[t].rate(kind))}" for t in worst[:5])
            more = f" and {len(worst) - 5} more" if len(worst) > 5 else ""
            warnings.append(
                f"{getattr(total, kind)} of {total.n} {_WHAT[kind]} ({_pct(total.rate(kind))})"
                + (f": {where}{more}" if where else "")
            )
        else:
            for t in worst:
                c = per_task[t]
                warnings.append(f"{t}: {getattr(c, kind)} of {c.n} {_WHAT[kind]} ({_pct(c.rate(kind))})")
    return RunHealth(**total.model_dump(), warn_rate=warn_rate, tasks=per_task, warnings=warnings)


def limit_errors(health: RunHealth, limits: dict[str, float | None]) -> list[str]:
    """One message per kind whose share exceeds its limit (``limits``: kind -> max share, ``None``
    for no limit), naming the option that set it."""
    out = []
    for kind, limit in limits.items():
        if limit is None or health.rate(kind) <= limit:
            continue
        out.append(
            f"{getattr(health, kind)} of {health.n} {_WHAT[kind]} ({_pct(health.rate(kind))} > "
            f"--max-{kind}-rate {_pct(limit)}); the scores measure the server more than the model "
            "(see health in run.json)"
        )
    return out
