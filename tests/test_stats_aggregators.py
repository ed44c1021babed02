"""The aggregator catalogue (issue 13, step 11): named, versioned pure functions from scored
samples to metrics, found by the name ``scores.json`` stores, without any task code."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _imports import modules_after
from _plugins import install_dist
from trustgauge.stats.aggregators import (
    UnknownAggregator,
    aggregate,
    get_aggregator,
    known_aggregators,
    register_aggregator,
    registry,
)
from trustgauge.stats.metrics import wilson_ci
from trustgauge.types import MetricValue, Sample, SampleScore

PRODUCERS = ("trustgauge.tasks", "trustgauge.judges", "trustgauge.engine", "trustgauge.models",
             "trustgauge.data", "trustgauge.report", "trustgauge.pipeline", "trustgauge.results")


def test_the_catalogue_loads_no_task_judge_or_report_code() -> None:
    loaded = modules_after(
        "from trustgauge.stats.aggregators import known_aggregators; known_aggregators()"
    )
    assert "trustgauge.stats.aggregators.refusal" in loaded
    assert not any(m.startswith(PRODUCERS) for m in loaded), sorted(loaded)


@pytest.fixture
def restore_catalogue() -> Iterator[None]:
    state = registry._state()
    yield
    registry._restore(state)


def _scored(*rows: tuple[dict[str, float], bool]) -> list[tuple[Sample, SampleScore]]:
    return [
        (Sample(id=str(i), prompt="p"), SampleScore(values=values, valid=valid))
        for i, (values, valid) in enumerate(rows)
    ]


def test_mean_of_a_share_has_a_wilson_interval_and_counts_what_it_left_out() -> None:
    scored = _scored(({"sure": 1.0}, True), ({"sure": 0.0}, True), ({"sure": 1.0}, True),
                     ({"sure": 1.0}, False), ({}, True))
    (m,) = aggregate("mean@1", scored, {"metrics": [["sure_rate", "sure", "higher"]]})
    # 2 of the 3 valid samples with a value; the invalid one and the one without "sure" are out
    assert (m.metric, m.value, m.n, m.n_invalid, m.direction) == ("sure_rate", 2 / 3, 3, 2, "higher")
    assert m.ci == wilson_ci(2, 3)


def test_mean_of_continuous_values_and_an_undefined_metric_says_why() -> None:
    scored = _scored(({"len": 2.0}, True), ({"len": 4.0}, True), ({"len": 9.0}, True))
    length, other = aggregate(
        "mean@1", scored, {"metrics": [["length", "len", "lower"], ["missing", "nope", "higher"]]}
    )
    assert (length.value, length.n, length.n_invalid) == (5.0, 3, 0)  # (2 + 4 + 9) / 3
    assert length.ci is not None and 2.0 <= length.ci[0] <= 5.0 <= length.ci[1] <= 9.0
    assert other == MetricValue(metric="missing", value=None, direction="higher", n=0, n_invalid=3,
                                reason="no valid sample has a 'nope' value")


def test_rta_with_breakdown_in_declared_order_and_the_mirrored_compliance_rate() -> None:
    labels = [("a", "refusal"), ("a", "compliance"), ("b", "refusal"), ("b", None), ("c", "refusal")]
    scored = [
        (Sample(id=str(i), prompt="p", metadata={"kind": kind}),
         SampleScore(label=label, valid=label is not None))
        for i, (kind, label) in enumerate(labels)
    ]
    params = {"direction": "lower", "breakdown": "kind", "declared": ["rta", "rta[c]", "rta[a]"],
              "compliance_rate": True}
    got = aggregate("rta@1", scored, params)
    assert [m.metric for m in got] == ["rta", "compliance_rate", "rta[c]", "rta[a]", "rta[b]"]
    rta, compliance = got[0], got[1]
    assert (rta.value, rta.n, rta.n_invalid, rta.direction) == (0.75, 4, 1, "lower")  # 3 of 4 judged
    assert compliance.value == 0.25 and compliance.ci == (1 - rta.ci[1], 1 - rta.ci[0])  # type: ignore[index]
    assert [(m.value, m.n, m.n_invalid) for m in got[2:]] == [(1.0, 1, 0), (0.5, 2, 0), (1.0, 1, 1)]


def test_unknown_names_and_taken_names_are_refused(restore_catalogue: None) -> None:
    with pytest.raises(UnknownAggregator, match="'nope@1' is unknown to this version"):
        get_aggregator("nope@1")
    for bad in ("mean", "Mean@1", "mean@0", "a..b@1", "mean@v1"):
        with pytest.raises(ValueError, match="not of the form"):
            register_aggregator(bad)

    def other(scored, params):  # type: ignore[no-untyped-def]
        return []

    with pytest.raises(ValueError, match="'mean@1' is registered already"):
        register_aggregator("mean@1")(other)
    register_aggregator("toy.other@1")(other)
    assert "toy.other@1" in known_aggregators() and get_aggregator("toy.other@1") is other


PLUGIN = '''
from trustgauge.stats.aggregators import register_aggregator
from trustgauge.types import MetricValue


@register_aggregator("toy.count@1")
def count(scored, params):
    return [MetricValue(metric="count", value=float(len(scored)), direction="higher", n=len(scored))]
'''


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_catalogue: None) -> Iterator[None]:
    root = install_dist(
        tmp_path / "site", "tgaggs", "trustgauge.aggregators",
        {"good": "tg_agg_good", "broken": "tg_agg_broken", "empty": "tg_agg_empty"},
        {"tg_agg_good": PLUGIN, "tg_agg_broken": "import tg_no_such_module\n", "tg_agg_empty": "x = 1\n"},
    )
    monkeypatch.syspath_prepend(str(root))
    registry._restore((registry._state()[0], [], False))  # read afresh: load the plugins
    yield
    for name in ("tg_agg_good", "tg_agg_broken", "tg_agg_empty"):
        sys.modules.pop(name, None)


def test_plugins_register_by_entry_point_and_broken_ones_are_skipped(
    plugins: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="trustgauge.stats.aggregators.registry"):
        (m,) = aggregate("toy.count@1", _scored(({}, True), ({}, False)))
    assert m.value == 2.0
    errors = registry.plugin_errors()
    assert any(e.startswith("aggregator plugin 'broken' (tg_agg_broken from tgaggs) was skipped: "
                            "ModuleNotFoundError") for e in errors), errors
    assert any("'empty'" in e and "registered no aggregator" in e for e in errors), errors
    assert len(caplog.records) == 2


def test_a_run_whose_task_names_an_unregistered_aggregator_is_refused_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """A plugin task whose aggregator module is not installed: refused with one line naming the
    task and the aggregator, before the store is opened or anything is sent."""
    import asyncio

    import chat_toy
    from trustgauge.config import ModelConfig
    from trustgauge.data.sources import registry as data_registry
    from trustgauge.errors import ConfigError
    from trustgauge.pipeline.preflight import check_aggregators
    from trustgauge.pipeline.run import RunConfig, run_evaluation
    from trustgauge.report.writer import RENDERERS
    from trustgauge.tasks import registry as task_registry

    class Orphan(chat_toy.JudgedProbe):
        id = "toy.orphan"
        aggregator = "mybench.gone@2"

    check_aggregators([chat_toy.JudgedProbe()])  # a built-in aggregator: fine
    with pytest.raises(ConfigError, match=r"^task toy\.orphan declares aggregator 'mybench\.gone@2', "
                                          r"which no installed module registers"):
        check_aggregators([Orphan()])
    monkeypatch.setitem(data_registry._REGISTRY, chat_toy.DATASET, chat_toy.source())
    state = task_registry._state()
    request.addfinalizer(lambda: task_registry._restore(state))
    task_registry.register_task(Orphan)
    config = RunConfig(
        model=ModelConfig(model="scripted:refuse-all"), tasks=["toy.orphan"],
        data_dir=chat_toy.write_data(tmp_path / "data"), out=tmp_path / "run",
        judges={"refusal": "rules"}, store_path=tmp_path / "store.sqlite3", limit=2,
    )
    with pytest.raises(ConfigError, match=r"mybench\.gone@2"):
        asyncio.run(run_evaluation(config, renderers=RENDERERS))
    assert not (tmp_path / "run").exists() and not (tmp_path / "store.sqlite3").exists()
