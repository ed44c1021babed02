"""Concurrency limits: fixed, or adaptive (grow while the server keeps up, back off on
overload), in the spirit of TCP congestion control (AIMD with a latency guard)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time


class Limiter:
    """An async semaphore whose limit can change while it is in use.

    Slots go to waiters in arrival order, and a released slot is handed straight to the next
    waiter (no lock to take again, no extra trip through the event loop): on a busy loop every
    trip delays the next request and leaves a connection idle.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self._limit = limit
        self.in_flight = 0
        self.max_in_flight = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def limit(self) -> int:
        return self._limit

    async def _set_limit(self, limit: int) -> None:
        self._limit = max(1, limit)
        self._wake()

    def _wake(self) -> None:
        """Hand free slots to the waiters, first come first served."""
        while self._waiters and self.in_flight < self._limit:
            waiter = self._waiters.popleft()
            if waiter.done():  # cancelled while waiting
                continue
            self._take()
            waiter.set_result(None)

    def _take(self) -> None:
        self.in_flight += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight

    async def acquire(self) -> None:
        if not self._waiters and self.in_flight < self._limit:
            self._take()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # the slot was handed over just before the cancellation: pass it on
                self.in_flight -= 1
                self._wake()
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    async def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    async def on_success(self, latency: float) -> None:
        """Called after each successful request (fixed limiters ignore it)."""

    async def on_overload(self) -> None:
        """Called when the server signals overload: 429, 503, timeout."""


#: overload signals tolerated as noise: a decrease needs at least this many of them ...
OVERLOAD_MIN = 2
#: ... making at least this share of the recent completions (successes and overload signals) ...
OVERLOAD_SHARE = 0.05
#: ... among the last max(OVERLOAD_WINDOW, 2 x limit) of them
OVERLOAD_WINDOW = 32


class AdaptiveLimiter(Limiter):
    """Slow start (double per round), then additive increase; multiplicative decrease on
    overload or when latency climbs well above the best seen (the server is queueing).

    Overload (429, 503, a timeout) halves the limit when it is a pattern, not a stray: at least
    :data:`OVERLOAD_MIN` signals making :data:`OVERLOAD_SHARE` of the recent completions. A
    server over its capacity or rate limit answers most requests so; one that fails half a
    percent of requests at random does not, and halving on each of those kept the limit (and the
    request rate) a tenth of what the server took (benchmarks/README.md, "Adaptive concurrency
    under sporadic faults"). Each failed request is still retried with its backoff and
    ``Retry-After``.
    """

    def __init__(self, initial: int = 8, maximum: int = 256, minimum: int = 1) -> None:
        super().__init__(min(initial, maximum))
        self.maximum = maximum
        self.minimum = minimum
        self._slow_start = True
        self._credit = 0.0
        self._best_latency: float | None = None
        self._ewma_latency: float | None = None
        self._last_decrease = 0.0
        #: the most recent completions, True for an overload signal (bounded by _window())
        self._recent: collections.deque[bool] = collections.deque()
        self._recent_overloads = 0

    def _window(self) -> int:
        return max(OVERLOAD_WINDOW, 2 * self.limit)

    def _record(self, overload: bool) -> None:
        self._recent.append(overload)
        self._recent_overloads += overload
        while len(self._recent) > self._window():
            self._recent_overloads -= self._recent.popleft()

    def _overloaded(self) -> bool:
        """Enough of the recent completions were overload signals to call it a pattern."""
        n = self._recent_overloads
        return n >= OVERLOAD_MIN and n >= OVERLOAD_SHARE * len(self._recent)

    async def on_success(self, latency: float) -> None:
        self._record(False)
        if self._best_latency is None or latency < self._best_latency:
            self._best_latency = latency
        self._ewma_latency = latency if self._ewma_latency is None else 0.8 * self._ewma_latency + 0.2 * latency
        best = max(self._best_latency, 1e-3)
        if self._ewma_latency > 3.0 * best and self._ewma_latency - best > 0.05:
            # the server keeps requests waiting: stop growing, shrink gently
            self._slow_start = False
            now = time.monotonic()
            if now - self._last_decrease > max(self._ewma_latency, 0.5):
                self._last_decrease = now
                self._best_latency = best * 1.1  # let the baseline drift up slowly
                await self._set_limit(max(self.minimum, int(self.limit * 0.9)))
            return
        if self.in_flight < self.limit - 1 and not self._slow_start:
            return  # not saturated: no evidence that more would help
        self._credit += 1.0 if self._slow_start else 1.0 / self.limit
        if self._credit >= 1.0 and self.limit < self.maximum:
            self._credit -= 1.0
            await self._set_limit(min(self.maximum, self.limit + 1))

    async def on_overload(self) -> None:
        self._record(True)
        if not self._overloaded():
            return  # a stray signal: the request is retried, the limit stays
        now = time.monotonic()
        # several overload signals from one burst count once
        window = self._ewma_latency or 1.0
        if now - self._last_decrease < window:
            return
        self._last_decrease = now
        self._slow_start = False
        self._credit = 0.0
        # the signals that caused this decrease are spent: the next one needs a new pattern
        self._recent.clear()
        self._recent_overloads = 0
        await self._set_limit(max(self.minimum, self.limit // 2))
