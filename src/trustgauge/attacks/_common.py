"""What the static transforms share: the request is the last user message (earlier messages, a
system prompt or fabricated turns of another transform, are kept, so transforms chain), and the
packaged attack texts (``trustgauge/data/packaged/fan2023/attacks/``, read through
``importlib.resources`` so that they ship in the wheel; see that folder's ``SOURCE.md``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from trustgauge.types import ChatMessage

__all__ = ["MARK", "fill", "load_json", "request_of", "with_request"]

#: where a template takes the request
MARK = "{request}"
_DATA = ("data", "packaged", "fan2023", "attacks")


def request_of(messages: Sequence[ChatMessage]) -> str:
    """The text of the last message, which must be the user's (``ValueError`` otherwise)."""
    if not messages or messages[-1].role != "user":
        raise ValueError("an attack transform needs messages ending with the user's request")
    return messages[-1].content


def with_request(messages: Sequence[ChatMessage], text: str) -> list[ChatMessage]:
    """``messages`` with the last (user) message's text replaced by ``text``."""
    request_of(messages)
    return [*messages[:-1], ChatMessage(role="user", content=text)]


def fill(template: str, request: str) -> str:
    """``template`` with its ``{request}`` marker replaced (plain replacement: the texts hold
    other braces)."""
    if template.count(MARK) != 1:
        raise ValueError(f"an attack template must hold {MARK} exactly once")
    return template.replace(MARK, request)


@cache
def load_json(name: str) -> Any:
    """A packaged attack file, parsed (read once)."""
    ref = resources.files("trustgauge")
    for part in (*_DATA, name):
        ref = ref / part
    return json.loads(ref.read_text(encoding="utf-8"))
