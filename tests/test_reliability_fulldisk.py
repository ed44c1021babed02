"""Issue 12 item 9: a full disk gives one clear line and exit 2, loses nothing paid for, and
leaves nothing half-written.

Two ways: a real, tiny tmpfs (``mount -t tmpfs -o size=...``; needs root, skipped where it
cannot be mounted) under the store, the run directory and the encoder's model cache; and,
everywhere, the same failures injected at the OS boundary (SQLite's own ``max_page_count``
limit raises the real ``database or disk is full``; ``os.fsync``/``onnx.save`` raise
``ENOSPC``).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import cli_env
from fake_server import FakeServer
from trustgauge.cli import app
from trustgauge.engine import store as store_module
from trustgauge.errors import UsageError

TASK = "truthfulness.hallucination"  # no judge
JUDGED = "safety.exaggerated"  # refusal judge (MiniLM encoder)


def tg(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(home, **env),
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def spec(server: FakeServer) -> str:
    return f"openai-compatible:test-model@{server.openai_base_url}"


def stored(home: Path) -> int:
    db = sqlite3.connect(home / "store.sqlite3")
    try:
        return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    finally:
        db.close()


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """``make(kb)``: a fresh tmpfs of that size; the test is skipped where none can be mounted."""
    mounted: list[Path] = []

    def make(kb: int) -> Path:
        mnt = tmp_path / f"fs{len(mounted)}"
        mnt.mkdir()
        if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("mounting a small tmpfs needs root (the injected-ENOSPC tests cover this)")
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kb}k", "tmpfs", str(mnt)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
        mounted.append(mnt)
        return mnt

    yield make
    for mnt in mounted:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(fs: Path, leave_kb: int) -> Path:
    """Take all but ``leave_kb`` of the free space of ``fs``."""
    st = os.statvfs(fs)
    free = st.f_bavail * st.f_frsize
    filler = fs / "filler"
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave_kb * 1024))
    return filler


# ------------------------------------------------------------------ a real, full filesystem


def test_full_disk_under_the_run_directory(tmp_path: Path, tg_home: Path, trustllm_dir: Path,
                                           small_fs: Callable[[int], Path]) -> None:
    fs = small_fs(256)
    out = fs / "run"
    with FakeServer.start(models=["test-model"]) as server:
        args = ["run", "-m", spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "-q"]
        small = tg([*args, "-n", "2", "-o", str(out)], tg_home)
        assert small.returncode == 0, small.stderr
        old = {p.name: p.read_bytes() for p in out.iterdir()}
        big = tg([*args, "-n", "80", "-o", str(out)], tg_home)  # does not fit beside the old run
        assert big.returncode == 2, big.stderr
        line = one_line(big.stderr)
        assert "cannot write the run directory" in line and "No space left on device" in line
        # the old run is untouched, nothing half-written is left beside it
        assert {p.name: p.read_bytes() for p in out.iterdir()} == old
        assert sorted(p.name for p in fs.iterdir()) == ["run"]
        # every response was stored: writing elsewhere costs no request
        sent = server.stats()["requests"]
        again = tg([*args, "-n", "80", "-o", str(tmp_path / "elsewhere")], tg_home)
        assert again.returncode == 0, again.stderr
        assert server.stats()["requests"] == sent == 80
        assert json.loads((tmp_path / "elsewhere" / "run.json").read_text())["requests"]["cached"] == 80


def test_full_disk_under_the_store(tmp_path: Path, trustllm_dir: Path, small_fs: Callable[[int], Path]) -> None:
    home = small_fs(4096)
    with FakeServer.start(models=["test-model"]) as server:
        args = ["run", "-m", spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "-q", "-c", "1"]
        first = tg([*args, "-n", "2", "-o", str(tmp_path / "first")], home)
        assert first.returncode == 0, first.stderr
        before, paid_before = stored(home), server.stats()["successes"]
        filler = fill(home, leave_kb=200)  # the WAL index alone takes 32 KB
        res = tg([*args, "-n", "120", "-o", str(tmp_path / "run")], home)
        assert res.returncode == 2, res.stderr
        line = one_line(res.stderr)
        assert "cannot write the store" in line and "database or disk is full" in line
        assert not (tmp_path / "run").exists()
        kept = stored(home) - before
        paid = server.stats()["successes"] - paid_before
        assert 0 < kept < 120  # what arrived before the disk filled is stored
        # lost: only the response that did not fit and the one request still in flight (-c 1)
        assert paid <= kept + 2
        filler.unlink()
        again = tg([*args, "-n", "120", "-o", str(tmp_path / "run")], home)
        assert again.returncode == 0, again.stderr
        req = json.loads((tmp_path / "run" / "run.json").read_text())["requests"]
        assert req["cached"] >= kept and req["sent"] == req["unique"] - req["cached"]
        assert server.stats()["successes"] == paid_before + paid + req["sent"]


def test_full_disk_while_the_encoder_graph_is_built(tmp_path: Path, tg_home: Path, trustllm_dir: Path,
                                                    small_fs: Callable[[int], Path]) -> None:
    cache = small_fs(1024)  # the refusal judge's fp32 graph needs ~90 MB (an int8 one ~25 MB)
    # an answer the refusal judge's gate is not sure of, so the judge needs its encoder (the cascade builds
    # the graph only then: a run whose answers the rules and the gate decide never touches the disk)
    unsure = "Yes, Angelina Jolie was divorced from Brad Pitt in 2016. They had been married since 2004."
    with FakeServer.start(models=["test-model"], default_reply=unsure) as server:
        args = ["run", "-m", spec(server), "-t", JUDGED, "--data-dir", str(trustllm_dir), "-q", "-n", "3",
                "-o", str(tmp_path / "run")]
        for _ in range(2):  # every attempt cleans up after itself
            res = tg(args, tg_home, TRUSTGAUGE_MODEL_CACHE=str(cache))
            assert res.returncode == 2, res.stderr
            line = one_line(res.stderr)
            assert "cannot build the offline judges' encoder" in line and "No space left on device" in line
            assert list(cache.iterdir()) == []
        assert stored(tg_home) == server.stats()["requests"]  # whatever was paid for is stored


# ------------------------------------------------------------------ injected at the OS boundary


def _run_cli(server: FakeServer, data: Path, out: Path, n: int) -> Any:
    return CliRunner().invoke(app, ["run", "-m", spec(server), "-t", TASK, "--data-dir", str(data), "-q",
                                    "-c", "1", "-n", str(n), "-o", str(out)])


def test_store_full_injected(tmp_path: Path, tg_home: Path, trustllm_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's page limit raises the very error a full disk does."""
    original = store_module.Store._open

    def small_open(self: store_module.Store, path: Path) -> None:
        original(self, path)
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        self._db.execute(f"PRAGMA max_page_count={pages + 12}")

    monkeypatch.setattr(store_module.Store, "_open", small_open)
    with FakeServer.start(models=["test-model"]) as server:
        res = _run_cli(server, trustllm_dir, tmp_path / "run", 100)
        assert res.exit_code == 2, res.output
        line = one_line(res.output)
        assert "cannot write the store" in line and "database or disk is full" in line
        kept = stored(tg_home)
        assert 0 < kept < 100 and server.stats()["successes"] <= kept + 2
        monkeypatch.setattr(store_module.Store, "_open", original)
        res = _run_cli(server, trustllm_dir, tmp_path / "run", 100)
        assert res.exit_code == 0, res.output
        req = json.loads((tmp_path / "run" / "run.json").read_text())["requests"]
        assert req["cached"] == kept and req["sent"] == req["unique"] - kept


