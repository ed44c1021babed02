"""A paired test per taxonomy category for ``trustgauge compare --by category``.

A category score is the mean of the task scores of the run's tasks in the category
(:mod:`trustgauge.report.categories`), each task score a function of the task's metrics, which
its stored aggregator recomputes from ``samples.jsonl`` (as the per-task comparison does,
:mod:`trustgauge.report.compare`). The test works on what both runs share: the tasks in the
category in both runs that both scored, and of each, the samples both answered with the same
prompt (a sample group, e.g. AdvGLUE's pairs, is one unit).

- **p-value**: a paired permutation test. Under the null that the two runs are exchangeable,
  each shared unit of each task swaps its A and B outputs at random; every task is recomputed
  and the category's B − A taken again; p = (1 + #{|Δ*| ≥ |Δ|}) / (1 + draws).
- **interval**: a paired bootstrap, stratified by task: each task's shared units are drawn with
  replacement, the same draw for A and B, and the category Δ recomputed; the percentile
  interval of the draws.

The run's over-refusal control (``safety.exaggerated``), which the task scores of refusal-rate
tasks subtract, is resampled and swapped with the others when both runs have it, so its noise is
in the test. A category none of whose shared tasks can be recomputed gets no test and says why;
so does one where the runs share no task. Holm's adjustment across categories on request.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from trustgauge.report.compare import (
    TOLERANCE,
    Recompute,
    Scored,
    rebuild,
    record_group,
    relabelled,
    stored_aggregators,
)
from trustgauge.report.stats import holm, percentile_ci
from trustgauge.results.dimensions import OVER_REFUSAL_TASK, task_summaries
from trustgauge.results.results import Results
from trustgauge.results.schema import TaskScores
from trustgauge.stats.metric_values import intervals_disabled

__all__ = ["PERMUTATION", "CategoryTest", "category_tests"]

PERMUTATION = "paired permutation (tasks recomputed)"
#: the test of one comparison gives up (with a reason) when it would take longer
DEFAULT_TIME_BUDGET_S = 120.0


@dataclass(frozen=True)
class CategoryTest:
    """The paired analysis of one category (or item) row."""

    #: the tasks the test recomputed: in the row in both runs, scored in both
    tasks: tuple[str, ...] = ()
    #: shared units (samples or sample groups) over those tasks
    n_units: int = 0
    #: B − A of the row's score over the shared tasks and samples
    delta: float | None = None
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    #: Holm-adjusted (``adjust="holm"``), else equal to :attr:`p_value`
    p_adjusted: float | None = None
    method: str = "none"
    reason: str | None = None


@dataclass
class _TaskData:
    """One task's shared units, A's and B's scored samples per unit, its aggregator."""

    scores_a: TaskScores
    scores_b: TaskScores
    recompute: Recompute
    units: list[str]
    by_unit_a: dict[str, Scored]
    by_unit_b: dict[str, Scored]


def _prepare(task: str, a: Results, b: Results) -> _TaskData | str:
    """The task's shared units, or why it cannot be recomputed."""
    ta = next(t for t in a.tasks if t.task == task)
    tb = next(t for t in b.tasks if t.task == task)
    stored = stored_aggregators(ta, tb, a, b)
    if isinstance(stored, str):
        return stored
    rec_a, rec_b = stored
    if rec_a.params != rec_b.params:
        return f"the runs called {rec_a.name} with different parameters"
    answered_a = {r.sample_id: r for r in a.samples if r.task == task and r.response is not None}
    answered_b = {r.sample_id: r for r in b.samples if r.task == task and r.response is not None}
    # scores.json must come back from samples.jsonl, else the recomputed scores mean nothing
    with intervals_disabled():
        for side, t, answered in (("A", ta, answered_a), ("B", tb, answered_b)):
            again = {m.metric: m.value for m in rec_a([rebuild(r) for r in answered.values()])}
            for m in t.metrics:
                x, y = m.value, again.get(m.metric)
                same = (x is None and y is None) or (
                    x is not None and y is not None and math.isclose(x, y, rel_tol=1e-9, abs_tol=TOLERANCE)
                )
                if not same:
                    return f"samples.jsonl of run {side} does not reproduce its {m.metric} ({x!r} vs {y!r})"
    shared = [i for i in answered_a if i in answered_b and answered_a[i].prompt == answered_b[i].prompt]
    if not shared:
        return "the runs share no answered sample"
    unit_of = {i: record_group(answered_a[i]) or i for i in shared}
    units = list(dict.fromkeys(unit_of[i] for i in shared))
    by_a: dict[str, Scored] = {u: [] for u in units}
    by_b: dict[str, Scored] = {u: [] for u in units}
    for i in shared:
        by_a[unit_of[i]].append(rebuild(answered_a[i]))
        by_b[unit_of[i]].append(rebuild(answered_b[i]))
    return _TaskData(ta, tb, rec_a, units, by_a, by_b)


