"""Judges: refusal, toxicity, similarity, answer extraction, LLM-as-judge."""

from trustgauge.judges.base import Judge
from trustgauge.judges.registry import DEFAULT_JUDGES, JUDGES, create_judge
from trustgauge.types import JudgeItem, Judgement

__all__ = ["DEFAULT_JUDGES", "JUDGES", "Judge", "JudgeItem", "Judgement", "create_judge"]
