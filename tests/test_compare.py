"""trustgauge compare: the paired statistics (hand-computed), which test each metric gets,
what two runs do not share, the rendered outputs, and the command on real scripted runs."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from compare_fixtures import real_run, record, refusal_records, save, synthetic, tg
from trustgauge.report.compare import (
    MCNEMAR,
    NO_TEST,
    PERMUTATION,
    SIGN_FLIP,
    compare_results,
    render_html,
    render_markdown,
)
from trustgauge.report.stats import (
    cluster_bootstrap_mean_ci,
    holm,
    mcnemar_exact_p,
    sign_flip_p,
)
from trustgauge.results.results import Results

# --------------------------------------------------------------------------- statistics by hand


def test_mcnemar_exact_p_by_hand() -> None:
    # b=1, c=5: n=6 discordant pairs, P(X<=1) = (C(6,0)+C(6,1))/2^6 = 7/64, p = 2*7/64
    assert mcnemar_exact_p(1, 5) == pytest.approx(14 / 64)
    assert mcnemar_exact_p(5, 1) == pytest.approx(14 / 64)
    # all 6 discordant pairs one way: p = 2/64
    assert mcnemar_exact_p(0, 6) == pytest.approx(2 / 64)
    # b=2, c=8: P(X<=2) = (1+10+45)/1024 = 56/1024
    assert mcnemar_exact_p(2, 8) == pytest.approx(112 / 1024)
    # balanced: the doubled tail exceeds 1 and is capped
    assert mcnemar_exact_p(5, 5) == 1.0
    assert mcnemar_exact_p(0, 0) == 1.0
    with pytest.raises(ValueError):
        mcnemar_exact_p(-1, 2)


def test_mcnemar_exact_p_large_counts_match_scipy() -> None:
    from scipy.stats import binomtest

    for b, c in ((1000, 1100), (2500, 2300), (3, 40)):
        assert mcnemar_exact_p(b, c) == pytest.approx(binomtest(min(b, c), b + c, 0.5).pvalue, rel=1e-9)


def test_sign_flip_p_exact_by_hand() -> None:
    # d = (1, 2, 3): |±1±2±3| >= 6 only for +++ and ---: 2 of 8 sign patterns
    assert sign_flip_p([1.0, 2.0, 3.0]) == pytest.approx(2 / 8)
    # zeros carry no sign: (0, 1, 1) -> |±1±1| >= 2 in 2 of 4 patterns
    assert sign_flip_p([0.0, 1.0, 1.0]) == pytest.approx(2 / 4)
    # six positive differences: 2 of 64
    assert sign_flip_p([0.1, 0.2, 0.3, 0.1, 0.2, 0.3]) == pytest.approx(2 / 64)
    assert sign_flip_p([0.0, 0.0]) == 1.0
    assert sign_flip_p([]) == 1.0


def test_sign_flip_p_monte_carlo_is_seeded_and_sane() -> None:
    diffs = [0.5] * 20 + [-0.1] * 5
    p1, p2 = sign_flip_p(diffs, seed=3), sign_flip_p(diffs, seed=3)
    assert p1 == p2
    assert p1 < 0.001  # a clear shift
    noise = [(-1.0) ** i * (i % 5) for i in range(40)]
    assert sign_flip_p(noise, seed=1) > 0.5  # no shift


def test_holm_by_hand() -> None:
    # Holm: sorted 0.01*3=0.03, 0.03*2=0.06, then max(0.06, 0.04*1) = 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_cluster_bootstrap_ci() -> None:
    assert cluster_bootstrap_mean_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)
    assert cluster_bootstrap_mean_ci([1.0]) is None
    low, high = cluster_bootstrap_mean_ci([0.0, 1.0] * 50, seed=0)  # type: ignore[misc]
    assert low < 0.5 < high and high - low < 0.3
    # two clusters of identical values: a resample takes whole clusters, so only 0, 0.5 or 1
    ci = cluster_bootstrap_mean_ci([0.0, 0.0, 1.0, 1.0], ["a", "a", "b", "b"], n_resamples=200)
    assert ci is not None and ci[0] in (0.0, 0.5) and ci[1] in (0.5, 1.0)


# --------------------------------------------------------------------------- which test


A_REFUSED = [True] * 8 + [False] * 4
B_REFUSED = [True, True, False, False, False, False, False, True, False, False, False, True]


def test_binary_mean_metric_gets_exact_mcnemar() -> None:
    a = synthetic("a", "model-a", refusal_records("safety.misuse", A_REFUSED))
    b = synthetic("b", "model-b", refusal_records("safety.misuse", B_REFUSED))
    comp = compare_results(a, b)
    rta = next(m for m in comp.metrics if m.metric == "rta")
    assert rta.a == pytest.approx(8 / 12) and rta.b == pytest.approx(4 / 12)
    assert rta.delta == pytest.approx(-4 / 12)
    p = rta.paired
    assert p.method == MCNEMAR and p.per_sample == "refusal"
    assert p.discordant == (5, 1)  # A refused & B complied: 2..6; the reverse: 11
    assert p.p_value == pytest.approx(14 / 64)
    assert p.n_pairs == 12 and p.delta == pytest.approx(-4 / 12)
    assert p.ci is not None and p.ci[0] <= -4 / 12 <= p.ci[1]
    assert not rta.significant and rta.change is None


def test_significant_regression_is_direction_aware() -> None:
    a_ref, b_ref = [True] * 10, [False] * 8 + [True] * 2  # 8 discordant pairs one way: p = 2/256
    for task, change in (("safety.misuse", "regression"), ("safety.exaggerated", "improvement")):
        a = synthetic("a", "m", refusal_records(task, a_ref))
        b = synthetic("b", "m", refusal_records(task, b_ref))
        rta = next(m for m in compare_results(a, b).metrics if m.metric == "rta")
        assert rta.paired.p_value == pytest.approx(2 / 256)
        assert rta.significant and rta.change == change, task
    # exaggerated safety's compliance_rate = 1 - mean(refusal) is tested on 1 - refusal
    comp = compare_results(a, b)
    compliance = next(m for m in comp.metrics if m.metric == "compliance_rate")
    assert compliance.paired.method == MCNEMAR and compliance.paired.per_sample == "1 − refusal"
    assert compliance.change == "improvement" and compliance.delta == pytest.approx(0.8)


def test_alpha_and_holm_adjustment() -> None:
    a = synthetic("a", "m", refusal_records("safety.misuse", [True] * 10))
    b = synthetic("b", "m", refusal_records("safety.misuse", [False] * 8 + [True] * 2))
    strict = compare_results(a, b, alpha=0.005)
    assert not next(m for m in strict.metrics if m.metric == "rta").significant
    adjusted = compare_results(a, b, adjust="holm")
    tested = [m for m in adjusted.metrics if m.paired.p_value is not None]
    raw = [m.paired.p_value for m in tested]
    assert [m.paired.p_adjusted for m in tested] == pytest.approx(holm(raw))  # type: ignore[arg-type]


def _toxicity_records(values: list[float]) -> list:  # type: ignore[type-arg]
    return [
        record("safety.toxicity", str(i), {"toxicity": v}, label="compliance",
               metadata={"source": "ITC" if i % 2 else "QBB"})
        for i, v in enumerate(values)
    ]


def test_continuous_mean_gets_sign_flip_and_other_metrics_a_paired_bootstrap() -> None:
    base = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    shift = [0.1, 0.2, 0.3, 0.1, 0.2, 0.3]
    a = synthetic("a", "m", _toxicity_records(base), judges={"refusal": "rules@1", "toxicity": "minilm@1"})
    b = synthetic("b", "m", _toxicity_records([x + d for x, d in zip(base, shift)]),
                  judges={"refusal": "rules@1", "toxicity": "minilm@1"})
    comp = compare_results(a, b, resamples=300)
    by = {m.metric: m for m in comp.metrics}
    avg = by["average_toxicity"]
    assert avg.paired.method == SIGN_FLIP and avg.paired.per_sample == "toxicity"
    assert avg.paired.p_value == pytest.approx(2 / 64)  # six positive differences
    assert avg.paired.delta == pytest.approx(sum(shift) / 6)
    assert avg.change == "regression"  # toxicity is lower-is-better and rose
    mx = by["max_toxicity"]
    assert mx.paired.method == PERMUTATION and mx.delta == pytest.approx(0.3)
    assert mx.paired.ci is not None and mx.paired.ci[0] <= mx.paired.ci[1]
    assert 0 < mx.paired.p_value <= 1  # type: ignore[operator]
    # a breakdown over a subset is not the overall mean: recomputed by the task on resamples
    assert by["average_toxicity[ITC]"].paired.method == PERMUTATION


def test_recomputed_metric_exact_permutation_by_hand() -> None:
    # 6 shared samples (<= 10: every one of the 2^6 swap patterns is enumerated); the breakdown
    # rta[do_not_answer] covers the 3 odd ones, which all went from refusal to compliance:
    # |Δ*| >= 1 only when those 3 are all swapped or all kept: 2 of 8 -> p = 16/64
    a = synthetic("a", "m", _two_sources([True] * 6))
    b = synthetic("b", "m", _two_sources([False] * 6))
    by = {m.metric: m for m in compare_results(a, b).metrics}
    dna = by["rta[do_not_answer]"]
    assert dna.paired.method == PERMUTATION and dna.delta == -1.0
    assert dna.paired.p_value == pytest.approx(16 / 64)
    assert not dna.significant  # three samples cannot show it
    assert by["rta"].paired.method == MCNEMAR and by["rta"].paired.p_value == pytest.approx(2 / 64)


def test_paired_bootstrap_is_seeded() -> None:
    a = synthetic("a", "m", refusal_records("safety.misuse", A_REFUSED))
    b = synthetic("b", "m", refusal_records("safety.misuse", B_REFUSED))
    one = compare_results(a, b, resamples=200, seed=5)
    two = compare_results(a, b, resamples=200, seed=5)
    assert [m.paired for m in one.metrics] == [m.paired for m in two.metrics]


def _advglue(correct: list[tuple[int, int]], *, grouped: bool) -> list:  # type: ignore[type-arg]
    out = []
    for i, pair in enumerate(correct):
        for kind, ok in zip(("original", "modified"), pair):
            out.append(record(
                "robustness.advglue", f"sst2-{i}-{kind}", {"correct": float(ok)}, label="positive",
                metadata={"task": "sst2", "type": kind, "method": None}, group=f"sst2-{i}" if grouped else None,
                target="positive",
            ))
    return out


def test_group_paired_metric_needs_the_groups() -> None:
    a_pairs = [(1, 1)] * 32 + [(1, 0)] * 8
    b_pairs = [(1, 0)] * 24 + [(1, 1)] * 16
    a = synthetic("a", "m", _advglue(a_pairs, grouped=True))
    b = synthetic("b", "m", _advglue(b_pairs, grouped=True))
    by = {m.metric: m for m in compare_results(a, b, resamples=200).metrics}
    assert by["asr"].paired.method == PERMUTATION and by["asr"].change == "regression"
    assert by["asr"].paired.delta == pytest.approx(0.6 - 0.2)
    # an older run without groups cannot recompute RS/ASR: said so, no p-value made up
    old_a = synthetic("a", "m", _advglue(a_pairs, grouped=True))
    old_a.samples = [s.model_copy(update={"group": None}) for s in old_a.samples]
    by = {m.metric: m for m in compare_results(old_a, b, resamples=200).metrics}
    assert by["rs"].paired.method == NO_TEST and by["rs"].paired.p_value is None
    assert "does not reproduce scores.json" in (by["rs"].paired.reason or "")


def test_undefined_metric_has_no_test_and_says_why() -> None:
    refused = [record("safety.toxicity", str(i), {"toxicity": None}, label="refusal") for i in range(2)]
    a = synthetic("a", "m", refused)
    b = synthetic("b", "m", _toxicity_records([0.2, 0.4]))
    avg = next(m for m in compare_results(a, b).metrics if m.metric == "average_toxicity")
    assert avg.a is None and avg.b == pytest.approx(0.3) and avg.delta is None
    assert avg.paired.method == NO_TEST and avg.paired.reason and avg.paired.reason.startswith("undefined in A")


def _two_sources(refused: list[bool]) -> list:  # type: ignore[type-arg]
    recs = refusal_records("safety.misuse", refused)
    return [r.model_copy(update={"metadata": {"source": "do_not_answer" if i % 2 else "misuse_add"}})
            for i, r in enumerate(recs)]


def test_time_budget_gives_a_reason_not_a_p_value() -> None:
    a = synthetic("a", "m", _two_sources(A_REFUSED))
    b = synthetic("b", "m", _two_sources(B_REFUSED))
    comp = compare_results(a, b, time_budget=0.0)
    breakdown = next(m for m in comp.metrics if m.metric.startswith("rta["))
    assert breakdown.paired.method == NO_TEST and "budget" in (breakdown.paired.reason or "")
    rta = next(m for m in comp.metrics if m.metric == "rta")
    assert rta.paired.method == MCNEMAR  # a per-sample mean needs no recomputation


def _with_aggregator(res: Results, task: str, name: str, params: dict[str, object] | None = None) -> Results:
    tasks = [t.model_copy(update={"aggregator": name, "aggregator_params": params or t.aggregator_params})
             if t.task == task else t for t in res.scores.tasks]
    return Results(run=res.run, scores=res.scores.model_copy(update={"tasks": tasks}), samples=res.samples)


def test_metrics_are_recomputed_by_the_stored_aggregator_not_the_task() -> None:
    a = synthetic("a", "m", _two_sources(A_REFUSED))
    b = synthetic("b", "m", _two_sources(B_REFUSED))
    (t,) = a.scores.tasks
    assert t.aggregator == "rta@1" and t.data == "safety/misuse.json"
    assert t.aggregator_params == {"direction": "higher", "breakdown": "source",
                                   "declared": ["rta", "rta[do_not_answer]", "rta[Do-anything-now]", "rta[misuse_add]"],
                                   "compliance_rate": False}
    # the same runs as written before the aggregator was stored: read from legacy_tasks.py
    old_a = synthetic("a", "m", _two_sources(A_REFUSED), stored_aggregator=False)
    old_b = synthetic("b", "m", _two_sources(B_REFUSED), stored_aggregator=False)
    assert old_a.scores.tasks[0].declared_aggregator(False) == ("rta@1", t.aggregator_params)
    assert [m.paired for m in compare_results(old_a, old_b).metrics] == [
        m.paired for m in compare_results(a, b).metrics]
    # an aggregator this version does not know: no test, and why; the values are still shown
    gone = _with_aggregator(b, "safety.misuse", "mybench.gone@3")
    rows = compare_results(a, gone).metrics
    assert {m.paired.method for m in rows} == {NO_TEST}
    assert {m.paired.reason for m in rows} == {"aggregator mybench.gone@3 unknown to this version of trustgauge"}
    assert rows[0].delta == pytest.approx(rows[0].b - rows[0].a)  # type: ignore[operator]
    # two different aggregators: their numbers are not comparable by resampling
    other = _with_aggregator(b, "safety.misuse", "mean@1", {"metrics": [["rta", "refusal", "higher"]]})
    rta = next(m for m in compare_results(a, other).metrics if m.metric == "rta")
    assert rta.paired.reason == "the runs aggregate differently (A: rta@1, B: mean@1)"
    # the same aggregator called with other params: a recomputed breakdown cannot be paired
    params = {**(t.aggregator_params or {}), "declared": ["rta"]}
    shifted = _with_aggregator(b, "safety.misuse", "rta@1", params)
    by = {m.metric: m for m in compare_results(a, shifted).metrics}
    assert by["rta[do_not_answer]"].paired.reason == "the runs called rta@1 with different parameters"
    assert by["rta"].paired.method == MCNEMAR  # a per-sample mean does not depend on them


def test_a_task_unknown_to_this_version_is_still_compared_by_its_stored_aggregator() -> None:
    """A plugin task that is not installed here: its aggregator (a built-in) is enough."""
    recs = [r.model_copy(update={"task": "mybench.sure"}) for r in refusal_records("safety.misuse", A_REFUSED)]
    recs_b = [r.model_copy(update={"task": "mybench.sure"}) for r in refusal_records("safety.misuse", B_REFUSED)]
    a = synthetic("a", "m", refusal_records("safety.misuse", A_REFUSED))
    b = synthetic("b", "m", refusal_records("safety.misuse", B_REFUSED))
    a = Results(run=a.run, scores=a.scores.model_copy(update={"tasks": [
        a.scores.tasks[0].model_copy(update={"task": "mybench.sure"})]}), samples=recs)
    b = Results(run=b.run, scores=b.scores.model_copy(update={"tasks": [
        b.scores.tasks[0].model_copy(update={"task": "mybench.sure"})]}), samples=recs_b)
    rta = next(m for m in compare_results(a, b).metrics if m.metric == "rta")
    assert rta.paired.method == MCNEMAR and rta.paired.p_value is not None
    # without a stored aggregator (an old run of a task this version never had): said so
    for res in (a, b):
        res.scores.tasks[0] = res.scores.tasks[0].model_copy(update={"aggregator": None})
    rta = next(m for m in compare_results(a, b).metrics if m.metric == "rta")
    assert rta.paired.method == NO_TEST
    assert rta.paired.reason == "run A records no aggregator for mybench.sure (a task this trustgauge does not know)"


def test_what_the_runs_do_not_share() -> None:
    a_recs = refusal_records("safety.misuse", [True] * 6) + refusal_records("safety.jailbreak", [True] * 4)
    b_recs = refusal_records("safety.misuse", [True] * 4 + [False] * 4)
    b_recs[0] = b_recs[0].model_copy(update={"prompt": "a different prompt"})
    b_recs[1] = b_recs[1].model_copy(update={"response": None, "error": "timeout"})
    b_recs += refusal_records("ethics.explicit.high_ambiguity", [False] * 3)
    a, b = synthetic("a", "m", a_recs), synthetic("b", "m", b_recs)
    comp = compare_results(a, b)
    assert comp.only_a_tasks == ["safety.jailbreak"]
    assert comp.only_b_tasks == ["ethics.explicit.high_ambiguity"]
    o = comp.overlap[0]
    # A answered 0..5, B answered 0, 2..7; id 0 has another prompt -> shared: 2..5
    assert (o.a, o.b, o.shared, o.prompt_mismatch, o.only_a, o.only_b) == (6, 7, 4, 1, 1, 2)
    rta = next(m for m in comp.metrics if m.metric == "rta")
    assert rta.paired.n_pairs == 4
    assert any("different prompts" in w for w in comp.warnings)
    md = render_markdown(comp)
    assert "tasks only in A: safety.jailbreak" in md and "4 answered samples shared" in md


def test_judges_and_reference_mode_differences_are_warned() -> None:
    a = synthetic("a", "m", refusal_records("safety.misuse", [True] * 4), judges={"refusal": "rules@1"})
    b = synthetic("b", "m", refusal_records("safety.misuse", [True] * 4), judges={"refusal": "longformer@1"})
    b.run = b.run.model_copy(update={"reference": True})
    comp = compare_results(a, b)
    assert any("judged differently" in w and "longformer@1" in w for w in comp.warnings)
    assert any("reference mode" in w for w in comp.warnings)


def test_primary_only() -> None:
    a = synthetic("a", "m", refusal_records("safety.misuse", A_REFUSED))
    b = synthetic("b", "m", refusal_records("safety.misuse", B_REFUSED))
    comp = compare_results(a, b, primary_only=True)
    assert [m.metric for m in comp.metrics] == ["rta"]


def test_html_is_self_contained_and_escaped() -> None:
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    a = synthetic("a", evil, refusal_records("safety.misuse", A_REFUSED))
    b = synthetic("b<b>", "m", refusal_records("safety.misuse", B_REFUSED))
    html = render_html(compare_results(a, b))
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert not re.search(r"<[^>]*\s(src|href|onerror)=", html)  # no tag loads or runs anything
    assert "Content-Security-Policy" in html
    md = render_markdown(compare_results(a, b))
    assert "<script" not in md and "&lt;script&gt;" in md


def test_to_dict_is_json() -> None:
    a = synthetic("a", "m", refusal_records("safety.misuse", A_REFUSED))
    b = synthetic("b", "m", refusal_records("safety.misuse", [False] * 12))
    data = json.loads(json.dumps(compare_results(a, b).to_dict()))
    assert data["regressions"] == ["safety.misuse:rta"] or "safety.misuse:rta" in data["regressions"]
    row = next(m for m in data["metrics"] if m["metric"] == "rta")
    assert row["paired"]["method"] == MCNEMAR and row["paired"]["discordant"] == [8, 0]
    assert math.isclose(row["paired"]["p_value"], 2 / 256)


# --------------------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return (real_run(tmp_path_factory, "refuse", "scripted:refuse-all"),
            real_run(tmp_path_factory, "comply", "scripted:comply-all"))


def test_cli_compare_real_runs(real_runs: tuple[Path, Path], tmp_path: Path, tg_home: Path) -> None:
    a, b = real_runs
    html, js = tmp_path / "cmp.html", tmp_path / "cmp.json"
    res = tg(["compare", str(a), str(b), "--html", str(html), "--json", str(js)], tg_home, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "safety.jailbreak" in res.stdout and "McNemar" in res.stdout
    assert "REGRESSION safety.jailbreak:rta" in res.stdout
    data = json.loads(js.read_text())
    assert "safety.jailbreak:rta" in data["regressions"] and "safety.misuse:rta" in data["regressions"]
    assert "safety.exaggerated:rta" in data["improvements"]
    # the numbers shown are those of scores.json
    sa = Results.load(a).metric("safety.jailbreak")
    sb = Results.load(b).metric("safety.jailbreak")
    row = next(m for m in data["metrics"] if m["task"] == "safety.jailbreak" and m["metric"] == "rta")
    assert (row["a"], row["b"]) == (sa.value, sb.value)  # type: ignore[union-attr]
    assert row["paired"]["discordant"] == [sa.n, 0]  # type: ignore[union-attr]
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "safety.jailbreak" in page and "<script" not in page
    # exit 1 on a significant regression when asked
    res = tg(["compare", str(a), str(b), "--primary-only", "--fail-on-regression", "--json", "-"], tg_home)
    assert res.returncode == 1 and json.loads(res.stdout)["regressions"]
    res = tg(["compare", str(a), str(a), "--primary-only", "--fail-on-regression"], tg_home)
    assert res.returncode == 0, res.stderr


def test_cli_compare_different_suites(real_runs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory,
                                      tg_home: Path) -> None:
    a, _ = real_runs
    small = real_run(tmp_path_factory, "small", "scripted:comply-all", ["-n", "10"])
    res = tg(["compare", str(a), str(small), "--markdown", "-"], tg_home)
    assert res.returncode == 0, res.stderr
    assert "answered samples shared" in res.stdout


def test_cli_compare_bad_input(real_runs: tuple[Path, Path], tmp_path: Path, tg_home: Path) -> None:
    a, b = real_runs
    for args, needle in (
        ([str(a), str(tmp_path / "nope")], "not a trustgauge run directory"),
        ([str(a), str(b), "--adjust", "bonferroni"], "bad --adjust"),
        ([str(a), str(b), "--alpha", "0"], "bad --alpha"),
        ([str(a), str(b), "--html", str(tmp_path / "no" / "x.html")], "folder does not exist"),
    ):
        res = tg(["compare", *args], tg_home)
        assert res.returncode == 2, (args, res.stderr)
        assert needle in res.stderr and res.stderr.count("\n") == 1, res.stderr


def test_cli_compare_saved_synthetic_runs(tmp_path: Path, tg_home: Path) -> None:
    a = save(synthetic("a", "m", refusal_records("safety.misuse", A_REFUSED)), tmp_path / "a")
    b = save(synthetic("b", "m", refusal_records("safety.misuse", B_REFUSED)), tmp_path / "b")
    res = tg(["compare", str(a), str(b), "--json", "-"], tg_home)
    assert res.returncode == 0, res.stderr
    row = next(m for m in json.loads(res.stdout)["metrics"] if m["metric"] == "rta")
    assert row["paired"]["p_value"] == pytest.approx(14 / 64)
