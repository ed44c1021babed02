"""The judge interface: named, versioned, batched; every judgement keeps its raw output."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict


class JudgeItem(BaseModel):
    """What a judge looks at: the prompt (optional for most judges), the response, and for
    correctness judges a reference answer."""

    model_config = ConfigDict(frozen=True)

    prompt: str = ""
    response: str
    reference: Any = None

    def cache_key(self, judge_id: str) -> str:
        blob = json.dumps(
            {"judge": judge_id, "item": self.model_dump(mode="json")},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Judgement(BaseModel):
    """A judge's verdict on one item.

    ``label`` is the judge's class (for refusal: ``refusal`` or ``compliance``; ``unparsed`` when
    an LLM judge's output could not be read). ``score`` is in 0..1 (for refusal: how confident the
    judge is that the response refuses). ``raw`` is the judge's own output, kept for audits.
    """

    label: str
    score: float | None = None
    raw: str | None = None
    judge: str


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