def _row_scores(
    data: Mapping[str, _TaskData], scored: Mapping[str, Scored], side: str, rows: Sequence[Sequence[str]]
) -> list[float | None]:
    """Each row's mean task score with every task of ``data`` recomputed from ``scored``."""
    tasks = []
    for task, d in data.items():
        base = d.scores_a if side == "a" else d.scores_b
        tasks.append(base.model_copy(update={"metrics": d.recompute(scored[task])}))
    scores = {s.task: s.score for s in task_summaries(tasks)}
    out: list[float | None] = []
    for row in rows:
        values = [v for t in row if (v := scores.get(t)) is not None]
        out.append(sum(values) / len(values) if values else None)
    return out


def category_tests(
    a: Results,
    b: Results,
    rows_a: Sequence[Sequence[str]],
    rows_b: Sequence[Sequence[str]],
    *,
    resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    adjust: str = "none",
    time_budget: float = DEFAULT_TIME_BUDGET_S,
    clock: Callable[[], float] = time.perf_counter,
) -> list[CategoryTest]:
    """One :class:`CategoryTest` per row: ``rows_a[i]`` / ``rows_b[i]`` are the tasks with a
    score in row ``i`` (a category, or an item) of run A / B."""
    shared_rows = [[t for t in ra if t in set(rb)] for ra, rb in zip(rows_a, rows_b)]
    needed = list(dict.fromkeys(t for row in shared_rows for t in row))
    tasks_a, tasks_b = {t.task for t in a.tasks}, {t.task for t in b.tasks}
    control = OVER_REFUSAL_TASK if OVER_REFUSAL_TASK in tasks_a and OVER_REFUSAL_TASK in tasks_b else None
    prepared: dict[str, _TaskData] = {}
    why_not: dict[str, str] = {}
    for task in [*needed, *([control] if control and control not in needed else [])]:
        got = _prepare(task, a, b)
        if isinstance(got, str):
            why_not[task] = got
        else:
            prepared[task] = got
    if control is not None and control in why_not:
        # the refusal tasks' scores subtract it: without it they cannot be recomputed either
        for task in needed:
            why_not.setdefault(task, f"the over-refusal control {control}: {why_not[control]}")
            prepared.pop(task, None)
    out: list[CategoryTest] = []
    testable: list[int] = []
    for i, row in enumerate(shared_rows):
        if not row:
            out.append(CategoryTest(reason="no task in it that both runs scored"))
        elif any(t in why_not for t in row):
            bad = next(t for t in row if t in why_not)
            out.append(CategoryTest(tasks=tuple(row), reason=f"{bad}: {why_not[bad]}"))
        else:
            out.append(CategoryTest(tasks=tuple(row)))
            testable.append(i)
    if not testable:
        return out
    rows = [shared_rows[i] for i in testable]
    data = {t: d for t, d in prepared.items() if t in {x for r in rows for x in r} or t == control}
    full_a = {t: [x for u in d.units for x in d.by_unit_a[u]] for t, d in data.items()}
    full_b = {t: [x for u in d.units for x in d.by_unit_b[u]] for t, d in data.items()}
    with intervals_disabled():
        obs_a, obs_b = _row_scores(data, full_a, "a", rows), _row_scores(data, full_b, "b", rows)
        observed = [None if x is None or y is None else y - x for x, y in zip(obs_a, obs_b)]
        rng = np.random.default_rng([seed, zlib.crc32(b"category")])
        boot: list[list[float]] = [[] for _ in rows]
        perm: list[list[float]] = [[] for _ in rows]
        start = clock()
        too_slow: str | None = None
        for r in range(2 * resamples):
            if r == 10:
                projected = (clock() - start) / 10 * 2 * resamples
                if projected > time_budget:
                    too_slow = (f"recomputing {len(data)} tasks {2 * resamples} times would take ~{projected:.0f} s "
                                f"(over the {time_budget:.0f} s budget; fewer --resamples?)")
                    break
            ra: dict[str, Scored] = {}
            rb: dict[str, Scored] = {}
            permuting = r >= resamples
            for t, d in data.items():
                n = len(d.units)
                ra[t], rb[t] = [], []
                if permuting:
                    for unit, swap in zip(d.units, rng.integers(0, 2, size=n).tolist()):
                        ra[t].extend(d.by_unit_b[unit] if swap else d.by_unit_a[unit])
                        rb[t].extend(d.by_unit_a[unit] if swap else d.by_unit_b[unit])
                    continue
                seen: dict[int, int] = {}
                for u in rng.integers(0, n, size=n).tolist():
                    k = seen.get(u, 0)
                    seen[u] = k + 1
                    unit = d.units[u]
                    ra[t].extend(d.by_unit_a[unit] if k == 0 else relabelled(d.by_unit_a[unit], k))
                    rb[t].extend(d.by_unit_b[unit] if k == 0 else relabelled(d.by_unit_b[unit], k))
            sa, sb = _row_scores(data, ra, "a", rows), _row_scores(data, rb, "b", rows)
            for j, (x, y) in enumerate(zip(sa, sb)):
                if x is not None and y is not None:
                    (perm if permuting else boot)[j].append(y - x)
    results: list[CategoryTest] = []
    for j, i in enumerate(testable):
        row = rows[j]
        n_units = sum(len(data[t].units) for t in row)
        delta = observed[j]
        if too_slow is not None:
            results.append(CategoryTest(tasks=tuple(row), n_units=n_units, delta=delta, reason=too_slow))
        elif delta is None:
            results.append(CategoryTest(tasks=tuple(row), n_units=n_units,
                                        reason="the score is undefined on the shared samples of one run"))
        elif n_units < 2:
            results.append(CategoryTest(tasks=tuple(row), n_units=n_units, delta=delta,
                                        reason="fewer than 2 shared samples"))
        elif len(boot[j]) * 2 < resamples or len(perm[j]) * 2 < resamples:
            results.append(CategoryTest(tasks=tuple(row), n_units=n_units, delta=delta,
                                        reason="the score is undefined on most resamples"))
        else:
            tol = 1e-12 * max(1.0, abs(delta))
            hits = sum(1 for x in perm[j] if abs(x) >= abs(delta) - tol)
            p = min(1.0, (1 + hits) / (1 + len(perm[j])))
            results.append(CategoryTest(tasks=tuple(row), n_units=n_units, delta=delta,
                                        ci=percentile_ci(boot[j], alpha), p_value=p, p_adjusted=p,
                                        method=PERMUTATION))
        out[i] = results[-1]
    if adjust == "holm":
        pvalues = {i: test.p_value for i, test in enumerate(out) if test.p_value is not None}
        for i, p_adj in zip(pvalues, holm(list(pvalues.values()))):
            out[i] = replace(out[i], p_adjusted=p_adj)
    return out
