"""One table over many runs, ranked as TrustLLM ranks models (its rank card).

- Columns: each sub-task's primary metric (the first metric in ``scores.json``).
- Rank per sub-task: direction-aware (higher or lower is better), standard competition
  ranking ("1224": ties share the best rank of their block, the next rank skips), and a run
  without a value there (the metric is undefined, or the run does not have the sub-task)
  ranks last, all such runs sharing that rank.
- A sub-task where no run has a value is shown but not ranked.
- Rank per dimension: the mean of the run's ranks over the dimension's sub-tasks.
- Overall: the mean of the run's ranks over all sub-tasks (not the mean of the dimension
  means, so every sub-task weighs the same, as each column of the rank card does); the
  position orders runs by it (ties share a position).

TrustLLM never combines sub-task scores into a dimension or overall *score*; mean ranks
are the combination its rank card shows.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trustgauge.report.stats import competition_ranks
from trustgauge.results.results import Results
from trustgauge.types import Direction

FORMATS = ("md", "csv", "html")


@dataclass
class Column:
    task: str
    dimension: str
    title: str
    metric: str
    direction: Direction
    #: some run has a value here (a column no run has a value in is shown, not ranked)
    ranked: bool = True

    @property
    def key(self) -> str:
        return f"{self.task}:{self.metric}"


@dataclass
class Entry:
    """One run's row."""

    label: str
    run_id: str
    model: str
    path: str | None
    values: dict[str, float | None] = field(default_factory=dict)
    cis: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    #: why a value is missing: the metric's reason, or "not run"
    reasons: dict[str, str] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)
    dimension_ranks: dict[str, float] = field(default_factory=dict)
    mean_rank: float | None = None
    position: int = 0
    #: sub-tasks with a value
    coverage: int = 0


@dataclass
class FailedRun:
    """A model of a many-model command that produced no run (listed, not ranked)."""

    label: str
    run_id: str
    reason: str


@dataclass
class Leaderboard:
    columns: list[Column]
    dimensions: list[str]
    entries: list[Entry]
    #: models that failed (``trustgauge run -m A -m B``): shown below the ranking
    failed: list[FailedRun] = field(default_factory=list)

    def best(self, column: Column) -> set[str]:
        """Labels of the entries ranked first on ``column`` with a value."""
        return {
            e.label for e in self.entries
            if e.ranks.get(column.task) == 1 and e.values.get(column.task) is not None
        }


def run_labels(results: Sequence[Results]) -> list[str]:
    """One label per run: its model, with the run id when two runs share a model."""
    counts = Counter(r.model for r in results)
    labels = [r.model if counts[r.model] == 1 else f"{r.model} ({r.run_id})" for r in results]
    seen: Counter[str] = Counter()
    out = []
    for label in labels:
        seen[label] += 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


def _order(task_ids: Sequence[str]) -> list[str]:
    """The TrustLLM sub-tasks in suite order (frozen: :data:`trustgauge.results.legacy.TASK_ORDER`,
    so no task code is imported), then any other in the order given."""
    from trustgauge.results.legacy import TASK_ORDER

    known = [t for t in TASK_ORDER if t in task_ids]
    return known + [t for t in task_ids if t not in TASK_ORDER]


