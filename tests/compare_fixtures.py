"""Runs for the compare / leaderboard / gate / export tests: synthetic runs built in memory
(scores computed by the task's own aggregate, so they are consistent with their samples), and
real runs made once per session with scripted models through the CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from conftest import _model_cache, cli_env
from trustgauge.report.writer import write_run
from trustgauge.results.results import Results
from trustgauge.results.schema import RunInfo, SampleRecord, ScoresFile, TaskScores
from trustgauge.tasks.registry import TASKS
from trustgauge.types import MetricValue


def run_info(run_id: str, model: str, tasks: Sequence[str], *, reference: bool = False) -> RunInfo:
    return RunInfo(
        run_id=run_id, trustgauge_version="0.0.0", started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:01+00:00", wall_time_s=1.0, model={"model": model},
        model_identity={"backend": "scripted", "model": model}, generation={}, tasks=list(tasks),
        reference=reference, limit=None, seed=0, datasets=[], judges={}, usage={}, requests={},
        status="complete", python="3", platform="test",
    )


def record(
    task: str, sample_id: str, values: dict[str, float | None], *, label: str | None = None,
    valid: bool = True, metadata: dict[str, Any] | None = None, group: str | None = None,
    prompt: str | None = None, response: str | None = "ok", target: Any = None,
) -> SampleRecord:
    return SampleRecord(
        task=task, sample_id=sample_id, prompt=prompt if prompt is not None else f"prompt {task} {sample_id}",
        response=response, error=None if response is not None else "failed", label=label, valid=valid,
        score=values, metadata=metadata or {}, group=group, target=target,
    )


def refusal_records(task: str, refused: Sequence[bool], source: str = "do_not_answer") -> list[SampleRecord]:
    """Records of a refusal task: 1.0 for a refusal, 0.0 for a compliance."""
    return [
        record(task, str(i), {"refusal": 1.0 if r else 0.0}, label="refusal" if r else "compliance",
               metadata={"source": source, "type": source})
        for i, r in enumerate(refused)
    ]


def synthetic(
    run_id: str, model: str, records: Sequence[SampleRecord], *, reference: bool = False,
    judges: dict[str, str] | None = None, stored_aggregator: bool = True,
) -> Results:
    """A run whose scores.json is what the tasks' aggregate makes of ``records``; it names each
    task's aggregator as a run of today does (``stored_aggregator=False``: as runs written
    before, which compare reads from ``results/legacy_tasks.py``)."""
    from trustgauge.report.compare import rebuild

    task_ids = list(dict.fromkeys(r.task for r in records))
    tasks = []
    for task_id in task_ids:
        cls = TASKS[task_id]
        task = cls(reference=reference)
        mine = [r for r in records if r.task == task_id]
        scored = [rebuild(r) for r in mine if r.response is not None]
        tasks.append(TaskScores(
            task=task_id, dimension=cls.dimension, title=cls.title, metrics=task.aggregate(scored),
            n_samples=len(mine), n_failed=sum(1 for r in mine if r.response is None),
            judges=judges if judges is not None else {"refusal": "rules@1"},
            **({"aggregator": task.aggregator, "aggregator_params": task.aggregator_params(),
                "data": cls.data.path} if stored_aggregator else {}),
        ))
    scores = ScoresFile(run_id=run_id, model=model, tasks=tasks)
    return Results(run=run_info(run_id, model, task_ids, reference=reference), scores=scores,
                   samples=list(records))


def scores_only(run_id: str, model: str, metrics: dict[str, list[MetricValue]],
                dimensions: dict[str, str] | None = None) -> Results:
    """A run with given metrics per task and no samples (leaderboard, gate)."""
    tasks = [
        TaskScores(task=t, dimension=(dimensions or {}).get(t, t.split(".")[0]), title=t, metrics=ms,
                   n_samples=max((m.n for m in ms), default=0))
        for t, ms in metrics.items()
    ]
    return Results(run=run_info(run_id, model, list(metrics)), scores=ScoresFile(run_id=run_id, model=model, tasks=tasks))


def mv(metric: str, value: float | None, direction: str = "higher", n: int = 10,
       reason: str | None = None, ci: tuple[float, float] | None = None) -> MetricValue:
    return MetricValue(metric=metric, value=value, direction=direction, n=n, ci=ci,  # type: ignore[arg-type]
                       reason=reason if value is not None else (reason or "undefined"))


def save(res: Results, path: Path) -> Path:
    write_run(path, res.run, res.scores, res.samples)
    return path


# --------------------------------------------------------------------------- real runs

_RUNS: dict[str, Path] = {}
#: small but real: 4 safety sub-tasks of the packaged quick sample (offline judges)
REAL_ARGS = ["--suite", "quick", "-t", "safety.jailbreak,safety.misuse,safety.exaggerated,safety.toxicity"]


def tg(args: list[str], home: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", *args],
        env=cli_env(home, **env), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def real_run(factory: pytest.TempPathFactory, name: str, model: str, extra: Sequence[str] = ()) -> Path:
    """A run made once per session by ``trustgauge run`` with a scripted model."""
    key = f"{name}|{model}|{' '.join(extra)}"
    if key not in _RUNS:
        home = factory.mktemp("report_home")
        out = factory.mktemp("runs") / name
        res = tg(["run", "-m", model, *REAL_ARGS, *extra, "-q", "-o", str(out)], home,
                 TRUSTGAUGE_MODEL_CACHE=str(_model_cache(factory)))
        assert res.returncode == 0, res.stderr
        _RUNS[key] = out
    return _RUNS[key]