def test_run_directory_full_injected(tmp_path: Path, tg_home: Path, trustllm_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with FakeServer.start(models=["test-model"]) as server:
        with monkeypatch.context() as patch:
            patch.setattr(os, "fsync", no_space)
            res = _run_cli(server, trustllm_dir, tmp_path / "run", 5)
        assert res.exit_code == 2, res.output
        assert "No space left on device" in one_line(res.output)
        assert list(tmp_path.iterdir()) == []  # no run directory, no hidden sibling
        res = _run_cli(server, trustllm_dir, tmp_path / "run", 5)
        assert res.exit_code == 0, res.output
        assert server.stats()["successes"] == 5  # nothing sent twice


def test_encoder_graph_full_injected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import onnx

    from trustgauge.judges import _encoder

    try:
        _encoder.locate_weights()
    except UsageError:
        pytest.skip("the MiniLM weights are not available")
    cache = tmp_path / "cache"
    monkeypatch.setenv("TRUSTGAUGE_MODEL_CACHE", str(cache))
    real_save = onnx.save

    def save_half(model: Any, f: str, *a: Any, **k: Any) -> None:
        with open(f, "wb") as fh:
            fh.write(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fill_half(skeleton: bytes, weights: Any, fh: Any) -> None:
        fh.write(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(onnx, "save", save_half)
    monkeypatch.setattr(_encoder, "write_from_skeleton", fill_half)  # the graph comes from a skeleton
    for quantize in (True, False, True):
        with pytest.raises(UsageError, match=r"cannot build the offline judges' encoder .*No space left"):
            _encoder.graph_path(quantize)
        assert list(cache.iterdir()) == []
    monkeypatch.setattr(onnx, "save", real_save)
