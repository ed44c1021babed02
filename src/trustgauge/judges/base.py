"""The judge interface: named, versioned, batched; every judgement keeps its raw output.

:class:`JudgeItem` and :class:`Judgement` live in :mod:`trustgauge.types` (re-exported here)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from trustgauge.types import JudgeItem, Judgement


def settings_suffix(settings: Mapping[str, Any]) -> str:
    """``"[k=v,...]"`` (sorted) for a judge's settings, ``""`` when there are none."""
    if not settings:
        return ""
    return "[" + ",".join(f"{k}={settings[k]}" for k in sorted(settings)) + "]"


class Judge(ABC):
    """A batched judge. ``kind`` says what it judges (``refusal``, ``toxicity``, ...)."""

    kind: str
    name: str
    version: str

    #: options the judge was created with that change its verdicts (set by ``create_judge``);
    #: they become part of :attr:`id`, so cached judgements are never reused across them
    settings: Mapping[str, Any] = {}

    @property
    def id(self) -> str:
        """``name@version``, plus ``[k=v,...]`` for non-default settings: recorded with every
        judgement and in the run, and part of every judgement's cache key."""
        return f"{self.name}@{self.version}{settings_suffix(self.settings)}"

    @property
    def cache_id(self) -> str:
        """``kind/id``: what judgements are cached under (two kinds may share a judge name)."""
        return f"{self.kind}/{self.id}"

    @abstractmethod
    async def judge(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        """Judge the items, in order."""
