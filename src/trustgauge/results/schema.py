"""The results schema (versioned): ``run.json``, ``samples.jsonl``, ``scores.json``.

See ``docs/results-schema.md``. Bump :data:`RESULTS_SCHEMA_VERSION` on any incompatible
change; readers refuse versions they do not know.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from trustgauge.types import MetricValue, UndefinedAs

#: 2: run.json records each data file's hash (``files``) and the run's ``health``;
#: 3: samples.jsonl records each sample's ``outcome`` (decided by its task) and scores.json each
#: task's ``nothing_to_score``, so reports need no task code. Versions 1 and 2 are still read
#: (see :mod:`trustgauge.results.rundir`; their missing facts: :mod:`trustgauge.results.legacy`)
RESULTS_SCHEMA_VERSION = 3


class HealthCounts(BaseModel):
    """How many of a task's (or a run's) samples came back degenerate (schema 2).

    ``empty``: answered with blank text; ``truncated``: cut at the token limit
    (``finish_reason: length``); ``failed``: no answer after retries; ``unreadable``: answered,
    not empty, but the scorer could not read it (``valid: false``)."""

    n: int
    empty: int = 0
    truncated: int = 0
    failed: int = 0
    unreadable: int = 0

    def rate(self, kind: str) -> float:
        """The share of ``kind`` (``empty``, ``truncated``, ``failed``, ``unreadable``) in ``n``."""
        count: int = getattr(self, kind)
        return count / self.n if self.n else 0.0


class RunHealth(HealthCounts):
    """The run's health (``run.json``): totals, per task, and the warnings it raised."""

    #: share above which a kind is warned about
    warn_rate: float
    tasks: dict[str, HealthCounts] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


class TaskScores(BaseModel):
    """All metrics of one task, primary metric first."""

    task: str
    dimension: str
    title: str
    metrics: list[MetricValue]
    n_samples: int
    n_failed: int = 0
    judges: dict[str, str] = Field(default_factory=dict)
    #: schema 2: empty, truncated, failed and unreadable counts of the task's samples
    health: HealthCounts | None = None
    #: the task's 0-1 score in the dimension summary (``results/dimensions.py``); ``None`` when
    #: not scored or written by an older version
    task_score: float | None = None
    #: how an undefined headline metric was counted: ``failure`` (0), ``not_scored`` (left
    #: out), ``nothing_to_score``; ``None`` when it has a value
    undefined_as: UndefinedAs | None = None
    #: how the task score was made when not from the headline alone (over-refusal correction)
    score_note: str | None = None
    #: schema 3: the task's score when its headline metric had nothing to measure
    #: (``Task.nothing_to_score``, ``null`` when it declares none); absent before schema 3
    #: (then read from :data:`trustgauge.results.legacy.NOTHING_TO_SCORE`)
    nothing_to_score: float | None = None
    #: schema 3: the ``name@version`` of the aggregator (``trustgauge.stats.aggregators``) that
    #: made :attr:`metrics` from the task's samples, and the JSON params it was called with;
    #: absent in runs written before (then :data:`trustgauge.results.legacy_tasks.AGGREGATORS`)
    aggregator: str | None = None
    aggregator_params: dict[str, Any] | None = None
    #: schema 3: the path of the data file the task read (its entry in ``run.json``'s
    #: ``datasets``); absent in runs written before (then ``results/legacy_tasks.py``)
    data: str | None = None

    def declared_data(self) -> str | None:
        """:attr:`data` as written, else the frozen legacy path of the task."""
        if self.data is not None or "data" in self.model_fields_set:
            return self.data
        from trustgauge.results.legacy_tasks import DATA_PATHS

        return DATA_PATHS.get(self.task)

    def declared_aggregator(self, reference: bool) -> tuple[str, dict[str, Any]] | None:
        """``(name, params)`` as written, else the frozen legacy entry of the task in the run's
        mode (``reference``: TrustLLM's reference mode); ``None`` when neither knows one."""
        if self.aggregator is not None:
            return self.aggregator, dict(self.aggregator_params or {})
        if "aggregator" in self.model_fields_set:
            return None
        from trustgauge.results.legacy_tasks import legacy_aggregator

        found: tuple[str, dict[str, Any]] | None = legacy_aggregator(self.task, reference)
        return found

    def declared_nothing_to_score(self) -> float | None:
        """``nothing_to_score`` as written (schema 3), else the frozen legacy value."""
        if "nothing_to_score" in self.model_fields_set:
            return self.nothing_to_score
        from trustgauge.results.legacy import NOTHING_TO_SCORE

        return NOTHING_TO_SCORE.get(self.task)


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
    #: why the model stopped (``stop``, ``length``: cut at max_tokens, ...), when it said;
    #: schema 2, ``None`` before
    finish_reason: str | None = None
    #: a conversational task's calls, in order (``role``, ``prompt``: the last user message
    #: sent, ``response``, ``finish_reason``, ``cached``); absent for single-turn tasks
    turns: list[dict[str, Any]] | None = None
    #: schema 3: the sample's verdict, decided by its task (``Task.outcome``) when it was scored:
    #: ``pass``, ``fail`` or ``none`` (no verdict on its own, invalid, or a failed request);
    #: ``None`` before schema 3 (then :func:`trustgauge.results.legacy.value_outcome`)
    outcome: Literal["pass", "fail", "none"] | None = None

    @model_serializer(mode="wrap")
    def _omit_absent_turns(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Single-turn samples are written without ``turns`` (their lines stay as before)."""
        data: dict[str, Any] = handler(self)
        if data.get("turns") is None:
            data.pop("turns", None)
        return data


class DatasetInfo(BaseModel):
    dataset: str
    path: str
    sha256: str
    records: int
    source: str


class FileDigest(BaseModel):
    """What run.json records of one file of its directory (schema 2)."""

    sha256: str
    bytes: int
    #: records in the file: lines of samples.jsonl, tasks of scores.json; ``None`` otherwise
    records: int | None = None


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
    #: schema 2: SHA-256, size and record count of each data file, checked when the run is read;
    #: ``None`` in schema 1 (written before the hashes existed)
    files: dict[str, FileDigest] | None = None
    #: schema 2: share of empty, truncated, failed and unreadable responses, per task too, and
    #: the warnings raised (see :mod:`trustgauge.results.health`); ``None`` in schema 1
    health: RunHealth | None = None
    #: per model role of a run with conversational tasks (``target``, ``attacker``, ...): its
    #: ``model`` config (no credentials), ``model_identity``, ``usage`` (tokens of fresh calls)
    #: and ``requests`` counts; absent when no task held a conversation
    roles: dict[str, dict[str, Any]] | None = None
    #: each task's taxonomy tags (``Task.taxonomy``, :mod:`trustgauge.taxonomy`) as the task
    #: declared them when the run was made, so readers never ask today's task code; absent in
    #: runs written before they were recorded
    taxonomy: dict[str, list[str]] | None = None
    #: each task's parameters set to other than their default (``--task-param TASK:NAME=VALUE``,
    #: ``Task.parameters``): task id -> name -> value; absent when every task ran with its
    #: defaults, and in runs written before tasks had parameters
    task_params: dict[str, dict[str, str]] | None = None

    @model_serializer(mode="wrap")
    def _omit_absent_roles(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Runs without conversations are written without ``roles`` (as before); runs read
        from before the tags were recorded are written back without ``taxonomy``; runs whose
        tasks kept their defaults without ``task_params``."""
        data: dict[str, Any] = handler(self)
        for key in ("roles", "taxonomy", "task_params"):
            if data.get(key) is None:
                data.pop(key, None)
        return data
