"""The Ray executor: a run's units answered by workers on a Ray cluster (issue 19; design in
docs/architecture.md, "Ray executor"; how to use it in docs/scale-out.md).

The driver (this process, on a node of the cluster) plans as a local run does, then:

1. connects to the cluster (``--ray-address``, ``RAY_ADDRESS``, else a Ray started here) and
   checks, before anything is sent, that some node can hold a worker (CPUs, GPUs, custom
   resources) and that the workers import the same trustgauge;
2. starts the run's store on its own machine (:class:`~trustgauge.pipeline.ray_worker.RunStore`,
   the SQLite file a local run uses) and ``workers`` :class:`~trustgauge.pipeline.ray_worker.UnitWorker`
   actors, spread over the nodes, each with its share of the concurrency (one API budget, not
   one per worker);
3. hands each worker its share of the units (balanced by sample count, dealt in runs along the
   plan: :func:`deal`) in one call: a worker answers its share in one engine run, with all its
   concurrency, as a local run does;
4. shows progress from the run's store (every response reaches it as it arrives) and judges
   those responses while the others are still coming, with the run's judges, in the batches a
   local run makes (:class:`~trustgauge.engine.early_judging.EarlyJudging`), so the verdicts are
   a local run's;
5. when a worker dies (its process or its node), Ray restarts it (elsewhere if its node is gone)
   and retries its call; the retry finds every response stored before the kill. A worker that
   cannot be restarted has its units retried on another one.

Scheduling, placement, restarts and retries are Ray's (actor options); what this module adds is
the split of the work, the store hand-over and the judging on the driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from trustgauge.engine.early_judging import EarlyJudging
from trustgauge.engine.judging import check_judges, judge_all
from trustgauge.engine.progress import Progress
from trustgauge.engine.runner import Outcome
from trustgauge.engine.store import Store
from trustgauge.errors import TrustgaugeError, UsageError
from trustgauge.pipeline.executor import RunStats, UnitResult, UnitResults
from trustgauge.pipeline.local import TaskData, check_units, for_model, load_task_data, shard_spans
from trustgauge.pipeline.merge import MergeError
from trustgauge.pipeline.plan import Unit
from trustgauge.pipeline.ray_worker import RunStore, UnitWorker, WorkerInfo
from trustgauge.pipeline.spec import ExecutionSettings, RunSpec
from trustgauge.types import Judge, Judgement, Response

if TYPE_CHECKING:
    from trustgauge.tasks.base import Task

__all__ = ["RayExecutor", "RayExecutorFactory", "RayOptions", "connect", "deal", "partition"]

#: model backends whose weights run on the worker's machine: a worker takes a CPU (or the
#: GPUs asked for) of its node; API backends' workers take none (they wait on the network)
LOCAL_WEIGHTS = ("hf:", "gguf:", "vllm:")
_POLL_S = 0.25
#: runs of units dealt to each worker (:func:`deal`); also shards per task per worker
DEAL_ROUNDS = 8


@dataclass(frozen=True)
class RayOptions:
    """How a run uses its Ray cluster (``trustgauge run --executor ray ...``)."""

    #: the cluster's address (``HOST:PORT`` of its head); ``None``: ``RAY_ADDRESS``, else a Ray
    #: started in this process on this machine
    address: str | None = None
    #: workers for the model; ``None``: one per node
    workers: int | None = None
    #: CPUs per worker; ``None``: 1 for a model whose weights run on the worker, else 0
    cpus: float | None = None
    #: GPUs per worker (local-weight models on GPU nodes)
    gpus: float = 0.0
    #: other Ray resources per worker (``--ray-resource NAME=AMOUNT``)
    resources: tuple[tuple[str, float], ...] = ()
    #: how long to wait for the workers to start (placement, model load)
    start_timeout: float = 300.0
    #: restarts of a dead worker (Ray's ``max_restarts``; its call is retried as often)
    max_restarts: int = 3

    def worker_resources(self, model_spec: str) -> dict[str, float]:
        cpus = self.cpus if self.cpus is not None else (1.0 if model_spec.startswith(LOCAL_WEIGHTS) else 0.0)
        need = {"CPU": cpus, "GPU": self.gpus, **dict(self.resources)}
        return {k: v for k, v in need.items() if v}


def _reachable(address: str) -> None:
    """One clear line when nothing listens at ``HOST:PORT`` (Ray itself would wait a minute)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--ray-address {address!r}: expected HOST:PORT of the cluster's head, e.g. 127.0.0.1:6379")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5.0):
            pass
    except OSError as exc:
        raise UsageError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}): is `ray start --head` running "
            "there? (--ray-address or RAY_ADDRESS; leave both unset to start Ray on this machine)"
        ) from None


