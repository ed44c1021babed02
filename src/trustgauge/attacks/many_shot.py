"""Many-shot jailbreaking (Anil et al. 2024, "Many-shot Jailbreaking", Anthropic): N fabricated
dialogue turns in which the assistant complies with harmful requests, then the request, so that
in-context learning outweighs the safety training.

The turns are user/assistant messages put before the request (after any earlier messages, e.g.
a system prompt), N fixed per transform. They are drawn from PyRIT's many-shot examples (MIT;
the 82 labelled harmful and at most 800 characters long that ``scripts/build_fan2023_attacks.py``
packages, so that 32 shots stay near 4k tokens: a small model's 8k context holds them) by a
``random.Random`` seeded with the transform's id and the sample's ``seed``: the same sample gets
the same turns on every run, different samples different ones. An example whose request is the
attacked request itself is never drawn (it would hand the target the answer to copy).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import ClassVar

from trustgauge.attacks._common import load_json, request_of
from trustgauge.attacks.base import Transform
from trustgauge.attacks.registry import register_attack
from trustgauge.types import Chat, ChatMessage

__all__ = ["ManyShot", "shot_pool"]

_SOURCE = ("Anil et al. 2024, 'Many-shot Jailbreaking'; dialogue turns from PyRIT 1.1.0 "
           "(pyrit/datasets/jailbreak/many_shot_examples.json), MIT")


def shot_pool() -> list[dict[str, str]]:
    """The packaged examples (``user``, ``assistant``)."""
    pool: list[dict[str, str]] = load_json("many_shot.json")
    return pool


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


class ManyShot(Transform):
    """:attr:`shots` fabricated user/assistant turns before the request."""

    family = "many_shot"
    source = _SOURCE
    shots: ClassVar[int]

    def turns(self, request: str, seed: str) -> list[ChatMessage]:
        pool = [ex for ex in shot_pool() if _norm(ex["user"]) != _norm(request)]
        if len(pool) < self.shots:
            raise ValueError(f"{self.name}: {self.shots} shots asked, {len(pool)} examples packaged")
        rng = random.Random(f"{self.id}:{seed}")
        out: list[ChatMessage] = []
        for example in rng.sample(pool, self.shots):
            out.append(ChatMessage(role="user", content=example["user"]))
            out.append(ChatMessage(role="assistant", content=example["assistant"]))
        return out

    async def apply(self, messages: Sequence[ChatMessage], chat: Chat, *, seed: str) -> list[ChatMessage]:
        request = request_of(messages)
        return [*messages[:-1], *self.turns(request, seed), messages[-1]]


@register_attack
class ManyShot32(ManyShot):
    name = "many_shot"
    shots = 32
    description = "32 fabricated turns of an assistant complying with harmful requests, then the request."


@register_attack
class ManyShot8(ManyShot):
    name = "many_shot_8"
    shots = 8
    description = "8 fabricated compliant turns, then the request (fits small context windows)."


@register_attack
class ManyShot64(ManyShot):
    name = "many_shot_64"
    shots = 64
    description = "64 fabricated compliant turns, then the request (about 8k tokens: a long-context model)."
