"""The results schema (versioned): ``run.json``, ``samples.jsonl``, ``scores.json``.

See ``docs/results-schema.md``. Bump :data:`RESULTS_SCHEMA_VERSION` on any incompatible
change; readers refuse versions they do not know.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from trustgauge.tasks.base import MetricValue, UndefinedAs

RESULTS_SCHEMA_VERSION = 1


class TaskScores(BaseModel):
    """All metrics of one task, primary metric first."""

    task: str
    dimension: str
    title: str
    metrics: list[MetricValue]
    n_samples: int
    n_failed: int = 0
    judges: dict[str, str] = Field(default_factory=dict)
    #: the task's 0-1 score in the dimension summary (``report/dimensions.py``); ``None`` when
    #: not scored or written by an older version
    task_score: float | None = None
    #: how an undefined headline metric was counted: ``failure`` (0), ``not_scored`` (left
    #: out), ``nothing_to_score``; ``None`` when it has a value
    undefined_as: UndefinedAs | None = None
    #: how the task score was made when not from the headline alone (over-refusal correction)
    score_note: str | None = None


class DimensionEntry(BaseModel):
    """One dimension of the summary: the mean of its task scores (failures count 0)."""

    dimension: str
    score: float | None
    tasks: list[str]
    #: the tasks with a task score (those in ``failed`` count 0)
    scored: list[str]
    #: the tasks left undefined by the responses, counted as failures (0)
    failed: list[str] = Field(default_factory=list)
    #: the tasks without a task score, left out (see each task's ``undefined_as``)
    not_scored: list[str] = Field(default_factory=list)


class ScoresFile(BaseModel):
    """``scores.json``."""

    schema_version: int = RESULTS_SCHEMA_VERSION
    run_id: str
    model: str
    tasks: list[TaskScores]
    #: the dimension summary (empty when written by an older version: recompute it from tasks)
    dimensions: list[DimensionEntry] = Field(default_factory=list)


class SampleRecord(BaseModel):
    """One line of ``samples.jsonl``."""

    task: str
    sample_id: str
    prompt: str
    response: str | None
    error: str | None = None
    cached: bool = False
    judgements: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None
    valid: bool = True
    score: dict[str, float | None] = Field(default_factory=dict)
    target: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    #: the sample's group (items sampled and scored together, e.g. AdvGLUE's original/modified
    #: pair); ``None`` when ungrouped or written by an older version. ``compare`` needs it to
    #: recompute group-paired metrics.
    group: str | None = None


class DatasetInfo(BaseModel):
    dataset: str
    path: str
    sha256: str
    records: int
    source: str


class RunInfo(BaseModel):
    """``run.json``: everything needed to reproduce the run; never a secret."""

    schema_version: int = RESULTS_SCHEMA_VERSION
    run_id: str
    trustgauge_version: str
    started_at: str
    finished_at: str
    wall_time_s: float
    command: list[str] = Field(default_factory=list)
    model: dict[str, Any]
    model_identity: dict[str, str]
    generation: dict[str, dict[str, Any]]
    tasks: list[str]
    #: the suite run (``--suite``), ``None`` when tasks were picked with ``--tasks`` alone
    suite: str | None = None
    #: TrustLLM's own readers and metric code were used where trustgauge deviates
    reference: bool = False
    limit: int | None
    seed: int
    datasets: list[DatasetInfo]
    judges: dict[str, str]
    usage: dict[str, int]
    requests: dict[str, int]
    status: str
    python: str
    platform: str
