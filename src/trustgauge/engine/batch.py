"""``trustgauge run --batch``: a run's single-turn requests through the provider's batch API
(OpenAI's Batch API, Anthropic's Message Batches: half the price, up to 24 hours of latency)
instead of one call each. What :meth:`Engine.run` does for a run, done by batch:

1. Requests whose response is stored are replayed (under the same cache keys as a normal run:
   a later normal run is all cache hits, and a batch run after a normal one sends nothing).
2. Batches recorded in the store for this model (``provider_batches``) that hold requests still
   missing are *resumed*: polled, never submitted again. A run killed while its batch runs costs
   nothing more than the batch.
3. The rest is cut into batches under the provider's limits (OpenAI 50,000 requests / 200 MB,
   Anthropic 100,000 / 256 MB; a model config's ``options.batch_max_requests`` /
   ``batch_max_bytes`` ask for less), each submitted and **recorded in the store at once** (its
   id, provider, model identity and, per custom id, the cache key and request).
4. Every open batch is polled, first after ``BatchPolicy.interval`` seconds and then less and
   less often (``factor``, up to ``max_interval``); the provider's ``request_counts`` move the
   progress bar. An ended batch is downloaded once: each result is parsed by the backend's normal
   parser and committed under its cache key; an errored line becomes that sample's failure (its
   text redacted), as a failed call would; the batch is marked done.
5. A batch that expired or was cancelled (by its 24-hour window, or by someone) returns what it
   finished; its other requests are **submitted again** in a new batch (at most
   ``BatchPolicy.max_rounds`` submissions per request in one run; after that they are recorded as
   failures and the next run submits them again).

Scoring requests (log-likelihoods) cannot go through a chat batch: they are sent one by one, as
usual. Conversational tasks never reach this module: their turns depend on the previous answers
and run normally (:mod:`trustgauge.pipeline.conversations`) in the same run.

A batch the provider refuses at creation (an HTTP 4xx: an invalid file, an unknown model) or at
validation (``failed``) raises :class:`~trustgauge.errors.UsageError` (one line, exit 2);
batches created before it stay recorded and are resumed by the next run. Ctrl-C leaves the
batches running at the provider (they are billed as they finish) and says so; the same command
resumes polling them.

The network calls (submit, poll, download) go through the engine's one retry loop
(:func:`trustgauge.net.retry.retry`) with the run's :class:`RetryPolicy`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from trustgauge._secrets import redact
from trustgauge.engine.runner import Engine, Outcome, _Told
from trustgauge.engine.store import Store, StoredBatch
from trustgauge.errors import ModelError, UsageError
from trustgauge.models.base import Model
from trustgauge.models.batch_api import BatchAPI, BatchRejectedError, BatchStatus
from trustgauge.net.retry import Permanent, Transient, retry
from trustgauge.types import Request, Response, Usage

__all__ = ["BatchPolicy", "refuse_batch", "run_in_batches"]

T = TypeVar("T")


@dataclass(frozen=True)
class BatchPolicy:
    """How often a batch is polled and how often a request is submitted in one run."""

    #: seconds before the first poll (``--batch-poll``)
    interval: float = 30.0
    #: the wait grows by this factor after each poll ...
    factor: float = 1.5
    #: ... up to this many seconds
    max_interval: float = 600.0
    #: submissions of one request in one run (an expired or cancelled batch's requests are
    #: submitted again until then)
    max_rounds: int = 3


def refuse_batch(model: Model) -> BatchAPI:
    """The model's batch API, or one clear line (:class:`UsageError`) before anything is sent
    when its backend has none."""
    api = model.batch_api()
    if api is None:
        raise UsageError(
            f"--batch: {model.describe()} has no provider batch API (only openai:, anthropic: and "
            "openai-compatible: servers that have /v1/batches do); run without --batch"
        )
    return api


@dataclass
class _Open:
    """A batch being polled in this run."""

    stored: StoredBatch
    done: int = 0
    total: int = 0
    status: str = ""


class _BatchRun:
    def __init__(self, engine: Engine, api: BatchAPI, store: Store, policy: BatchPolicy) -> None:
        self.engine = engine
        self.api = api
        self.store = store
        self.policy = policy
        self.progress = engine.progress
        self.identity = engine.model.identity()
        self.settled = 0  # fresh outcomes known in this run (successes and failures)
        #: the keys this run wants answered (a batch may hold other runs' requests too)
        self.wanted: set[str] = set()
        self.polled: list[_Open] = []

    # -- network calls through the engine's retry loop ----------------------------------------
    async def _call(self, what: str, make: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        engine = self.engine
        rejected: list[BatchRejectedError] = []

        async def attempt(_n: int) -> T:
            return await asyncio.wait_for(make(), timeout or engine.retry.timeout)

        def classify(exc: Exception) -> Transient | Permanent:
            if isinstance(exc, BatchRejectedError):
                rejected.append(exc)
                return Permanent(str(exc))
            return engine._classify(exc)

        def on_retry(_n: int, _failure: Transient) -> None:
            engine.stats.retries += 1
            self.progress.retry()

        done = await retry(attempt, classify, engine.retry, rng=engine._rng, on_retry=on_retry)
        if done.error is not None:
            if rejected:
                raise rejected[-1]
            raise ModelError(redact(f"{what}: {done.error}"))
        return done.value  # type: ignore[return-value]

    # -- outcomes -----------------------------------------------------------------------------
    def _show(self) -> None:
        progress = self.progress
        progress.done = progress.cached + self.settled + sum(b.done for b in self.polled)
        progress.advance(0)

    def _success(self, outcomes: dict[str, Outcome], key: str, request: Request, response: Response) -> None:
        stored = self.store.put_response(key, self.identity, request, response)
        if key in outcomes or key not in self.wanted:
            return  # a request of another run in the same batch: stored for it, not ours
        stats = self.engine.stats
        stats.sent += 1
        stats.usage = Usage(
            input_tokens=stats.usage.input_tokens + stored.usage.input_tokens,
            output_tokens=stats.usage.output_tokens + stored.usage.output_tokens,
        )
        self.settled += 1
        outcomes[key] = Outcome(key, response=stored, attempts=1)

    def _failure(self, outcomes: dict[str, Outcome], key: str, reason: str) -> None:
        if key in outcomes or key not in self.wanted:
            return
        self.engine.stats.failed += 1
        self.progress.errors += 1
        self.settled += 1
        outcomes[key] = Outcome(key, error=redact(reason), attempts=1)

    # -- submit -------------------------------------------------------------------------------
    async def submit(self, todo: Sequence[tuple[str, Request]], outcomes: dict[str, Outcome]) -> None:
        """Cut ``todo`` into batches under the provider's limits; submit and record each."""
        api = self.api
        chunk: list[tuple[str, str, Request, dict[str, object]]] = []
        size = 0
        for key, request in todo:
            try:
                entry = api.entry(key, request)
            except ModelError as exc:  # e.g. log-probabilities this model cannot give
                self._failure(outcomes, key, str(exc))
                continue
            n = len(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) + 1
            if chunk and (len(chunk) >= api.max_requests or size + n > api.max_bytes):
                await self._submit_one(chunk)
                chunk, size = [], 0
            chunk.append((key, key, request, entry))
            size += n
        if chunk:
            await self._submit_one(chunk)

    async def _submit_one(self, chunk: list[tuple[str, str, Request, dict[str, object]]]) -> None:
        api = self.api
        entries = [entry for *_, entry in chunk]
        try:
            # a long timeout: an upload of up to 200 MB, and a creation retried after a timeout
            # could create (and bill) the batch twice
            batch_id = await self._call(
                f"submitting a batch to {api.provider}", lambda: api.submit(entries),
                timeout=max(600.0, self.engine.retry.timeout),
            )
        except BatchRejectedError as exc:
            raise UsageError(
                f"{exc} ({len(entries)} requests not sent; every stored response and every batch already "
                "submitted is kept: fix the cause and run the same command again)"
            ) from None
        items = [(cid, key, request) for cid, key, request, _ in chunk]
        self.store.add_batch(batch_id, api.provider, self.identity, items)
        stored = StoredBatch(batch_id, api.provider, "open", {cid: (key, r) for cid, key, r in items}, time.time())
        self.polled.append(_Open(stored, total=len(items)))
        self.progress.note(
            f"batch {batch_id}: {len(items)} requests submitted to {api.provider} (recorded in the store; "
            "if this run stops, the same command resumes polling it instead of submitting again)"
        )

    # -- poll and download --------------------------------------------------------------------
    async def poll(self, outcomes: dict[str, Outcome]) -> list[tuple[str, Request]]:
        """Poll every batch in :attr:`polled` until each has ended; download each once. Returns
        the requests no batch ran (expired, cancelled, lost), to submit again."""
        missing: dict[str, Request] = {}
        wait = self.policy.interval
        while self.polled:
            await asyncio.sleep(wait)
            wait = min(self.policy.max_interval, wait * self.policy.factor)
            for batch in list(self.polled):
                status = await self._status(batch)
                if status is None:  # the provider no longer knows it: run its requests again
                    self.store.set_batch_state(batch.stored.batch_id, "lost")
                    self.polled.remove(batch)
                    missing.update(batch.stored.items.values())
                    continue
                if (status.provider_status, status.done) != (batch.status, batch.done):
                    self.progress.note(
                        f"batch {batch.stored.batch_id}: {status.provider_status}, {status.done}/"
                        f"{status.total or len(batch.stored.items)} requests done"
                        + (f" ({status.failed} failed)" if status.failed else "")
                    )
                batch.status, batch.done = status.provider_status, min(status.done, len(batch.stored.items))
                if status.state == "running":
                    continue
                self.polled.remove(batch)
                if status.state == "failed":
                    self.store.set_batch_state(batch.stored.batch_id, "failed")
                    raise UsageError(
                        f"{self.api.provider} rejected batch {batch.stored.batch_id}: {redact(status.detail)} "
                        "(nothing of it ran; every stored response is kept: fix the cause and run the same command again)"
                    )
                for key, request in await self._download(batch, status, outcomes):
                    missing[key] = request
            self._show()
        return [(k, r) for k, r in missing.items() if k not in outcomes]

    async def _status(self, batch: _Open) -> BatchStatus | None:
        batch_id = batch.stored.batch_id
        try:
            return await self._call(f"polling batch {batch_id}", lambda: self.api.status(batch_id))
        except ModelError as exc:
            if "HTTP 404" in str(exc):
                self.progress.note(f"batch {batch_id}: {self.api.provider} no longer knows it; its requests are submitted again")
                return None
            raise UsageError(
                f"{exc} (batch {batch_id} is recorded in the store and keeps running at {self.api.provider}: "
                "run the same command again to resume polling it)"
            ) from None

    async def _download(self, batch: _Open, status: BatchStatus, outcomes: dict[str, Outcome]) -> list[tuple[str, Request]]:
        batch_id = batch.stored.batch_id
        items = batch.stored.items
        requests = {cid: request for cid, (_, request) in items.items()}
        results = await self._call(
            f"downloading batch {batch_id}", lambda: self.api.results(batch_id, requests),
            timeout=max(600.0, self.engine.retry.timeout),
        )
        seen: set[str] = set()
        missing: list[tuple[str, Request]] = []
        for result in results:
            if result.custom_id not in items or result.custom_id in seen:
                continue
            seen.add(result.custom_id)
            key, request = items[result.custom_id]
            if result.response is not None:
                self._success(outcomes, key, request, result.response)
            elif result.missing:
                missing.append((key, request))
            else:
                self._failure(outcomes, key, result.error or "the batch returned no response")
        ended_early = status.provider_status in ("expired", "cancelled", "canceled")
        for cid, (key, request) in items.items():
            if cid in seen:
                continue
            if ended_early:
                missing.append((key, request))
            else:
                self._failure(outcomes, key, f"batch {batch_id} ({status.provider_status}) returned no result for this request")
        self.store.set_batch_state(batch_id, "done")
        if missing:
            self.progress.note(
                f"batch {batch_id}: {status.provider_status} with {len(missing)} requests not run; they are submitted again"
            )
        return missing


