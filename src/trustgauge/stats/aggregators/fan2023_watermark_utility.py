"""Aggregator of the watermark's quality cost (``tasks/fan2023/watermark_utility.py``): a TrustLLM
slice answered without a mark (arm ``none``) and with each scheme, scored by each sub-task's own
rules.

Each scored sample (one item) carries, per arm ``A``, ``values["valid[A]"]`` (1: the sub-task
could read the answer) and ``values["<value>[A]"]`` (the sub-task's per-item score, ``correct``
0/1), and the sub-task's own sample in ``metadata`` (``task``, ``sub_id``, ``sub_group``,
``sub_metadata``; the target is the item's).

- ``score[A/<task>]``: the sub-task's own headline metric, by its own aggregator and params
  (``params["tasks"][<task>]``), over its items' arm-``A`` answers. The sub-task's scores are
  rebuilt from the stored values: ``valid``, ``values[<value>]`` and a label equal to the target
  exactly when the item is correct (what the slice's aggregators read: correctness, validity,
  target and metadata).
- ``delta[S]``: the mean over items answered validly in both arms of ``<value>[S] -
  <value>[none]``, with a percentile bootstrap interval over those items (each resampled item
  keeps both its answers: a paired bootstrap). ``delta[S/<task>]``: the same over one sub-task's
  items. An item unreadable in either arm is left out (``n_invalid``).
- ``delta`` (headline): the mean of the schemes' ``delta[S]``, its interval from resampling
  items (with all their arms).

Params: ``arms`` (``["none", S...]``), ``value`` (the per-item value key), ``tasks`` (task id ->
``{"aggregator", "params", "metric", "direction"}``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trustgauge.stats.aggregators.registry import Params, Scored, aggregate, register_aggregator
from trustgauge.stats.metric_values import bootstrap_metric
from trustgauge.types import MetricValue, Sample, SampleScore

__all__ = ["inner_scored", "paired_changes", "watermark_utility_v1"]

NONE = "none"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def inner_scored(scored: Scored, task: str, arm: str, value: str) -> list[tuple[Sample, SampleScore]]:
    """The sub-task ``task``'s own (sample, score) pairs for arm ``arm``, rebuilt from the items."""
    out: list[tuple[Sample, SampleScore]] = []
    for sample, sc in scored:
        meta = sample.metadata
        if meta.get("task") != task:
            continue
        inner = Sample(id=str(meta.get("sub_id", sample.id)), prompt=sample.prompt, target=sample.target,
                       group=meta.get("sub_group"), metadata=dict(meta.get("sub_metadata") or {}))
        valid = sc.valid and sc.values.get(f"valid[{arm}]") == 1.0
        x = _number(sc.values.get(f"{value}[{arm}]"))
        if not valid or x is None:
            out.append((inner, SampleScore(valid=False)))
            continue
        label = str(sample.target) if x == 1.0 else f"(not {sample.target})"
        out.append((inner, SampleScore(label=label, values={value: x})))
    return out


def paired_changes(scored: Scored, scheme: str, value: str, task: str | None = None) -> tuple[list[float], int]:
    """The per-item changes ``value[scheme] - value[none]`` of the items (of ``task``, or all)
    answered validly in both arms, and how many items were left out."""
    changes: list[float] = []
    left_out = 0
    for sample, sc in scored:
        if task is not None and sample.metadata.get("task") != task:
            continue
        pair = [_number(sc.values.get(f"{value}[{arm}]")) if sc.valid and sc.values.get(f"valid[{arm}]") == 1.0
                else None for arm in (scheme, NONE)]
        if pair[0] is None or pair[1] is None:
            left_out += 1
        else:
            changes.append(pair[0] - pair[1])
    return changes, left_out


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _task_score(scored: Scored, task: str, spec: Mapping[str, Any], arm: str, value: str) -> MetricValue:
    subset = inner_scored(scored, task, arm, value)
    name = f"score[{arm}/{task}]"
    metric, direction = str(spec["metric"]), spec["direction"]
    if not subset:
        return MetricValue(metric=name, value=None, direction=direction, n=0, reason="no item of this task")
    found = next((m for m in aggregate(str(spec["aggregator"]), subset, dict(spec.get("params") or {}))
                  if m.metric == metric), None)
    if found is None:
        return MetricValue(metric=name, value=None, direction=direction, n=len(subset),
                           reason=f"the task's aggregator gave no {metric}")
    return found.model_copy(update={"metric": name})


@register_aggregator("fan2023.watermark_utility@1")
def watermark_utility_v1(scored: Scored, params: Params) -> list[MetricValue]:
    arms = [str(a) for a in params["arms"]]
    schemes = [a for a in arms if a != NONE]
    value = str(params.get("value", "correct"))
    tasks: Mapping[str, Mapping[str, Any]] = params["tasks"]

    per_item: list[dict[str, float]] = []
    for sample, sc in scored:
        row: dict[str, float] = {}
        for s in schemes:
            changes, _ = paired_changes([(sample, sc)], s, value)
            if changes:
                row[s] = changes[0]
        per_item.append(row)

    def overall(items: Sequence[dict[str, float]]) -> float | None:
        means = [_mean([r[s] for r in items if s in r]) for s in schemes]
        return None if not means or any(m is None for m in means) else sum(m for m in means if m is not None) / len(means)

    usable = [r for r in per_item if r]
    metrics = [bootstrap_metric("delta", "higher", usable, overall, n_invalid=len(per_item) - len(usable),
                                empty_reason="no item answered readably both with and without a mark")]
    for s in schemes:
        changes, left_out = paired_changes(scored, s, value)
        metrics.append(bootstrap_metric(f"delta[{s}]", "higher", changes, _mean, n_invalid=left_out,
                                        empty_reason="no item answered readably both with and without the mark"))
    for task, spec in tasks.items():
        for arm in arms:
            metrics.append(_task_score(scored, task, spec, arm, value))
        for s in schemes:
            changes, left_out = paired_changes(scored, s, value, task)
            metrics.append(bootstrap_metric(f"delta[{s}/{task}]", "higher", changes, _mean, n_invalid=left_out,
                                            empty_reason="no item answered readably both with and without the mark"))
    return metrics
