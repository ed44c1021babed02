"""The attacks by name: ``@register_attack`` on a :class:`~trustgauge.attacks.base.Transform` or
:class:`~trustgauge.attacks.base.IterativeAttack` subclass, every module of this package imported
when the registry is first read (a new attack is one new file), and :func:`parse_chain` for a
chain written ``aim+base64`` (applied left to right; answers recovered right to left).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from trustgauge._plugins import import_modules
from trustgauge.attacks.base import IterativeAttack, Transform
from trustgauge.errors import ConfigError
from trustgauge.types import Chat, ChatMessage

__all__ = [
    "ITERATIVE",
    "TRANSFORMS",
    "Chain",
    "get_iterative",
    "get_transform",
    "iterative",
    "parse_chain",
    "register_attack",
    "transforms",
]

TRANSFORMS: dict[str, type[Transform]] = {}
ITERATIVE: dict[str, type[IterativeAttack]] = {}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_loaded = False

A = TypeVar("A", bound=type)


def register_attack(cls: A) -> A:
    """Class decorator: register a transform or an iterative attack under its ``name``."""
    name = getattr(cls, "name", "")
    if not _NAME.match(name):
        raise ValueError(f"attack name {name!r}: lower-case letters, digits and '_'")
    if issubclass(cls, Transform):
        table: dict[str, type] = TRANSFORMS  # type: ignore[assignment]
    elif issubclass(cls, IterativeAttack):
        table = ITERATIVE  # type: ignore[assignment]
    else:
        raise TypeError(f"{cls.__name__} is neither a Transform nor an IterativeAttack")
    if (name in TRANSFORMS or name in ITERATIVE) and (TRANSFORMS.get(name) or ITERATIVE.get(name)) is not cls:
        raise ValueError(f"attack {name!r} is registered twice")
    table[name] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import trustgauge.attacks as package

    import_modules(package, skip={"base", "registry"})


def transforms() -> dict[str, type[Transform]]:
    """Every registered transform, by name."""
    _load()
    return dict(TRANSFORMS)


def iterative() -> dict[str, type[IterativeAttack]]:
    """Every registered iterative attack, by name."""
    _load()
    return dict(ITERATIVE)


def get_transform(name: str) -> Transform:
    """A new instance of the transform ``name`` (``ConfigError`` naming the known ones)."""
    _load()
    cls = TRANSFORMS.get(name)
    if cls is None:
        known = ", ".join(sorted(TRANSFORMS))
        raise ConfigError(f"unknown attack {name!r} (transforms: {known})")
    return cls()


def get_iterative(name: str) -> IterativeAttack:
    """A new instance of the iterative attack ``name``."""
    _load()
    cls = ITERATIVE.get(name)
    if cls is None:
        raise ConfigError(f"unknown iterative attack {name!r} (known: {', '.join(sorted(ITERATIVE))})")
    return cls()


class Chain:
    """Transforms applied in order (``aim+base64``: the AIM template, then base64 of the
    result); answers recovered in the reverse order."""

    def __init__(self, parts: Sequence[Transform]) -> None:
        if not parts:
            raise ConfigError("an attack chain needs at least one transform")
        self.parts = tuple(parts)

    @property
    def name(self) -> str:
        """``aim+base64``."""
        return "+".join(p.name for p in self.parts)

    @property
    def id(self) -> str:
        """``aim@1+base64@1``: what a sample records."""
        return "+".join(p.id for p in self.parts)

    @property
    def family(self) -> str:
        """The family of the last transform that is not ``none`` (``none`` for the direct request)."""
        families = [p.family for p in self.parts if p.family != "none"]
        return families[-1] if families else "none"

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(role for p in self.parts for role in p.roles))

    async def apply(self, messages: Sequence[ChatMessage], chat: Chat, *, seed: str) -> list[ChatMessage]:
        out = list(messages)
        for part in self.parts:
            out = await part.apply(out, chat, seed=seed)
        return out

    async def recover(self, response: str, chat: Chat) -> str:
        for part in reversed(self.parts):
            response = await part.recover(response, chat)
        return response


def parse_chain(spec: str) -> Chain:
    """``"aim+base64"`` -> :class:`Chain` (``ConfigError`` on an unknown or empty part)."""
    names = [n.strip() for n in spec.split("+")]
    if any(not n for n in names):
        raise ConfigError(f"bad attack chain {spec!r}: names joined by '+', e.g. aim+base64")
    return Chain([get_transform(n) for n in names])
