"""A new contributor follows docs/extending.md, the Python API and the config docs literally:
each test here failed before the fix it names (audit of docs against the product)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _plugins import install_dist
from trustgauge.stats.aggregators import registry as aggregators

AGGREGATOR_MODULE = '''
from trustgauge.stats.aggregators import register_aggregator
from trustgauge.stats.metric_values import proportion_metric


@register_aggregator("mybench.sure_share@1")
def sure_share(scored, params):
    flags = [sc.values["sure"] == 1.0 for _, sc in scored if sc.valid]
    return [proportion_metric("sure_rate", "higher", flags, n_invalid=len(scored) - len(flags))]
'''


@pytest.fixture
def aggregator_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    state = aggregators._state()
    root = install_dist(tmp_path / "site", "tgsure", "trustgauge.aggregators",
                        {"sure": "tg_sure_agg"}, {"tg_sure_agg": AGGREGATOR_MODULE})
    monkeypatch.syspath_prepend(str(root))
    yield
    sys.modules.pop("tg_sure_agg", None)
    aggregators._restore(state)


def test_an_aggregator_module_imported_before_its_entry_point_loads_is_not_reported_broken(
    aggregator_plugin: None,
) -> None:
    """extending.md: the task names its aggregator, and the aggregator's module is published
    under ``trustgauge.aggregators`` too. A task module that imports it (or defines it) runs the
    decorator when the task registry loads, before the aggregator entry point: the plugin was
    then skipped with "it registered no aggregator" on every run, though it had."""
    importlib.import_module("tg_sure_agg")  # the task plugin imported it first
    aggregators._restore((aggregators._state()[0], [], False))  # read afresh: load the plugins
    assert "mybench.sure_share@1" in aggregators.known_aggregators()
    assert aggregators.plugin_errors() == []
