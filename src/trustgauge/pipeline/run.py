"""Run an evaluation: tasks -> requests -> engine -> judges -> scores -> run directory.

This is the one pipeline behind ``trustgauge run``, ``trustgauge demo`` and
``trustgauge.evaluate(...)`` (:mod:`trustgauge.api`). The pipeline sits beside ``report``, not
above it, so its callers hand it the renderers of ``report.md``/``report.html``
(``trustgauge.report.writer.RENDERERS``).
"""

from __future__ import annotations

import contextlib
import platform
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from trustgauge._secrets import redact, secrets_in_environment
from trustgauge._version import __version__
from trustgauge.config import ModelConfig
from trustgauge.engine.progress import Progress
from trustgauge.engine.runner import RetryPolicy
from trustgauge.errors import ConfigError
from trustgauge.judges.base import Judge
from trustgauge.models._http import public_spec
from trustgauge.pipeline.conversations import (
    check_roles,
    turn_records,
)
from trustgauge.pipeline.executor import ExecutorFactory
from trustgauge.pipeline.local import LocalExecutor, load_task_data
from trustgauge.pipeline.merge import merge
from trustgauge.pipeline.plan import plan
from trustgauge.pipeline.spec import ExecutionSettings, RunSpec, public_model_config
from trustgauge.results.schema import DatasetInfo, RunInfo, SampleRecord, ScoresFile, TaskScores
from trustgauge.results.writer import Renderers
from trustgauge.tasks.base import Task
from trustgauge.types import MetricValue, Request, Sample, SampleScore, split_metric

if TYPE_CHECKING:
    from trustgauge.results.results import Results


class RunConfig(BaseModel):
    """Everything that defines a run (recorded in ``run.json``)."""

    model_config = ConfigDict(extra="forbid")

    model: ModelConfig
    tasks: list[str] = Field(default_factory=lambda: ["all"])
    #: a suite name (``trustllm``, ``quick``, a dimension, ``quick-<dimension>``): its tasks
    #: (narrowed by ``tasks``) on its data; ``None``: ``tasks`` on the full release
    suite: str | None = None
    limit: int | None = Field(default=None, ge=1, description="samples per task")
    concurrency: int | None = Field(default=None, ge=1, description="None = adaptive")
    out: Path | None = None
    use_cache: bool = True
    data_dir: Path | None = None
    #: ``None``: the TrustLLM release (fetched and verified on first use)
    dataset_override: Path | None = Field(default=None, description="packaged sample, for the demo")
    max_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    #: judge implementation per kind (``--judge KIND=NAME``); unnamed kinds use the default
    judges: dict[str, str] = Field(default_factory=dict)
    #: constructor options per kind (``--judge KIND=NAME,opt=value``)
    judge_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: model spec of the ``llm`` judges (``--judge-model``); picks ``llm`` for unnamed kinds
    judge_model: str | None = None
    #: TrustLLM's own readers and metric code where trustgauge deviates (``--trustllm-reference``)
    reference: bool = False
    seed: int = 0
    retry: RetryPolicy = RetryPolicy()
    store_path: Path | None = None
    #: the single-turn requests through the provider's batch API (``--batch``, docs/batch.md):
    #: how this machine runs, not what is measured (not in the run digest)
    batch: bool = False
    #: seconds before a batch's first poll (``--batch-poll``); the wait grows 1.5x per poll
    batch_poll: float = Field(default=30.0, gt=0)
    #: a task's records from the user's file instead of its own data (``--task-data TASK=FILE``:
    #: a JSON list or JSON Lines in the task's record layout)
    task_data: dict[str, Path] = Field(default_factory=dict)
    #: settings of the selected tasks (``--task-param TASK:NAME=VALUE``): task id -> parameter
    #: name -> value (``Task.parameters``; ``trustgauge tasks --params TASK`` lists them)
    task_params: dict[str, dict[str, str]] = Field(default_factory=dict)
    #: models in named roles for conversational tasks (``--role attacker=SPEC``): role -> config
    #: (a spec string is taken as ``ModelConfig(model=spec)``)
    roles: dict[str, ModelConfig] = Field(default_factory=dict)

    @field_validator("roles", mode="before")
    @classmethod
    def _role_specs(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: ModelConfig(model=v) if isinstance(v, str) else v for k, v in value.items()}
        return value


