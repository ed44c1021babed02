"""``none``: the direct request, unchanged (the baseline every attack is compared with)."""

from __future__ import annotations

from collections.abc import Sequence

from trustgauge.attacks._common import request_of
from trustgauge.attacks.base import Transform
from trustgauge.attacks.registry import register_attack
from trustgauge.types import Chat, ChatMessage

__all__ = ["Direct"]


@register_attack
class Direct(Transform):
    name = "none"
    family = "none"
    description = "The request as it is (no attack): the baseline."
    source = ""

    async def apply(self, messages: Sequence[ChatMessage], chat: Chat, *, seed: str) -> list[ChatMessage]:
        request_of(messages)
        return list(messages)
