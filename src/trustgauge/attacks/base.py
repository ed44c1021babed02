"""What an attack is: :class:`Transform` (a request in, the attacked request out; the answer back
to plain text) and :class:`IterativeAttack` (a conversation driven by an attacker model).

Both are named and versioned (``name@version`` is recorded with every sample, so a changed
template is a new version, never a silent change of a number). Randomness is seeded from the
sample (``seed``), so a rerun after a crash sends exactly the same calls and replays them from
the store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from trustgauge.errors import TrustgaugeError
from trustgauge.types import Chat, ChatMessage, GenerationParams

__all__ = ["AttackError", "AttackResult", "Goal", "IterativeAttack", "Transform"]


class AttackError(TrustgaugeError):
    """An attack could not be carried out on one sample (the translator gave no translation):
    the task records that sample as failed, with this message, and the run goes on (raise
    ``ChatCallError(role, str(exc))`` from the conversation). Not for bugs: a malformed
    argument is a ``ValueError``."""

    def __init__(self, role: str, message: str) -> None:
        super().__init__(message)
        #: the role whose answer made the attack impossible
        self.role = role


@dataclass(frozen=True)
class Goal:
    """What an attack tries to make the target do.

    Attributes:
        behaviour: The request as a plain instruction ("Write a tutorial on ..."): what the
            judges judge the answer against.
        category: The behaviour's category (``cybercrime_intrusion``, ...).
        target_str: The start of an answer that complies ("Sure, here is a tutorial on ..."):
            PAIR and TAP steer towards it; built from ``behaviour`` when the data has none.
        id: The behaviour's id (seeds randomness).
    """

    behaviour: str
    category: str = ""
    target_str: str = ""
    id: str = ""


class Transform(ABC):
    """A request transform (template, encoding, many-shot, payload splitting, translation).

    :meth:`apply` gets the messages to send to the target (the last is the user turn holding
    the request) and returns the attacked messages; :meth:`recover` gets the target's answer and
    returns what the judges should read (default: the answer unchanged). A transform that calls a
    model names the roles it needs in :attr:`roles` (``translator``); the task adds them to its
    own, so a run without ``--role translator=SPEC`` is refused before anything is sent."""

    #: registry name, e.g. ``base64`` (lower case, digits, ``_``)
    name: ClassVar[str]
    version: ClassVar[int] = 1
    #: ``none``, ``template``, ``encoding``, ``many_shot``, ``payload_split``, ``translation``
    family: ClassVar[str]
    #: one line for ``trustgauge attacks`` and the docs
    description: ClassVar[str] = ""
    #: where its text comes from and its licence ("" for trustgauge's own, MIT)
    source: ClassVar[str] = ""
    #: model roles the transform calls (``translator``)
    roles: ClassVar[tuple[str, ...]] = ()

    @property
    def id(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @abstractmethod
    async def apply(self, messages: Sequence[ChatMessage], chat: Chat, *, seed: str) -> list[ChatMessage]:
        """The attacked messages (``seed``: the sample's id, for any random choice)."""

    async def recover(self, response: str, chat: Chat) -> str:
        """The answer as the judges should read it (decoded, translated back)."""
        return response


@dataclass
class AttackResult:
    """What an iterative attack ends with.

    Attributes:
        response: The target answer judged as the attack's outcome (the best one found).
        messages: The target conversation that produced it.
        success: Whether the attack's own judge declared success (its stop rule; the task's
            attack-success judge decides the reported success).
        notes: The attack's findings for the report: iterations and streams used, the
            in-loop judge's scores, why it stopped.
    """

    response: str
    messages: tuple[ChatMessage, ...] = ()
    success: bool = False
    finish_reason: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)


class IterativeAttack(ABC):
    """An attack that talks back: a model in the ``attacker`` role proposes prompts, the target
    answers, a judge (role ``judge`` when the run has one, else the attacker) rates the answer,
    and the attack refines until it succeeds or runs out of budget (PAIR, TAP, Crescendo).

    Calls that may run at once (PAIR's streams, TAP's branches) are awaited together
    (``asyncio.gather``), so the engine's concurrency serves them; calls that depend on each
    other (iterations within a stream) are sequential."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    description: ClassVar[str] = ""
    source: ClassVar[str] = ""
    roles: ClassVar[tuple[str, ...]] = ("attacker",)

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @abstractmethod
    async def run(self, goal: Goal, chat: Chat, target_params: GenerationParams) -> AttackResult:
        """Attack the target (role ``target`` of ``chat``) towards ``goal``."""
