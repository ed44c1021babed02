"""The one retry loop: attempt, classify the failure, wait, attempt again, or give up.

It knows nothing about models, limiters or caches. The caller passes

- ``attempt(n)``: one try (``n`` counts from 1); its return value is the result;
- ``classify(exc)``: what an exception from ``attempt`` means: :class:`Transient` (worth another
  try, perhaps after the server's ``Retry-After``) or :class:`Permanent` (retrying cannot fix it).
  Backends classify (they raise ``TransientModelError``/``PermanentModelError``); the caller's
  ``classify`` maps those, timeouts and unexpected errors to a verdict;
- ``policy``: how many retries and how long to wait (:class:`RetryPolicy`).

:func:`retry` drives an ``async`` attempt; :func:`retry_sync` is the same loop for blocking
callers (downloads, weight fetches, the hub probe), which may run inside a thread of an event
loop and so cannot start one. Both take every decision (give up, wait how long) in
:func:`_after_failure`, so they cannot drift apart.

Waits are drawn from the caller's ``rng`` (one draw per retry, none otherwise), so a seeded run
waits the same way every time. ``asyncio.CancelledError`` (and any other ``BaseException``) is
never classified: it propagates at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class RetryPolicy(BaseModel):
    """Exponential backoff with jitter; ``Retry-After`` from the server wins when given."""

    max_retries: int = Field(default=8, ge=0)
    base_delay: float = Field(default=1.0, ge=0)
    max_delay: float = Field(default=60.0, ge=0)
    #: per-request timeout in seconds (each attempt)
    timeout: float = Field(default=120.0, gt=0)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay) + rng.uniform(0, 0.1 * max(self.base_delay, 0.01))
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return float(backoff * rng.uniform(0.5, 1.5))


@dataclass(frozen=True)
class Transient:
    """A failure worth another attempt."""

    message: str
    #: seconds the server asked to wait (``Retry-After``), if it said
    retry_after: float | None = None
    #: the server says it is overloaded (429/503, a timeout): a limiter should back off
    overload: bool = False


@dataclass(frozen=True)
class Permanent:
    """A failure that retrying cannot fix."""

    message: str


@dataclass(slots=True)
class Attempted(Generic[T]):
    """How :func:`retry` ended: ``value`` when an attempt succeeded, else ``error`` (the last
    failure's message; ``"... (gave up after N attempts)"`` when the retries ran out)."""

    value: T | None
    error: str | None
    attempts: int

    @property
    def ok(self) -> bool:
        return self.error is None


async def retry(
    attempt: Callable[[int], Awaitable[T]],
    classify: Callable[[Exception], Transient | Permanent],
    policy: RetryPolicy,
    *,
    rng: random.Random,
    on_transient: Callable[[Transient], Awaitable[None]] | None = None,
    on_retry: Callable[[int, Transient], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> Attempted[T]:
    """Call ``attempt`` until it succeeds, fails permanently, or fails transiently
    ``policy.max_retries + 1`` times.

    ``on_transient(failure)`` is awaited after every transient failure, the last one included
    (the engine lowers its concurrency on overload); ``on_retry(n, failure)`` is called when
    attempt ``n`` failed and another will follow, before the wait (counts, progress).
    ``attempt`` applies its own timeout (``policy.timeout``) where it wants one: whatever it
    waits for before the call proper (a concurrency slot) is not the call's time. ``sleep``
    defaults to ``asyncio.sleep``.
    """
    if sleep is None:
        # imported here, not at the top: the data layer imports this module for retry_sync, and
        # asyncio (with ssl) is ~20 ms of every 'trustgauge tasks' otherwise
        import asyncio

        sleep = asyncio.sleep
    n = 0
    while True:
        n += 1
        try:
            value = await attempt(n)
        except Exception as exc:
            verdict = classify(exc)
        else:
            return Attempted(value, None, n)
        if isinstance(verdict, Transient) and on_transient is not None:
            await on_transient(verdict)
        outcome: Attempted[T] | float = _after_failure(n, verdict, policy, rng, on_retry)
        if isinstance(outcome, Attempted):
            return outcome
        await sleep(outcome)


def retry_sync(
    attempt: Callable[[int], T],
    classify: Callable[[Exception], Transient | Permanent],
    policy: RetryPolicy,
    *,
    rng: random.Random | None = None,
    on_retry: Callable[[int, Transient], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Attempted[T]:
    """:func:`retry` for a blocking ``attempt`` (same verdicts, waits and give-up text).

    ``rng`` defaults to a fresh unseeded ``Random`` (downloads need no reproducible waits)."""
    rng = rng if rng is not None else random.Random()
    n = 0
    while True:
        n += 1
        try:
            value = attempt(n)
        except Exception as exc:
            verdict = classify(exc)
        else:
            return Attempted(value, None, n)
        outcome: Attempted[T] | float = _after_failure(n, verdict, policy, rng, on_retry)
        if isinstance(outcome, Attempted):
            return outcome
        sleep(outcome)


def _after_failure(
    n: int,
    verdict: Transient | Permanent,
    policy: RetryPolicy,
    rng: random.Random,
    on_retry: Callable[[int, Transient], None] | None,
) -> Attempted[T] | float:
    """After attempt ``n`` failed: how the loop ends (an :class:`Attempted`), or how many
    seconds to wait before the next attempt (``on_retry`` is called first)."""
    if isinstance(verdict, Permanent):
        return Attempted(None, verdict.message, n)
    if n > policy.max_retries:
        return Attempted(None, f"{verdict.message} (gave up after {n} attempts)", n)
    if on_retry is not None:
        on_retry(n, verdict)
    return policy.delay(n, verdict.retry_after, rng)
