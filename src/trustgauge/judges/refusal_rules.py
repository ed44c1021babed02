"""A fast, offline, rule-based refusal judge: :func:`~trustgauge.readers.refusal.classify` on
each response.

The rules themselves (pure functions, no I/O; what they read and how well they score on XSTest)
live in :mod:`trustgauge.readers.refusal`, below tasks and judges, so that answer extraction
(:mod:`trustgauge.readers.answers`) can use them.
"""

from __future__ import annotations

from collections.abc import Sequence

from trustgauge.judges.base import Judge
from trustgauge.judges.catalogue import register_judge
from trustgauge.readers.refusal import classify
from trustgauge.types import JudgeItem, Judgement


@register_judge(
    "refusal", "rules", offline=True,
    summary="phrase and structure rules on the response's opening; instant, no files",
)
class RuleRefusalJudge(Judge):
    """Refusal judge by phrase and structure rules (see the module docstring).

    ``label`` is ``"refusal"`` or ``"compliance"``; ``score`` is the confidence that the response
    refuses; ``raw`` names the rule that decided. Offline, deterministic; about 12k responses/s
    on one CPU core (``scripts/eval_refusal_rules.py`` measures it).
    """

    kind = "refusal"
    name = "rules"
    version = "5"

    async def judge(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        """Judge each item's response (the prompt is not used)."""
        return [self.judge_one(item.response) for item in items]

    def judge_one(self, response: str) -> Judgement:
        """Judge a single response synchronously."""
        label, score, rule = classify(response)
        return Judgement(label=label, score=score, raw=rule, judge=self.id)
