"""What runs inside the Ray cluster for the Ray executor (:mod:`trustgauge.pipeline.ray`): the
worker that answers units and the run's store, reachable from every worker.

- :class:`UnitWorker` (one Ray actor per worker) runs its units with the local executor
  (:class:`~trustgauge.pipeline.local.LocalExecutor`: the same engine, retries, limiter and
  conversations as a local run) against its model, kept loaded between calls. It judges
  nothing: the driver judges every response with one set of judges, so the verdicts do not
  depend on how the units were spread. Its store is a :class:`RelayStore`: a store of its own
  on its machine's disk, which also asks the run's store for what it does not hold and hands
  every new response to it.
- :class:`RunStore` (one Ray actor, placed on the driver's machine) is the run's store, the
  SQLite file a local run uses. Every response a worker gets reaches it as it arrives, so a
  worker (or a machine) lost mid-unit loses at most the requests in flight: its unit is retried
  by Ray (actor restart, task retry), possibly elsewhere, and finds every stored response.

Everything that crosses between them is plain data (units, rows of strings).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from trustgauge.engine.progress import Progress
from trustgauge.engine.store import Store
from trustgauge.pipeline.executor import UnitResults
from trustgauge.pipeline.plan import Unit
from trustgauge.pipeline.spec import ExecutionSettings, RunSpec
from trustgauge.types import Request, Response

__all__ = ["RelayStore", "RunStore", "UnitWorker", "WorkerInfo"]

Row = tuple[str, str, str, str, float]
#: the adaptive limit's ceiling when the model declares none (the engine's default)
DEFAULT_CEILING = 256


class RunStore:
    """The run's store, served to the workers (a Ray actor on the driver's machine).

    Args:
        path: the run's store file (the driver's ``--store``/default store).
        Ray creates it with :meth:`expect`'s keys unknown; the driver sends them once it knows the
        model's identity.
    """

    def __init__(self, path: str) -> None:
        self._store = Store(Path(path))
        self._expected: set[str] = set()
        self._new: list[tuple[str, str]] = []  # (key, response JSON) of expected keys kept since the last poll
        self.kept = 0  # rows the workers added
        self.kept_expected = 0

    def expect(self, keys: Sequence[str]) -> None:
        """The cache keys of the run's single-turn requests (what progress counts)."""
        self._expected = set(keys)

    def get(self, keys: Sequence[str]) -> list[Row]:
        """The stored rows among ``keys``."""
        return self._store.get_rows(keys)

    def put(self, rows: Sequence[Row]) -> int:
        """Keep rows a worker got (first one kept for a key); returns how many were new."""
        known = {row[0] for row in self._store.get_rows([r[0] for r in rows])}
        added = self._store.put_rows(rows)
        self.kept += added
        for key, _model, _request, response, _created in rows:
            if key in self._expected and key not in known:
                self.kept_expected += 1
                self._new.append((key, response))
        return added

    def poll(self) -> tuple[int, int, list[tuple[str, str]]]:
        """(rows added, of them the run's single-turn requests, those requests' responses kept
        since the last poll): the driver's progress and early judging."""
        new, self._new = self._new, []
        return self.kept, self.kept_expected, new

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        self._store.close()


