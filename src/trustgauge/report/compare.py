"""Compare two runs: per sub-task and metric, A, B, the delta B − A with a 95% interval, and a
paired significance test on the samples both runs share (same task, sample id and prompt).

Which test (see docs/compare-gate.md):

- A metric that is the mean of a per-sample value (RtA = mean of ``refusal``, accuracy = mean
  of ``correct``, average toxicity, ...) is tested on the pairs valid in both runs: an exact
  McNemar test when the values are 0/1, a sign-flip permutation test otherwise; the interval
  is a paired (cluster) bootstrap of the mean difference. Samples sharing a group (AdvGLUE's
  pairs, AdvInstruction's variants, ...) are one cluster for test and interval alike: whole
  groups are swapped and resampled (without groups: the ordinary tests, exactly). Whether a metric is such a mean is
  not guessed from its name: the task's own ``aggregate`` is run on the full run and on random
  subsets, and the metric must equal the mean of one per-sample value every time, in both runs.
- Any other metric (macro-F1, Pearson, chi-square p-values, RS, max toxicity, breakdowns by
  category ...) is recomputed by the task's ``aggregate``: a paired permutation test (each
  shared sample group's A and B outputs swapped at random, exact over all swaps for up to 10
  groups) gives the p-value, a paired bootstrap (the same resample of groups for both runs)
  the interval. This needs the task's ``aggregate`` to reproduce the numbers of
  ``scores.json`` from ``samples.jsonl``; where it does not, the metric says "no paired test"
  and why, never a made-up p-value.

A regression is a significant change for the worse: a drop of a metric where higher is
better, a rise of one where lower is better.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from trustgauge.report.stats import (
    DEFAULT_RESAMPLES,
    cluster_bootstrap_mean_ci,
    cluster_mcnemar_p,
    holm,
    percentile_ci,
    sign_flip_p,
)
from trustgauge.results.results import Results
from trustgauge.results.schema import SampleRecord, TaskScores
from trustgauge.stats.aggregators import UnknownAggregator, get_aggregator
from trustgauge.stats.metric_values import intervals_disabled, resampling
from trustgauge.types import Direction, MetricValue, Sample, SampleScore

Adjust = Literal["none", "holm"]
Scored = list[tuple[Sample, SampleScore]]


@dataclass(frozen=True)
class Recompute:
    """A task's stored aggregator, bound to its params: recomputes the task's metrics from
    scored samples as the run that wrote them did (``scores.json``: ``aggregator``)."""

    task: str
    name: str
    params: Mapping[str, Any]

    def __call__(self, scored: Sequence[tuple[Sample, SampleScore]]) -> list[MetricValue]:
        return get_aggregator(self.name)(scored, dict(self.params))

#: a recomputed metric must match scores.json within this (absolute) tolerance
TOLERANCE = 1e-9
#: random subsets on which a metric must equal a per-sample mean to be treated as one
IDENTIFY_SUBSETS = 3
#: the paired bootstrap of one task gives up (with a reason) when it would take longer
DEFAULT_TIME_BUDGET_S = 120.0

MCNEMAR = "mcnemar-exact"
SIGN_FLIP = "sign-flip permutation"
#: the same tests when some shared samples form groups: whole groups swapped (see stats.py)
MCNEMAR_GROUPS = "mcnemar-exact (by group)"
SIGN_FLIP_GROUPS = "sign-flip permutation (by group)"
PERMUTATION = "paired permutation (recomputed)"
NO_TEST = "none"
#: recomputed metrics: every swap pattern is enumerated up to this many shared units
EXACT_UNITS = 10


@dataclass
class PairedTest:
    """The paired analysis of one metric on the samples both runs share."""

    method: str
    n_pairs: int = 0
    #: B − A on the shared samples (differs from the full-run delta when not all are shared)
    delta: float | None = None
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    #: Holm-adjusted p-value (``--adjust holm``), else equal to ``p_value``
    p_adjusted: float | None = None
    #: the per-sample value tested (mean metrics), e.g. ``refusal``
    per_sample: str | None = None
    #: McNemar's discordant pairs: A=1,B=0 and A=0,B=1
    discordant: tuple[int, int] | None = None
    #: the independent units the test and interval used (sample groups; = n_pairs when none)
    n_groups: int | None = None
    reason: str | None = None


@dataclass
class MetricComparison:
    task: str
    dimension: str
    metric: str
    direction: Direction
    primary: bool
    a: float | None
    b: float | None
    a_ci: tuple[float, float] | None
    b_ci: tuple[float, float] | None
    a_n: int
    b_n: int
    a_reason: str | None
    b_reason: str | None
    delta: float | None
    paired: PairedTest
    significant: bool = False
    #: "regression", "improvement" or None
    change: str | None = None

    @property
    def regression(self) -> bool:
        return self.change == "regression"


@dataclass
class SampleOverlap:
    """How the samples of one task line up between the runs."""

    task: str
    a: int
    b: int
    shared: int
    #: same sample id, different prompt (different data): not paired
    prompt_mismatch: int = 0
    #: answered in one run only (failed request in the other, or not drawn)
    only_a: int = 0
    only_b: int = 0


@dataclass
class RunRef:
    run_id: str
    model: str
    path: str | None
    suite: str | None


@dataclass
class Comparison:
    a: RunRef
    b: RunRef
    alpha: float
    adjust: Adjust
    resamples: int
    seed: int
    metrics: list[MetricComparison] = field(default_factory=list)
    only_a_tasks: list[str] = field(default_factory=list)
    only_b_tasks: list[str] = field(default_factory=list)
    #: ``task:metric`` present in one run only (shared tasks)
    only_a_metrics: list[str] = field(default_factory=list)
    only_b_metrics: list[str] = field(default_factory=list)
    overlap: list[SampleOverlap] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[MetricComparison]:
        return [m for m in self.metrics if m.change == "regression"]

    @property
    def improvements(self) -> list[MetricComparison]:
        return [m for m in self.metrics if m.change == "improvement"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["regressions"] = [f"{m.task}:{m.metric}" for m in self.regressions]
        data["improvements"] = [f"{m.task}:{m.metric}" for m in self.improvements]
        return data


# --------------------------------------------------------------------------- rebuilding



def record_group(record: SampleRecord) -> str | None:
    """The record's sample group (written by newer runs; ``None`` when absent)."""
    return record.group