#: how a ``not scored`` reason names what a task requires
_NEEDS = {
    "loglikelihood": "log-likelihoods", "logprobs": "log-probabilities", "text": "text answers",
    "logits_processor": "a hook in the sampling loop (a watermark is made while sampling; an API returns finished text)",
}


def not_scored_reason(model: str, cannot: Sequence[str]) -> str:
    """``not scored: needs log-likelihoods (MODEL cannot give loglikelihood)``: what the task
    needs in words, then the capability names the model lacks (``Task.requires``'s)."""
    needs = ", ".join(_NEEDS.get(c, c) for c in cannot)
    return f"not scored: needs {needs} ({model} cannot give {', '.join(cannot)})"


@dataclass
class RunResult:
    """What a finished run produced."""

    out_dir: Path
    run: RunInfo
    scores: ScoresFile
    failed: int
    total: int
    samples: list[SampleRecord] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.failed / self.total if self.total else 0.0

    @property
    def results(self) -> Results:
        """The run as :class:`~trustgauge.results.results.Results` (``.to_pandas()``, ``.metric()``)."""
        from trustgauge.results.results import Results

        return Results.from_run_result(self)


@dataclass
class _TaskWork:
    task: Task
    samples: list[Sample]
    requests: list[Request]
    dataset: DatasetInfo


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "model"


