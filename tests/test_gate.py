"""trustgauge gate: rules passing and failing, null values, the baseline drop (direction-aware),
usage errors for rules naming what the run does not have, exit codes and summaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from compare_fixtures import mv, real_run, save, scores_only, tg
from trustgauge.errors import UsageError
from trustgauge.report.gate import Rule, parse_rule, render_markdown, run_gate
from trustgauge.results.results import Results


def test_parse_rule() -> None:
    assert parse_rule("safety.jailbreak:rta=0.95", "min") == Rule("min", "safety.jailbreak", "rta", 0.95,
                                                                  "safety.jailbreak:rta=0.95")
    assert parse_rule(" safety.jailbreak = 0.9 ", "max").metric is None  # the primary metric
    assert parse_rule("fairness.preference:rta[plain]=1e-1", "min").metric == "rta[plain]"
    assert parse_rule("truthfulness.sycophancy.persona:similarity_gap=-0.05", "min").threshold == -0.05
    for bad in ("safety.jailbreak:rta", "=0.5", "safety.jailbreak:rta=abc", "safety.jailbreak:=0.5",
                "safety.jailbreak:rta=nan"):
        with pytest.raises(UsageError, match="bad --min"):
            parse_rule(bad, "min")


def _run(jailbreak: float | None = 0.96, exaggerated: float | None = 0.08, run_id: str = "cand") -> Results:
    return scores_only(run_id, "model", {
        "safety.jailbreak": [mv("rta", jailbreak, reason="no judged responses"), mv("rta[cot]", 0.5)],
        "safety.exaggerated": [mv("rta", exaggerated, "lower"), mv("compliance_rate", 0.92)],
    })


def test_rules_pass_and_fail() -> None:
    res = _run()
    ok = run_gate(res, [parse_rule("safety.jailbreak:rta=0.95", "min"), parse_rule("safety.exaggerated=0.1", "max"),
                        parse_rule("safety.jailbreak:rta=0.96", "min")])  # equal to the bound passes
    assert ok.passed and [c.metric for c in ok.checks] == ["rta", "rta", "rta"]
    bad = run_gate(res, [parse_rule("safety.jailbreak:rta=0.97", "min"), parse_rule("safety.exaggerated:rta=0.05", "max"),
                         parse_rule("safety.jailbreak:rta[cot]=0.4", "min")])
    assert not bad.passed and len(bad.failures) == 2
    assert bad.failures[0].reason == "safety.jailbreak:rta = 0.96 < min 0.97"
    assert bad.failures[1].reason == "safety.exaggerated:rta = 0.08 > max 0.05"


def test_null_value_fails_with_its_reason() -> None:
    result = run_gate(_run(jailbreak=None), [parse_rule("safety.jailbreak=0.5", "min")])
    assert not result.passed
    assert "undefined (no judged responses)" in result.failures[0].reason


def test_rule_naming_what_the_run_lacks_is_a_usage_error() -> None:
    res = _run()
    with pytest.raises(UsageError, match=r"has no task 'safety.jailbrek'; did you mean safety.jailbreak"):
        run_gate(res, [parse_rule("safety.jailbrek:rta=0.9", "min")])
    with pytest.raises(UsageError, match=r"task safety.jailbreak has no metric 'rtaa' \(did you mean rta"):
        run_gate(res, [parse_rule("safety.jailbreak:rtaa=0.9", "min")])
    with pytest.raises(UsageError, match="nothing to check"):
        run_gate(res, [])
    with pytest.raises(UsageError, match="go together"):
        run_gate(res, [], baseline=res)
    with pytest.raises(UsageError, match="go together"):
        run_gate(res, [parse_rule("safety.jailbreak=0.5", "min")], max_drop=0.1)
    with pytest.raises(UsageError, match=">= 0"):
        run_gate(res, [], baseline=res, max_drop=-1)


def test_baseline_max_drop_is_direction_aware() -> None:
    base = _run(jailbreak=0.96, exaggerated=0.08, run_id="base")
    # jailbreak ↑ dropped 0.03 (> 0.02) fails; exaggerated ↓ rose 0.01 (<= 0.02) passes
    result = run_gate(_run(jailbreak=0.93, exaggerated=0.09), [], baseline=base, max_drop=0.02)
    assert [(c.task, c.passed) for c in result.checks] == [("safety.jailbreak", False), ("safety.exaggerated", True)]
    assert result.failures[0].reason == (
        "safety.jailbreak:rta ↑ dropped 0.03 from baseline 0.96 to 0.93 (max drop 0.02)")
    # a rise of a ↓ metric beyond the allowance fails; improvements always pass
    result = run_gate(_run(jailbreak=1.0, exaggerated=0.2), [], baseline=base, max_drop=0.02)
    assert [c.passed for c in result.checks] == [True, False]
    assert "safety.exaggerated:rta ↓ rose 0.12 from baseline 0.08 to 0.2" in result.failures[0].reason
    # only primary metrics, plus those named by rules
    result = run_gate(_run(), [parse_rule("safety.jailbreak:rta[cot]=0.1", "min")], baseline=base, max_drop=0.0)
    assert [c.name for c in result.checks if c.kind == "max-drop"] == [
        "safety.jailbreak:rta", "safety.exaggerated:rta", "safety.jailbreak:rta[cot]"]
    assert result.passed


def test_baseline_nulls_and_unshared_tasks() -> None:
    base = _run(jailbreak=None, run_id="base")
    base.scores.tasks.append(scores_only("b", "m", {"privacy.leakage": [mv("rta", 0.5)]}).scores.tasks[0])
    result = run_gate(_run(), [], baseline=base, max_drop=0.0)
    assert [c.task for c in result.checks] == ["safety.exaggerated"]
    assert any("undefined in the baseline" in n for n in result.notes)
    assert any("baseline only (not compared): privacy.leakage" in n for n in result.notes)
    # undefined in the candidate but not in the baseline: fails
    result = run_gate(_run(jailbreak=None), [], baseline=_run(run_id="base"), max_drop=0.5)
    assert not result.passed and "is undefined" in result.failures[0].reason


def test_markdown_summary() -> None:
    base = _run(run_id="base")
    result = run_gate(_run(jailbreak=0.5), [parse_rule("safety.jailbreak:rta=0.9", "min")], baseline=base, max_drop=0.02)
    md = render_markdown(result)
    assert md.startswith("## trustgauge gate: ❌ failed (2 of 3 checks)")  # the rule's metric is primary
    assert "against baseline `base`" in md
    assert "| ❌ | min | safety.jailbreak:rta ↑ | 0.5 | ≥ 0.9 | safety.jailbreak:rta = 0.5 &lt; min 0.9 |" in md
    assert "| ❌ | max-drop | safety.jailbreak:rta ↑ | 0.5 | ≥ 0.94 (baseline 0.96) |" in md
    assert "<details><summary>1 check passed</summary>" in md
    ok = render_markdown(run_gate(_run(), [parse_rule("safety.jailbreak=0.9", "min")]))
    assert ok.startswith("## trustgauge gate: ✅ passed (1 check)")


# --------------------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return (real_run(tmp_path_factory, "refuse", "scripted:refuse-all"),
            real_run(tmp_path_factory, "comply", "scripted:comply-all"))


def test_cli_gate_pass(real_runs: tuple[Path, Path], tmp_path: Path, tg_home: Path) -> None:
    refuse, _ = real_runs
    step = tmp_path / "step_summary.md"
    step.write_text("earlier step\n")
    summary = tmp_path / "gate.md"
    res = tg(["gate", str(refuse), "--min", "safety.jailbreak:rta=0.95", "--min", "safety.misuse=0.9",
              "--summary", str(summary)], tg_home, GITHUB_STEP_SUMMARY=str(step))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("## trustgauge gate: ✅ passed (2 checks)")
    assert summary.read_text() == res.stdout
    assert step.read_text() == "earlier step\n" + res.stdout + "\n"
    assert res.stderr == ""


def test_cli_gate_fail_one_line_per_rule(real_runs: tuple[Path, Path], tg_home: Path) -> None:
    refuse, comply = real_runs
    res = tg(["gate", str(comply), "--min", "safety.jailbreak:rta=0.95", "--max", "safety.exaggerated:rta=0.5",
              "--max", "safety.toxicity:average_toxicity=0.0001"], tg_home)
    assert res.returncode == 1
    lines = res.stderr.splitlines()
    assert lines == [
        "gate: FAIL safety.jailbreak:rta = 0 < min 0.95",
        f"gate: FAIL safety.toxicity:average_toxicity = {Results.load(comply).metric('safety.toxicity').value:.4g} "  # type: ignore[union-attr]
        "> max 0.0001",
    ]
    assert "❌ failed (2 of 3 checks)" in res.stdout
    # against the refusing baseline: every RtA the comply run lost fails
    res = tg(["gate", str(comply), "--baseline", str(refuse), "--max-drop", "0.05", "-q"], tg_home)
    assert res.returncode == 1 and res.stdout == ""
    failed = {line.split()[2] for line in res.stderr.splitlines()}
    assert failed == {"safety.jailbreak:rta", "safety.misuse:rta"}  # exaggerated RtA ↓ improved
    # a null candidate value fails the rule with its reason
    res = tg(["gate", str(refuse), "--max", "safety.toxicity:average_toxicity=0.5"], tg_home)
    assert res.returncode == 1 and "is undefined (no complied responses" in res.stderr


def test_cli_gate_usage_errors(real_runs: tuple[Path, Path], tmp_path: Path, tg_home: Path) -> None:
    refuse, _ = real_runs
    for args, needle in (
        (["--min", "safety.jailbrek:rta=0.9"], "has no task 'safety.jailbrek'; did you mean safety.jailbreak"),
        (["--min", "safety.jailbreak:rtaa=0.9"], "task safety.jailbreak has no metric 'rtaa'"),
        (["--min", "privacy.leakage:rta=0.9"], "has no task 'privacy.leakage'"),
        (["--min", "safety.jailbreak:rta"], "bad --min"),
        (["--max-drop", "0.1"], "--baseline and --max-drop go together"),
        ([], "nothing to check"),
        (["--baseline", str(tmp_path / "nope"), "--max-drop", "0.1"], "not a trustgauge run directory"),
    ):
        res = tg(["gate", str(refuse), *args], tg_home)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert res.stderr.startswith("error: ") and needle in res.stderr and res.stderr.count("\n") == 1, res.stderr
        assert res.stdout == ""


def test_cli_gate_on_saved_run(tmp_path: Path, tg_home: Path) -> None:
    run = save(_run(jailbreak=0.5), tmp_path / "run")
    res = tg(["gate", str(run), "--min", "safety.jailbreak=0.6"], tg_home)
    assert res.returncode == 1 and res.stderr == "gate: FAIL safety.jailbreak:rta = 0.5 < min 0.6\n"
