"""The local executor: today's asyncio engine in one process (docs/architecture.md step 12c).

It keeps the run's schedule exactly as before the seam: one engine per model shared by every
unit, all single-turn requests of all units in one ``Engine.run`` (in plan order), then the
conversations, then every judge slot of every unit stage by stage (judge batches span tasks),
so judge batches, the store's contents and the run directory are those of a one-unit run.
The first stage's whole batches are judged while the responses arrive
(:class:`~trustgauge.engine.early_judging.EarlyJudging`: the very batches that stage would
make after generation, so nothing else changes).
Units of one task are put back together for that (their shards are contiguous slices) and
the results are cut apart again per unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trustgauge.config import ModelConfig
from trustgauge.engine.early_judging import EarlyJudging
from trustgauge.engine.judging import check_judges, judge_all
from trustgauge.engine.progress import Progress
from trustgauge.engine.runner import Engine, Outcome
from trustgauge.engine.store import Store
from trustgauge.models.base import Model, cannot_watermark
from trustgauge.pipeline.conversations import (
    ConversationResult,
    conversation_outcome,
    conversation_prompt,
    converse,
    role_records,
)
from trustgauge.pipeline.executor import RunStats, UnitResult, UnitResults
from trustgauge.pipeline.plan import Unit, shard_slice
from trustgauge.pipeline.spec import ExecutionSettings, RunSpec, public_model_config
from trustgauge.results.schema import DatasetInfo
from trustgauge.types import (
    Capability,
    Judge,
    Judgement,
    Request,
    Sample,
    with_system_prompt,
)

if TYPE_CHECKING:
    from trustgauge.tasks.base import Task

__all__ = ["LocalExecutor", "ModelPool", "TaskData", "check_units", "for_model", "load_task_data", "only_shards", "select_samples", "shard_spans"]


def select_samples(samples: Sequence[Sample], limit: int | None, seed: int) -> list[Sample]:
    """Up to ``limit`` samples, drawn as whole groups (paired items stay together), in a
    seeded, reproducible order; the result keeps the dataset's order."""
    import random
    from collections import defaultdict

    if limit is None or limit >= len(samples):
        return list(samples)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(samples):
        groups[s.group if s.group is not None else f"\x00{s.id}"].append(i)
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    chosen: list[int] = []
    for g in order:
        if len(chosen) >= limit:
            break
        chosen.extend(groups[g])
    return [samples[i] for i in sorted(chosen)]


@dataclass
class TaskData:
    """A task's selected samples, their requests (none for a conversational task) and the
    dataset they came from."""

    task: Task
    samples: list[Sample]
    requests: list[Request]
    dataset: DatasetInfo


def generation_overrides(model: ModelConfig) -> dict[str, Any]:
    """The user's generation overrides as request parameters: a ``watermark`` description
    (``kgw:gamma=0.25``) becomes the :class:`~trustgauge.types.WatermarkSpec` with the key from
    ``TRUSTGAUGE_WATERMARK_KEY`` (raises :class:`~trustgauge.errors.ConfigError` for an unknown
    scheme or parameter)."""
    overrides: dict[str, Any] = model.generation.model_dump(exclude_none=True)
    described = overrides.pop("watermark", None)
    if described:
        from trustgauge.watermark import key_from_environment, make_spec, parse_watermark

        name, params = parse_watermark(described)
        overrides["watermark"] = make_spec(name, key_from_environment(), **params)
    return overrides


def refuse_watermark(model: Model, config: ModelConfig, tasks: Sequence[Task] = ()) -> None:
    """One clear line, before anything is loaded or sent, when a run asks to watermark a model
    whose backend cannot (API models: the mark is made inside the sampling loop), or asks to
    watermark every answer of a run holding tasks that compare marked and unmarked answers
    themselves (their unmarked arm would be marked too)."""
    from trustgauge.errors import UsageError

    if not config.generation.watermark:
        return
    if Capability.LOGITS_PROCESSOR not in model.capabilities:
        raise UsageError(cannot_watermark(model.describe()))
    comparing = [t.id for t in tasks if "logits_processor" in t.requires]
    if comparing:
        raise UsageError(
            f"--watermark marks every answer, the unmarked ones {', '.join(comparing)} compares with too: "
            "run those tasks without --watermark (they mark with each scheme of their 'schemes' parameter)"
        )


