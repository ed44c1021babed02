"""Judges: refusal, toxicity, similarity, answer extraction, LLM-as-judge."""

from trustgauge.judges.base import Judge, JudgeItem, Judgement
from trustgauge.judges.registry import DEFAULT_JUDGES, JUDGES, create_judge

__all__ = ["DEFAULT_JUDGES", "JUDGES", "Judge", "JudgeItem", "Judgement", "create_judge"]
