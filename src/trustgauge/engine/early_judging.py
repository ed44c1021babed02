"""Judging while the responses arrive: the first judge slot of every task, batch by batch, in
the very batches the judging loop would make after generation (issue 14).

:func:`~trustgauge.engine.judging.judge_all` judges stage by stage once every response is in;
its first stage sends each judge the unique, not-cached items of every task in plan order, in
batches of :data:`~trustgauge.engine.judging.JUDGE_BATCH`. :class:`EarlyJudging` builds that
same list while :meth:`Engine.run <trustgauge.engine.runner.Engine.run>` is still answering:
it walks the requests in plan order and stops at the first one whose outcome (or whose peer's
outcome) is not known yet, so everything it has read is a prefix of the final list. As soon as
a whole batch of that prefix is known it is judged, on the event loop as an ordinary task (the
model-based judges already run their model on a worker thread, and API judges need this loop's
connections). :meth:`finish` hands the judgements over to ``judge_all(ready=...)``, which judges
only the rest, in the batches it would have made anyway, so every judge sees exactly the
batches it sees without this class and the results cannot change, even for a judge whose
verdicts depend on what else is in a batch.

Before a kind's first batch, its judge is told how many first-slot samples the run has (an upper
bound; :func:`~trustgauge.engine.judging.prepare_judge`), so a judge can start what pays only for
large jobs; a run whose every item is stored sends no batch and no hint.

Failures keep today's meaning: a batch that fails here is not kept and early judging stops;
the judging loop meets the failure again after generation and raises
:class:`~trustgauge.engine.judging.JudgeFailedError` as before. Judgements are stored a batch at
a time as they are made (``error`` ones are not), so a run stopped during generation keeps them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Mapping, Sequence

from trustgauge.engine.judging import ERROR_LABEL, JUDGE_BATCH, JudgeWork, prepare_judge
from trustgauge.engine.runner import Outcome
from trustgauge.engine.store import Store, redact_judgement
from trustgauge.types import Judge, JudgeItem, Judgement, JudgeSlot

__all__ = ["EarlyJudging"]


class EarlyJudging:
    """Judges the first slot of each task as responses arrive (see the module doc).

    Args:
        work: the tasks and samples in plan order, as given to ``judge_all``.
        request_keys: the engine's cache key of each request of ``work``'s single-turn tasks,
            in the order of ``Engine.run`` (a conversational task has none; the walk stops there).
        judges: the open judge of each kind that can run.
        store: where judgements are looked up and kept (``None``: nowhere).
        use_cache: look stored judgements up (as ``judge_all``'s ``use_cache``).
        batch_size: items per judge call (``judge_all``'s).
    """

    def __init__(
        self,
        work: Sequence[JudgeWork],
        request_keys: Sequence[str],
        judges: Mapping[str, Judge],
        store: Store | None,
        use_cache: bool,
        *,
        batch_size: int = JUDGE_BATCH,
    ) -> None:
        self._judges = judges
        self._store = store
        self._use_cache = use_cache
        self._batch = batch_size
        # the walk: (work index, sample index, request key or None for a conversational task)
        self._plan: list[tuple[int, int, str | None]] = []
        self._work = list(work)
        self._position: list[dict[str, int]] = []  # per work: sample id -> plan position (last one wins, as judge_all's dict)
        self._expected: dict[str, int] = defaultdict(int)  # kind -> first-slot samples (at most that many items)
        pos = 0
        for wi, w in enumerate(self._work):
            if w.task.judges:
                self._expected[JudgeSlot.parse(w.task.judges[0]).kind] += len(w.samples)
            index: dict[str, int] = {}
            conversational = getattr(w.task, "is_conversational", lambda: False)()
            for si, sample in enumerate(w.samples):
                key = None if conversational else request_keys[pos + si]
                index[sample.id] = len(self._plan)
                self._plan.append((wi, si, key))
            if not conversational:
                pos += len(w.samples)
            self._position.append(index)
        if pos != len(request_keys):
            raise ValueError(f"{len(request_keys)} request keys for {pos} single-turn samples")
        self._known: dict[str, Outcome] = {}
        self._cursor = 0
        self._seen: dict[str, set[str]] = defaultdict(set)  # kind -> keys met
        self._unsorted: dict[str, list[tuple[str, JudgeItem]]] = defaultdict(list)  # not looked up yet
        self._todo: dict[str, list[tuple[str, JudgeItem]]] = defaultdict(list)  # not cached, not yet sent
        self._queue: asyncio.Queue[tuple[str, list[tuple[str, JudgeItem]]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._ready: dict[str, dict[str, Judgement]] = defaultdict(dict)
        self.failed: BaseException | None = None
        self.batches = 0  # judge calls made here

    # -- the walk (event loop, from Engine.run's on_outcome) -------------------------------------
    def arrived(self, outcome: Outcome) -> None:
        """One request's outcome is known: read the plan as far as it now can be read."""
        self._known[outcome.key] = outcome
        if self.failed is not None:
            return
        plan = self._plan
        while self._cursor < len(plan):
            wi, si, _ = plan[self._cursor]
            if not self._read(wi, si):
                break
            self._cursor += 1
        for kind in list(self._unsorted):
            if len(self._unsorted[kind]) >= self._batch:
                self._sort(kind)
            self._send_full(kind)

    def _response(self, key: str | None) -> tuple[bool, str | None]:
        """(known, response text) of a request key."""
        if key is None or key not in self._known:
            return False, None
        response = self._known[key].response
        return True, None if response is None else response.text

    def _read(self, wi: int, si: int) -> bool:
        """Add the first-slot item of one sample, if any; False when it cannot be told yet."""
        w = self._work[wi]
        if not w.task.judges:
            return True
        slot = JudgeSlot.parse(w.task.judges[0])
        if slot.kind not in self._judges:
            return True
        sample = w.samples[si]
        # judge_all reads responses by sample id, so a repeated id means the last such sample's
        known, response = self._response(self._plan[self._position[wi][sample.id]][2])
        if not known:
            return False
        if response is None:
            return True
        if not w.task.wants_judgement(slot, sample, {}, response):
            return True
        peer_id = w.task.peer(slot, sample)
        peer_response = None
        if peer_id is not None:
            at = self._position[wi].get(peer_id)
            if at is None:
                return True
            known, peer_response = self._response(self._plan[at][2])
            if not known:
                return False
            if peer_response is None:
                return True
        item = w.task.judge_item(slot, sample, response, peer_response)
        ck = item.cache_key(self._judges[slot.kind].cache_id)
        if ck not in self._seen[slot.kind]:
            self._seen[slot.kind].add(ck)
            self._unsorted[slot.kind].append((ck, item))
        return True

    def _sort(self, kind: str) -> None:
        """Move the items met so far to the to-do list unless stored (as ``judge_items``)."""
        entries, self._unsorted[kind] = self._unsorted[kind], []
        cached = (
            self._store.get_judgements([k for k, _ in entries]) if (self._store is not None and self._use_cache) else {}
        )
        self._todo[kind].extend((k, i) for k, i in entries if k not in cached or cached[k].label == ERROR_LABEL)

    def _send_full(self, kind: str) -> None:
        todo = self._todo[kind]
        while len(todo) >= self._batch:
            chunk, self._todo[kind] = todo[: self._batch], todo[self._batch :]
            todo = self._todo[kind]
            if kind in self._expected:  # the first batch: items are coming that the store does not have
                prepare_judge(self._judges[kind], self._expected.pop(kind))
            self._queue.put_nowait((kind, chunk))
            if self._worker is None:
                self._worker = asyncio.get_running_loop().create_task(self._work_loop())

    # -- the judge calls -----------------------------------------------------------------------
    async def _work_loop(self) -> None:
        while True:
            kind, chunk = await self._queue.get()
            try:
                if self.failed is None:
                    await self._judge(kind, chunk)
            except Exception as exc:  # judge_all meets it again and reports it as today
                self.failed = exc
            finally:
                self._queue.task_done()

    async def _judge(self, kind: str, chunk: list[tuple[str, JudgeItem]]) -> None:
        judge = self._judges[kind]
        verdicts = await judge.judge([item for _, item in chunk])
        if len(verdicts) != len(chunk):
            raise ValueError(f"{len(verdicts)} judgements for {len(chunk)} items")
        verdicts = [redact_judgement(v) for v in verdicts]
        keys = [k for k, _ in chunk]
        if self._store is not None:
            self._store.put_judgements((k, v) for k, v in zip(keys, verdicts) if v.label != ERROR_LABEL)
        self._ready[kind].update(zip(keys, verdicts))
        self.batches += 1

    async def finish(self) -> dict[str, dict[str, Judgement]]:
        """Wait for the batches already started and hand over their judgements (judge kind ->
        cache key -> judgement): always whole leading batches of each kind's first stage."""
        try:
            if self._worker is not None:
                await self._queue.join()
        finally:
            self.cancel()
        return {kind: dict(found) for kind, found in self._ready.items()}

    def cancel(self) -> None:
        """Stop judging (a batch in flight is abandoned; those stored stay stored)."""
        if self._worker is not None:
            self._worker.cancel()

    async def aclose(self) -> None:
        """Cancel and wait for the worker to stop."""
        self.cancel()
        if self._worker is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