def load_task_data(tasks: Sequence[Task], spec: RunSpec, data_dir: Path | None) -> list[TaskData]:
    """Read each task's records (each dataset resolved once), select its samples and build
    its requests with the user's generation overrides and system prompt."""
    from trustgauge.data import load_records, resolve_data_dir
    from trustgauge.data.records import read_user_records

    model = spec.model_config()
    override = None if spec.dataset_override is None else Path(spec.dataset_override)
    roots: dict[str, Path] = {}
    work = []
    overrides = generation_overrides(model)
    system_prompt = model.system_prompt
    user_files = dict(spec.task_data)
    for task in tasks:
        ds = task.data.dataset
        if task.id in user_files:  # --task-data: the user's own records in the task's layout
            path = Path(user_files[task.id])
            records, sha = read_user_records(path)
            samples = select_samples(_user_samples(task, records, path), spec.limit, spec.seed)
            info = DatasetInfo(dataset=ds, path=path.name, sha256=sha, records=len(records), source=f"file:{path}")
            work.append(TaskData(task, samples, _requests(task, samples, overrides, system_prompt), info))
            continue
        if ds not in roots:
            roots[ds] = override if override is not None else resolve_data_dir(ds, data_dir)
        # the full release is checked against its registered record counts (never a packaged sample)
        records, sha = load_records(roots[ds], task.data.path, source_id=None if override is not None else ds)
        samples = select_samples(task.samples(records), spec.limit, spec.seed)
        requests = _requests(task, samples, overrides, system_prompt)
        source = str(roots[ds]) if override is None else f"packaged:{roots[ds].name}"
        info = DatasetInfo(dataset=ds, path=task.data.path, sha256=sha, records=len(records), source=source)
        work.append(TaskData(task, samples, requests, info))
    return work


def _user_samples(task: Task, records: list[dict[str, Any]], path: Path) -> list[Sample]:
    """``task.samples(records)`` for the user's file: a record the task refuses is named by the
    user's file and line (``FILE:LINE: what is wrong``), not by the task's own data path and the
    record's index, which is how task readers name it."""
    import re

    from trustgauge.data.records import user_record_line
    from trustgauge.errors import DataError

    try:
        return task.samples(records)
    except _CRASHES as exc:  # a task (often a plugin's) indexing a field the user's record lacks
        raise DataError(f"{_crashed_at(task, records, path)}: {task.id} cannot read this record "
                        f"({type(exc).__name__}: {_first_line(exc)}): a field it reads is missing or of another type") from None
    except DataError as exc:
        # "<data path> record N: what" (tasks/_common.py) or "<task id>: record N what"
        found = re.fullmatch(
            rf"(?:{re.escape(task.data.path)} record (\d+): |{re.escape(task.id)}: record (\d+) )(.*)",
            str(exc), re.DOTALL,
        )
        if found is None:
            raise
        index = int(found.group(1) or found.group(2))
        line = user_record_line(path, index)
        where = f"{path}:{line}" if line is not None else f"{path} record {index}"
        raise DataError(f"{where}: {found.group(3)}") from None


#: what a task's ``samples()`` raises on a record it cannot read when it does not check the record
#: (``r["prompt"]`` of a record without one): turned into one line for the user's own file
_CRASHES = (KeyError, TypeError, ValueError, IndexError, AttributeError)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def _crashed_at(task: Task, records: list[dict[str, Any]], path: Path) -> str:
    """``FILE:LINE`` of the first record the task cannot read on its own, or ``FILE`` when no
    single record does (a task reading records in groups)."""
    from trustgauge.data.records import user_record_line

    for index, record in enumerate(records):
        try:
            task.samples([record])
        except _CRASHES:
            line = user_record_line(path, index)
            return f"{path}:{line}" if line is not None else f"{path} record {index}"
        except Exception:  # another complaint about a lone record (a DataError, say): keep looking
            continue
    return str(path)


