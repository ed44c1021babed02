"""A CI gate over one run: thresholds per metric and, against a baseline run, a largest
allowed drop.

Rules:

- ``--min TASK_ID:METRIC=VALUE``: the metric must be >= VALUE; ``--max ...=VALUE``: <= VALUE.
  ``TASK_ID=VALUE`` (no metric) means the task's primary metric. A metric whose value is
  undefined (null in scores.json) fails the rule, with its reason.
- ``--baseline RUN --max-drop D``: every *primary* metric of the tasks both runs have, and
  every metric a ``--min``/``--max`` rule names, may be at most ``D`` worse than in the
  baseline, direction-aware (a drop of a metric where higher is better, a rise of one where
  lower is better; ``D`` is in the metric's own units). A metric undefined in the run but
  defined in the baseline fails; one undefined in the baseline is not compared (noted).

A rule naming a task or metric the run does not have is a usage error (exit 2), so a typo
never passes silently. So is a gate that checks nothing (a baseline sharing no task or no
comparable metric with the run): it refuses to pass on nothing unless ``allow_empty``
(``--allow-empty``) says so.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Literal

from trustgauge.errors import UsageError
from trustgauge.results.results import Results

RuleKind = Literal["min", "max"]
#: a comparison passes within this slack (floating-point noise in stored values)
EPS = 1e-12


@dataclass(frozen=True)
class Rule:
    kind: RuleKind
    task: str
    #: ``None``: the task's primary metric
    metric: str | None
    threshold: float
    text: str

    @property
    def flag(self) -> str:
        return f"--{self.kind} {self.text}"


def parse_rule(text: str, kind: RuleKind) -> Rule:
    """``TASK_ID:METRIC=VALUE`` or ``TASK_ID=VALUE`` (the primary metric)."""
    target, sep, number = text.strip().rpartition("=")
    if not sep or not target.strip():
        raise UsageError(
            f"bad --{kind} {text!r}: expected TASK_ID:METRIC=VALUE, e.g. --{kind} safety.jailbreak:rta=0.9"
        )
    task, colon, metric = target.strip().partition(":")
    try:
        threshold = float(number)
    except ValueError:
        raise UsageError(f"bad --{kind} {text!r}: {number.strip()!r} is not a number") from None
    if math.isnan(threshold):
        raise UsageError(f"bad --{kind} {text!r}: the threshold is not a number")
    if not task.strip() or (colon and not metric.strip()):
        raise UsageError(f"bad --{kind} {text!r}: expected TASK_ID:METRIC=VALUE")
    return Rule(kind, task.strip(), metric.strip() if colon else None, threshold, text.strip())


@dataclass
class Check:
    """The outcome of one rule (or one baseline comparison)."""

    kind: str  # "min", "max" or "max-drop"
    task: str
    metric: str
    direction: str
    threshold: float
    value: float | None
    passed: bool
    #: one line: why it failed or passed
    reason: str
    baseline: float | None = None

    @property
    def name(self) -> str:
        return f"{self.task}:{self.metric}"


@dataclass
class GateResult:
    run_id: str
    model: str
    checks: list[Check] = field(default_factory=list)
    baseline_run_id: str | None = None
    baseline_model: str | None = None
    max_drop: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def passed(self) -> bool:
        return not self.failures


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def resolve(res: Results, rule: Rule) -> str:
    """The metric a rule names in ``res`` (its primary metric when it names none); a
    :class:`UsageError` naming the rule when the run has no such task or metric."""
    task = res.task(rule.task)
    if task is None:
        known = [t.task for t in res.tasks]
        near = difflib.get_close_matches(rule.task, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(near)}?" if near else f" (it has {len(known)} tasks: trustgauge export --what tasks lists them)"
        raise UsageError(f"rule {rule.flag}: the run {res.run_id} has no task {rule.task!r}{hint}")
    if not task.metrics:
        raise UsageError(f"rule {rule.flag}: task {rule.task} has no metrics in run {res.run_id}")
    if rule.metric is None:
        return task.metrics[0].metric
    names = [m.metric for m in task.metrics]
    if rule.metric not in names:
        near = difflib.get_close_matches(rule.metric, names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise UsageError(
            f"rule {rule.flag}: task {rule.task} has no metric {rule.metric!r} ({hint}its metrics: "
            f"{', '.join(names)})"
        )
    return rule.metric


def _threshold_check(res: Results, rule: Rule, metric: str) -> Check:
    mv = res.metric(rule.task, metric)
    assert mv is not None
    bound = ">=" if rule.kind == "min" else "<="
    if mv.value is None:
        return Check(
            rule.kind, rule.task, metric, mv.direction, rule.threshold, None, False,
            f"{rule.task}:{metric} is undefined ({mv.reason or 'no value'}), needs {bound} {_fmt(rule.threshold)}",
        )
    ok = mv.value >= rule.threshold - EPS if rule.kind == "min" else mv.value <= rule.threshold + EPS
    if ok:
        reason = f"{rule.task}:{metric} = {_fmt(mv.value)} {bound} {_fmt(rule.threshold)}"
    else:
        below = "<" if rule.kind == "min" else ">"
        reason = f"{rule.task}:{metric} = {_fmt(mv.value)} {below} {rule.kind} {_fmt(rule.threshold)}"

    return Check(rule.kind, rule.task, metric, mv.direction, rule.threshold, mv.value, ok, reason)


def _drop_check(res: Results, base: Results, task: str, metric: str, max_drop: float) -> Check | str:
    """One baseline comparison, or a note when it cannot be made."""
    mv, bv = res.metric(task, metric), base.metric(task, metric)
    if bv is None:
        return f"{task}:{metric} is not in the baseline: not compared"
    if mv is None:
        return f"{task}:{metric} is not in the run: not compared"
    if bv.value is None:
        return f"{task}:{metric} is undefined in the baseline ({bv.reason or 'no value'}): not compared"
    arrow = "↑" if mv.direction == "higher" else "↓"
    if mv.value is None:
        return Check(
            "max-drop", task, metric, mv.direction, max_drop, None, False,
            f"{task}:{metric} is undefined ({mv.reason or 'no value'}); baseline {_fmt(bv.value)}",
            baseline=bv.value,
        )
    drop = bv.value - mv.value if mv.direction == "higher" else mv.value - bv.value
    ok = drop <= max_drop + EPS
    worse = "dropped" if mv.direction == "higher" else "rose"
    if ok:
        reason = f"{task}:{metric} {arrow} {_fmt(mv.value)} vs baseline {_fmt(bv.value)} (within {_fmt(max_drop)})"
    else:
        reason = (
            f"{task}:{metric} {arrow} {worse} {_fmt(abs(mv.value - bv.value))} from baseline "
            f"{_fmt(bv.value)} to {_fmt(mv.value)} (max drop {_fmt(max_drop)})"
        )
    return Check("max-drop", task, metric, mv.direction, max_drop, mv.value, ok, reason, baseline=bv.value)


def run_gate(
    res: Results,
    rules: list[Rule],
    *,
    baseline: Results | None = None,
    max_drop: float | None = None,
    allow_empty: bool = False,
) -> GateResult:
    """Check ``rules`` (and the baseline drop) on ``res``. Raises :class:`UsageError` for a
    rule naming a task or metric the run does not have, a baseline without ``max_drop``, or
    (unless ``allow_empty``) a baseline comparison that compared nothing."""
    if (baseline is None) != (max_drop is None):
        raise UsageError("--baseline and --max-drop go together: --baseline RUN_DIR --max-drop D")
    if max_drop is not None and (math.isnan(max_drop) or max_drop < 0):
        raise UsageError(f"--max-drop must be >= 0, got {max_drop}")
    if not rules and baseline is None:
        raise UsageError("nothing to check: give --min/--max rules and/or --baseline RUN --max-drop D")
    resolved = [(rule, resolve(res, rule)) for rule in rules]
    result = GateResult(res.run_id, res.model, max_drop=max_drop)
    for rule, metric in resolved:
        result.checks.append(_threshold_check(res, rule, metric))
    if baseline is not None and max_drop is not None:
        result.baseline_run_id, result.baseline_model = baseline.run_id, baseline.model
        targets: list[tuple[str, str]] = []
        base_tasks = {t.task for t in baseline.tasks}
        for t in res.tasks:
            if t.task in base_tasks and t.metrics:
                targets.append((t.task, t.metrics[0].metric))
        for rule, metric in resolved:
            targets.append((rule.task, metric))
        for task, metric in dict.fromkeys(targets):
            outcome = _drop_check(res, baseline, task, metric, max_drop)
            if isinstance(outcome, str):
                result.notes.append(outcome)
            else:
                result.checks.append(outcome)
        only_base = [t.task for t in baseline.tasks if res.task(t.task) is None]
        if only_base:
            result.notes.append(f"tasks in the baseline only (not compared): {', '.join(only_base)}")
        if not any(c.kind == "max-drop" for c in result.checks):
            why = _nothing_compared(res, baseline)
            if not allow_empty:
                raise UsageError(f"{why}; the gate refuses to pass on nothing (--allow-empty to accept)")
            result.notes.append(f"{why} (--allow-empty)")
    return result


def _nothing_compared(res: Results, baseline: Results) -> str:
    """Why a baseline comparison made no check (one line)."""
    shared = [t.task for t in res.tasks if baseline.task(t.task) is not None]
    if not shared:
        return (
            f"nothing to compare with the baseline: run {res.run_id} and baseline {baseline.run_id} "
            f"share no task (run: {', '.join(t.task for t in res.tasks) or 'none'}; baseline: "
            f"{', '.join(t.task for t in baseline.tasks) or 'none'})"
        )
    return (
        f"nothing to compare with the baseline: no metric of the {len(shared)} shared task"
        f"{'' if len(shared) == 1 else 's'} is both defined in baseline {baseline.run_id} and "
        f"present in run {res.run_id}"
    )


def failure_lines(result: GateResult) -> list[str]:
    """One line per failed check."""
    return [f"FAIL {c.reason}" for c in result.failures]


def render_markdown(result: GateResult) -> str:
    """A summary fit for a pull-request comment or ``$GITHUB_STEP_SUMMARY``."""

    from trustgauge.report._page import md_cell as cell

    def checks(n: int) -> str:
        return f"{n} check{'' if n == 1 else 's'}"

    n_fail = len(result.failures)
    head = (
        f"## trustgauge gate: ✅ passed ({checks(len(result.checks))})" if result.passed
        else f"## trustgauge gate: ❌ failed ({n_fail} of {checks(len(result.checks))})"
    )
    lines = [head, "", f"Run `{cell(result.run_id)}` ({cell(result.model)})"]
    if result.baseline_run_id is not None:
        lines[-1] += (
            f" against baseline `{cell(result.baseline_run_id)}` ({cell(result.baseline_model or '')}), "
            f"max drop {_fmt(result.max_drop)}"
        )
    header = ["| | check | metric | value | bound | |", "|---|---|---|--:|--:|---|"]

    def row(c: Check) -> str:
        arrow = "↑" if c.direction == "higher" else "↓"
        if c.kind == "max-drop" and c.baseline is not None:
            limit = c.baseline - c.threshold if c.direction == "higher" else c.baseline + c.threshold
            sign = "≥" if c.direction == "higher" else "≤"
            bound = f"{sign} {_fmt(limit)} (baseline {_fmt(c.baseline)})"
        else:
            bound = f"{'≥' if c.kind == 'min' else '≤'} {_fmt(c.threshold)}"
        return (
            f"| {'✅' if c.passed else '❌'} | {c.kind} | {cell(c.name)} {arrow} | {_fmt(c.value)} | "
            f"{bound} | {'' if c.passed else cell(c.reason)} |"
        )

    passed = [c for c in result.checks if c.passed]
    if result.failures:
        lines += ["", *header, *(row(c) for c in result.failures)]
    if passed:
        lines += ["", f"<details><summary>{checks(len(passed))} passed</summary>", "", *header,
                  *(row(c) for c in passed), "", "</details>"]
    if result.notes:
        lines += ["", f"<details><summary>{len(result.notes)} note{'' if len(result.notes) == 1 else 's'}</summary>", "",
                  *(f"- {cell(n)}" for n in result.notes), "", "</details>"]
    return "\n".join(lines) + "\n"