def default_out_dir(model_spec: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = model_spec.split("@", 1)[0]
    return Path("runs") / f"{_slug(name)}-{stamp}"


def _load_task_data(tasks: Sequence[Task], config: RunConfig) -> list[_TaskWork]:
    """Each task's samples, requests and dataset (:func:`trustgauge.pipeline.local.load_task_data`)."""
    data = load_task_data(tasks, RunSpec.from_config(config), config.data_dir)
    return [_TaskWork(d.task, d.samples, d.requests, d.dataset) for d in data]


def _kinds(tasks: Iterable[Task]) -> list[str]:
    return sorted({slot.kind for t in tasks for slot in t.judges})


def _not_scored(task: Task, kinds: Sequence[str], reason: str | None = None) -> list[MetricValue]:
    """The declared metrics of a task that cannot be scored, each ``None`` with the reason
    (default: the judge kinds that lack a judge model)."""
    reason = reason or (
        f"not scored: needs a judge model (--judge-model SPEC) for {', '.join(kinds)}"
    )
    return [
        MetricValue(metric=name, value=None, direction=direction, n=0, reason=reason)
        for name, direction in task.metrics
        if split_metric(name)[1] is None  # the headline metrics, not the metric[group] ones
    ]


def select_tasks_and_config(config: RunConfig) -> tuple[list[Task], RunConfig]:
    """The tasks to run (``--tasks``, within ``--suite`` if given) and the config the run uses:
    the suite's limit and packaged data applied, the task parameters as the tasks resolved them
    (defaults left out); every ``--task-data`` and ``--task-param`` checked against the
    selection. A run calls it first; :func:`trustgauge.pipeline.many.check_shared` once for
    all the models.

    Raises:
        ConfigError: unknown suite or task; ``--tasks`` selects nothing of the suite; a
            packaged suite given a ``--data-dir``.
    """
    from trustgauge.tasks.registry import resolve_tasks

    tasks = resolve_tasks(config.tasks, reference=config.reference, params=config.task_params)
    if config.suite is None:
        _check_task_data(config, tasks)
        return tasks, _with_task_params(config, tasks)
    from trustgauge.data import packaged_path
    from trustgauge.tasks.suites import get_suite

    suite = get_suite(config.suite)
    members = {t.id for t in resolve_tasks(suite.tasks)}
    if config.tasks == ["all"]:
        # no --tasks (its default, "all"): every task of the suite, also those "all" leaves out
        # (the awareness suites' extras, Liu et al.'s studies)
        tasks = resolve_tasks(suite.tasks, reference=config.reference, params=config.task_params)
    chosen = [t for t in tasks if t.id in members]
    if not chosen:
        raise ConfigError(
            f"--tasks {','.join(config.tasks)} selects no task of suite {suite.name!r} "
            f"({', '.join(sorted(members))})"
        )
    if suite.limit is not None and config.limit is None:
        config = config.model_copy(update={"limit": suite.limit})
    if suite.packaged is not None and config.dataset_override is None:
        if config.data_dir is not None:
            raise ConfigError(
                f"suite {suite.name!r} runs on the packaged sample; drop --data-dir (or use "
                "--suite trustllm to run on your copy of the release)"
            )
        config = config.model_copy(update={"dataset_override": packaged_path(suite.packaged)})
    _check_task_data(config, chosen)
    return chosen, _with_task_params(config, chosen)


def _check_task_data(config: RunConfig, tasks: Sequence[Task]) -> None:
    """Every ``--task-data`` names a selected task and a file that exists (read later); every
    ``--task-param`` names a selected task (its names and values were checked when the task
    was created: :func:`trustgauge.tasks.base.resolve_params`, ``Task.check_params``)."""
    chosen = {t.id for t in tasks}
    for task_id, path in config.task_data.items():
        if task_id not in chosen:
            raise ConfigError(f"--task-data {task_id}={path}: {task_id} is not among the selected tasks")
        if Path(path).expanduser().is_dir():
            raise ConfigError(f"--task-data {task_id}={path}: a folder, not a file (JSON Lines or a JSON list of records)")
        if not Path(path).expanduser().is_file():
            raise ConfigError(f"--task-data {task_id}={path}: no such file")
    for task_id, values in config.task_params.items():
        if task_id not in chosen:
            name, value = next(iter(values.items()), ("NAME", "VALUE"))
            raise ConfigError(
                f"--task-param {task_id}:{name}={value}: {task_id} is not among the selected tasks"
            )


def _with_task_params(config: RunConfig, tasks: Sequence[Task]) -> RunConfig:
    """``config`` with each task's parameters as the task resolved them, values equal to the
    default left out: the run spec (and its digest) says what was measured, so naming a
    default changes nothing."""
    params = {t.id: t.non_default_params() for t in tasks if t.non_default_params()}
    return config if params == config.task_params else config.model_copy(update={"task_params": params})


def _judge_name(config: RunConfig, kind: str) -> str | None:
    """The judge asked for ``kind``: the one named with ``--judge``; else, with a judge model, the
    llm judge for the kinds TrustLLM judged with GPT-4 and the offline default for the others;
    ``None`` lets the registry decide."""
    from trustgauge.judges.registry import DEFAULT_JUDGES, GPT4_KINDS

    name = config.judges.get(kind)
    if name is None and config.judge_model and kind not in GPT4_KINDS:
        return DEFAULT_JUDGES.get(kind)
    return name


def _needs_judge_model(config: RunConfig, kind: str) -> bool:
    from trustgauge.judges.registry import needs_judge_model

    return needs_judge_model(
        kind, config.judges.get(kind), judge_model=config.judge_model,
        options=config.judge_options.get(kind),
    )


def run_judges(config: RunConfig) -> dict[str, tuple[str, dict[str, Any]]]:
    """The judge each kind of the run's tasks will use: kind -> (name, options), as
    :func:`run_evaluation` creates them (kinds that need a judge model and have none are left
    out: their tasks are not scored). For ``run --verify-judges``, before anything is sent.

    Raises:
        ConfigError: unknown suite, task or judge; an llm judge without a model.
    """
    from trustgauge.judges.registry import check_judge_choice

    tasks, config = select_tasks_and_config(config)
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for kind in _kinds(tasks):
        if _needs_judge_model(config, kind):
            continue
        options = dict(config.judge_options.get(kind, {}))
        name = check_judge_choice(kind, _judge_name(config, kind), judge_model=config.judge_model, options=options)
        out[kind] = (name, options)
    return out


async def open_judges(config: RunConfig, kinds: Sequence[str]) -> dict[str, Judge]:
    """The judge of each of ``kinds``, as ``config`` asks. Every kind named in ``config`` is
    checked (unknown kind or name: ConfigError) even when no task needs it; if one judge cannot
    be created, those created already are closed."""
    from trustgauge.judges.registry import check_judge_choice, create_judge

    for kind in sorted({*config.judges, *config.judge_options}):
        check_judge_choice(
            kind, _judge_name(config, kind), judge_model=config.judge_model,
            options=config.judge_options.get(kind),
        )
    judges: dict[str, Judge] = {}
    try:
        for kind in kinds:
            judges[kind] = create_judge(
                kind, _judge_name(config, kind), judge_model=config.judge_model,
                **config.judge_options.get(kind, {}),
            )
    except BaseException:
        await close_judges(judges.values())
        raise
    return judges


async def close_judges(judges: Iterable[Judge]) -> None:
    """Close the judges that hold resources (``aclose``); a failure to close is ignored."""
    for judge in judges:
        aclose = getattr(judge, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


async def run_evaluation(
    config: RunConfig,
    *,
    renderers: Renderers,
    progress: Progress | None = None,
    command: Sequence[str] = (),
    shards: int = 1,
    executor: ExecutorFactory | None = None,
) -> RunResult:
    """Run the whole pipeline and write the run directory. Raises UsageError on bad input.

    The tasks are planned into units (``shards`` per task), run by the local executor and
    merged in plan order: the run directory does not depend on ``shards``. ``executor`` makes
    the executor (default :class:`~trustgauge.pipeline.local.LocalExecutor`; the Ray executor's
    factory runs the units on a cluster). ``renderers`` make
    ``report.md`` and ``report.html`` (``trustgauge.report.writer.RENDERERS``: the report layer
    is the caller's to pick, the pipeline does not import it)."""
    from trustgauge import _paths
    from trustgauge.pipeline.preflight import (
        check_aggregators,
        check_model_urls,
        check_run_locations,
    )

    progress = progress or Progress()
    started_at = datetime.now(timezone.utc)
    t0 = time.monotonic()
    secrets_in_environment()
    # nothing is requested (or paid for) when the results could not be saved
    check_run_locations(config.out, config.store_path)
    check_model_urls(config.model)  # before judges load or a dataset is downloaded
    for role_config in config.roles.values():
        check_model_urls(role_config)
    from trustgauge.models.registry import check_model_options

    for model_config in (config.model, *config.roles.values()):
        check_model_options(model_config)  # a misspelt option, before a dataset is downloaded
    tasks, config = select_tasks_and_config(config)
    check_roles(config.roles, tasks)
    check_aggregators(tasks)
    # kinds with no offline judge (adversarial factuality, sycophancy preference) run only with
    # a judge model; without one their tasks still get responses but are reported not scored
    unjudged = [k for k in _kinds(tasks) if _needs_judge_model(config, k)]
    judges = await open_judges(config, [k for k in _kinds(tasks) if k not in unjudged])
    spec = RunSpec.from_config(config)
    units = plan(spec, tasks, shards=shards)
    try:
        settings = ExecutionSettings(
            store_path=config.store_path or _paths.store_path(), concurrency=config.concurrency,
            retry=config.retry, use_cache=config.use_cache, data_dir=config.data_dir,
            batch=config.batch, batch_poll=config.batch_poll,
        )
        make: ExecutorFactory = executor or LocalExecutor
        done = await make(spec, settings, {t.id: t for t in tasks}, judges, progress).run(units)
    finally:
        await close_judges(judges.values())
    work = merge(units, done.results, {t.id: t for t in tasks}, spec.digest)
    stats = done.stats
    lacking = {w.task.id: w.lacking for w in work if w.lacking}
    outcomes = {w.task.id: w.outcomes for w in work}
    conversations = {w.task.id: w.conversations for w in work if w.conversations is not None}
    judgements = {k: v for w in work for k, v in w.judgements.items()}

    samples_out: list[SampleRecord] = []
    task_scores: list[TaskScores] = []
    unscored: list[str] = []  # tasks lacking a judge: their answers are not "unreadable"
    for w in work:
        scored: list[tuple[Sample, SampleScore]] = []
        n_failed = 0
        talks = conversations.get(w.task.id)
        prompts = w.prompts
        for i, (sample, prompt, outcome) in enumerate(zip(w.samples, prompts, outcomes[w.task.id])):
            talk = talks[i] if talks is not None else None
            js = {
                k: judgements[(w.task.id, sample.id, k)]
                for k in map(str, w.task.judges)
                if (w.task.id, sample.id, k) in judgements
            }
            if outcome.response is None:
                n_failed += 1
                score = None
            elif talk is not None and talk.transcript is not None:
                score = w.task.score_transcript(sample, talk.transcript, js)
                scored.append((sample, score))
            else:
                score = w.task.score_response(sample, outcome.response, js)
                scored.append((sample, score))
            samples_out.append(
                SampleRecord(
                    task=w.task.id,
                    sample_id=sample.id,
                    prompt=prompt,
                    response=outcome.response.text if outcome.response else None,
                    error=outcome.error,
                    cached=outcome.cached,
                    judgements={k: v.model_dump() for k, v in js.items()},
                    label=score.label if score else None,
                    valid=score.valid if score else False,
                    score=score.values if score else {},
                    target=sample.target,
                    group=sample.group,
                    metadata=sample.metadata,
                    finish_reason=outcome.response.finish_reason if outcome.response else None,
                    turns=None if talk is None else turn_records(talk),
                    outcome=w.task.outcome(score) if score else "none",
                )
            )
        required = {slot.kind for slot in w.task.judges if not slot.optional}
        missing = sorted(required & set(unjudged))
        cannot = lacking.get(w.task.id)
        if missing or cannot:
            unscored.append(w.task.id)
        if cannot:
            reason = not_scored_reason(stats.model_description, cannot)
            metrics = _not_scored(w.task, missing, reason)
        else:
            metrics = _not_scored(w.task, missing) if missing else w.task.aggregate(scored)
        task_scores.append(
            TaskScores(
                task=w.task.id, dimension=w.task.dimension, title=w.task.title, metrics=metrics,
                n_samples=len(w.samples), n_failed=n_failed, nothing_to_score=w.task.nothing_to_score,
                aggregator=w.task.aggregator, aggregator_params=w.task.aggregator_params(),
                data=w.task.data.path,
                judges={
                    kind: judges[kind].id if kind in judges else "none (needs --judge-model)"
                    for kind in dict.fromkeys(slot.kind for slot in w.task.judges)
                    if kind in judges or kind in required
                },
            )
        )

    from trustgauge.results.health import run_health

    task_ids = [w.task.id for w in work]
    total = sum(len(w.outcomes) for w in work)  # a conversation counts as one, like a request
    failed = sum(1 for ol in outcomes.values() for o in ol if o.response is None)
    generation = {w.task.id: w.generation or {} for w in work}
    datasets = [w.dataset for w in work]
    # the sample records hold what the run directory needs: let the outcomes (every response
    # object), transcripts and judgements go before the files are written, whose texts and
    # report are the run's memory peak (benchmarks/README.md, "Memory of one run")
    del done, work, outcomes, conversations, judgements
    health = run_health(samples_out, task_ids, unscored=unscored)
    task_scores = [t.model_copy(update={"health": health.tasks[t.task]}) for t in task_scores]
    out_dir = config.out or default_out_dir(config.model.model)
    run_id = out_dir.name
    status = "complete" if failed == 0 else ("failed" if total and failed / total > config.max_error_rate else "complete-with-errors")
    identity = stats.model_identity
    run = RunInfo(
        run_id=run_id,
        trustgauge_version=__version__,
        started_at=started_at.isoformat(),
        finished_at=datetime.now(timezone.utc).isoformat(),
        wall_time_s=round(time.monotonic() - t0, 3),
        command=[redact(c) for c in command],
        model=public_model_config(config.model),
        model_identity=identity,
        generation=generation,
        tasks=[t.id for t in tasks],
        taxonomy={t.id: list(t.taxonomy) for t in tasks},
        suite=config.suite,
        reference=config.reference,
        limit=config.limit,
        seed=config.seed,
        datasets=datasets,
        judges={k: j.id for k, j in judges.items()},
        usage={"input_tokens": stats.input_tokens, "output_tokens": stats.output_tokens},
        requests={
            "total": total, "unique": stats.unique, "cached": stats.cached,
            "sent": stats.sent, "retries": stats.retries, "failed": failed,
        },
        status=status,
        python=sys.version.split()[0],
        platform=platform.platform(),
        health=health,
        roles=stats.roles,
        task_params={t.id: t.non_default_params() for t in tasks if t.non_default_params()} or None,
    )
    from trustgauge.results.dimensions import with_summary

    scores = with_summary(ScoresFile(run_id=run_id, model=public_spec(config.model.model), tasks=task_scores))
    from trustgauge.results.writer import write_run

    run = write_run(out_dir, run, scores, samples_out, renderers)  # as written: with its files' hashes
    return RunResult(out_dir=out_dir, run=run, scores=scores, failed=failed, total=total, samples=samples_out)