def _requests(task: Task, samples: Sequence[Sample], overrides: Mapping[str, Any], system_prompt: str | None) -> list[Request]:
    """The single-turn requests of ``samples`` with the user's overrides and system prompt (none
    for a conversational task: its calls are made by its run(), through the engine's Chat)."""
    requests = []
    for s in samples if not task.is_conversational() else ():
        req = task.build_request(s, overrides)
        if system_prompt:
            req = Request(messages=with_system_prompt(req.messages, system_prompt), params=req.params)
        requests.append(req)
    return requests


async def lacking_capabilities(
    model: Model, tasks: Sequence[Task], *, optional: bool = False
) -> dict[str, list[str]]:
    """Task id -> what it ``requires`` (``optional``: what it ``uses``) that the model cannot
    give (only tasks lacking some). The model is asked (:meth:`Model.supported`, which may probe
    its server) only when its declared capabilities do not already cover every requirement."""

    def names(t: Task) -> tuple[str, ...]:
        return t.uses if optional else t.requires

    wanted = {name: Capability.parse(name) for t in tasks for name in names(t)}
    if all(c is not None and c in model.capabilities for c in wanted.values()):
        return {}
    have = await model.supported()
    lacking = {}
    for t in tasks:
        missing = [n for n in names(t) if wanted[n] is None or wanted[n] not in have]
        if missing:
            lacking[t.id] = missing
    return lacking


async def check_role_capabilities(
    tasks: Sequence[Task], role_models: Mapping[str, Model], configs: Mapping[str, Any]
) -> None:
    """Before anything is sent: every role model can give what the selected tasks need of it
    (``Task.role_requires``). Raises :class:`~trustgauge.errors.UsageError` naming the flag."""
    from trustgauge.errors import UsageError

    for task in tasks:
        for role, needs in task.role_requires.items():
            model = role_models.get(role)
            if model is None:
                continue
            have = await model.supported()
            missing = [n for n in needs if Capability.parse(n) not in have]
            if missing:
                spec = configs[role].model if role in configs else model.describe()
                raise UsageError(
                    f"--role {role}={spec}: {task.id} needs {', '.join(missing)} of its {role} model, "
                    f"which {model.describe()} cannot give (hf: models can)"
                )


def for_model(work: Sequence[TaskData], lacking: Mapping[str, Sequence[str]], unused: Mapping[str, Sequence[str]]) -> list[TaskData]:
    """``work`` as the model can answer it: a task lacking a capability it requires asks nothing
    (reported not scored), a task only *using* log-probabilities asks without them."""
    out = []
    for w in work:
        if w.task.id in lacking:
            w = TaskData(w.task, [], [], w.dataset)
        elif "logprobs" in unused.get(w.task.id, ()):
            w = without_logprobs(w)
        out.append(w)
    return out


def check_units(units: Sequence[Unit], spec: RunSpec) -> None:
    """Every unit belongs to ``spec``'s run (an executor refuses a stale or foreign unit)."""
    digest = spec.digest
    for unit in units:
        if unit.spec_digest != digest:
            raise ValueError(f"unit {unit.name} is not of this run (spec {unit.spec_digest[:12]})")


def without_logprobs(work: TaskData) -> TaskData:
    """``work`` with its requests asking for no log-probabilities."""
    requests = [
        r if r.params.logprobs is None
        else r.model_copy(update={"params": r.params.model_copy(update={"logprobs": None})})
        for r in work.requests
    ]
    return TaskData(work.task, work.samples, requests, work.dataset)


class ModelPool:
    """Models kept open across several executor calls (a Ray worker runs its units call by
    call and loads its model once): one per model config, checked when first opened."""

    def __init__(self) -> None:
        self._open: dict[str, Model] = {}

    async def get(self, config: ModelConfig) -> Model:
        from trustgauge.models.registry import load_model
        from trustgauge.tasks.oracle import oracle_table

        key = config.model_dump_json()
        if key not in self._open:
            model = load_model(config, oracle=oracle_table)
            try:
                await model.check()
            except BaseException:
                await model.aclose()
                raise
            self._open[key] = model
        return self._open[key]

    async def aclose(self) -> None:
        models, self._open = list(self._open.values()), {}
        for model in models:
            await model.aclose()


