"""Issue 12 item 7: run health (empty, truncated, failed, unreadable answers) in the summary,
run.json, scores.json and both reports; --max-empty-rate / --max-truncated-rate set the exit code.

A server answering "" to everything used to score RtA 1.000, "complete", exit 0, silently.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_env
from fake_server import FakeServer
from trustgauge.report.htmlreport import render_report
from trustgauge.results.health import limit_errors, run_health
from trustgauge.results.schema import SampleRecord
from trustgauge.results.writer import read_run

TASK = "truthfulness.hallucination"  # no judge: every non-empty answer is read by rules


def tg(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(home),
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def rec(task: str, response: str | None, *, valid: bool = True, finish: str | None = "stop") -> SampleRecord:
    return SampleRecord(task=task, sample_id="x", prompt="p", response=response, valid=valid,
                        finish_reason=finish if response is not None else None,
                        error=None if response is not None else "HTTP 500")


def test_counts_and_warnings_by_hand() -> None:
    samples = (
        [rec("a", "")] * 3 + [rec("a", "fine")] * 17  # a: 3/20 empty
        + [rec("b", "long", finish="length")] * 2 + [rec("b", "???", valid=False)] + [rec("b", None)]
        + [rec("b", "ok")] * 76  # b: 2 truncated, 1 unreadable, 1 failed of 80
    )
    h = run_health(samples, ["a", "b"])
    assert (h.n, h.empty, h.truncated, h.failed, h.unreadable) == (100, 3, 2, 1, 1)
    assert (h.tasks["a"].n, h.tasks["a"].empty) == (20, 3)
    assert (h.tasks["b"].truncated, h.tasks["b"].unreadable, h.tasks["b"].failed) == (2, 1, 1)
    # run-level shares are all <= 5%; task a's 15% empty is warned about on its own
    assert h.warnings == ["a: 3 of 20 responses are empty (15.0%)"]
    assert limit_errors(h, {"empty": 0.02, "truncated": 0.5}) == [
        "3 of 100 responses are empty (3.0% > --max-empty-rate 2.0%); the scores measure the server "
        "more than the model (see health in run.json)"
    ]
    assert limit_errors(h, {"empty": 0.03, "truncated": None}) == []  # at the limit is within it


def test_invisible_answers_are_empty() -> None:
    """A reply of white space and zero-width characters shows nothing: it is empty, not an
    answer (``str.strip`` keeps U+200B, U+2060 and the BOM U+FEFF)."""
    invisible = ["\u00a0\u200b", "\ufeff", " \u2060\n\u200b\u200c ", "\u3000"]
    visible = ["\u200bNo.", "ok\ufeff", "-"]
    h = run_health([rec("a", t) for t in invisible + visible], ["a"])
    assert (h.n, h.empty) == (7, 4)


def test_unscored_tasks_have_no_unreadable_answers() -> None:
    h = run_health([rec("j", "answer", valid=False)] * 4, ["j"], unscored=["j"])
    assert h.unreadable == 0 and h.warnings == []


def test_a_server_answering_empty_is_not_complete_exit_0(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    with FakeServer.start(models=["test-model"], default_reply="") as server:
        out = tmp_path / "run"
        args = ["run", "-m", f"openai-compatible:test-model@{server.openai_base_url}", "-t", TASK,
                "--data-dir", str(trustllm_dir), "-n", "20", "-q"]
        res = tg([*args, "-o", str(out)], tg_home)
        assert res.returncode == 1, res.stderr
        assert "health: empty 100.0% · truncated 0.0% · failed 0.0% · unreadable 0.0%" in res.stdout
        assert "warning: 20 of 20 responses are empty (100.0%)" in res.stderr
        assert "error: 20 of 20 responses are empty (100.0% > --max-empty-rate 50.0%)" in res.stderr
        run = json.loads((out / "run.json").read_text())
        assert run["health"]["empty"] == 20 and run["health"]["n"] == 20
        assert run["health"]["tasks"][TASK]["empty"] == 20
        assert run["health"]["warnings"][0].startswith("20 of 20 responses are empty (100.0%)")
        task = json.loads((out / "scores.json").read_text())["tasks"][0]
        assert task["health"] == {"n": 20, "empty": 20, "truncated": 0, "failed": 0, "unreadable": 0}
        md = (out / "report.md").read_text()
        assert "## Run health" in md and "**warning:** 20 of 20 responses are empty" in md
        html = (out / "report.html").read_text()
        assert 'id="health"' in html and "Warning:</b> 20 of 20 responses are empty" in html
        # the user may accept it explicitly
        ok = tg([*args, "--max-empty-rate", "1", "-o", str(tmp_path / "ok")], tg_home)
        assert ok.returncode == 0, ok.stderr
        assert "warning: 20 of 20 responses are empty" in ok.stderr  # but never silently


def test_truncated_answers_are_counted_and_can_fail_the_run(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    # the fake server cuts replies at max_tokens words and says finish_reason "length"
    with FakeServer.start(models=["test-model"], default_reply="one two three four five six seven") as server:
        args = ["run", "-m", f"openai-compatible:test-model@{server.openai_base_url}", "-t", TASK,
                "--data-dir", str(trustllm_dir), "-n", "10", "-q", "--max-tokens", "3"]
        res = tg([*args, "-o", str(tmp_path / "a")], tg_home)
        assert res.returncode == 0, res.stderr  # no limit on truncation by default ...
        assert "warning: 10 of 10 responses were cut at the token limit (finish_reason: length)" in res.stderr
        samples = [json.loads(line) for line in (tmp_path / "a" / "samples.jsonl").read_text().splitlines()]
        assert {s["finish_reason"] for s in samples} == {"length"}
        res = tg([*args, "--max-truncated-rate", "0.2", "-o", str(tmp_path / "b")], tg_home)
        assert res.returncode == 1  # ... unless asked for
        assert "(100.0% > --max-truncated-rate 20.0%)" in res.stderr
        run, _, _ = read_run(tmp_path / "b")
        assert run.health is not None and run.health.truncated == 10


def test_a_healthy_run_has_no_warning(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    with FakeServer.start(models=["test-model"], default_reply="Yes.") as server:
        res = tg(["run", "-m", f"openai-compatible:test-model@{server.openai_base_url}", "-t", TASK,
                  "--data-dir", str(trustllm_dir), "-n", "10", "-q", "-o", str(tmp_path / "r")], tg_home)
        assert res.returncode == 0 and "warning" not in res.stderr, res.stderr
        run, scores, samples = read_run(tmp_path / "r")
        assert run.health is not None and run.health.warnings == []
        assert "Warning:" not in render_report(run, scores, samples)


@pytest.mark.parametrize("fixture", [Path(__file__).parent / "fixtures" / "run-v1"])
def test_old_runs_without_health_still_render(fixture: Path) -> None:
    run, scores, samples = read_run(fixture)
    assert run.health is None
    assert 'id="health"' not in render_report(run, scores, samples)
