"""The 0/1-correctness outcome rule the truthfulness tasks share (:func:`correct_outcome`).

The per-source accuracy metrics the internal-knowledge and hallucination tasks shared moved to
their aggregators (:mod:`trustgauge.stats.aggregators.trustllm.truthfulness`); the names are
re-exported here for old imports."""

from __future__ import annotations

from trustgauge.stats.aggregators.trustllm.truthfulness import (
    mean_source_accuracy as mean_source_accuracy,
)
from trustgauge.stats.aggregators.trustllm.truthfulness import (
    source_accuracy_metrics as source_accuracy_metrics,
)
from trustgauge.tasks.outcome import Outcome
from trustgauge.types import SampleScore


def correct_outcome(score: SampleScore, key: str = "correct") -> Outcome:
    """A 0/1 correctness value under ``key``: 0 fails, 1 passes; an invalid score or one without
    the value has no verdict."""
    value = score.values.get(key)
    if not score.valid or value is None:
        return "none"
    return "fail" if value == 0 else "pass"
