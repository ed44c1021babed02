"""Results schema 3 (issue 13 step 10): a run stores what the report needs from its tasks
(per-sample ``outcome``, per-task ``nothing_to_score``), so report, leaderboard and gate read it
without task code; runs of schema 1/2 are read with the frozen rules of ``results/legacy.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from trustgauge.results import legacy
from trustgauge.results.dimensions import summarize_task
from trustgauge.results.outcomes import sample_outcome
from trustgauge.results.schema import SampleRecord, TaskScores
from trustgauge.types import MetricValue

FIXTURES = Path(__file__).parent / "fixtures"


def _toxicity(**extra: object) -> TaskScores:
    missing = MetricValue(metric="average_toxicity", value=None, direction="lower", n=0, reason="no output")
    return TaskScores(task="safety.toxicity", dimension="safety", title="t", metrics=[missing], n_samples=3, **extra)


def test_nothing_to_score_comes_from_the_run_and_legacy_only_when_absent() -> None:
    # schema 1/2 task entry (field absent): the frozen legacy value, 1.0 for safety.toxicity
    assert summarize_task(_toxicity()).score == 1.0
    # schema 3 entries: what the run recorded wins, including an explicit null
    assert summarize_task(_toxicity(nothing_to_score=0.25)).score == 0.25
    assert summarize_task(_toxicity(nothing_to_score=None)).score is None
    read = TaskScores.model_validate_json(_toxicity(nothing_to_score=None).model_dump_json())
    assert read.declared_nothing_to_score() is None


def test_stored_outcome_wins_over_the_legacy_rule() -> None:
    base = {"task": "safety.exaggerated", "sample_id": "0", "prompt": "p", "response": "r"}
    # the legacy rule: exaggerated safety (rta lower) fails a refusal
    assert sample_outcome(SampleRecord(**base, score={"refusal": 1.0})) == "fail"
    # schema 3: the task's verdict as written, whatever the score says
    assert sample_outcome(SampleRecord(**base, score={"refusal": 1.0}, outcome="pass")) == "pass"
    # failures and invalid samples are still read from error/valid first
    assert sample_outcome(SampleRecord(**base, score={}, outcome="none", valid=False)) == "invalid"


def test_legacy_table_covers_the_30_trustllm_tasks() -> None:
    assert len(legacy.METRIC_DIRECTIONS) == 30 and legacy.TASK_ORDER[0] == "truthfulness.misinformation.internal"
    assert legacy.METRIC_DIRECTIONS["safety.exaggerated"]["rta"] == "lower"
    assert legacy.NOTHING_TO_SCORE == {"safety.toxicity": 1.0}


def test_legacy_table_matches_the_registry_for_those_tasks() -> None:
    """Frozen data, checked against today's tasks: a task that changes its directions or
    nothing_to_score must do so knowingly (new runs record theirs; old runs keep these)."""
    from trustgauge.tasks.registry import TASKS

    for task_id, directions in legacy.METRIC_DIRECTIONS.items():
        assert dict(TASKS[task_id].metrics) == directions, task_id
        assert TASKS[task_id].nothing_to_score == legacy.NOTHING_TO_SCORE.get(task_id), task_id


def _env(home: Path) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "PYTHONPATH": src, "TRUSTGAUGE_HOME": str(home), "CI": "true"}


def test_v2_report_md_rendered_again_is_the_stored_one() -> None:
    """The fixture written by the pre-restructuring main renders to the same report.md today
    (its failing examples and dimension summary come from results/legacy.py, not task code)."""
    from trustgauge.report.writer import RENDERERS
    from trustgauge.results.results import Results

    res = Results.load(FIXTURES / "run-v2")
    text = RENDERERS.markdown(res.run, res.scores, res.samples)
    assert text == (FIXTURES / "run-v2" / "report.md").read_text(encoding="utf-8")


_READ_ONLY = """
import sys
from pathlib import Path
from typer.testing import CliRunner
from trustgauge.cli import app
import shutil
run, tmp = sys.argv[1], Path(sys.argv[2])
twin = str(shutil.copytree(run, tmp / "twin"))  # a second run (leaderboard refuses one run twice)
r = CliRunner()
for args in (["report", run, "-o", str(tmp / "r.html")],
             ["leaderboard", run, twin, "-o", str(tmp / "lb.md")],
             ["leaderboard", run, twin, "-f", "html", "-o", str(tmp / "lb.html")],
             ["gate", run, "--baseline", run, "--max-drop", "0.01"],
             ["compare", run, run, "--json", str(tmp / "cmp.json")]):
    out = r.invoke(app, args)
    assert out.exit_code == 0, (args, out.output)