def shard_spans(units: Sequence[Unit], task_id: str, n: int) -> dict[Unit, tuple[int, int]]:
    """Where each of ``units``' shards of ``task_id`` (a task of ``n`` selected samples) lies in
    the list of only those shards' samples, concatenated in shard order: ``[start, stop)`` per
    unit. Every shard present: the task's own positions."""
    spans: dict[Unit, tuple[int, int]] = {}
    at = 0
    for unit in sorted((u for u in units if u.task_id == task_id), key=lambda u: u.shard):
        start, stop = shard_slice(n, unit.shard, unit.shards)
        spans[unit] = (at, at + stop - start)
        at += stop - start
    return spans


def only_shards(work: TaskData, units: Sequence[Unit]) -> TaskData:
    """``work`` narrowed to the samples (and requests) of ``units``' shards of its task, in
    shard order: an executor given some shards of a task answers only those."""
    n = len(work.samples)
    mine = sorted({u.shard: u for u in units if u.task_id == work.task.id}.values(), key=lambda u: u.shard)
    if mine and len(mine) == mine[0].shards:
        return work
    keep = [i for u in mine for i in range(*shard_slice(n, u.shard, u.shards))]
    requests = [work.requests[i] for i in keep] if work.requests else []
    return TaskData(work.task, [work.samples[i] for i in keep], requests, work.dataset)