def connect(address: str | None) -> None:
    """Connect this process to the cluster (once per process; a later run reuses it)."""
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address and address.startswith("ray://"):
        raise UsageError(
            f"--ray-address {address}: Ray Client (ray://) is not supported: the run's store stays on the "
            "driver's machine, which must be a node of the cluster; run trustgauge there, e.g. "
            "`ray job submit --address http://HEAD:8265 -- trustgauge run --executor ray ...`"
        )
    if address and address not in ("auto", "local"):
        _reachable(address)
    try:
        ray.init(
            address=address, logging_level=logging.ERROR, log_to_driver=False,
            include_dashboard=False if not address else None, namespace="trustgauge",
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = ""
        if address and "RAY_AUTH_MODE" not in os.environ:
            hint = (" (a cluster with token authentication, Ray's default where ~/.ray/auth_token exists, "
                    "refuses clients without it: set RAY_AUTH_MODE=token here, with the cluster's token in "
                    "~/.ray/auth_token)")
        raise UsageError(f"cannot join the Ray cluster at {address or 'this machine'}: {first}{hint}") from None


def _nodes() -> list[dict[str, Any]]:
    import ray

    nodes: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
    return [n for n in nodes if n.get("Alive")]


def check_resources(need: Mapping[str, float], model: str) -> None:
    """Some node must be able to hold one worker, else no worker would ever start."""
    nodes = _nodes()
    if any(all(n["Resources"].get(k, 0.0) >= v for k, v in need.items()) for n in nodes):
        return
    have = sorted({", ".join(f"{k} {v:g}" for k, v in sorted(n["Resources"].items()) if k in ("CPU", "GPU") or k in need)
                   for n in nodes})
    raise UsageError(
        f"no node of the Ray cluster can hold a worker for {model}: a worker needs "
        f"{', '.join(f'{k} {v:g}' for k, v in need.items())}; the {len(nodes)} node(s) have: {'; '.join(have) or 'nothing'} "
        "(--ray-cpus, --ray-gpus, --ray-resource)"
    )


def partition(sizes: Sequence[int], parts: int) -> list[list[int]]:
    """Split items of ``sizes`` (in order) into ``min(parts, len(sizes))`` contiguous runs of
    about equal total size: every index in exactly one run, runs in order, none empty."""
    parts = min(parts, len(sizes))
    total = sum(sizes)
    runs: list[list[int]] = []
    current: list[int] = []
    done = 0
    for i, size in enumerate(sizes):
        current.append(i)
        done += size
        later = parts - len(runs) - 1  # runs still to open after this one
        # close this run at its share of the total, or when each later run needs what is left
        if later > 0 and (done * parts >= total * (len(runs) + 1) or len(sizes) - i - 1 == later):
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def deal(sizes: Sequence[int], parts: int, rounds: int = DEAL_ROUNDS) -> list[list[int]]:
    """Items of ``sizes`` (in order) dealt to at most ``parts`` workers: :func:`partition` into
    ``parts * rounds`` runs, run ``j`` to worker ``j % parts``; every index in exactly one share,
    each share in plan order, none empty.

    Every worker thus works along the whole plan at once, so the answered prefix of the plan,
    which early judging reads (it judges in plan order), grows with all the workers; with one
    contiguous run per worker it would stop at the end of the first worker's run, and everything
    after it would be judged only once the last response is in (benchmarks/README.md, "Ray
    executor")."""
    runs = partition(sizes, parts * rounds)
    shares = [[i for run in runs[w::parts] for i in run] for w in range(parts)]
    return [share for share in shares if share]


def _cause(exc: BaseException) -> BaseException:
    """The trustgauge error behind a Ray error, else the Ray error itself."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, TrustgaugeError) else exc


def _missing_trustgauge(exc: BaseException) -> bool:
    text = str(exc)
    return "No module named 'trustgauge" in text or ("ModuleNotFoundError" in text and "trustgauge" in text)


def _raise_missing_trustgauge(exc: BaseException) -> None:
    """One clear line when ``exc`` says a node's Python has no trustgauge."""
    from trustgauge._version import __version__

    if _missing_trustgauge(exc):
        raise UsageError(
            "the Ray workers cannot import trustgauge: install trustgauge (the same version, "
            f"{__version__}, with the extras the model needs) in the Python environment of every node"
        ) from None


def _sum_roles(records: Sequence[Mapping[str, Any] | None]) -> dict[str, Any] | None:
    """Per-role records summed over workers (counts added, descriptions kept)."""

    def add(a: Any, b: Any) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            return {k: add(a[k], b[k]) if k in b else a[k] for k in a} | {k: v for k, v in b.items() if k not in a}
        if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
            return a + b
        return a

    out: dict[str, Any] | None = None
    for r in records:
        if r:
            out = dict(r) if out is None else add(out, r)
    return out


class RayExecutor:
    """Runs units on a Ray cluster (see the module doc). Made by :class:`RayExecutorFactory`."""

    def __init__(
        self,
        spec: RunSpec,
        settings: ExecutionSettings,
        tasks: Mapping[str, Task],
        judges: Mapping[str, Judge],
        progress: Progress,
        options: RayOptions,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.tasks = tasks
        self.judges = judges
        self.progress = progress
        self.options = options

    async def run(self, units: Sequence[Unit]) -> UnitResults:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        spec, settings, options = self.spec, self.settings, self.options
        check_units(units, spec)
        model_spec = spec.model_config().model
        need = options.worker_resources(model_spec)
        connect(options.address)
        check_resources(need, model_spec)
        order = list(dict.fromkeys(u.task_id for u in units))
        work = load_task_data([self.tasks[t] for t in order], spec, settings.data_dir)
        n = max(1, options.workers or len(_nodes()))
        worker_settings = replace(
            settings,
            concurrency=None if settings.concurrency is None else max(1, settings.concurrency // n),
        )
        store_actor: Any = None
        workers: list[Any] = []
        calls: dict[Any, tuple[int, list[Unit]]] = {}
        store = Store(settings.store_path)
        early: EarlyJudging | None = None
        try:
            # workers find the run's store by name (a handle among a restartable actor's
            # arguments would pin it in the object store, and Ray warns on every start)
            store_name = f"trustgauge-store-{uuid.uuid4().hex}"
            store_actor = ray.remote(num_cpus=0, max_restarts=0)(RunStore).options(
                name=store_name,
                scheduling_strategy=NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False),
            ).remote(str(settings.store_path))
            try:
                await _wait(store_actor.ping.remote())
            except Exception as exc:
                _raise_missing_trustgauge(exc)
                raise
            actor = ray.remote(UnitWorker).options(
                num_cpus=need.get("CPU", 0.0), num_gpus=need.get("GPU", 0.0),
                resources={k: v for k, v in need.items() if k not in ("CPU", "GPU")} or None,
                max_restarts=options.max_restarts, max_task_retries=options.max_restarts,
                scheduling_strategy="SPREAD",
            )
            workers = [actor.remote(spec, worker_settings, store_name, n) for _ in range(n)]
            infos = await self._prepare(workers, order)
            info = infos[0]
            await check_judges(self.judges.values())  # an llm judge's model, before anything is sent
            work = for_model(work, info.lacking, info.unused)
            keys = [r.cache_key(info.model_identity) for w in work for r in w.requests]
            unique = list(dict.fromkeys(keys))
            await _wait(store_actor.expect.remote(unique))
            cached = store.get_responses(unique) if settings.use_cache else {}
            early = EarlyJudging(work, keys, self.judges, store, settings.use_cache)
            for key, response in cached.items():
                early.arrived(Outcome(key, response=response, cached=True))
            self.progress.start(
                f"generating ({info.model_description}) on {n} Ray worker{'s' * (n > 1)}", total=len(unique), cached=len(cached),
            )
            sizes = {w.task.id: len(w.samples) for w in work}
            spans = {t: shard_spans(units, t, sizes[t]) for t in order}
            unit_sizes = [spans[u.task_id][u][1] - spans[u.task_id][u][0] for u in units]
            shares = [[units[i] for i in share] for share in deal(unit_sizes, n)]
            for i, share in enumerate(shares):
                calls[workers[i].run_units.remote(share)] = (i, share)
            answers = await self._collect(calls, workers, store_actor, early, set(cached))
            results = self._check(units, answers, work, spans)
            ready = await early.finish()
            outcomes = {w.task.id: [o for u in units if u.task_id == w.task.id for o in results[u].outcomes] for w in work}
            judgements = await judge_all(work, outcomes, self.judges, store, settings.use_cache, self.progress, ready)
        finally:
            if early is not None:
                await early.aclose()
            await self._stop(calls, workers, store_actor)
            store.close()
            self.progress.close()

        verdicts: dict[str, dict[tuple[str, str, str], Judgement]] = {t: {} for t in order}
        for jkey, verdict in judgements.items():
            verdicts[jkey[0]][jkey] = verdict
        for unit in units:
            r = results[unit]
            mine = {s.id for s in r.samples}
            r.judgements = {k: v for k, v in verdicts[unit.task_id].items() if k[1] in mine}
        stats = [a.stats for a in answers]
        return UnitResults(
            results=[results[u] for u in units],
            stats=RunStats(
                model_identity=info.model_identity, model_description=info.model_description,
                input_tokens=sum(s.input_tokens for s in stats), output_tokens=sum(s.output_tokens for s in stats),
                unique=sum(s.unique for s in stats), cached=sum(s.cached for s in stats),
                sent=sum(s.sent for s in stats), retries=sum(s.retries for s in stats),
                roles=_sum_roles([s.roles for s in stats]),
            ),
        )

    async def _prepare(self, workers: Sequence[Any], order: Sequence[str]) -> list[WorkerInfo]:
        """Every worker started, its model loaded and checked; one clear line otherwise."""
        from trustgauge._version import __version__

        timeout = self.options.start_timeout
        try:
            infos: list[WorkerInfo] = await asyncio.wait_for(
                asyncio.gather(*(_wait(w.prepare.remote(list(order))) for w in workers)), timeout,
            )
        except asyncio.TimeoutError:
            raise UsageError(
                f"the Ray workers did not start within {timeout:g} s: the cluster has no free node with "
                f"{', '.join(f'{k} {v:g}' for k, v in self.options.worker_resources(self.spec.model_config().model).items()) or 'room'} "
                "for each of them (other jobs?), or the model takes longer to load (--ray-start-timeout)"
            ) from None
        except Exception as exc:
            _raise_missing_trustgauge(exc)
            cause = _cause(exc)
            if cause is not exc:
                raise cause from None
            raise
        for info in infos:
            if info.trustgauge_version != __version__:
                raise UsageError(
                    f"the Ray worker on node {info.node[:12]} runs trustgauge {info.trustgauge_version}, the driver "
                    f"{__version__}: install the same version on every node"
                )
            if info.model_identity != infos[0].model_identity:
                raise UsageError(
                    f"the Ray workers load different models for {self.spec.model_config().model} "
                    f"({infos[0].model_identity} and {info.model_identity}): give every node the same model files"
                )
        return infos

    async def _collect(
        self, calls: dict[Any, tuple[int, list[Unit]]], workers: list[Any], store_actor: Any,
        early: EarlyJudging, seen: set[str],
    ) -> list[UnitResults]:
        """Wait for every call, showing progress and judging what the run's store receives;
        the share of a worker Ray could not bring back goes to another worker."""
        import ray

        answers: list[UnitResults] = []
        dead: set[int] = set()
        futures = {asyncio.wrap_future(ref.future()): ref for ref in calls}
        shown = 0
        while futures:
            done, _ = await asyncio.wait(list(futures), timeout=_POLL_S, return_when=asyncio.FIRST_COMPLETED)
            shown = await self._show(store_actor, early, seen, shown)
            for fut in done:
                ref = futures.pop(fut)
                index, share = calls.pop(ref)
                try:
                    answers.append(fut.result())
                except ray.exceptions.RayActorError as exc:
                    if _missing_trustgauge(exc):
                        raise UsageError("a Ray worker cannot import trustgauge: install it on every node") from None
                    dead.add(index)
                    alive = [i for i in range(len(workers)) if i not in dead]
                    if not alive:
                        raise UsageError(
                            f"every Ray worker died and could not be restarted ({str(exc).strip().splitlines()[0]}); "
                            "every response received is saved: run the same command again to resume"
                        ) from None
                    retry = alive[len(dead) % len(alive)]
                    new = workers[retry].run_units.remote(share)
                    calls[new] = (retry, share)
                    futures[asyncio.wrap_future(new.future())] = new
                except ray.exceptions.RayTaskError as exc:
                    raise _cause(exc) from None
        await self._show(store_actor, early, seen, shown)
        return answers

    async def _show(self, store_actor: Any, early: EarlyJudging, seen: set[str], shown: int) -> int:
        """Advance progress by the run's requests the run's store got since the last look, and
        hand their responses to early judging."""
        _kept, expected, new = await _wait(store_actor.poll.remote())
        for key, blob in new:
            if key not in seen:
                seen.add(key)
                early.arrived(Outcome(key, response=Response.model_validate_json(blob)))
        if expected > shown:
            self.progress.advance(expected - shown)
        return max(shown, int(expected))

    def _check(
        self, units: Sequence[Unit], answers: Sequence[UnitResults], work: Sequence[TaskData],
        spans: Mapping[str, Mapping[Unit, tuple[int, int]]],
    ) -> dict[Unit, UnitResult]:
        """The workers' results by unit, each checked against the driver's reading of the data
        (same records, same samples); the dataset recorded is the driver's."""
        by_task = {w.task.id: w for w in work}
        results: dict[Unit, UnitResult] = {}
        for answer in answers:
            for r in answer.results:
                if r.unit in results:
                    raise MergeError(f"unit {r.unit.name} has two results")
                w = by_task[r.unit.task_id]
                if (r.dataset.sha256, r.dataset.records) != (w.dataset.sha256, w.dataset.records):
                    raise MergeError(
                        f"a Ray worker read other data for {r.unit.task_id} ({r.dataset.path}: sha256 "
                        f"{r.dataset.sha256[:12]}, {r.dataset.records} records; the driver {w.dataset.sha256[:12]}, "
                        f"{w.dataset.records})"
                    )
                start, stop = spans[r.unit.task_id][r.unit] if w.samples else (0, 0)
                if [s.id for s in r.samples] != [s.id for s in w.samples[start:stop]]:
                    raise MergeError(f"a Ray worker answered other samples for unit {r.unit.name}")
                results[r.unit] = replace(r, dataset=w.dataset)
        missing = [u.name for u in units if u not in results]
        if missing:
            raise MergeError(f"no result for unit(s) {', '.join(missing)}")
        return results

    async def _stop(self, calls: Mapping[Any, Any], workers: Sequence[Any], store_actor: Any) -> None:
        """Stop the workers (a call still running is cancelled: it stops sending, keeps what it
        stored and hands it over) and the run's store; nothing is left running on the cluster."""
        import ray

        for ref in calls:
            with contextlib.suppress(Exception):
                ray.cancel(ref)
        if calls:
            with contextlib.suppress(Exception):
                await asyncio.wait([asyncio.wrap_future(r.future()) for r in calls], timeout=10.0)
        closing = []
        for w in workers:
            with contextlib.suppress(Exception):
                closing.append(asyncio.wrap_future(w.aclose.remote().future()))
        if closing:
            with contextlib.suppress(Exception):
                await asyncio.wait(closing, timeout=10.0)
        for w in workers:
            with contextlib.suppress(Exception):
                ray.kill(w)
        if store_actor is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(_wait(store_actor.close.remote()), 10.0)
            with contextlib.suppress(Exception):
                ray.kill(store_actor)


async def _wait(ref: Any) -> Any:
    return await asyncio.wrap_future(ref.future())


@dataclass(frozen=True)
class RayExecutorFactory:
    """An :class:`~trustgauge.pipeline.executor.ExecutorFactory` for ``run_evaluation``: every
    run it makes (one per model) uses the same cluster."""

    options: RayOptions

    @property
    def shards(self) -> int:
        """Shards per task: enough that a single large task is dealt to every worker in
        :data:`DEAL_ROUNDS` runs each and the shares balance (the run directory does not depend
        on it)."""
        return DEAL_ROUNDS * max(4, self.options.workers or 0)

    def __call__(
        self, spec: RunSpec, settings: ExecutionSettings, tasks: Mapping[str, Task],
        judges: Mapping[str, Judge], progress: Progress,
    ) -> RayExecutor:
        return RayExecutor(spec, settings, tasks, judges, progress, self.options)
