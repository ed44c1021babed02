"""Judges: refusal, toxicity, similarity, answer extraction, LLM-as-judge."""

from trustgauge.judges.base import Judge, Judgement, JudgeItem
from trustgauge.judges.registry import DEFAULT_JUDGES, JUDGES, create_judge

__all__ = ["DEFAULT_JUDGES", "JUDGES", "Judge", "JudgeItem", "Judgement", "create_judge"]
