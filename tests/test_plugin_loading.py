"""trustgauge._plugins: the one all-or-nothing plugin load the task registry, the judge catalogue
and the backend registry share (their own tests check the messages end to end)."""

from __future__ import annotations

import importlib.metadata
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from _plugins import install_dist
from trustgauge._plugins import describe_failure, load_plugin

REGISTRY: dict[str, str] = {}
LOG = logging.getLogger("tests.plugin_loading")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, importlib.metadata.EntryPoint]]:
    modules = {
        "tgpl_good": "from test_plugin_loading import REGISTRY\nREGISTRY['good'] = 'x'\n",
        "tgpl_half": "from test_plugin_loading import REGISTRY\nREGISTRY['half'] = 'y'\nraise ValueError('bad\\nmore')\n",
        "tgpl_none": "nothing = None\n",
    }
    root = install_dist(tmp_path / "site", "tgpl", "tests.plugin_loading",
                        {name.removeprefix("tgpl_"): name for name in modules}, modules)
    monkeypatch.syspath_prepend(str(root))
    REGISTRY.clear()
    yield {ep.name: ep for ep in importlib.metadata.entry_points(group="tests.plugin_loading")}
    REGISTRY.clear()
    for name in modules:
        sys.modules.pop(name, None)


def load(ep: importlib.metadata.EntryPoint, errors: list[str]) -> bool:
    def restore(before: dict[str, str]) -> None:
        REGISTRY.clear()
        REGISTRY.update(before)

    return load_plugin(
        ep, kind="toy", lock=threading.RLock(), snapshot=lambda: dict(REGISTRY), restore=restore,
        check=lambda before: None if before != REGISTRY else "it registered nothing", errors=errors, log=LOG,
    )


def test_describe_failure_keeps_the_type_and_the_first_line() -> None:
    assert describe_failure(ValueError("bad\nmore")) == "ValueError: bad"
    assert describe_failure(KeyError()) == "KeyError"


def test_a_good_plugin_stays_a_broken_one_is_rolled_back_with_one_line(
    site: dict[str, importlib.metadata.EntryPoint], caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[str] = []
    with caplog.at_level(logging.ERROR, logger=LOG.name):
        assert load(site["good"], errors) is True
        assert load(site["half"], errors) is False  # registered 'half', then raised: rolled back
        assert load(site["none"], errors) is False
    assert REGISTRY == {"good": "x"}
    assert errors == [
        "toy plugin 'half' (tgpl_half from tgpl) was skipped: ValueError: bad",
        "toy plugin 'none' (tgpl_none from tgpl) was skipped: it registered nothing",
    ]
    assert [r.getMessage() for r in caplog.records] == [f"error: {e}" for e in errors]
