"""The per-source accuracy metrics the internal-knowledge and hallucination tasks share: the
unweighted mean of the per-source accuracies, and each source's own."""

from __future__ import annotations

from collections.abc import Sequence

from trustgauge.stats.metric_values import bootstrap_metric, proportion_metric
from trustgauge.stats.metrics import mean
from trustgauge.tasks.base import MetricValue, Sample, SampleScore
from trustgauge.tasks.outcome import Outcome


def mean_source_accuracy(items: Sequence[tuple[str, bool]]) -> float | None:
    """The unweighted mean over the sources of each source's accuracy."""
    by_source: dict[str, list[bool]] = {}
    for source, correct in items:
        by_source.setdefault(source, []).append(correct)
    return mean(sum(flags) / len(flags) for flags in by_source.values())


def source_accuracy_metrics(
    scored: Sequence[tuple[Sample, SampleScore]], sources: Sequence[str], *, empty_reason: str
) -> list[MetricValue]:
    """``accuracy`` = the unweighted mean of the per-source accuracies (bootstrap interval over
    the valid items), then ``accuracy[<source>]`` (Wilson) for each of ``sources`` present.
    A sample counts when it is valid and has a ``correct`` value; the others are ``n_invalid``."""
    valid: list[tuple[str, bool]] = []
    invalid: dict[str, int] = {}
    present: set[str] = set()
    for sample, sc in scored:
        source = str(sample.metadata.get("source"))
        present.add(source)
        correct = sc.values.get("correct")
        if sc.valid and correct is not None:
            valid.append((source, correct == 1.0))
        else:
            invalid[source] = invalid.get(source, 0) + 1
    per_source = [
        proportion_metric(
            f"accuracy[{source}]",
            "higher",
            [c for s, c in valid if s == source],
            n_invalid=invalid.get(source, 0),
            empty_reason=empty_reason,
        )
        for source in sources
        if source in present
    ]
    overall = bootstrap_metric(
        "accuracy",
        "higher",
        valid,
        mean_source_accuracy,
        n_invalid=sum(invalid.values()),
        empty_reason=empty_reason,
    )
    missing = [m.metric for m in per_source if m.value is None]
    if overall.value is not None and missing:
        overall = overall.model_copy(
            update={"reason": f"mean over the sources with answers; undefined: {', '.join(missing)}"}
        )
    return [overall, *per_source]


def correct_outcome(score: SampleScore, key: str = "correct") -> Outcome:
    """A 0/1 correctness value under ``key``: 0 fails, 1 passes; an invalid score or one without
    the value has no verdict."""
    value = score.values.get(key)
    if not score.valid or value is None:
        return "none"
    return "fail" if value == 0 else "pass"
