"""Shared fixtures: an isolated TRUSTGAUGE_HOME, the shared data folder, the fake server."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO / "tests"))

# Under pytest-xdist with several workers (`make test`: one per core), every worker and the
# processes it starts (CLI runs, llama.cpp servers, torch) use ONE OpenMP thread unless the
# developer said otherwise. Two real-model files at once with two threads each on two cores
# stalled at OpenMP barriers: measured side by side on the 2-core EPYC, the watermark and
# real-model files took 480 s together with the default threads, 307 s with one (CPU 1.1 of 2
# cores busy -> 2). Set before any test module imports torch (which reads it once).
# ``models/gguf.py::default_threads`` honours OMP_NUM_THREADS too.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or "1") > 1:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def tg_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own store and cache."""
    home = tmp_path_factory.mktemp("tg_home")
    monkeypatch.setenv("TRUSTGAUGE_HOME", str(home))
    # converted models (MiniLM -> ONNX) are shared by all tests of a session: ~3 s to build
    monkeypatch.setenv("TRUSTGAUGE_MODEL_CACHE", str(_model_cache(tmp_path_factory)))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("TRUSTGAUGE_DATA_DIR", raising=False)  # a developer's own data folder
    return home


_MODEL_CACHE: list[Path] = []


def _model_cache(factory: pytest.TempPathFactory) -> Path:
    if not _MODEL_CACHE:
        if os.environ.get("PYTEST_XDIST_WORKER"):
            # under pytest-xdist (`make test`), one cache for all workers: the folder above each
            # worker's base temp is the run's; safe, as every cached file is written atomically
            # (a temporary file renamed into place), so two workers building the same graph at
            # once only waste the second build
            path = factory.getbasetemp().parent / "model_cache"
            path.mkdir(exist_ok=True)
            _MODEL_CACHE.append(path)
        else:
            _MODEL_CACHE.append(factory.mktemp("model_cache"))
    return _MODEL_CACHE[0]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is not present")
    return path


@pytest.fixture(scope="session")
def trustllm_dir(shared_data: Path) -> Path:
    return shared_data / "trustllm"


@pytest.fixture
def fake_server() -> Iterator[object]:
    """A fresh fault-injecting OpenAI-compatible server on 127.0.0.1 (separate process)."""
    from fake_server import FakeServer

    server = FakeServer.start(models=["test-model", "text-embedding-ada-002"])
    try:
        yield server
    finally:
        server.stop()


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for running the CLI in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")}
    env["TRUSTGAUGE_HOME"] = str(home)
    env["CI"] = "true"
    env.update(extra)
    return env


# -- suite time: heavy files first, and a per-file summary --------------------------------------
# Under `--dist loadfile` a whole file goes to one worker, in collection order; a long file
# collected last (alphabetically: test_ray_executor, test_secrets_*, test_untrusted_*) keeps one
# worker busy while the other idles. Files listed in tests/heavy_files.txt (the slowest files of
# a measured run, slowest first; refresh it from the "slowest test files" summary below) are
# collected first so their time overlaps the many short files. The order within a file is kept.
# Tried once before (2026-12-05 morning) and reverted: the two SmolLM2 files then ran at once with
# two OpenMP threads each on two cores and stalled (watermark 160 -> 395 s). With one thread per
# worker (above) the pair runs side by side at full speed, and the order pays again.
_HEAVY_FILES = REPO / "tests" / "heavy_files.txt"


def _heavy_rank() -> dict[str, int]:
    if not _HEAVY_FILES.is_file():
        return {}
    names = [ln.split()[0] for ln in _HEAVY_FILES.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return {name: rank for rank, name in enumerate(names)}


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = _heavy_rank()
    if not rank:
        return
    last = len(rank)
    # a stable sort: every worker computes the same order (xdist requires it)
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1], last))


_FILE_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # on the xdist controller, reports of every worker arrive here
    path = report.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    _FILE_SECONDS[path] = _FILE_SECONDS.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: object, exitstatus: int, config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") or len(_FILE_SECONDS) < 20:
        return
    top = sorted(_FILE_SECONDS.items(), key=lambda kv: -kv[1])[:25]
    total = sum(_FILE_SECONDS.values())
    write = terminalreporter.write_line  # type: ignore[attr-defined]
    write(f"slowest test files (setup + call + teardown, {total:.0f} s in all; tests/heavy_files.txt):")
    for name, seconds in top:
        write(f"  {seconds:7.1f} s  {name}")