def build_leaderboard(
    results: Sequence[Results], *, common_only: bool = False, failed: Sequence[FailedRun] = ()
) -> Leaderboard:
    """Rank ``results`` (one per run) per sub-task, per dimension and overall.

    ``common_only``: only the sub-tasks every run has. ``failed``: models that produced no run,
    listed after the ranking.
    """
    first: dict[str, Column] = {}
    primary_votes: dict[str, Counter[str]] = {}
    present: Counter[str] = Counter()
    for res in results:
        for t in res.tasks:
            if not t.metrics:
                continue
            present[t.task] += 1
            primary_votes.setdefault(t.task, Counter())[t.metrics[0].metric] += 1
            if t.task not in first:
                m = t.metrics[0]
                first[t.task] = Column(t.task, t.dimension, t.title, m.metric, m.direction)
    task_ids = _order(list(first))
    if common_only:
        task_ids = [t for t in task_ids if present[t] == len(results)]
    columns: list[Column] = []
    for task_id in task_ids:
        col = first[task_id]
        # the primary metric most runs agree on (runs of different versions may differ)
        metric = primary_votes[task_id].most_common(1)[0][0]
        if metric != col.metric:
            direction = next(
                m.direction for r in results for t in r.tasks if t.task == task_id
                for m in t.metrics if m.metric == metric
            )
            col = Column(col.task, col.dimension, col.title, metric, direction)
        columns.append(col)
    dimensions = list(dict.fromkeys(c.dimension for c in columns))
    entries = [
        Entry(label, r.run_id, r.model, str(r.path) if r.path else None)
        for label, r in zip(run_labels(results), results)
    ]
    for entry, res in zip(entries, results):
        for col in columns:
            mv = res.metric(col.task, col.metric)
            entry.values[col.task] = mv.value if mv is not None else None
            entry.cis[col.task] = mv.ci if mv is not None else None
            if mv is None:
                entry.reasons[col.task] = "not run" if res.task(col.task) is None else f"no metric {col.metric}"
            elif mv.value is None:
                entry.reasons[col.task] = mv.reason or "undefined"
        entry.coverage = sum(1 for v in entry.values.values() if v is not None)
    for col in columns:
        col.ranked = any(e.values[col.task] is not None for e in entries)
        if not col.ranked:
            continue
        ranks = competition_ranks([e.values[col.task] for e in entries], col.direction)
        for e, rank in zip(entries, ranks):
            e.ranks[col.task] = rank
    ranked = [c for c in columns if c.ranked]
    for e in entries:
        for dim in dimensions:
            dim_ranks = [e.ranks[c.task] for c in ranked if c.dimension == dim]
            if dim_ranks:
                e.dimension_ranks[dim] = sum(dim_ranks) / len(dim_ranks)
        e.mean_rank = sum(e.ranks.values()) / len(ranked) if ranked else None
    positions = competition_ranks([e.mean_rank for e in entries], "lower", tol=1e-9)
    for e, pos in zip(entries, positions):
        e.position = pos
    entries.sort(key=lambda e: (e.position, e.label))
    return Leaderboard(columns, dimensions, entries, list(failed))


# --------------------------------------------------------------------------- rendering


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _arrow(direction: str) -> str:
    return "↑" if direction == "higher" else "↓"


