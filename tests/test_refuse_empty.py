"""Gates and comparisons refuse to pass on nothing (issue 12, item 5): a baseline gate sharing no
task or no comparable metric with the run, and a compare of runs that share no metric, are one
line and exit 2, unless --allow-empty says that is what the user wants."""

from __future__ import annotations

from pathlib import Path

import pytest

from compare_fixtures import mv, refusal_records, save, scores_only, synthetic, tg
from trustgauge.errors import UsageError
from trustgauge.report.compare import compare_results, nothing_compared
from trustgauge.report.gate import parse_rule, run_gate
from trustgauge.results.results import Results


def _safety(run_id: str = "cand") -> Results:
    return scores_only(run_id, "model", {"safety.jailbreak": [mv("rta", 0.9)]})


def _privacy(run_id: str = "base", value: float | None = 0.5) -> Results:
    return scores_only(run_id, "model", {"privacy.leakage": [mv("rta", value)]})


def test_gate_baseline_without_a_task_in_common_is_an_error() -> None:
    with pytest.raises(UsageError, match=r"run cand and baseline base share no task \(run: safety.jailbreak; "
                                         r"baseline: privacy.leakage\).*--allow-empty"):
        run_gate(_safety(), [], baseline=_privacy(), max_drop=0.05)
    # a threshold rule does not make the baseline comparison any less empty
    with pytest.raises(UsageError, match="share no task"):
        run_gate(_safety(), [parse_rule("safety.jailbreak=0.5", "min")],
                 baseline=_privacy(), max_drop=0.05)
    # asked for explicitly: passes with zero checks, and says why in a note
    result = run_gate(_safety(), [], baseline=_privacy(), max_drop=0.05, allow_empty=True)
    assert result.passed and result.checks == []
    assert any("share no task" in n and "(--allow-empty)" in n for n in result.notes)


def test_gate_baseline_with_nothing_comparable_is_an_error() -> None:
    # the task is shared but the baseline's value is undefined: nothing compared
    cand = scores_only("cand", "m", {"privacy.leakage": [mv("rta", 0.7)]})
    with pytest.raises(UsageError, match=r"no metric of the 1 shared task is both defined in baseline base"):
        run_gate(cand, [], baseline=_privacy(value=None), max_drop=0.05)
    # a task in common with a defined value: one check, no error
    assert len(run_gate(cand, [], baseline=_privacy(), max_drop=0.05).checks) == 1


def test_compare_nothing_shared_message() -> None:
    a = synthetic("a", "m", refusal_records("safety.misuse", [True, False]))
    b = synthetic("b", "m", refusal_records("privacy.awareness.query", [True, False]))
    comp = compare_results(a, b)
    assert comp.metrics == []
    assert nothing_compared(comp) == (
        "nothing to compare: runs a and b share no metric, they share no task (A: safety.misuse; "
        "B: privacy.awareness.query) (--allow-empty to accept 0 metrics compared)"
    )


@pytest.fixture
def saved(tmp_path: Path) -> dict[str, Path]:
    return {
        "misuse": save(synthetic("a", "m", refusal_records("safety.misuse", [True, False, True])), tmp_path / "a"),
        "query": save(synthetic("b", "m", refusal_records("privacy.awareness.query", [True, True])), tmp_path / "b"),
    }


def test_cli_gate_and_compare_refuse_to_pass_on_nothing(saved: dict[str, Path], tg_home: Path) -> None:
    a, b = str(saved["misuse"]), str(saved["query"])
    res = tg(["gate", a, "--baseline", b, "--max-drop", "0.05"], tg_home)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert res.stdout == "" and res.stderr.count("\n") == 1
    assert res.stderr.startswith("error: nothing to compare with the baseline: run a and baseline b share no task")
    res = tg(["gate", a, "--baseline", b, "--max-drop", "0.05", "--allow-empty"], tg_home)
    assert res.returncode == 0, res.stderr
    assert "passed (0 checks)" in res.stdout and "(--allow-empty)" in res.stdout

    res = tg(["compare", a, b], tg_home)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert res.stdout == "" and res.stderr.count("\n") == 1
    assert res.stderr.startswith("error: nothing to compare: runs a and b share no metric")
    res = tg(["compare", a, b, "--allow-empty", "--json", "-"], tg_home)
    assert res.returncode == 0, res.stderr
    assert '"metrics": []' in res.stdout
    # a run compared with itself has metrics: no error
    assert tg(["compare", a, a], tg_home).returncode == 0