class RelayStore(Store):
    """A worker's own store (on its machine) in front of the run's store.

    A response not held here is looked up in the run's store (and kept here); a response kept
    here is handed to the run's store at once (a Ray call in flight; :meth:`flush` waits for
    them all). A worker restarted on the same machine finds its own responses even when the
    hand-over was cut short by the kill.
    """

    def __init__(self, path: Path, run_store: Any) -> None:
        super().__init__(path)
        self._run_store = run_store
        self._sent: list[Any] = []
        self._asked: set[str] = set()  # keys the run's store did not have (asked once per call)

    def get_responses(self, keys: Sequence[str]) -> dict[str, Response]:
        import ray

        found = super().get_responses(keys)
        missing = [k for k in keys if k not in found and k not in self._asked]
        if missing:
            rows = ray.get(self._run_store.get.remote(missing))
            if rows:
                super().put_rows(rows)
                found.update(super().get_responses([r[0] for r in rows]))
            self._asked.update(k for k in missing if k not in found)
        return found

    def put_response(self, key: str, model_identity: dict[str, str], request: Request, response: Response) -> Response:
        kept = super().put_response(key, model_identity, request, response)
        self._sent.append(self._run_store.put.remote(super().get_rows([key])))
        return kept

    async def flush(self) -> None:
        """Wait until the run's store holds every response handed to it."""
        sent, self._sent = self._sent, []
        if sent:
            await asyncio.gather(*sent)

    def forget_misses(self) -> None:
        """Ask the run's store again next time (another call: another worker may have answered)."""
        self._asked.clear()


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker tells the driver before it is given units."""

    trustgauge_version: str
    node: str
    pid: int
    model_identity: dict[str, Any]
    model_description: str
    #: task id -> what it requires that the model cannot give
    lacking: dict[str, list[str]]
    #: task id -> what it only uses that the model cannot give (its requests go without it)
    unused: dict[str, list[str]]


def worker_store_path(node: str, spec: RunSpec) -> Path:
    """A worker's own store: on its machine, one per machine and model (workers of one model
    on one machine share it, as local runs share a store; SQLite WAL on a local disk)."""
    import hashlib

    from trustgauge import _paths

    model = hashlib.sha256(spec.model.encode()).hexdigest()[:12]
    return _paths.home_dir() / "ray" / f"store-{node[:16]}-{model}.sqlite3"


def here(spec: RunSpec) -> RunSpec:
    """``spec`` with the packaged sample it reads found in this machine's installation (the
    driver's path names its installation; the digest keeps only the sample's name)."""
    if spec.dataset_override is None or Path(spec.dataset_override).exists():
        return spec
    from trustgauge.data import packaged_path

    return replace(spec, dataset_override=str(packaged_path(Path(spec.dataset_override).name)))


class UnitWorker:
    """One worker of the Ray executor (a Ray actor): runs units of one run spec.

    Args:
        spec: the run.
        settings: how to execute (its ``store_path`` is ignored: the worker's own store is on its
            machine, see :func:`worker_store_path`; concurrency is this worker's share).
        run_store: the :class:`RunStore` actor.
        workers: how many workers run the model: an API model's concurrency limit (the one given,
            else the adaptive limit's ceiling) is one budget, shared equally.
    """

    def __init__(self, spec: RunSpec, settings: ExecutionSettings, run_store: Any, workers: int = 1) -> None:
        import ray

        from trustgauge.pipeline.local import ModelPool

        self.spec = here(spec)
        self.node = ray.get_runtime_context().get_node_id()
        self.settings = replace(settings, store_path=worker_store_path(self.node, spec))
        self.store = RelayStore(self.settings.store_path, run_store)
        self.models = ModelPool()
        self.workers = workers

    def _tasks(self, task_ids: Sequence[str]) -> Mapping[str, Any]:
        from trustgauge.tasks.registry import resolve_tasks

        params = {task: dict(values) for task, values in self.spec.task_params}
        ids = list(dict.fromkeys(task_ids))
        tasks = resolve_tasks(ids, reference=self.spec.reference, params={t: params[t] for t in ids if t in params})
        return {t.id: t for t in tasks}

    async def prepare(self, task_ids: Sequence[str]) -> WorkerInfo:
        """Load and check the model (and role models); say what it cannot give."""
        from trustgauge._version import __version__
        from trustgauge.pipeline.local import lacking_capabilities, refuse_watermark

        tasks = list(self._tasks(task_ids).values())
        model = await self.models.get(self.spec.model_config())
        refuse_watermark(model, self.spec.model_config(), tasks)
        for config in self.spec.role_configs().values():
            await self.models.get(config)
        if model.batch_size == 1 and self.settings.concurrency is None:  # an API: one budget for all
            ceiling = model.max_concurrency or DEFAULT_CEILING
            self.settings = replace(self.settings, concurrency_cap=max(1, ceiling // self.workers))
        lacking = await lacking_capabilities(model, tasks)
        unused = await lacking_capabilities(model, [t for t in tasks if t.id not in lacking], optional=True)
        return WorkerInfo(
            trustgauge_version=__version__, node=self.node, pid=os.getpid(),
            model_identity=model.identity(), model_description=model.describe(),
            lacking=lacking, unused=unused,
        )

    async def run_units(self, units: Sequence[Unit]) -> UnitResults:
        """Answer ``units`` (all of them in one engine run, as a local run would) and wait until
        the run's store holds every new response."""
        from trustgauge.pipeline.local import LocalExecutor

        executor = LocalExecutor(
            self.spec, self.settings, self._tasks([u.task_id for u in units]), {}, Progress(),
            store=self.store, models=self.models,
        )
        self.store.forget_misses()
        try:
            return await executor.run(units)
        finally:
            await asyncio.shield(self.store.flush())

    def pid(self) -> int:
        return os.getpid()

    async def aclose(self) -> None:
        await self.models.aclose()
        self.store.close()
