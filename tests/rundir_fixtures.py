"""Run directories for the run-dir tests (tests/test_reliability_rundir.py,
tests/test_schema_versions.py): a synthetic run written by the real writer, and the list of
every CLI command that reads run directories."""

from __future__ import annotations

from pathlib import Path

from html_report_fixtures import synthetic_run
from trustgauge.report.writer import write_run

#: the tasks of :func:`write_synthetic_run`'s runs
TASKS = ["safety.jailbreak", "safety.misuse"]


def write_synthetic_run(path: Path, seed: int, n: int = 50) -> Path:
    """Write a synthetic run of ``n`` samples over the tasks of :data:`TASKS` to ``path`` (its run id
    is the folder's name) with the real writer; returns ``path``."""
    run, scores, samples = synthetic_run(n, seed=seed, task_ids=TASKS)
    run = run.model_copy(update={"run_id": path.name})
    scores = scores.model_copy(update={"run_id": path.name})
    write_run(path, run, scores, samples)
    return path


def reading_commands(run: Path, good: Path, tmp: Path) -> list[list[str]]:
    """Every command that reads run directories, on ``run`` (``good``: an intact partner)."""
    return [
        ["report", str(run), "-o", str(tmp / "r.html")],
        ["compare", str(good), str(run)],
        ["compare", str(run), str(good)],
        ["gate", str(run), "--min", "safety.jailbreak=0.1"],
        ["gate", str(good), "--baseline", str(run)],
        ["leaderboard", str(good), str(run)],
        ["export", str(run), "-o", str(tmp / "x.json")],
    ]