def render_markdown(board: Leaderboard, *, subtasks: bool = True) -> str:
    """The ranking, the failed models if any, then (``subtasks``) every sub-task's value and rank."""
    from trustgauge.report._page import md_cell as cell

    unranked = [c.key for c in board.columns if not c.ranked]
    lines = [
        "## trustgauge leaderboard",
        "",
        f"{len(board.entries)} run{'s' * (len(board.entries) != 1)}, {len(board.columns)} sub-tasks. Rank per sub-task "
        "(1 = best; ties share a rank; no value ranks last), mean rank per dimension and overall."
        + (f" Not ranked (no run has a value): {', '.join(unranked)}." if unranked else ""),
        "",
        "| # | model | mean rank | " + " | ".join(cell(d) for d in board.dimensions) + " | sub-tasks with a value |",
        "|--:|---|--:|" + "--:|" * len(board.dimensions) + "--:|",
    ]
    for e in board.entries:
        dims = " | ".join(_num(e.dimension_ranks.get(d), 2) for d in board.dimensions)
        lines.append(
            f"| {e.position} | {cell(e.label)} | {_num(e.mean_rank, 2)} | {dims} | "
            f"{e.coverage}/{len(board.columns)} |"
        )
    if board.failed:
        lines += ["", "### Failed (not ranked)", "", "| model | run | why |", "|---|---|---|"]
        lines += [f"| {cell(f.label)} | {cell(f.run_id)} | {cell(f.reason)} |" for f in board.failed]
    if not subtasks:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "### Sub-tasks: value (rank)",
        "",
        "| model | " + " | ".join(f"{cell(c.task)} {cell(c.metric)} {_arrow(c.direction)}" for c in board.columns) + " |",
        "|---|" + "--:|" * len(board.columns),
    ]
    for e in board.entries:
        cells = []
        for c in board.columns:
            value = e.values.get(c.task)
            rank = e.ranks.get(c.task)
            text = _num(value) + (f" ({rank})" if rank is not None else "")
            cells.append(f"**{text}**" if value is not None and rank == 1 else text)
        lines.append(f"| {cell(e.label)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _opt(value: float | None) -> object:
    return "" if value is None else round(value, 6)


def render_csv(board: Leaderboard) -> str:
    """One row per run: position, model, run_id, mean rank, mean rank per dimension, then
    per sub-task its value and rank."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = ["position", "model", "run_id", "mean_rank"]
    header += [f"rank:{d}" for d in board.dimensions]
    for c in board.columns:
        header += [c.key, f"rank:{c.task}"]
    writer.writerow(header)
    for e in board.entries:
        row: list[object] = [e.position, e.label, e.run_id, _opt(e.mean_rank)]
        row += [_opt(e.dimension_ranks.get(d)) for d in board.dimensions]
        for c in board.columns:
            value = e.values.get(c.task)
            row += ["" if value is None else value, e.ranks.get(c.task, "")]
        writer.writerow(row)
    return buf.getvalue()


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>trustgauge leaderboard</title><style>{{ style }}</style></head><body>
<h1>trustgauge leaderboard</h1>
<p class="muted">{{ board.entries|length }} run{{ 's' if board.entries|length != 1 }}{% if board.failed %} ({{ board.failed|length }} failed){% endif %}, {{ board.columns|length }} sub-tasks. Rank per sub-task
(1 = best; ties share a rank; a run without a value ranks last), mean rank per dimension and overall.</p>
<h2>Overall</h2>
<table><thead><tr><th>#</th><th>model</th><th>run</th><th>mean rank</th>
{% for d in board.dimensions %}<th>{{ d }}</th>{% endfor %}<th>sub-tasks with a value</th></tr></thead><tbody>
{% for e in board.entries %}<tr><td class="num">{{ e.position }}</td><td>{{ e.label }}</td><td class="muted">{{ e.run_id }}</td>
<td class="num">{{ num(e.mean_rank, 2) }}</td>
{% for d in board.dimensions %}<td class="num">{{ num(e.dimension_ranks.get(d), 2) }}</td>{% endfor %}
<td class="num">{{ e.coverage }}/{{ board.columns|length }}</td></tr>
{% endfor %}</tbody></table>
{% if board.failed %}<h2>Failed (not ranked)</h2>
<table><thead><tr><th>model</th><th>run</th><th>why</th></tr></thead><tbody>
{% for f in board.failed %}<tr><td>{{ f.label }}</td><td class="muted">{{ f.run_id }}</td><td>{{ f.reason }}</td></tr>
{% endfor %}</tbody></table>{% endif %}
<h2>Sub-tasks</h2>
<table><thead><tr><th rowspan="2">model</th>
{% for d in board.dimensions %}<th colspan="{{ board.columns|selectattr('dimension', 'equalto', d)|list|length }}">{{ d }}</th>{% endfor %}</tr>
<tr>{% for c in board.columns %}<th title="{{ c.title }}">{{ c.task }}<br><span class="muted">{{ c.metric }} {{ arrow(c.direction) }}</span></th>{% endfor %}</tr></thead><tbody>
{% for e in board.entries %}<tr><td>{{ e.label }}</td>
{% for c in board.columns %}{% set v = e.values[c.task] %}
{% set r = e.ranks.get(c.task) %}
<td class="num{{ ' best good' if v is not none and r == 1 else '' }}" title="{{ e.reasons.get(c.task, '') }}">{{ num(v, 3) }}{% if r is not none %} <span class="muted">({{ r }})</span>{% endif %}</td>
{% endfor %}</tr>
{% endfor %}</tbody></table>
</body></html>
"""


def render_html(board: Leaderboard) -> str:
    """A self-contained HTML page (no scripts, nothing loaded; everything escaped)."""
    from trustgauge.report._page import render

    return render(_HTML, board=board, num=_num, arrow=_arrow)


def render(board: Leaderboard, fmt: str) -> str:
    if fmt == "md":
        return render_markdown(board)
    if fmt == "csv":
        return render_csv(board)
    if fmt == "html":
        return render_html(board)
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def write_leaderboards(out_dir: Path, run_dirs: Sequence[Path], failed: Sequence[FailedRun] = ()) -> Leaderboard:
    """``out_dir/leaderboard.md`` and ``out_dir/leaderboard.html`` over ``run_dirs`` (a
    many-model command's runs; what ``trustgauge leaderboard RUN_DIR... -o`` writes, plus the
    ``failed`` models), each written atomically. Returns the board."""
    from trustgauge.net.atomic import atomic_write_text

    board = build_leaderboard([Results.load(d) for d in run_dirs], failed=failed)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "leaderboard.md", render_markdown(board))
    atomic_write_text(out_dir / "leaderboard.html", render_html(board))
    return board
