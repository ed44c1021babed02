"""Conversational tasks in a run: their conversations held through the engine's Chat, and what
the run directory records of them (docs/architecture.md step 12b).

Single-turn tasks never come here: their requests go to ``Engine.run`` in one batch, as before,
so their results are unchanged. Tasks that override ``Task.run`` get one conversation per
sample, run concurrently (at most twice the target's concurrency alive), each call through the
engine of its role; the role engines share the run's store, seed and progress.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from trustgauge.engine.chat import ConversationResult, EngineChat, run_conversations
from trustgauge.engine.progress import Progress
from trustgauge.engine.runner import Engine, Outcome
from trustgauge.engine.store import Store
from trustgauge.errors import ConfigError
from trustgauge.types import TARGET, Response

if TYPE_CHECKING:
    from trustgauge.config import ModelConfig
    from trustgauge.engine.runner import RetryPolicy
    from trustgauge.models.base import Model
    from trustgauge.tasks.base import Task
    from trustgauge.types import Sample

__all__ = [
    "KNOWN_ROLES",
    "ConversationResult",
    "check_roles",
    "conversation_outcome",
    "conversation_prompt",
    "converse",
    "role_records",
    "turn_records",
]

#: the roles the CLI documents; others are accepted when a task declares them
KNOWN_ROLES = ("attacker", "judge", "paraphraser", "reference", "translator")
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def check_roles(roles: Mapping[str, ModelConfig], tasks: Iterable[Task]) -> None:
    """Before anything is loaded or sent: role names are well formed, not ``target`` (that is
    ``--model``), their specs name a known backend, and every role a selected task calls has a
    model. Raises :class:`ConfigError` with the flag to add."""
    from trustgauge.models.registry import parse_spec

    tasks = list(tasks)
    declared = {role for task in tasks for role in task.roles}
    for name, config in roles.items():
        if name == TARGET:
            raise ConfigError("--role target=SPEC: the target is the model under evaluation, given with --model")
        if not _ROLE_NAME.match(name):
            raise ConfigError(f"bad role name {name!r}: lower-case letters, digits, '-' or '_' (e.g. attacker)")
        if name not in KNOWN_ROLES and name not in declared:
            raise ConfigError(
                f"unknown role {name!r}: the roles are {', '.join(KNOWN_ROLES)} and those the selected tasks declare"
            )
        parse_spec(config.model)
    for task in tasks:
        missing = [role for role in task.roles if role not in roles]
        if missing:
            flags = " ".join(f"--role {role}=SPEC" for role in missing)
            raise ConfigError(f"task {task.id} talks to a model in role {', '.join(missing)}: pass {flags}")


async def converse(
    work: Sequence[tuple[Task, Sequence[Sample]]],
    engine: Engine,
    role_models: Mapping[str, Model],
    store: Store | None,
    *,
    concurrency: int | None,
    retry: RetryPolicy,
    use_cache: bool,
    seed: int,
    overrides: Mapping[str, Any],
    system_prompt: str | None,
    progress: Progress,
) -> tuple[dict[str, list[ConversationResult]], dict[str, Engine]]:
    """Hold the conversation of every sample of the conversational tasks in ``work`` (task,
    its samples), with ``engine`` as the target and one engine per role model (same store,
    concurrency, retries, cache use, seed and progress); returns the results per task id (in
    sample order) and the engines by role (for their counts). ``overrides`` and
    ``system_prompt`` are the user's, applied to target calls."""
    engines: dict[str, Engine] = {TARGET: engine}
    for name, model in role_models.items():
        engines[name] = Engine(
            model, store, concurrency=concurrency, retry=retry, use_cache=use_cache, progress=progress, seed=seed,
        )
    chat = EngineChat(engines, overrides=overrides, system_prompt=system_prompt, progress=progress)
    talking = [(task, samples) for task, samples in work if task.is_conversational()]
    jobs = [(task, sample) for task, samples in talking for sample in samples]
    progress.start(f"conversing ({engine.model.describe()})", total=0)
    results = await run_conversations([_bind(task, sample) for task, sample in jobs], chat)
    progress.finish()
    by_task: dict[str, list[ConversationResult]] = {task.id: [] for task, _ in talking}
    for (task, _), result in zip(jobs, results):
        by_task[task.id].append(result)
    return by_task, engines


def _bind(task: Task, sample: Any) -> Any:
    async def conversation(chat: Any) -> Any:
        return await task.run(sample, chat)

    return conversation


def conversation_outcome(result: ConversationResult) -> Outcome:
    """The conversation as the judging and scoring code sees a single-turn outcome: its
    ``response`` text (judges judge it), or the error of the call that ended it."""
    transcript = result.transcript
    if transcript is None:
        return Outcome("", error=result.error, cached=result.cached)
    response = Response(text=transcript.response, finish_reason=transcript.finish_reason)
    return Outcome("", response=response, cached=result.cached)


def conversation_prompt(result: ConversationResult) -> str:
    """``samples.jsonl`` ``prompt`` of a conversation: the last user message to the target."""
    if result.transcript is not None and result.transcript.messages:
        return result.transcript.prompt
    target = [t for t in result.turns if t.role == TARGET]
    return target[-1].prompt if target else ""


def turn_records(result: ConversationResult) -> list[dict[str, Any]]:
    """``samples.jsonl`` ``turns`` of a conversation: every call, in order."""
    return [
        {
            "role": t.role,
            "prompt": t.prompt,
            "response": t.response.text,
            "finish_reason": t.response.finish_reason,
            "cached": t.cached,
        }
        for t in result.turns
    ]


def role_records(models: Mapping[str, dict[str, Any]], engines: Mapping[str, Engine]) -> dict[str, dict[str, Any]]:
    """``run.json`` ``roles``: per role, its model as recorded (``models``: the public model
    config of each role, no credentials) and what its engine did."""
    out: dict[str, dict[str, Any]] = {}
    for name, engine in engines.items():
        stats = engine.stats
        out[name] = {
            "model": models[name],
            "model_identity": engine.model.identity(),
            "usage": {"input_tokens": stats.usage.input_tokens, "output_tokens": stats.usage.output_tokens},
            "requests": {
                "total": stats.requests, "unique": stats.unique, "cached": stats.cached,
                "sent": stats.sent, "retries": stats.retries, "failed": stats.failed,
            },
        }
    return out
