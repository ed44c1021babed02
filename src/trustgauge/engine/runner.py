"""The engine: send every request of a run once, concurrently, with retries, timeouts and a
crash-safe cache. The scheduling (cache, limiter, progress) is here; the retry loop itself is
:func:`trustgauge.net.retry.retry` (``RetryPolicy`` is re-exported from there)."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from trustgauge._secrets import redact
from trustgauge.engine.limiter import AdaptiveLimiter, Limiter
from trustgauge.engine.progress import Progress
from trustgauge.engine.store import Store, redact_response
from trustgauge.errors import ModelError, TransientModelError
from trustgauge.models.base import Model
from trustgauge.net.retry import Permanent, Transient, retry
from trustgauge.net.retry import RetryPolicy as RetryPolicy
from trustgauge.types import Request, Response, Usage

if sys.version_info >= (3, 11):

    async def _with_timeout(awaitable: Awaitable[list[Response]], timeout: float) -> list[Response]:
        """``wait_for`` without its extra task: the call runs in the caller's task, which saves
        two trips through the event loop per request. Raises ``TimeoutError`` (which is
        ``asyncio.TimeoutError``) like ``wait_for``."""
        async with asyncio.timeout(timeout):
            return await awaitable

else:  # pragma: no cover - Python 3.10

    async def _with_timeout(awaitable: Awaitable[list[Response]], timeout: float) -> list[Response]:
        return await asyncio.wait_for(awaitable, timeout=timeout)


#: waiting for another process's answer: first look after this many seconds, doubling up to
#: :data:`_POLL_MAX` (one indexed read per look)
_POLL_FIRST = 0.05
_POLL_MAX = 1.0
#: added to a claim's lease (a request's timeout plus the longest backoff) for clock skew and
#: the time between an answer's arrival and its commit
_LEASE_MARGIN = 30.0


class _Claims:
    """Claims made together: the keys every request of this event loop asks to claim in one
    turn of the loop go to :meth:`Store.claim` in one transaction (one write of ~120 µs for a
    burst instead of one per request; measured, a single-key claim costs as much as storing
    the response)."""

    def __init__(self, store: Store, lease: float) -> None:
        self.store = store
        self.lease = lease
        self.loop = asyncio.get_running_loop()
        self._waiting: list[tuple[list[str], asyncio.Future[tuple[dict[str, Response], list[str], list[str]]]]] = []

    async def claim(self, keys: list[str]) -> tuple[dict[str, Response], list[str], list[str]]:
        """:meth:`Store.claim` of ``keys``, made with the others asked for in this turn."""
        future: asyncio.Future[tuple[dict[str, Response], list[str], list[str]]] = self.loop.create_future()
        if not self._waiting:
            self.loop.call_soon(self._flush)
        self._waiting.append((keys, future))
        return await future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        try:
            stored, mine, held = self.store.claim([k for keys, _ in waiting for k in keys], self.lease)
        except BaseException as exc:  # each asker gets the error (a full disk: one line)
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        ours, theirs = set(mine), set(held)
        for keys, future in waiting:
            got = ({k: stored[k] for k in keys if k in stored}, [k for k in keys if k in ours], [k for k in keys if k in theirs])
            if future.done():  # its asker was cancelled: nobody will send these
                self.store.release(got[1])
            else:
                future.set_result(got)


@dataclass
class Outcome:
    """What became of one request."""

    key: str
    response: Response | None = None
    error: str | None = None
    cached: bool = False
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.response is not None


class _Told(dict[str, Outcome]):
    """The engine's outcomes by key, telling a callback of each one as it is set."""

    def __init__(self, tell: Callable[[Outcome], None]) -> None:
        super().__init__()
        self._tell = tell

    def __setitem__(self, key: str, outcome: Outcome) -> None:
        super().__setitem__(key, outcome)
        self._tell(outcome)


@dataclass
class EngineStats:
    requests: int = 0
    unique: int = 0
    cached: int = 0
    sent: int = 0
    retries: int = 0
    failed: int = 0
    usage: Usage = field(default_factory=Usage)
    max_in_flight: int = 0
    wall_time: float = 0.0


