"""Metric values (:class:`~trustgauge.types.MetricValue`) with their 95% intervals: the
building blocks of every aggregator (``stats/aggregators``).

:func:`intervals_disabled` switches the bootstrap intervals off for callers that aggregate many
times over resamples (``trustgauge compare``), where each call's own interval is wasted work."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from trustgauge.stats.metrics import bootstrap_ci, wilson_ci
from trustgauge.types import Direction, MetricValue, Sample, SampleScore

T = TypeVar("T")

#: whether :func:`bootstrap_metric` computes its interval (off inside :func:`intervals_disabled`)
_INTERVALS: ContextVar[bool] = ContextVar("trustgauge_bootstrap_intervals", default=True)


#: whether an aggregator is being called on a resample of a run (``compare``'s paired tests)
_RESAMPLING: ContextVar[bool] = ContextVar("trustgauge_resampling", default=False)


@contextmanager
def resampling() -> Iterator[None]:
    """Within this block an aggregator is called on a resample of a run's samples, many times
    (``trustgauge compare``'s paired tests): it may leave out what describes the data rather than
    the model and costs much (the membership split's shift check), see :func:`is_resampling`."""
    token = _RESAMPLING.set(True)
    try:
        yield
    finally:
        _RESAMPLING.reset(token)


def is_resampling() -> bool:
    """Whether the caller is inside :func:`resampling`."""
    return _RESAMPLING.get()


@contextmanager
def intervals_disabled() -> Iterator[None]:
    """Within this block, :func:`bootstrap_metric` leaves ``ci`` as ``None`` (the values are
    unchanged): for callers that run a task's ``aggregate`` many times, e.g. a paired bootstrap
    in ``trustgauge compare``, where each call's own interval would be wasted work."""
    token = _INTERVALS.set(False)
    try:
        yield
    finally:
        _INTERVALS.reset(token)


def proportion_metric(
    name: str,
    direction: Direction,
    flags: Sequence[bool],
    *,
    n_invalid: int = 0,
    empty_reason: str = "no valid responses",
) -> MetricValue:
    """A share of true flags with its Wilson 95% interval (``None`` + reason when empty)."""
    if not flags:
        return MetricValue(
            metric=name,
            value=None,
            direction=direction,
            n=0,
            n_invalid=n_invalid,
            reason=empty_reason,
        )
    successes = sum(1 for f in flags if f)
    return MetricValue(
        metric=name,
        value=successes / len(flags),
        direction=direction,
        ci=wilson_ci(successes, len(flags)),
        n=len(flags),
        n_invalid=n_invalid,
    )


def share_metrics(
    name: str,
    direction: Direction,
    key: str,
    scored: Sequence[tuple[Sample, SampleScore]],
    *,
    breakdown: str | None = None,
    groups: Sequence[str] = (),
) -> list[MetricValue]:
    """Share of valid samples whose ``values[key]`` is 1 (Wilson interval; invalid samples
    counted in ``n_invalid``), then ``name[<group>]`` for each of ``groups`` (values of the
    metadata key ``breakdown``) present in the samples."""

    def share(metric: str, subset: Sequence[tuple[Sample, SampleScore]]) -> MetricValue:
        flags = [sc.values.get(key) == 1.0 for _, sc in subset if sc.valid]
        invalid = sum(1 for _, sc in subset if not sc.valid)
        return proportion_metric(metric, direction, flags, n_invalid=invalid)

    metrics = [share(name, scored)]
    if breakdown is not None:
        for group in groups:
            subset = [(s, sc) for s, sc in scored if s.metadata.get(breakdown) == group]
            if subset:
                metrics.append(share(f"{name}[{group}]", subset))
    return metrics


def bootstrap_metric(
    name: str,
    direction: Direction,
    items: Sequence[T],
    statistic: Callable[[Sequence[T]], float | None],
    *,
    n_invalid: int = 0,
    empty_reason: str = "no valid responses",
    n: int | None = None,
) -> MetricValue:
    """``statistic(items)`` with a percentile-bootstrap 95% interval over ``items`` (which may be
    groups); ``None`` + reason when the statistic is undefined."""
    value = statistic(items) if items else None
    count = len(items) if n is None else n
    if value is None:
        return MetricValue(
            metric=name,
            value=None,
            direction=direction,
            n=count,
            n_invalid=n_invalid,
            reason=empty_reason,
        )
    return MetricValue(
        metric=name,
        value=value,
        direction=direction,
        ci=bootstrap_ci(items, statistic) if _INTERVALS.get() else None,
        n=count,
        n_invalid=n_invalid,
    )
