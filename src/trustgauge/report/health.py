"""Run health in report.md (:func:`markdown`); the counts, warnings and limits are in
:mod:`trustgauge.results.health`."""

from __future__ import annotations

from trustgauge.results.health import KINDS, _pct
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