class LocalExecutor:
    """Runs every unit in this process through one engine per model and the run's store.

    Args:
        spec: what the run measures (the units must carry its digest).
        settings: concurrency, retries, cache use, store path, data directory.
        tasks: the task of each unit, by id.
        judges: the open judge of each kind that can run (the caller opens and closes them).
        progress: where progress goes; closed when the units are done.
        store: the store to use instead of opening ``settings.store_path`` (left open).
        models: where the models come from instead of loading and closing them per call (the
            Ray executor's workers keep theirs across calls).
    """

    def __init__(
        self,
        spec: RunSpec,
        settings: ExecutionSettings,
        tasks: Mapping[str, Task],
        judges: Mapping[str, Judge],
        progress: Progress,
        *,
        store: Store | None = None,
        models: ModelPool | None = None,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.tasks = tasks
        self.judges = judges
        self.progress = progress
        self.store = store
        self.models = models

    async def run(self, units: Sequence[Unit]) -> UnitResults:
        from trustgauge.models.registry import load_model
        from trustgauge.tasks.oracle import oracle_table

        check_units(units, self.spec)
        order = list(dict.fromkeys(u.task_id for u in units))  # tasks in plan order
        for task_id in order:  # the tasks must be those the spec describes (--task-param)
            if self.tasks[task_id].non_default_params() != self.spec.params_of(task_id):
                raise ValueError(
                    f"task {task_id} has parameters {self.tasks[task_id].non_default_params()}, "
                    f"the run spec {self.spec.params_of(task_id)}"
                )
        settings, progress = self.settings, self.progress
        model_config = self.spec.model_config()
        role_configs = self.spec.role_configs()
        loaded = load_task_data([self.tasks[t] for t in order], self.spec, settings.data_dir)
        spans = {w.task.id: shard_spans(units, w.task.id, len(w.samples)) for w in loaded}
        work = [only_shards(w, units) for w in loaded]
        pool = self.models
        model = load_model(model_config, oracle=oracle_table) if pool is None else await pool.get(model_config)
        refuse_watermark(model, model_config, [w.task for w in work])
        if settings.batch:  # a backend without a batch API: one line before anything is sent
            from trustgauge.engine.batch import refuse_batch

            refuse_batch(model)
        role_models: dict[str, Any] = {}
        store = self.store if self.store is not None else Store(settings.store_path)
        early: EarlyJudging | None = None
        try:
            if pool is None:
                role_models.update((name, load_model(mc, oracle=oracle_table)) for name, mc in role_configs.items())
                await model.check()
                for role_model in role_models.values():
                    await role_model.check()
            else:
                for name, mc in role_configs.items():
                    role_models[name] = await pool.get(mc)
            await check_role_capabilities([w.task for w in work], role_models, role_configs)
            await check_judges(self.judges.values())
            # a task needing what the model cannot give (logprobs, ...) sends nothing and is
            # reported not scored, with the reason
            lacking = await lacking_capabilities(model, [w.task for w in work])
            # a task that only *uses* log-probabilities still runs on a model without them: its
            # requests go without the ask, and it reports the part that needed them not scored
            unused = await lacking_capabilities(model, [w.task for w in work if w.task.id not in lacking], optional=True)
            work = for_model(work, lacking, unused)
            engine = Engine(
                model, store, concurrency=settings.concurrency, retry=settings.retry,
                use_cache=settings.use_cache, progress=progress, seed=self.spec.seed,
                concurrency_cap=settings.concurrency_cap,
            )
            # every unit's requests in one batch, in plan order (a task's shards are contiguous)
            all_requests = [r for w in work for r in w.requests]
            # the first judge slot is judged while the responses arrive, in the batches judge_all makes
            early = EarlyJudging(work, engine.keys(all_requests), self.judges, store, settings.use_cache)
            if settings.batch:  # the provider's batch API (docs/batch.md); conversations still run below
                from trustgauge.engine.batch import BatchPolicy, run_in_batches

                flat = await run_in_batches(
                    engine, all_requests, description=f"generating ({model.describe()})",
                    policy=BatchPolicy(interval=settings.batch_poll), on_outcome=early.arrived,
                )
            else:
                flat = await engine.run(
                    all_requests, description=f"generating ({model.describe()})", on_outcome=early.arrived
                )
            outcomes: dict[str, list[Outcome]] = {}
            pos = 0
            for w in work:
                outcomes[w.task.id] = flat[pos : pos + len(w.requests)]
                pos += len(w.requests)
            conversations: dict[str, list[ConversationResult]] = {}
            role_engines: dict[str, Engine] = {}
            if any(w.task.is_conversational() for w in work):
                conversations, role_engines = await converse(
                    [(w.task, w.samples) for w in work], engine, role_models, store,
                    concurrency=settings.concurrency, retry=settings.retry, use_cache=settings.use_cache,
                    seed=self.spec.seed, overrides=generation_overrides(model_config),
                    system_prompt=model_config.system_prompt, progress=progress,
                )
                for task_id, talks in conversations.items():
                    outcomes[task_id] = [conversation_outcome(r) for r in talks]
            ready = await early.finish()
            judgements = await judge_all(work, outcomes, self.judges, store, settings.use_cache, progress, ready)
        finally:
            if early is not None:
                await early.aclose()
            if pool is None:
                await model.aclose()
                for role_model in role_models.values():
                    await role_model.aclose()
            if self.store is None:
                store.close()
            progress.close()

        stats = engine.stats
        run_stats = RunStats(
            model_identity=model.identity(), model_description=model.describe(),
            input_tokens=stats.usage.input_tokens, output_tokens=stats.usage.output_tokens,
            unique=stats.unique, cached=stats.cached, sent=stats.sent, retries=stats.retries,
            roles=role_records(
                {name: public_model_config(role_configs.get(name, model_config)) for name in role_engines}, role_engines,
            ) if role_engines else None,
        )
        results: list[UnitResult] = []
        by_task = {w.task.id: w for w in work}
        verdicts: dict[str, dict[tuple[str, str, str], Judgement]] = {t: {} for t in by_task}
        for key, verdict in judgements.items():
            verdicts[key[0]][key] = verdict
        for unit in units:
            w = by_task[unit.task_id]
            talking = conversations.get(unit.task_id)
            if w.task.id in lacking:  # nothing was asked: every shard is empty
                start = stop = 0
            else:
                start, stop = spans[unit.task_id][unit]
            samples = w.samples[start:stop]
            mine = {s.id for s in samples}
            prompts = [r.prompt for r in w.requests] if talking is None else [conversation_prompt(r) for r in talking]
            results.append(UnitResult(
                unit=unit,
                samples=samples,
                prompts=prompts[start:stop],
                outcomes=outcomes[unit.task_id][start:stop],
                conversations=None if talking is None else talking[start:stop],
                judgements={k: v for k, v in verdicts[unit.task_id].items() if k[1] in mine},
                dataset=w.dataset,
                generation=next((r.params.model_dump() for r in w.requests[start:stop]), None),
                lacking=lacking.get(unit.task_id, []),
            ))
        return UnitResults(results=results, stats=run_stats)
