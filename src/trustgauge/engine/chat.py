"""The engine's :class:`~trustgauge.types.Chat`: conversations whose every call goes through an
:class:`~trustgauge.engine.runner.Engine` (store, retries, concurrency, progress, token counts).

One engine per role (``target``, ``attacker``, ...): each its own model and limiter, all sharing
the run's store and progress. A call is one request keyed by the model identity and the full
message history (the role is not in the key: the same request to the same model is the same
call), so after a crash the rerun replays the stored turns from the store and sends only what
was never stored. Identical calls within a run are sent once, even when made concurrently.

This module knows nothing of tasks: :func:`run_conversations` drives opaque coroutine
functions ``(chat) -> Transcript`` (the pipeline binds ``task.run`` to each sample), with at
most ``cap`` conversations alive at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trustgauge.engine.limiter import Limiter
from trustgauge.engine.progress import Progress
from trustgauge.engine.runner import Engine, Outcome
from trustgauge.errors import ConfigError
from trustgauge.types import (
    TARGET,
    ChatMessage,
    GenerationParams,
    Request,
    Response,
    TextTokenizer,
    Transcript,
    Turn,
    Usage,
    with_system_prompt,
)


class ChatCallError(Exception):
    """A call of a conversation failed after its retries; the conversation ends and its sample
    is recorded as failed (``error``), like a failed single-turn request."""

    def __init__(self, role: str, error: str) -> None:
        super().__init__(f"{role}: {error}")
        self.role = role
        self.error = error


def _last_user(messages: Sequence[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.content
    return ""


class EngineChat:
    """The run's :class:`~trustgauge.types.Chat` over one engine per role.

    Args:
        engines: role -> engine; must hold ``target``.
        overrides: the user's generation overrides, applied to ``target`` calls on top of the
            task's parameters (as ``Task.build_request`` applies them to single-turn requests).
        system_prompt: the model config's system prompt, put first in every ``target`` call.
        progress: counts calls (its total grows as conversations make them); default the
            target engine's (give every engine the same one, as the pipeline does).
    """

    def __init__(
        self,
        engines: Mapping[str, Engine],
        *,
        overrides: Mapping[str, Any] | None = None,
        system_prompt: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        if TARGET not in engines:
            raise ValueError("EngineChat needs an engine for the target role")
        self.engines = dict(engines)
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self.system_prompt = system_prompt
        self.progress = progress or self.engines[TARGET].progress  # where the engines report
        self._limiters: dict[str, Limiter] = {role: e.make_limiter() for role, e in self.engines.items()}
        #: batching backends (``hf:``): the calls conversations make meanwhile go in one batch
        self._batchers = {
            role: _Batcher(e, self._limiters[role]) for role, e in self.engines.items() if e.model.batch_size > 1
        }
        #: cache key -> the call's outcome (a future while in flight): identical calls of one
        #: run are sent once
        self._calls: dict[str, asyncio.Future[Outcome]] = {}

    def has_role(self, role: str) -> bool:
        return role in self.engines

    def request(self, role: str, messages: Sequence[ChatMessage], params: GenerationParams | None) -> Request:
        """The request a call makes: for ``target``, with the overrides and system prompt."""
        params = params or GenerationParams()
        if params.loglikelihood:  # scoring given text: no overrides, no system prompt
            return Request(messages=tuple(messages), params=params)
        if role == TARGET:
            if self.overrides:
                params = params.merged(**self.overrides)
            messages = with_system_prompt(messages, self.system_prompt)
        return Request(messages=tuple(messages), params=params)

    async def call(
        self, role: str, messages: Sequence[ChatMessage], params: GenerationParams | None = None
    ) -> tuple[Outcome, bool]:
        """One call; returns its outcome and whether it was answered without sending
        (from the store, or by an identical call of this run)."""
        engine = self.engines.get(role)
        if engine is None:
            raise ConfigError(f"no model in role {role!r}: pass --role {role}=SPEC")
        request = self.request(role, messages, params)
        key = engine.keys([request])[0]
        known = self._calls.get(key)
        if known is not None:
            engine.stats.requests += 1  # a duplicate: like Engine.run, counted once in unique
            outcome = await asyncio.shield(known)
            return outcome, True
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._calls[key] = future
        self.progress.total += 1
        try:
            batcher = self._batchers.get(role)
            if batcher is not None:
                outcome = await batcher.submit(request)
            else:
                outcome = await engine.send_one(request, self._limiters[role])
        except BaseException as exc:
            del self._calls[key]  # cancelled or broken: a later identical call tries again
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        future.set_result(outcome)
        if outcome.cached:
            self.progress.cached += 1
            self.progress.advance()
        return outcome, outcome.cached

    async def send(
        self, role: str, messages: Sequence[ChatMessage], params: GenerationParams | None = None
    ) -> Response:
        outcome, _ = await self.call(role, messages, params)
        if outcome.response is None:
            raise ChatCallError(role, outcome.error or "no response")
        return outcome.response

    async def score(self, role: str, continuation: str, context: str = "") -> Response:
        request = Request.scoring(continuation, context)
        return await self.send(role, request.messages, request.params)

    def tokenizer(self, role: str) -> TextTokenizer:
        engine = self.engines.get(role)
        if engine is None:
            raise ConfigError(f"no model in role {role!r}: pass --role {role}=SPEC")
        return engine.model.tokenizer()

    def usage(self) -> dict[str, Usage]:
        """Tokens of freshly sent calls, per role."""
        return {role: engine.stats.usage for role, engine in self.engines.items()}

    def max_conversations(self) -> int:
        """How many conversations may be alive at once: twice the target's concurrency (its
        fixed limit, else the adaptive limiter's maximum; times the batch size for batching
        backends), so 10k samples are not 10k coroutines while each conversation still has a
        turn ready when a slot frees."""
        limiter = self._limiters[TARGET]
        target = self.engines[TARGET]
        fixed = target.concurrency
        limit = fixed if fixed is not None else int(getattr(limiter, "maximum", limiter.limit))
        # a batching backend takes batch_size calls per slot
        return 2 * max(1, limit) * max(1, target.model.batch_size)


class _Batcher:
    """Gathers the calls of concurrent conversations to one batching model (``batch_size >
    1``) into batches: while a batch is generating, the next calls queue up; each batch takes
    up to ``batch_size`` of them (in arrival order). One batch at a time per role."""

    #: event-loop turns to wait before taking a batch, so that conversations whose previous
    #: call was just answered reach their next call and join it
    SETTLE = 3

    def __init__(self, engine: Engine, limiter: Limiter) -> None:
        self.engine = engine
        self.limiter = limiter
        self.queue: list[tuple[Request, asyncio.Future[Outcome]]] = []
        self._drainer: asyncio.Task[None] | None = None
        #: sizes of the batches sent (for tests and benchmarks)
        self.batches: list[int] = []

    async def submit(self, request: Request) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.queue.append((request, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        size = self.engine.model.batch_size
        try:
            while self.queue:
                for _ in range(self.SETTLE):
                    await asyncio.sleep(0)
                batch, self.queue = self.queue[:size], self.queue[size:]
                live = [(r, f) for r, f in batch if not f.done()]  # a caller may have been cancelled
                if not live:
                    continue
                self.batches.append(len(live))
                try:
                    outcomes = await self.engine.send_batch([r for r, _ in live], self.limiter)
                except BaseException as exc:  # the callers get it; the drainer stops
                    for _, future in live:
                        if not future.done():
                            future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    return
                for (_, future), outcome in zip(live, outcomes):
                    if not future.done():
                        future.set_result(outcome)
        finally:
            self._drainer = None
            for _, future in self.queue:  # left behind by a failure: their callers must not hang
                if not future.done():
                    future.cancel()
            self.queue = []


class _Recorder:
    """The chat one conversation sees: every call is recorded as a :class:`Turn`."""

    def __init__(self, chat: EngineChat) -> None:
        self._chat = chat
        self.turns: list[Turn] = []

    def has_role(self, role: str) -> bool:
        return self._chat.has_role(role)

    async def send(
        self, role: str, messages: Sequence[ChatMessage], params: GenerationParams | None = None
    ) -> Response:
        outcome, replayed = await self._chat.call(role, messages, params)
        if outcome.response is None:
            raise ChatCallError(role, outcome.error or "no response")
        prompt = messages[-1].content if params is not None and params.loglikelihood else _last_user(messages)
        self.turns.append(Turn(role=role, prompt=prompt, response=outcome.response, cached=replayed))
        return outcome.response

    async def score(self, role: str, continuation: str, context: str = "") -> Response:
        request = Request.scoring(continuation, context)
        return await self.send(role, request.messages, request.params)

    def tokenizer(self, role: str) -> TextTokenizer:
        return self._chat.tokenizer(role)


@dataclass
class ConversationResult:
    """What became of one conversation: its transcript (turns filled in), or the error of the
    call that ended it (``turns`` then holds the calls made before)."""

    transcript: Transcript | None = None
    error: str | None = None
    turns: list[Turn] = field(default_factory=list)

    @property
    def cached(self) -> bool:
        """Every call was answered without sending (and there was at least one)."""
        return bool(self.turns) and all(t.cached for t in self.turns)


Conversation = Callable[[Any], Awaitable[Transcript]]


async def run_conversations(
    conversations: Sequence[Conversation], chat: EngineChat, *, cap: int | None = None
) -> list[ConversationResult]:
    """Run every conversation (each a coroutine function given its own recording chat), at
    most ``cap`` alive at a time (default :meth:`EngineChat.max_conversations`); results in
    the order given. A conversation whose call fails ends with that error; any other
    exception (a bug in task code) cancels the rest and propagates (stored turns stay)."""
    cap = cap or chat.max_conversations()
    results: list[ConversationResult] = [ConversationResult() for _ in conversations]
    window = asyncio.Semaphore(cap)
    tasks: set[asyncio.Task[None]] = set()

    async def one(i: int, conversation: Conversation) -> None:
        recorder = _Recorder(chat)
        try:
            transcript = await conversation(recorder)
        except ChatCallError as exc:
            results[i] = ConversationResult(error=exc.error, turns=recorder.turns)
        else:
            results[i] = ConversationResult(
                transcript=transcript.model_copy(update={"turns": tuple(recorder.turns)}), turns=recorder.turns
            )
        finally:
            window.release()

    try:
        for i, conversation in enumerate(conversations):
            await window.acquire()
            task = asyncio.create_task(one(i, conversation))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*list(tasks))
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
    return results
