"""Scores per taxonomy category across runs: ``trustgauge leaderboard --by category`` (one
column per run) and ``trustgauge compare --by category`` (A, B and the delta B − A).

Each cell is :func:`trustgauge.report.categories.run_taxonomy`'s category score of one run (the
mean task score of the run's tasks tagged with the category's sub-categories, 0–1, higher is
better) with how many of the category's sub-categories the run measures. No ranks and no
significance test: a category score mixes tasks, and runs may measure different sub-categories
of it, which the measured counts show."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from trustgauge.errors import UsageError
from trustgauge.report._page import fmt_num, md_cell
from trustgauge.report.categories import run_taxonomy
from trustgauge.report.category_test import CategoryTest, category_tests
from trustgauge.report.leaderboard import run_labels
from trustgauge.results.results import Results
from trustgauge.taxonomy import BASE, Category, Item, framework
from trustgauge.taxonomy.legacy import tags_for_run

__all__ = ["CategoryRow", "CategoryTable", "category_table", "render", "to_dict"]

FORMATS = ("md", "csv", "html")


@dataclass(frozen=True)
class CategoryRow:
    #: the category; for a framework of one category (OWASP, NIST), one of its items
    category: Category | Item
    #: per run (in :attr:`CategoryTable.labels` order): the category score, ``None`` when no
    #: task of the run measuring it has a score
    scores: tuple[float | None, ...]
    #: per run: the category's sub-categories a task of the run measures
    measured: tuple[int, ...]
    total: int
    #: per run: the tasks with a score in this row (what its score averages)
    scored_tasks: tuple[tuple[str, ...], ...] = ()
    #: compare: the paired test of B − A (:mod:`trustgauge.report.category_test`)
    test: CategoryTest | None = None

    @property
    def delta(self) -> float | None:
        """The second run's score minus the first's (compare), ``None`` unless both have one."""
        if len(self.scores) != 2 or self.scores[0] is None or self.scores[1] is None:
            return None
        return self.scores[1] - self.scores[0]


@dataclass(frozen=True)
class CategoryTable:
    framework_id: str
    labels: tuple[str, ...]
    run_ids: tuple[str, ...]
    rows: tuple[CategoryRow, ...]
    #: B − A columns (compare of two runs)
    delta: bool = False
    #: the significance level of the tests (compare), ``None``: no tests
    alpha: float | None = None

    @property
    def regressions(self) -> list[CategoryRow]:
        """Rows whose score got significantly worse (a drop with adjusted p < alpha)."""
        if self.alpha is None:
            return []
        return [r for r in self.rows if r.test is not None and r.test.p_adjusted is not None
                and r.test.delta is not None and r.test.delta < 0 and r.test.p_adjusted < self.alpha]


def category_table(
    results: Sequence[Results],
    tags_by_task: Mapping[str, Iterable[str]] | None = None,
    *,
    delta: bool = False,
    framework_id: str = BASE,
) -> CategoryTable:
    """One row per category of ``framework_id`` (default Liu et al.; another framework's
    categories are reached through its mapping from Liu sub-categories, as ``trustgauge
    taxonomy --framework`` shows them; a framework of one category, OWASP's or NIST's list,
    gets one row per item), one score per run of ``results``, each run's tasks
    read with ``tags_by_task`` when given, else the tags it recorded (``run.json``'s
    ``taxonomy``), else, for a run made before runs recorded them, TrustLLM's tasks' frozen tags
    (:mod:`trustgauge.taxonomy.legacy`);
    ``delta``: add B − A (exactly two runs). A run with no recorded tags and no TrustLLM task
    is a :class:`~trustgauge.errors.UsageError`."""
    if delta and len(results) != 2:
        raise ValueError("a delta needs exactly two runs")
    fw = framework(framework_id)
    views = []
    for r in results:
        tags = tags_by_task
        if tags is None:
            tags, _ = tags_for_run(r.run.taxonomy, (t.task for t in r.tasks))
        if tags is None:
            raise UsageError(
                f"run {r.run_id} ({r.path or r.model}) does not record its tasks' taxonomy tags (written before "
                "trustgauge recorded them in run.json) and none of its tasks is one of TrustLLM's: it cannot "
                "be read by category"
            )
        views.append(run_taxonomy(r.tasks, tags, fw))
    rows = []
    if len(fw.categories) == 1:
        # one category (OWASP's list, NIST's risks): a row per item says more than one mean
        (only,) = fw.categories
        for item in only.items:
            found = [next(i for c in v.categories for i in c.items if i.item.id == item.id) for v in views]
            rows.append(CategoryRow(
                category=item,
                scores=tuple(i.score for i in found),
                measured=tuple(int(i.measured) for i in found),
                total=1,
                scored_tasks=tuple(tuple(t.task for t in i.tasks if t.score is not None) for i in found),
            ))
    for category in fw.categories if len(fw.categories) > 1 else ():
        cats = [v.category(category.id) for v in views]
        rows.append(CategoryRow(
            category=category,
            scores=tuple(c.score if c is not None else None for c in cats),
            measured=tuple(c.measured if c is not None else 0 for c in cats),
            total=len(category.items),
            scored_tasks=tuple(
                tuple(t.task for t in c.tasks if t.score is not None) if c is not None else () for c in cats
            ),
        ))
    return CategoryTable(fw.id, tuple(run_labels(results)), tuple(r.run_id for r in results), tuple(rows), delta)


def with_tests(
    table: CategoryTable, a: Results, b: Results, *, resamples: int = 1000, seed: int = 0,
    alpha: float = 0.05, adjust: str = "none",
) -> CategoryTable:
    """``table`` (a compare of ``a`` and ``b``) with a paired test per row."""
    if not table.delta:
        raise ValueError("tests need a compare table (delta=True)")
    tests = category_tests(
        a, b, [r.scored_tasks[0] for r in table.rows], [r.scored_tasks[1] for r in table.rows],
        resamples=resamples, seed=seed, alpha=alpha, adjust=adjust,
    )
    rows = tuple(replace(r, test=t) for r, t in zip(table.rows, tests))
    return replace(table, rows=rows, alpha=alpha)


def _p_cell(test: CategoryTest | None) -> str:
    if test is None:
        return ""
    if test.p_adjusted is None:
        return "no test: " + (test.reason or "")
    ci = f" [{fmt_num(test.ci[0], 3, signed=True)}, {fmt_num(test.ci[1], 3, signed=True)}]" if test.ci else ""
    return f"p={test.p_adjusted:.3g}{ci}"


# --------------------------------------------------------------------------- rendering


def _cell(score: float | None, measured: int, total: int) -> str:
    if measured == 0:
        return f"not measured (0/{total})"
    return f"{fmt_num(score, 3) if score is not None else 'n/a'} ({measured}/{total})"


_NOTE = (
    "Score per {fw} category: the mean task score (0–1, higher is better; undefined counts 0, "
    "not scored is left out) of the run's tasks in its sub-categories; (measured/total sub-categories)."
)
_TEST_NOTE = (
    "The paired test recomputes the category's score over the tasks both runs scored and the samples "
    "both answered: p from a paired permutation test, the interval of that Δ from a paired bootstrap "
    "stratified by task (docs/taxonomy.md)."
)


def render_markdown(table: CategoryTable) -> str:
    title = "trustgauge compare by category" if table.delta else "trustgauge leaderboard by category"
    head = [md_cell(label) for label in table.labels] + (["Δ (B − A)"] if table.delta else [])
    tested = table.alpha is not None
    if tested:
        head.append("paired test: p, 95% CI of Δ")
    note = _NOTE.format(fw=table.framework_id) + (f" {_TEST_NOTE}" if tested else "")
    lines = [
        f"## {title}", "", note, "",
        "| category | " + " | ".join(head) + " |",
        "|---|" + "--:|" * len(head),
    ]
    for row in table.rows:
        cells = [_cell(s, m, row.total) for s, m in zip(row.scores, row.measured)]
        if table.delta:
            cells.append(fmt_num(row.delta, 3, signed=True))
        if tested:
            cells.append(md_cell(_p_cell(row.test)))
        lines.append(f"| {md_cell(row.category.name)} | " + " | ".join(cells) + " |")
    if tested:
        worse = table.regressions
        lines += ["", f"{len(worse)} significant regression(s) at alpha={table.alpha}"
                  + (": " + ", ".join(md_cell(r.category.name) for r in worse) if worse else "")]
    return "\n".join(lines) + "\n"


def render_csv(table: CategoryTable) -> str:
    """One row per category: its id, then per run its score and measured sub-categories, the
    total, and (compare) the delta."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = ["category"]
    for label in table.labels:
        header += [f"score:{label}", f"measured:{label}"]
    header += ["total"] + (["delta"] if table.delta else [])
    writer.writerow(header)
    for row in table.rows:
        out: list[object] = [row.category.id]
        for s, m in zip(row.scores, row.measured):
            out += ["" if s is None else round(s, 6), m]
        out.append(row.total)
        if table.delta:
            out.append("" if row.delta is None else round(row.delta, 6))
        writer.writerow(out)
    return buf.getvalue()


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{ title }}</title><style>{{ style }}</style></head><body>
<h1>{{ title }}</h1>
<p class="muted">{{ note }}</p>
<table><thead><tr><th>category</th>{% for label in table.labels %}<th>{{ label }}</th>{% endfor %}
{% if table.delta %}<th>Δ (B − A)</th>{% endif %}{% if table.alpha is not none %}<th>paired test: p, 95% CI of Δ</th>{% endif %}</tr></thead><tbody>
{% for row in table.rows %}<tr data-category="{{ row.category.id }}"><td>{{ row.category.name }}</td>
{% for s in row.scores %}<td class="num">{{ cell(s, row.measured[loop.index0], row.total) }}</td>{% endfor %}
{% if table.delta %}<td class="num">{{ row.delta|num(3, true) }}</td>{% endif %}{% if table.alpha is not none %}<td>{{ pcell(row.test) }}</td>{% endif %}</tr>
{% endfor %}</tbody></table>
</body></html>
"""


def render_html(table: CategoryTable) -> str:
    """A self-contained HTML page (no scripts, nothing loaded; everything escaped)."""
    from trustgauge.report._page import render as render_page

    title = "trustgauge compare by category" if table.delta else "trustgauge leaderboard by category"
    note = _NOTE.format(fw=table.framework_id) + (f" {_TEST_NOTE}" if table.alpha is not None else "")
    return render_page(_HTML, table=table, title=title, note=note, cell=_cell, pcell=_p_cell)


def render(table: CategoryTable, fmt: str) -> str:
    if fmt == "md":
        return render_markdown(table)
    if fmt == "csv":
        return render_csv(table)
    if fmt == "html":
        return render_html(table)
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def to_dict(table: CategoryTable) -> dict[str, Any]:
    """The table as JSON-ready data (compare --json)."""
    return {
        "framework": table.framework_id,
        "runs": [{"label": label, "run_id": run_id} for label, run_id in zip(table.labels, table.run_ids)],
        "categories": [
            {
                "category": row.category.id, "name": row.category.name, "total": row.total,
                "scores": list(row.scores), "measured": list(row.measured),
                **({"delta": row.delta} if table.delta else {}),
                **({"test": None if row.test is None else asdict(row.test)} if table.alpha is not None else {}),
            }
            for row in table.rows
        ],
        **({"alpha": table.alpha, "regressions": [r.category.id for r in table.regressions]}
           if table.alpha is not None else {}),
    }
