"""Aggregator of the benchmark-contamination check (``tasks/fan2023/contamination.py``): the share
of benchmark items whose exact wording the model finds likelier than its paraphrases, beyond the
share of fresh control texts the same procedure flags.

Each scored sample carries ``values["flagged"]`` (1: the original beat every paraphrase by the
margin), ``values["gap"]`` (nats per token) and ``values["control"]`` (1: a fresh text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from trustgauge.stats.aggregators.registry import Params, Scored, register_aggregator
from trustgauge.stats.metric_values import bootstrap_metric, proportion_metric
from trustgauge.types import MetricValue, Sample, SampleScore

Pairs = Sequence[tuple[Sample, SampleScore]]

#: z for a two-sided 95% interval
_Z = 1.959963984540054


def excess_metric(flagged: MetricValue, control: MetricValue) -> MetricValue:
    """``flagged - flagged_control`` with a normal-approximation interval of a difference of two
    independent proportions (clipped to [-1, 1]); undefined, with the reason, when a side is."""
    if flagged.value is None or control.value is None:
        side = "benchmark" if flagged.value is None else "control"
        return MetricValue(metric="excess_flagged", value=None, direction="lower", n=flagged.n + control.n,
                           n_invalid=flagged.n_invalid + control.n_invalid,
                           reason=f"undefined: no scored {side} items")
    p1, n1, p2, n2 = flagged.value, flagged.n, control.value, control.n
    value = p1 - p2
    half = _Z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return MetricValue(metric="excess_flagged", value=value, direction="lower",
                       ci=(max(-1.0, value - half), min(1.0, value + half)), n=n1 + n2,
                       n_invalid=flagged.n_invalid + control.n_invalid)


@register_aggregator("fan2023.contamination@1")
def contamination_v1(scored: Scored, params: Params) -> list[MetricValue]:
    """``excess_flagged`` (primary), ``flagged`` and ``flagged_control`` (Wilson intervals),
    ``mean_gap`` and ``mean_gap_control`` (bootstrap), then ``flagged[benchmark]`` for each of
    ``params["benchmarks"]`` present."""
    tests = [(s, sc) for s, sc in scored if not s.metadata.get("control")]
    controls = [(s, sc) for s, sc in scored if s.metadata.get("control")]

    def share(name: str, subset: Pairs, what: str) -> MetricValue:
        flags = [sc.values.get("flagged") == 1.0 for _, sc in subset if sc.valid]
        return proportion_metric(name, "lower", flags, n_invalid=len(subset) - len(flags),
                                 empty_reason=f"undefined: no scored {what} items")

    def gap(name: str, subset: Pairs, what: str) -> MetricValue:
        gaps = [float(sc.values["gap"] or 0.0) for _, sc in subset if sc.valid and sc.values.get("gap") is not None]
        return bootstrap_metric(name, "lower", gaps, lambda xs: math.fsum(xs) / len(xs) if xs else None,
                                n_invalid=len(subset) - len(gaps), empty_reason=f"undefined: no scored {what} items")

    flagged = share("flagged", tests, "benchmark")
    control = share("flagged_control", controls, "control")
    out = [excess_metric(flagged, control), flagged, control, gap("mean_gap", tests, "benchmark"),
           gap("mean_gap_control", controls, "control")]
    for bench in params.get("benchmarks", []):
        subset = [(s, sc) for s, sc in tests if s.metadata.get("benchmark") == bench]
        if subset:
            out.append(share(f"flagged[{bench}]", subset, bench))
    return out