class Engine:
    """Runs requests against one model.

    Args:
        model: the backend.
        store: where responses are cached; ``None`` keeps nothing.
        concurrency: fixed number of requests in flight; ``None`` adapts (grows while the
            server keeps up, halves on 429/overload).
        retry: backoff and timeout policy.
        use_cache: read cached responses (``False`` = ``--no-cache``: send everything again;
            fresh responses are still written).
        progress: where progress goes.
        concurrency_cap: the most requests in flight the adaptive limit may grow to, below the
            model's own cap (a share of one API budget: the Ray executor's workers).
    """

    def __init__(
        self,
        model: Model,
        store: Store | None,
        *,
        concurrency: int | None = None,
        retry: RetryPolicy | None = None,
        use_cache: bool = True,
        progress: Progress | None = None,
        seed: int = 0,
        concurrency_cap: int | None = None,
    ) -> None:
        self.model = model
        self.concurrency_cap = concurrency_cap
        self.store = store
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.use_cache = use_cache
        self.progress = progress or Progress()
        self.stats = EngineStats()
        self._rng = random.Random(seed)
        self._identity = model.identity()
        self._claimer: _Claims | None = None

    def keys(self, requests: Sequence[Request]) -> list[str]:
        return [r.cache_key(self._identity) for r in requests]

    def make_limiter(self) -> Limiter:
        """A limiter for this engine's model, as :meth:`run` makes one per call (callers that
        send one request at a time, like :mod:`trustgauge.engine.chat`, share one)."""
        return self._make_limiter()

    async def send_one(self, request: Request, limiter: Limiter) -> Outcome:
        """Answer one request through the store and the retries, under ``limiter``: a stored
        response is replayed (``use_cache``), else it is sent and committed on arrival.
        Counts in :attr:`stats` like :meth:`run`; progress advances only for fresh answers."""
        key = request.cache_key(self._identity)
        self.stats.requests += 1
        self.stats.unique += 1
        if self.use_cache and self.store is not None:
            hit = self.store.get_responses([key]).get(key)
            if hit is not None:
                self.stats.cached += 1
                return Outcome(key, response=hit, cached=True)
        [outcome] = await self._attempts_keys([key], [request], limiter)
        self.stats.max_in_flight = max(self.stats.max_in_flight, limiter.max_in_flight)
        return outcome

    async def send_batch(self, requests: Sequence[Request], limiter: Limiter) -> list[Outcome]:
        """Like :meth:`send_one` for up to ``model.batch_size`` distinct requests: stored ones
        are replayed, the rest go to the model in one ``generate`` call (batching backends)."""
        keys = self.keys(requests)
        self.stats.requests += len(requests)
        self.stats.unique += len(requests)
        found = self.store.get_responses(keys) if self.use_cache and self.store is not None else {}
        self.stats.cached += len(found)
        todo = [(k, r) for k, r in zip(keys, requests) if k not in found]
        fresh = {o.key: o for o in await self._attempts_keys([k for k, _ in todo], [r for _, r in todo], limiter)} if todo else {}
        self.stats.max_in_flight = max(self.stats.max_in_flight, limiter.max_in_flight)
        return [Outcome(k, response=found[k], cached=True) if k in found else fresh[k] for k in keys]

    def _make_limiter(self) -> Limiter:
        caps = [c for c in (self.model.max_concurrency, self.concurrency_cap) if c is not None]
        cap = min(caps) if caps else None
        if self.concurrency is not None:
            return Limiter(self.concurrency)
        if self.model.batch_size > 1:
            return Limiter(cap or 1)
        maximum = cap or 256
        return AdaptiveLimiter(initial=min(8, maximum), maximum=maximum)

    async def run(
        self,
        requests: Sequence[Request],
        description: str = "generating",
        *,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> list[Outcome]:
        """Answer every request; the result is in the order of ``requests``.

        Identical requests are sent once. Every fresh response is committed to the store as
        it arrives. A request that still fails after its retries is returned with ``error``.
        ``on_outcome`` (on the event loop) is told each unique request's outcome as soon as it
        is known: stored ones first, then each fresh one as it arrives.
        """
        started = time.monotonic()
        keys = self.keys(requests)
        unique: dict[str, Request] = {}
        for key, request in zip(keys, requests):
            unique.setdefault(key, request)
        outcomes: dict[str, Outcome] = {} if on_outcome is None else _Told(on_outcome)
        if self.use_cache and self.store is not None:
            for key, response in self.store.get_responses(list(unique)).items():
                outcomes[key] = Outcome(key, response=response, cached=True)
        pending = [(k, r) for k, r in unique.items() if k not in outcomes]
        self.stats.requests += len(requests)
        self.stats.unique += len(unique)
        self.stats.cached += len(outcomes)
        self.progress.start(description, total=len(unique), cached=len(outcomes))

        limiter = self._make_limiter()
        if pending:
            if self.model.batch_size > 1:
                await self._run_batched(pending, outcomes, limiter)
            else:
                await self._run_single(pending, outcomes, limiter)
        self.progress.finish()
        self.stats.max_in_flight = max(self.stats.max_in_flight, limiter.max_in_flight)
        self.stats.wall_time += time.monotonic() - started
        return [outcomes[k] for k in keys]

    # -- one request per call (API backends) -----------------------------------------------
    async def _run_single(self, pending: list[tuple[str, Request]], outcomes: dict[str, Outcome], limiter: Limiter) -> None:
        # Bound the number of live tasks so 100k requests do not mean 100k coroutines.
        window = asyncio.Semaphore(max(1024, 4 * getattr(limiter, "maximum", limiter.limit)))
        tasks: set[asyncio.Task[None]] = set()

        async def one(key: str, request: Request) -> None:
            try:
                outcome = await self._attempts(key, [request], limiter)
                outcomes[key] = outcome[0]
            finally:
                window.release()

        try:
            for key, request in pending:
                await window.acquire()
                task = asyncio.create_task(one(key, request))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            while tasks:
                await asyncio.gather(*list(tasks))
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    # -- batches (local backends) ----------------------------------------------------------
    async def _run_batched(self, pending: list[tuple[str, Request]], outcomes: dict[str, Outcome], limiter: Limiter) -> None:
        size = self.model.batch_size
        ordered = sorted(pending, key=lambda kr: sum(len(m.content) for m in kr[1].messages))
        batches = [ordered[i : i + size] for i in range(0, len(ordered), size)]

        async def one(batch: list[tuple[str, Request]]) -> None:
            results = await self._attempts_batch(batch, limiter)
            for outcome in results:
                outcomes[outcome.key] = outcome

        await asyncio.gather(*(one(b) for b in batches))

    async def _attempts_batch(self, batch: list[tuple[str, Request]], limiter: Limiter) -> list[Outcome]:
        keys = [k for k, _ in batch]
        return await self._attempts_keys(keys, [r for _, r in batch], limiter)

    async def _attempts(self, key: str, requests: list[Request], limiter: Limiter) -> list[Outcome]:
        return await self._attempts_keys([key], requests, limiter)

    def _classify(self, exc: Exception) -> Transient | Permanent:
        """What a failed call means; the backend decided transient/permanent when it raised."""
        if isinstance(exc, TransientModelError):
            return Transient(str(exc), retry_after=exc.retry_after, overload=exc.overload)
        if isinstance(exc, asyncio.TimeoutError):
            return Transient(f"timeout after {self.retry.timeout:g}s", overload=True)
        if isinstance(exc, ModelError):  # PermanentModelError and any other model error
            return Permanent(str(exc))
        # a backend bug must not sink the run: record it
        return Permanent(f"{type(exc).__name__}: {exc}")

    def _lease(self) -> float:
        """How long a claim on a key lasts without news: one attempt and the longest wait
        before the next (each retry renews it)."""
        return self.retry.timeout + self.retry.max_delay + _LEASE_MARGIN

    async def _attempts_keys(self, keys: list[str], requests: list[Request], limiter: Limiter) -> list[Outcome]:
        """Answer ``keys``: with a store, through its claims, so that a run in another process
        on the same store does not send them too (:meth:`Store.claim`); else straight away."""
        store = self.store
        if store is None or not self.use_cache:
            return await self._send(keys, requests, limiter)
        by_key = dict(zip(keys, requests))
        out: dict[str, Outcome] = {}
        todo = list(keys)
        while todo:
            mine, held = await self._claim(store, todo, limiter, out)
            if mine:
                try:
                    sent = await self._send(mine, [by_key[k] for k in mine], limiter, slot_held=True)
                finally:
                    store.release(mine)  # those not committed (failed, cancelled)
                out.update((o.key, o) for o in sent)
            todo = await self._wait_for_others(store, held, out)
        return [out[k] for k in keys]

    async def _claim(
        self, store: Store, keys: list[str], limiter: Limiter, out: dict[str, Outcome]
    ) -> tuple[list[str], list[str]]:
        """Claim ``keys`` once a concurrency slot is ours (a claim stands for a request in
        flight, so another run takes over what this one has not started yet). Returns the keys
        to send now (the slot is then kept for their first attempt) and those another process
        is sending; answers stored meanwhile go to ``out``."""
        await limiter.acquire()
        try:
            stored, mine, held = await self._claims(store).claim(keys)
        except BaseException:
            await limiter.release()
            raise
        if not mine:
            await limiter.release()
        self._answered_elsewhere(stored, out)
        return mine, held

    async def _wait_for_others(self, store: Store, keys: list[str], out: dict[str, Outcome]) -> list[str]:
        """Wait until another process has answered ``keys`` (into ``out``), or one of its claims
        ended without an answer (failed, killed, expired): then the keys still unanswered, to
        claim again. A poll, not a retry: one indexed read per look, the pause doubling."""
        pause = _POLL_FIRST
        while keys:
            await asyncio.sleep(pause)
            pause = min(2 * pause, _POLL_MAX)
            found = store.get_responses(keys)
            self._answered_elsewhere(found, out)
            keys = [k for k in keys if k not in found]
            if keys and len(store.held(keys)) < len(keys):
                break
        return keys

    def _claims(self, store: Store) -> _Claims:
        claims = self._claimer
        if claims is None or claims.store is not store or claims.loop is not asyncio.get_running_loop():
            claims = self._claimer = _Claims(store, self._lease())
        return claims

    def _answered_elsewhere(self, found: dict[str, Response], out: dict[str, Outcome]) -> None:
        """Keys another process answered while this one was on its way to send them."""
        for key, response in found.items():
            out[key] = Outcome(key, response=response, cached=True)
        if found:
            self.stats.cached += len(found)
            self.progress.advance(len(found))

    async def _send(
        self, keys: list[str], requests: list[Request], limiter: Limiter, *, slot_held: bool = False
    ) -> list[Outcome]:
        """Send ``requests`` (one ``respond`` call) with retries; commit each answer on arrival.
        ``slot_held``: the caller already holds a concurrency slot for the first attempt."""
        held = [slot_held]

        async def call(_n: int) -> list[Response]:
            if held[0]:
                held[0] = False
            else:
                await limiter.acquire()
            t0 = time.monotonic()
            try:
                responses = await _with_timeout(self.model.respond(requests), self.retry.timeout)
                if len(responses) != len(requests):
                    raise TransientModelError(f"backend returned {len(responses)} responses for {len(requests)} requests")
            finally:
                await limiter.release()
            await limiter.on_success(time.monotonic() - t0)
            return responses

        async def on_transient(failure: Transient) -> None:
            if failure.overload:
                await limiter.on_overload()

        def on_retry(_n: int, _failure: Transient) -> None:
            self.stats.retries += 1
            self.progress.retry()
            if self.store is not None:
                self.store.refresh(keys, self._lease())  # still ours while we retry

        done = await retry(
            call, self._classify, self.retry, rng=self._rng, on_transient=on_transient, on_retry=on_retry
        )
        if done.value is None:
            return self._fail(keys, done.error or "no response", done.attempts)
        responses, attempt = done.value, done.attempts
        results = []
        for key, request, response in zip(keys, requests, responses):
            # a server may echo a key: the store redacts what it keeps, and the judges and
            # the run's files get that same redacted response
            if self.store is not None:
                response = self.store.put_response(key, self._identity, request, response)
            else:
                response = redact_response(response)
            self.stats.sent += 1
            self.stats.usage = Usage(
                input_tokens=self.stats.usage.input_tokens + response.usage.input_tokens,
                output_tokens=self.stats.usage.output_tokens + response.usage.output_tokens,
            )
            results.append(Outcome(key, response=response, attempts=attempt))
        self.progress.advance(len(results))
        return results

    def _fail(self, keys: list[str], reason: str, attempts: int) -> list[Outcome]:
        self.stats.failed += len(keys)
        for _ in keys:
            self.progress.error()
        reason = redact(reason)  # a 401 may quote the key it refused
        return [Outcome(k, error=reason, attempts=attempts) for k in keys]