def rebuild(record: SampleRecord) -> tuple[Sample, SampleScore]:
    """The task's view of an answered sample record."""
    sample = Sample(
        id=record.sample_id, prompt=record.prompt, target=record.target,
        group=record_group(record), metadata=record.metadata,
    )
    return sample, SampleScore(label=record.label, valid=record.valid, values=dict(record.score))


def _values(metrics: Sequence[MetricValue]) -> dict[str, MetricValue]:
    return {m.metric: m for m in metrics}


def _close(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=TOLERANCE)


def _mean_of(scored: Scored, key: str, complement: bool) -> tuple[float | None, int]:
    vals = [sc.values[key] for _, sc in scored if sc.valid and sc.values.get(key) is not None]
    if not vals:
        return None, 0
    mean = sum(v for v in vals if v is not None) / len(vals)
    return (1.0 - mean if complement else mean), len(vals)


@dataclass(frozen=True)
class _MeanOf:
    key: str
    complement: bool


def identify_means(
    task: Recompute, runs: Sequence[Scored], metrics: Sequence[str], seed: int = 0
) -> dict[str, _MeanOf]:
    """The metrics that are the mean (or one minus the mean, for 0/1 values) of one
    per-sample value, checked with the task's stored aggregator on each run's full set and on
    :data:`IDENTIFY_SUBSETS` random halves (units: sample groups): the metric's value and
    ``n`` must equal the mean and count of that value over the valid samples every time. Only
    values that vary (two distinct values over both runs) are candidates."""
    distinct: dict[str, set[float]] = {}
    for scored in runs:
        for _, sc in scored:
            for k, v in sc.values.items():
                if sc.valid and v is not None:
                    distinct.setdefault(k, set()).add(v)
    # a value that never varies is no evidence (a constant matches many statistics)
    keys = [k for k, seen in distinct.items() if len(seen) >= 2]
    binary = {
        k for k in keys
        if all(sc.values.get(k) in (None, 0.0, 1.0) for scored in runs for _, sc in scored)
    }
    candidates = [_MeanOf(k, False) for k in keys] + [_MeanOf(k, True) for k in keys if k in binary]
    alive: dict[str, list[_MeanOf]] = {m: list(candidates) for m in metrics}
    rng = np.random.default_rng([seed, 7])
    for scored in runs:
        subsets = [scored]
        units = list(dict.fromkeys(s.group or s.id for s, _ in scored))
        for _ in range(IDENTIFY_SUBSETS):
            if len(units) < 4:
                break
            chosen = set(rng.choice(len(units), size=len(units) // 2, replace=False).tolist())
            keep = {units[i] for i in chosen}
            subsets.append([(s, sc) for s, sc in scored if (s.group or s.id) in keep])
        for subset in subsets:
            got = _values(task(subset))
            for metric, cands in alive.items():
                mv = got.get(metric)
                if mv is None:
                    continue  # this subset has no such breakdown: no evidence either way
                kept = []
                for cand in cands:
                    mean, count = _mean_of(subset, cand.key, cand.complement)
                    undefined_both = count == 0 and mv.value is None
                    if undefined_both or (mean is not None and _close(mv.value, mean) and mv.n == count):
                        kept.append(cand)
                alive[metric] = kept
    return {m: c[0] for m, c in alive.items() if c}


def relabelled(items: Scored, k: int) -> Scored:
    """Copy ``k`` (> 0) of a resampled unit: its group renamed so that a task pairing
    samples by group sees distinct units."""
    return [
        (s.model_copy(update={"group": f"{s.group or s.id}#{k}"}), sc) for s, sc in items
    ]


def _swap_patterns(n_units: int, n: int, rng: np.random.Generator) -> tuple[list[list[bool]], bool]:
    """Which units swap their A and B samples in each permutation: every pattern when there
    are at most :data:`EXACT_UNITS` units (exact), else ``n`` random ones."""
    if n_units <= EXACT_UNITS:
        return [[bool((mask >> i) & 1) for i in range(n_units)] for mask in range(2**n_units)], True
    return rng.integers(0, 2, size=(n, n_units)).astype(bool).tolist(), False


def _recomputed_tests(
    task: Recompute,
    units: Sequence[str],
    by_unit_a: Mapping[str, Scored],
    by_unit_b: Mapping[str, Scored],
    metrics: Sequence[str],
    resamples: int,
    seed: int,
    alpha: float,
    time_budget: float,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, PairedTest]:
    """Metrics recomputed by the task's stored aggregator: a paired permutation test (each shared unit's
    A and B samples swapped at random; exact over all patterns for few units) for the p-value,
    and a paired bootstrap (the same resample of units for both runs) for the interval."""
    shared_a = [x for u in units for x in by_unit_a[u]]
    shared_b = [x for u in units for x in by_unit_b[u]]
    obs_a, obs_b = _values(task(shared_a)), _values(task(shared_b))
    observed: dict[str, float] = {}
    out: dict[str, PairedTest] = {}
    for m in metrics:
        va = obs_a[m].value if m in obs_a else None
        vb = obs_b[m].value if m in obs_b else None
        if va is None or vb is None:
            out[m] = PairedTest(
                NO_TEST, n_pairs=len(shared_a),
                reason="the metric is undefined on the shared samples of one run",
            )
        else:
            observed[m] = vb - va
    if not observed:
        return out
    if len(units) < 2:
        for m in observed:
            out[m] = PairedTest(NO_TEST, len(shared_a), observed[m], reason="fewer than 2 shared samples")
        return out
    rng = np.random.default_rng([seed, zlib.crc32(task.task.encode())])
    n_units = len(units)
    patterns, exact = _swap_patterns(n_units, resamples, rng)
    start = clock()

    def over_budget(done: int) -> str | None:
        if done != 10:
            return None
        projected = (clock() - start) / 10 * (resamples + len(patterns))
        if projected <= time_budget:
            return None
        return (
            f"recomputing {task.task} for the paired tests would take ~{projected:.0f} s "
            f"(over the {time_budget:.0f} s budget; fewer --resamples?)"
        )

    def deltas(rs_a: Scored, rs_b: Scored, into: dict[str, list[float]]) -> None:
        with resampling():  # aggregators may skip what no resample needs (the MIA shift check)
            ga, gb = _values(task(rs_a)), _values(task(rs_b))
        for m in observed:
            va = ga[m].value if m in ga else None
            vb = gb[m].value if m in gb else None
            if va is not None and vb is not None and not (math.isnan(va) or math.isnan(vb)):
                into[m].append(vb - va)

    # the bootstrap: units drawn with replacement; repeated units renamed (see relabelled)
    boot: dict[str, list[float]] = {m: [] for m in observed}
    copies: dict[tuple[int, int, str], Scored] = {}
    for r in range(resamples):
        if (why := over_budget(r)) is not None:
            return {**out, **{m: PairedTest(NO_TEST, len(shared_a), d, reason=why) for m, d in observed.items()}}
        seen: dict[int, int] = {}
        rs_a: Scored = []
        rs_b: Scored = []
        for u in rng.integers(0, n_units, size=n_units).tolist():
            k = seen.get(u, 0)
            seen[u] = k + 1
            if k == 0:
                rs_a.extend(by_unit_a[units[u]])
                rs_b.extend(by_unit_b[units[u]])
                continue
            for side, source, target in (("a", by_unit_a, rs_a), ("b", by_unit_b, rs_b)):
                key = (u, k, side)
                if key not in copies:
                    copies[key] = relabelled(source[units[u]], k)
                target.extend(copies[key])
        deltas(rs_a, rs_b, boot)
    # the permutation test: under the null the two runs' outputs are exchangeable per unit
    perm: dict[str, list[float]] = {m: [] for m in observed}
    for swap in patterns:
        pa: Scored = []
        pb: Scored = []
        for unit, swapped in zip(units, swap):
            pa.extend(by_unit_b[unit] if swapped else by_unit_a[unit])
            pb.extend(by_unit_a[unit] if swapped else by_unit_b[unit])
        deltas(pa, pb, perm)
    for m, delta in observed.items():
        d, q = boot[m], perm[m]
        if len(d) * 2 < resamples or len(q) * 2 < len(patterns):
            undefined = max(resamples - len(d), len(patterns) - len(q))
            out[m] = PairedTest(
                NO_TEST, len(shared_a), delta,
                reason=f"the metric is undefined on {undefined} of the resamples or permutations",
            )
            continue
        tol = 1e-12 * max(1.0, abs(delta))
        hits = sum(1 for x in q if abs(x) >= abs(delta) - tol)
        p = hits / len(q) if exact else (1 + hits) / (1 + len(q))
        out[m] = PairedTest(
            PERMUTATION, len(shared_a), delta, percentile_ci(d, alpha), min(1.0, p), n_groups=n_units
        )
    return out


def _paired_mean(
    mean_of: _MeanOf,
    pairs: Sequence[tuple[SampleScore, SampleScore, str]],
    resamples: int,
    seed: int,
    alpha: float,
) -> PairedTest:
    """McNemar (0/1 values) or sign-flip permutation test, and a cluster-bootstrap interval,
    on the pairs valid in both runs. Pairs sharing a unit (sample group) are one cluster for
    all three: the tests swap whole groups, the bootstrap resamples whole groups, so p-value
    and interval rest on the same independent units (without groups both are the usual ones)."""
    key = mean_of.key
    xs: list[float] = []
    ys: list[float] = []
    clusters: list[str] = []
    for sa, sb, unit in pairs:
        va, vb = sa.values.get(key), sb.values.get(key)
        if sa.valid and sb.valid and va is not None and vb is not None:
            if mean_of.complement:
                va, vb = 1.0 - va, 1.0 - vb
            xs.append(va)
            ys.append(vb)
            clusters.append(unit)
    per_sample = f"1 − {key}" if mean_of.complement else key
    if not xs:
        return PairedTest(NO_TEST, 0, per_sample=per_sample, reason="no sample is valid in both runs")
    diffs = [y - x for x, y in zip(xs, ys)]
    delta = sum(diffs) / len(diffs)
    ci = cluster_bootstrap_mean_ci(diffs, clusters, resamples, seed, alpha)
    n_groups = len(set(clusters))
    grouped = n_groups < len(xs)
    if all(v in (0.0, 1.0) for v in (*xs, *ys)):
        b = sum(1 for x, y in zip(xs, ys) if x == 1.0 and y == 0.0)
        c = sum(1 for x, y in zip(xs, ys) if x == 0.0 and y == 1.0)
        return PairedTest(
            MCNEMAR_GROUPS if grouped else MCNEMAR, len(xs), delta, ci, cluster_mcnemar_p(xs, ys, clusters),
            per_sample=per_sample, discordant=(b, c), n_groups=n_groups,
        )
    return PairedTest(
        SIGN_FLIP_GROUPS if grouped else SIGN_FLIP, len(xs), delta, ci,
        sign_flip_p(diffs, seed=seed, clusters=clusters), per_sample=per_sample, n_groups=n_groups,
    )


# --------------------------------------------------------------------------- the comparison


def _answered(records: Sequence[SampleRecord], task: str) -> dict[str, SampleRecord]:
    return {r.sample_id: r for r in records if r.task == task and r.response is not None}


def _dataset_sha(res: Results) -> dict[str, str]:
    return {d.path: d.sha256 for d in res.run.datasets}


def compare_task(
    ta: TaskScores,
    tb: TaskScores,
    a: Results,
    b: Results,
    *,
    resamples: int,
    seed: int,
    alpha: float,
    primary_only: bool,
    time_budget: float,
) -> tuple[list[MetricComparison], SampleOverlap, list[str], list[str]]:
    """Compare one task present in both runs: the metric rows, the sample overlap, and the
    metrics found in one run only."""
    names_a = [m.metric for m in ta.metrics]
    names_b = {m.metric for m in tb.metrics}
    shared_names = [n for n in names_a if n in names_b]
    if primary_only:
        primary = ta.metrics[0].metric if ta.metrics else None
        shared_names = [n for n in shared_names if n == primary]
    only_a = [f"{ta.task}:{n}" for n in names_a if n not in names_b]
    only_b = [f"{tb.task}:{m.metric}" for m in tb.metrics if m.metric not in set(names_a)]

    rec_a, rec_b = _answered(a.samples, ta.task), _answered(b.samples, tb.task)
    mismatch = sum(1 for i in rec_a if i in rec_b and rec_a[i].prompt != rec_b[i].prompt)
    shared_ids = [i for i in rec_a if i in rec_b and rec_a[i].prompt == rec_b[i].prompt]
    overlap = SampleOverlap(
        ta.task, len(rec_a), len(rec_b), len(shared_ids), mismatch,
        only_a=sum(1 for i in rec_a if i not in rec_b), only_b=sum(1 for i in rec_b if i not in rec_a),
    )
    ma, mb = _values(ta.metrics), _values(tb.metrics)
    tests = _paired_tests(
        ta, tb, shared_names, ma, mb, a, b, rec_a, rec_b, shared_ids,
        resamples=resamples, seed=seed, alpha=alpha, time_budget=time_budget,
    )
    rows: list[MetricComparison] = []
    for name in shared_names:
        x, y = ma[name], mb[name]
        delta = y.value - x.value if x.value is not None and y.value is not None else None
        rows.append(MetricComparison(
            task=ta.task, dimension=ta.dimension, metric=name, direction=x.direction,
            primary=bool(ta.metrics) and ta.metrics[0].metric == name,
            a=x.value, b=y.value, a_ci=x.ci, b_ci=y.ci, a_n=x.n, b_n=y.n,
            a_reason=x.reason, b_reason=y.reason, delta=delta, paired=tests[name],
        ))
    return rows, overlap, only_a, only_b


def stored_aggregators(
    ta: TaskScores, tb: TaskScores, a: Results, b: Results
) -> tuple[Recompute, Recompute] | str:
    """Each run's aggregator of the task, or why the metrics cannot be recomputed."""
    found: list[Recompute] = []
    for side, t, res in (("A", ta, a), ("B", tb, b)):
        declared = t.declared_aggregator(res.run.reference)
        if declared is None:
            return f"run {side} records no aggregator for {t.task} (a task this trustgauge does not know)"
        name, params = declared
        try:
            get_aggregator(name)
        except UnknownAggregator:
            return f"aggregator {name} unknown to this version of trustgauge"
        found.append(Recompute(t.task, name, params))
    rec_a, rec_b = found
    if rec_a.name != rec_b.name:
        return f"the runs aggregate differently (A: {rec_a.name}, B: {rec_b.name})"
    return rec_a, rec_b


def _paired_tests(
    ta: TaskScores,
    tb: TaskScores,
    names: Sequence[str],
    ma: Mapping[str, MetricValue],
    mb: Mapping[str, MetricValue],
    a: Results,
    b: Results,
    rec_a: Mapping[str, SampleRecord],
    rec_b: Mapping[str, SampleRecord],
    shared_ids: Sequence[str],
    *,
    resamples: int,
    seed: int,
    alpha: float,
    time_budget: float,
) -> dict[str, PairedTest]:
    out: dict[str, PairedTest] = {}
    todo: list[str] = []
    for name in names:
        x, y = ma[name], mb[name]
        if x.value is None or y.value is None:
            which = "A" if x.value is None else "B"
            why = (x if x.value is None else y).reason
            out[name] = PairedTest(NO_TEST, reason=f"undefined in {which}" + (f": {why}" if why else ""))
        elif x.direction != y.direction:
            out[name] = PairedTest(NO_TEST, reason="the runs disagree on the metric's direction")
        else:
            todo.append(name)
    if not todo:
        return out
    stored = stored_aggregators(ta, tb, a, b)
    if isinstance(stored, str):
        for name in todo:
            out[name] = PairedTest(NO_TEST, reason=stored)
        return out
    task_a, task_b = stored
    if not shared_ids:
        for name in todo:
            out[name] = PairedTest(NO_TEST, reason="the runs share no answered sample")
        return out
    scored_a = [rebuild(r) for r in rec_a.values()]
    scored_b = [rebuild(r) for r in rec_b.values()]
    with intervals_disabled():
        # scores.json must be reproducible from samples.jsonl, else nothing can be recomputed
        again_a, again_b = _values(task_a(scored_a)), _values(task_b(scored_b))
        ok: list[str] = []
        for name in todo:
            bad = [
                f"{side} {stored[name].value:.6g} vs {(again[name].value if name in again else None)!r}"
                for side, stored, again in (("A", ma, again_a), ("B", mb, again_b))
                if name not in again or not _close(again[name].value, stored[name].value)
            ]
            if bad:
                out[name] = PairedTest(
                    NO_TEST,
                    reason="samples.jsonl does not reproduce scores.json (recomputed "
                    + "; ".join(bad) + "); an older run format?",
                )
            else:
                ok.append(name)
        if not ok:
            return out
        same = task_a.params == task_b.params
        if same:
            means = identify_means(task_a, [scored_a, scored_b], ok, seed)
        else:  # each run's aggregator must make the metric the same per-sample mean
            mean_a = identify_means(task_a, [scored_a], ok, seed)
            mean_b = identify_means(task_b, [scored_b], ok, seed)
            means = {m: c for m, c in mean_a.items() if mean_b.get(m) == c}
        unit_of = {i: record_group(rec_a[i]) or i for i in shared_ids}
        pairs = [(rebuild(rec_a[i])[1], rebuild(rec_b[i])[1], unit_of[i]) for i in shared_ids]
        for name in ok:
            if name in means:
                out[name] = _paired_mean(means[name], pairs, resamples, seed, alpha)
        rest = [n for n in ok if n not in means]
        if rest:
            units = list(dict.fromkeys(unit_of[i] for i in shared_ids))
            by_unit_a: dict[str, Scored] = {u: [] for u in units}
            by_unit_b: dict[str, Scored] = {u: [] for u in units}
            for i in shared_ids:
                by_unit_a[unit_of[i]].append(rebuild(rec_a[i]))
                by_unit_b[unit_of[i]].append(rebuild(rec_b[i]))
            if not same:
                why = (
                    "one run used TrustLLM's reference mode, the other not"
                    if a.run.reference != b.run.reference
                    else f"the runs called {task_a.name} with different parameters"
                )
                for n in rest:
                    out[n] = PairedTest(NO_TEST, reason=why)
            else:
                out.update(_recomputed_tests(
                    task_a, units, by_unit_a, by_unit_b, rest, resamples, seed, alpha, time_budget,
                ))
    return out


def _judges(judges: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in judges.items()) or "none"


def _params(params: Mapping[str, str]) -> str:
    """A task's recorded parameters (``run.json`` ``task_params``), ``defaults`` when none."""
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"


def compare_results(
    a: Results,
    b: Results,
    *,
    alpha: float = 0.05,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    adjust: Adjust = "none",
    primary_only: bool = False,
    time_budget: float = DEFAULT_TIME_BUDGET_S,
) -> Comparison:
    """Compare run ``b`` with run ``a`` (deltas are B − A) on the tasks and metrics they
    share; what they do not share is listed."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    comp = Comparison(
        a=RunRef(a.run_id, a.model, str(a.path) if a.path else None, a.run.suite),
        b=RunRef(b.run_id, b.model, str(b.path) if b.path else None, b.run.suite),
        alpha=alpha, adjust=adjust, resamples=resamples, seed=seed,
    )
    tasks_b = {t.task: t for t in b.tasks}
    tasks_a = {t.task for t in a.tasks}
    comp.only_a_tasks = [t.task for t in a.tasks if t.task not in tasks_b]
    comp.only_b_tasks = [t.task for t in b.tasks if t.task not in tasks_a]
    if a.run.reference != b.run.reference:
        comp.warnings.append(
            "one run used TrustLLM's reference mode (--trustllm-reference), the other not: "
            "some metrics are computed differently"
        )
    sha_a, sha_b = _dataset_sha(a), _dataset_sha(b)
    for ta in a.tasks:
        tb = tasks_b.get(ta.task)
        if tb is None:
            continue
        params_a = (a.run.task_params or {}).get(ta.task, {})
        params_b = (b.run.task_params or {}).get(ta.task, {})
        if params_a != params_b:
            comp.warnings.append(
                f"{ta.task}: run with different task parameters (A: {_params(params_a)}; B: {_params(params_b)})"
            )
        if ta.judges != tb.judges:
            comp.warnings.append(
                f"{ta.task}: judged differently (A: {_judges(ta.judges)}; B: {_judges(tb.judges)})"
            )
        path = ta.declared_data()
        same_file = path is not None and path == tb.declared_data()
        if same_file and path in sha_a and path in sha_b and sha_a[path] != sha_b[path]:
            comp.warnings.append(f"{ta.task}: the runs read different data files ({path})")
        rows, overlap, only_a, only_b = compare_task(
            ta, tb, a, b, resamples=resamples, seed=seed, alpha=alpha,
            primary_only=primary_only, time_budget=time_budget,
        )
        comp.metrics.extend(rows)
        comp.overlap.append(overlap)
        comp.only_a_metrics.extend(only_a)
        comp.only_b_metrics.extend(only_b)
        if overlap.prompt_mismatch:
            comp.warnings.append(
                f"{ta.task}: {overlap.prompt_mismatch} sample ids carry different prompts in the "
                "two runs (different data?); they are not paired"
            )
    _decide(comp)
    return comp


def _decide(comp: Comparison) -> None:
    """Adjusted p-values, significance and the direction of each change."""
    tested = [m for m in comp.metrics if m.paired.p_value is not None]
    raw = [m.paired.p_value for m in tested if m.paired.p_value is not None]
    adjusted = holm(raw) if comp.adjust == "holm" else raw
    for m, p in zip(tested, adjusted):
        m.paired.p_adjusted = p
        m.significant = p < comp.alpha
        delta = m.paired.delta if m.paired.delta is not None else m.delta
        if m.significant and delta is not None and delta != 0.0:
            better = delta > 0 if m.direction == "higher" else delta < 0
            m.change = "improvement" if better else "regression"


# --------------------------------------------------------------------------- rendering


def _arrow(direction: str) -> str:
    return "↑" if direction == "higher" else "↓"


def _paired_differs(m: MetricComparison) -> bool:
    d, p = m.delta, m.paired.delta
    return d is not None and p is not None and not _close(d, p)


def _value_cell(value: float | None, reason: str | None) -> str:
    from trustgauge.report._page import fmt_num

    return fmt_num(value) if value is not None else "n/a"


def _test_cell(p: PairedTest) -> str:
    if p.method == NO_TEST:
        return f"no paired test: {p.reason}" if p.reason else "no paired test"
    what = p.method
    if p.per_sample:
        what += f" on {p.per_sample}"
    if p.discordant is not None:
        what += f" (discordant {p.discordant[0]}/{p.discordant[1]})"
    if p.n_groups is not None and p.n_groups < p.n_pairs:
        what += f" ({p.n_pairs} pairs in {p.n_groups} groups)"
    return what


def not_shared_lines(comp: Comparison) -> list[str]:
    """What the runs do not share, one line each."""
    lines: list[str] = []
    if comp.only_a_tasks:
        lines.append(f"tasks only in A: {', '.join(comp.only_a_tasks)}")
    if comp.only_b_tasks:
        lines.append(f"tasks only in B: {', '.join(comp.only_b_tasks)}")
    if comp.only_a_metrics:
        lines.append(f"metrics only in A: {', '.join(comp.only_a_metrics)}")
    if comp.only_b_metrics:
        lines.append(f"metrics only in B: {', '.join(comp.only_b_metrics)}")
    for o in comp.overlap:
        if o.shared < max(o.a, o.b) or o.prompt_mismatch:
            extra = f", {o.prompt_mismatch} ids with different prompts" if o.prompt_mismatch else ""
            lines.append(
                f"{o.task}: {o.shared} answered samples shared (A {o.a}, B {o.b}; "
                f"{o.only_a} only in A, {o.only_b} only in B{extra})"
            )
    return lines


def nothing_compared(comp: Comparison) -> str:
    """The one-line error for two runs that share no metric (``compare`` refuses to report
    "0 metrics compared" as a success unless ``--allow-empty``)."""
    if comp.only_a_tasks and comp.only_b_tasks and not comp.overlap:
        why = (
            f"they share no task (A: {', '.join(comp.only_a_tasks)}; B: {', '.join(comp.only_b_tasks)})"
        )
    elif not comp.overlap:
        why = "they share no task"
    else:
        why = f"the {len(comp.overlap)} shared task{'' if len(comp.overlap) == 1 else 's'} have no metric in common"
    return (
        f"nothing to compare: runs {comp.a.run_id} and {comp.b.run_id} share no metric, {why} "
        "(--allow-empty to accept 0 metrics compared)"
    )


def summary_line(comp: Comparison) -> str:
    tested = sum(1 for m in comp.metrics if m.paired.p_value is not None)
    adj = ", Holm-adjusted" if comp.adjust == "holm" else ""
    return (
        f"{len(comp.metrics)} metrics compared ({tested} with a paired test), "
        f"{len(comp.regressions)} significant regressions, {len(comp.improvements)} significant "
        f"improvements at alpha {comp.alpha:g}{adj}"
    )


_SHORT = {
    MCNEMAR: "McNemar", SIGN_FLIP: "sign-flip", PERMUTATION: "permutation", NO_TEST: "—",
    MCNEMAR_GROUPS: "McNemar/groups", SIGN_FLIP_GROUPS: "sign-flip/groups",
}


def no_test_lines(comp: Comparison) -> list[str]:
    """Why a metric has no paired test, one line per metric that has a value in a run."""
    return [
        f"{m.task}:{m.metric}: {m.paired.reason}"
        for m in comp.metrics
        if m.paired.method == NO_TEST and m.paired.reason and (m.a is not None or m.b is not None)
    ]


def render_terminal(comp: Comparison, console: Any = None) -> None:
    """A rich table on stdout (wide when stdout is not a terminal)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from trustgauge.report._page import fmt_ci, fmt_num, fmt_p

    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)

    def say(text: str, style: str | None = None) -> None:
        console.print(text, markup=False, highlight=False, style=style, soft_wrap=True)

    say(f"A: {comp.a.run_id} ({comp.a.model})")
    say(f"B: {comp.b.run_id} ({comp.b.model})")
    table = Table(title="trustgauge compare: B − A", title_justify="left")
    table.add_column("task", no_wrap=True)
    table.add_column("metric", overflow="fold")
    for col in ("A", "B", "Δ B−A", "95% CI of Δ", "p", "n"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("test", no_wrap=True)
    table.add_column("", no_wrap=True)
    previous = ""
    sections = len({m.task for m in comp.metrics}) < len(comp.metrics)
    for m in comp.metrics:
        if sections and previous and m.task != previous:
            table.add_section()
        flag = {"regression": "▼ regression", "improvement": "▲ improvement"}.get(m.change or "", "")
        style = {"regression": "red", "improvement": "green"}.get(m.change or "", "")
        ci = fmt_ci(m.paired.ci, signed=True) + (" †" if _paired_differs(m) else "")
        table.add_row(
            Text(m.task if m.task != previous else ""), Text(f"{m.metric} {_arrow(m.direction)}"),
            _value_cell(m.a, m.a_reason), _value_cell(m.b, m.b_reason),
            fmt_num(m.delta, signed=True), ci, fmt_p(m.paired.p_adjusted),
            str(m.paired.n_pairs) if m.paired.n_pairs else "—", _SHORT.get(m.paired.method, m.paired.method),
            Text(flag, style=style),
        )
        previous = m.task
    console.print(table)
    if any(_paired_differs(m) for m in comp.metrics):
        say("† interval and p-value on the shared pairs; their Δ differs from the full runs' Δ")
    say("tests: McNemar = exact McNemar on per-sample 0/1 outcomes; sign-flip = paired permutation "
        "test of a per-sample mean; /groups = the same with whole sample groups swapped; "
        "permutation = paired permutation test recomputing the metric (whole groups swapped); "
        "intervals: paired bootstrap of whole groups; n = pairs (or shared samples) tested")
    for line in no_test_lines(comp):
        say(f"no paired test: {line}")
    for line in not_shared_lines(comp):
        say(f"not shared: {line}")
    for w in comp.warnings:
        say(f"warning: {w}", "yellow")
    say(summary_line(comp))
    for m in comp.regressions:
        say(
            f"REGRESSION {m.task}:{m.metric} {fmt_num(m.a)} -> {fmt_num(m.b)} "
            f"(Δ {fmt_num(m.paired.delta, signed=True)}, p {fmt_p(m.paired.p_adjusted)}, {_test_cell(m.paired)})",
            "red",
        )


def render_markdown(comp: Comparison) -> str:
    """A Markdown table (e.g. for a pull-request comment)."""
    from trustgauge.report._page import fmt_ci, fmt_num, fmt_p
    from trustgauge.report._page import md_cell as cell

    lines = [
        f"### trustgauge compare: `{cell(comp.b.run_id)}` ({cell(comp.b.model)}) vs "
        f"`{cell(comp.a.run_id)}` ({cell(comp.a.model)})",
        "",
        summary_line(comp),
        "",
        "| task | metric | A | B | Δ B−A | 95% CI | p | test | |",
        "|---|---|--:|--:|--:|--:|--:|---|---|",
    ]
    for m in comp.metrics:
        flag = {"regression": "🔻 regression", "improvement": "🔺 improvement"}.get(m.change or "", "")
        lines.append(
            f"| {cell(m.task)} | {cell(m.metric)} {_arrow(m.direction)} | {_value_cell(m.a, m.a_reason)} | "
            f"{_value_cell(m.b, m.b_reason)} | {fmt_num(m.delta, signed=True)} | "
            f"{fmt_ci(m.paired.ci, signed=True)} | {fmt_p(m.paired.p_adjusted)} | "
            f"{cell(_test_cell(m.paired))} | {flag} |"
        )
    extra = [f"- not shared: {cell(x)}" for x in not_shared_lines(comp)]
    extra += [f"- warning: {cell(w)}" for w in comp.warnings]
    if extra:
        lines += ["", *extra]
    return "\n".join(lines) + "\n"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>trustgauge compare — {{ comp.b.run_id }} vs {{ comp.a.run_id }}</title>
<style>{{ style }}</style></head><body>
<h1>trustgauge compare</h1>
<p><b>A</b> {{ comp.a.run_id }} <span class="muted">({{ comp.a.model }})</span><br>
<b>B</b> {{ comp.b.run_id }} <span class="muted">({{ comp.b.model }})</span></p>
<p>{{ summary }}</p>
<table><thead><tr><th>task</th><th>metric</th><th>A</th><th>B</th><th>Δ B−A</th><th>95% CI of Δ</th>
<th>p</th><th>n pairs</th><th>test</th><th></th></tr></thead><tbody>
{% for m in comp.metrics %}
<tr class="{{ 'bad' if m.change == 'regression' else ('good' if m.change == 'improvement' else '') }}">
<td>{{ m.task }}</td><td>{{ m.metric }} {{ arrow(m.direction) }}</td>
<td class="num" title="{{ m.a_reason or '' }}">{{ value(m.a, m.a_reason) }}</td>
<td class="num" title="{{ m.b_reason or '' }}">{{ value(m.b, m.b_reason) }}</td>
<td class="num">{{ m.delta|num(3, true) }}</td><td class="num">{{ ci(m.paired.ci) }}{{ ' †' if differs(m) else '' }}</td>
<td class="num">{{ p(m.paired.p_adjusted) }}</td><td class="num">{{ m.paired.n_pairs or '—' }}</td>
<td>{{ test(m.paired) }}</td>
<td>{% if m.change %}<span class="tag {{ 'bad' if m.change == 'regression' else 'good' }}">{{ m.change }}</span>{% endif %}</td></tr>
{% endfor %}
</tbody></table>
{% if any_differs %}<p class="muted">† interval and p-value on the shared pairs; their Δ differs from the full runs' Δ.</p>{% endif %}
{% if notes %}<h2>Not shared, warnings</h2><ul class="notes">{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
<p class="muted">Tests: exact McNemar for 0/1 per-sample values, sign-flip permutation for other
per-sample means, a paired permutation test recomputing the metric otherwise, each swapping whole
sample groups where samples form groups; intervals: paired bootstrap percentile intervals of whole groups ({{ comp.resamples }} resamples, seed {{ comp.seed }}).
alpha {{ comp.alpha }}{{ ', Holm-adjusted' if comp.adjust == 'holm' else '' }}.</p>
</body></html>
"""


def render_html(comp: Comparison) -> str:
    """A self-contained HTML page (no scripts, nothing loaded; everything escaped)."""
    from trustgauge.report._page import fmt_ci, fmt_p, render

    return render(
        _HTML, comp=comp, summary=summary_line(comp), arrow=_arrow, value=_value_cell,
        ci=lambda c: fmt_ci(c, signed=True), p=fmt_p, test=_test_cell, differs=_paired_differs,
        any_differs=any(_paired_differs(m) for m in comp.metrics),
        notes=[*(f"not shared: {x}" for x in not_shared_lines(comp)), *(f"warning: {w}" for w in comp.warnings)],
    )
