"""Run health in report.md (:func:`markdown`); the counts, warnings and limits moved to
:mod:`trustgauge.results.health` (issue 13 step 10) and are re-exported here until step 13."""

from __future__ import annotations

from trustgauge.results.health import KINDS as KINDS
from trustgauge.results.health import WARN_RATE as WARN_RATE
from trustgauge.results.health import _pct
from trustgauge.results.health import blank as blank
from trustgauge.results.health import count as count
from trustgauge.results.health import limit_errors as limit_errors
from trustgauge.results.health import run_health as run_health
from trustgauge.results.schema import RunHealth


def markdown(health: RunHealth | None) -> list[str]:
    """The report.md lines of the health section (none for a schema 1 run)."""
    if health is None:
        return []
    lines = [
        "## Run health",
        "",
        f"empty {_pct(health.rate('empty'))} · truncated {_pct(health.rate('truncated'))} · "
        f"failed {_pct(health.rate('failed'))} · unreadable {_pct(health.rate('unreadable'))} "
        f"of {health.n} samples",
        "",
    ]
    if health.warnings:
        lines += [f"- **warning:** {w}" for w in health.warnings] + [""]
    rows = [(t, c) for t, c in health.tasks.items() if any(getattr(c, k) for k in KINDS)]
    if rows:
        lines += ["| task | n | empty | truncated | failed | unreadable |", "|---|---|---|---|---|---|"]
        lines += [
            f"| {t} | {c.n} | " + " | ".join(f"{getattr(c, k)} ({_pct(c.rate(k))})" for k in KINDS) + " |"
            for t, c in rows
        ]
        lines.append("")
    return lines
