"""Aggregators any task can declare without writing one: the mean of per-sample values."""

from __future__ import annotations

from trustgauge.stats.aggregators.registry import Params, Scored, register_aggregator
from trustgauge.stats.metric_values import bootstrap_metric, proportion_metric
from trustgauge.stats.metrics import mean
from trustgauge.types import MetricValue


@register_aggregator("mean@1")
def mean_v1(scored: Scored, params: Params) -> list[MetricValue]:
    """One metric per entry of ``params["metrics"]`` (``[metric, key, direction]``): the mean
    of ``values[key]`` over the valid samples that have it, with a Wilson 95% interval when
    every such value is 0 or 1 (a share) and a percentile-bootstrap one otherwise. Samples that
    are invalid or lack the key count in ``n_invalid``; over none, the metric is undefined and
    says which key was missing.

    ``{"metrics": [["sure_rate", "sure", "higher"]]}``: the share of samples scored
    ``values["sure"] == 1``."""
    out: list[MetricValue] = []
    for metric, key, direction in params["metrics"]:
        values = [
            float(v) for _, sc in scored if sc.valid and (v := sc.values.get(key)) is not None
        ]
        n_invalid = len(scored) - len(values)
        reason = f"no valid sample has a {key!r} value"
        if values and all(v in (0.0, 1.0) for v in values):
            out.append(proportion_metric(
                metric, direction, [v == 1.0 for v in values], n_invalid=n_invalid, empty_reason=reason
            ))
        else:
            out.append(bootstrap_metric(
                metric, direction, values, mean, n_invalid=n_invalid, empty_reason=reason
            ))
    return out