async def run_in_batches(
    engine: Engine,
    requests: Sequence[Request],
    description: str = "generating",
    *,
    policy: BatchPolicy | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Answer every request like :meth:`Engine.run` (same order, same cache keys, same store
    rows), through the provider's batch API (see the module docstring).

    Raises:
        UsageError: the backend has no batch API, or the provider rejected a batch.
    """
    policy = policy or BatchPolicy()
    store = engine.store
    if store is None:
        raise ValueError("--batch needs a store: batch ids are recorded there to resume")
    api = refuse_batch(engine.model)
    started = time.monotonic()
    keys = engine.keys(requests)
    unique: dict[str, Request] = {}
    for key, request in zip(keys, requests):
        unique.setdefault(key, request)
    outcomes: dict[str, Outcome] = {} if on_outcome is None else _Told(on_outcome)
    if engine.use_cache:
        for key, response in store.get_responses(list(unique)).items():
            outcomes[key] = Outcome(key, response=response, cached=True)
    pending = {k: r for k, r in unique.items() if k not in outcomes}
    engine.stats.requests += len(requests)
    engine.stats.unique += len(unique)
    engine.stats.cached += len(outcomes)
    progress = engine.progress
    progress.start(f"{description}, by batch", total=len(unique), cached=len(outcomes))

    run = _BatchRun(engine, api, store, policy)
    run.wanted = set(pending)
    try:
        if pending:
            await api.check()
            # batches a previous run submitted for requests still missing: poll them, never pay twice
            for stored in store.batches(api.provider, run.identity, state="open"):
                if any(key in pending for key, _ in stored.items.values()):
                    run.polled.append(_Open(stored, total=len(stored.items)))
                    progress.note(
                        f"batch {stored.batch_id}: resuming (submitted earlier, {len(stored.items)} requests); "
                        "polling it instead of submitting again"
                    )
            in_flight = {key for b in run.polled for key, _ in b.stored.items.values()}
            scoring = [(k, r) for k, r in pending.items() if r.is_scoring and k not in in_flight]
            todo = [(k, r) for k, r in pending.items() if not r.is_scoring and k not in in_flight]
            if scoring:  # log-likelihoods have no batch endpoint: one call each, as usual
                await engine._run_single(scoring, outcomes, engine.make_limiter())
                run.settled += len(scoring)
            rounds = 1
            await run.submit(todo, outcomes)
            while True:
                again = await run.poll(outcomes)
                if not again:
                    break
                if rounds >= policy.max_rounds:
                    for key, _ in again:
                        run._failure(outcomes, key, f"not run by {rounds} batches in a row (expired or cancelled); "
                                     "run the same command again to submit it again")
                    break
                rounds += 1
                await run.submit(again, outcomes)
            for key in pending:  # a key no batch reported on (cannot happen with an honest provider)
                if key not in outcomes:
                    run._failure(outcomes, key, "no batch returned a result for this request")
    except (asyncio.CancelledError, KeyboardInterrupt):
        if run.polled:
            ids = ", ".join(b.stored.batch_id for b in run.polled)
            progress.note(
                f"interrupted: batch {ids} keeps running at {api.provider} (finished requests are billed); "
                "run the same command again to resume polling it (nothing is submitted twice), or stop it "
                "with 'trustgauge batches cancel -m MODEL'"
            )
        raise
    progress.finish()
    engine.stats.wall_time += time.monotonic() - started
    return [outcomes[k] for k in keys]