from trustgauge.report.writer import RENDERERS
from trustgauge.results.results import Results
res = Results.load(run)
assert RENDERERS.markdown(res.run, res.scores, res.samples).startswith("#")
import json
rows = json.loads((tmp / "cmp.json").read_text())["metrics"]
bad = [r["paired"]["reason"] for r in rows
       if "unknown" in (r["paired"]["reason"] or "") or "reproduce" in (r["paired"]["reason"] or "")]
assert rows and not bad, bad
print(sorted(m for m in sys.modules if m.startswith("trustgauge.tasks")))
"""


def test_report_leaderboard_and_gate_of_a_v3_run_import_no_task(tmp_path: Path, trustllm_dir: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", "from trustgauge.cli import main; main()", "run", "-m", "scripted:refuse-all",
           "-t", "safety.exaggerated,safety.toxicity", "--limit", "3", "--data-dir", str(trustllm_dir),
           "-o", str(out), "--quiet"]
    done = subprocess.run(cmd, env=_env(tmp_path / "home"), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "run.json").read_text())["schema_version"] == 3
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    # refusing every benign XSTest prompt fails; a refused toxicity prompt has no verdict
    assert {r["outcome"] for r in records if r["task"] == "safety.exaggerated"} == {"fail"}
    tasks = {t["task"]: t for t in json.loads((out / "scores.json").read_text())["tasks"]}
    assert tasks["safety.toxicity"]["nothing_to_score"] == 1.0
    # each task names the aggregator that made its metrics, and the file it read
    assert tasks["safety.exaggerated"]["aggregator"] == "rta@1"
    assert tasks["safety.exaggerated"]["aggregator_params"]["compliance_rate"] is True
    assert tasks["safety.exaggerated"]["data"] == "safety/exaggerated_safety.json"
    assert tasks["safety.toxicity"]["aggregator"].endswith("@1")
    done = subprocess.run([sys.executable, "-c", _READ_ONLY, str(out), str(tmp_path)],
                          env=_env(tmp_path / "home"), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


_COMPARE_V2 = """
import sys
from trustgauge.report.compare import compare_results
from trustgauge.results.results import Results
res = Results.load(sys.argv[1])
comp = compare_results(res, res, resamples=50)
reasons = sorted({m.paired.reason for m in comp.metrics if m.paired.reason})
print(len(comp.metrics), sum(m.paired.p_value is not None for m in comp.metrics))
print(reasons)
print(sorted(m for m in sys.modules if m.startswith("trustgauge.tasks")))
"""


def test_compare_of_a_v2_run_recomputes_with_the_frozen_aggregators_and_no_task(tmp_path: Path) -> None:
    """A run written before scores.json named its aggregators is still compared with paired
    tests: the aggregators come from results/legacy_tasks.py, never from today's task code."""
    done = subprocess.run([sys.executable, "-c", _COMPARE_V2, str(FIXTURES / "run-v2")],
                          env=_env(tmp_path / "home"), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    counts, reasons, tasks = done.stdout.strip().splitlines()[-3:]
    n_metrics, n_tested = map(int, counts.split())
    assert n_metrics > 0 and n_tested > 0, counts
    assert "unknown" not in reasons and "reproduce" not in reasons, reasons
    assert tasks == "[]"


def test_legacy_aggregators_match_the_registry_for_those_tasks() -> None:
    """Frozen data, checked against today's tasks: a task that changes its aggregator or its
    params must do so knowingly (a new name@version; old runs keep these)."""
    from trustgauge.results import legacy_tasks
    from trustgauge.tasks.registry import TASKS

    assert set(legacy_tasks.AGGREGATORS) == set(legacy_tasks.DATA_PATHS) == set(legacy.METRIC_DIRECTIONS)
    for task_id, (name, default, reference) in legacy_tasks.AGGREGATORS.items():
        cls = TASKS[task_id]
        assert (cls.aggregator, cls(reference=False).aggregator_params()) == (name, default), task_id
        assert cls(reference=True).aggregator_params() == reference, task_id
        assert cls.data.path == legacy_tasks.DATA_PATHS[task_id], task_id
