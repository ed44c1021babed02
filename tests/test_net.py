"""trustgauge.net: the one retry loop and the one atomic write (issue 13, step 2).

Expected delays are computed by hand from ``random.Random(0)``'s first draws
(0.8444218515250481, 0.7579544029403025, 0.420571580830845): ``uniform(a, b) = a + (b-a)*r``."""

from __future__ import annotations

import asyncio
import errno
import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from trustgauge.engine import runner
from trustgauge.net import retry as net_retry
from trustgauge.net.atomic import atomic_write_bytes, atomic_write_text, atomic_write_with
from trustgauge.net.retry import Permanent, RetryPolicy, Transient, retry


class Boom(Exception):
    def __init__(self, message: str, *, transient: bool = True, retry_after: float | None = None,
                 overload: bool = False) -> None:
        super().__init__(message)
        self.transient, self.retry_after, self.overload = transient, retry_after, overload


def classify(exc: Exception) -> Transient | Permanent:
    if isinstance(exc, Boom) and exc.transient:
        return Transient(str(exc), retry_after=exc.retry_after, overload=exc.overload)
    return Permanent(f"{type(exc).__name__}: {exc}")


def run_retry(failures: list[Exception], policy: RetryPolicy, *, result: str = "ok") -> tuple[
    net_retry.Attempted[str], list[float], list[str]
]:
    """Attempts raise ``failures`` in order, then return ``result``; returns the outcome, the
    waits asked for, and the hook calls."""
    sleeps: list[float] = []
    calls: list[str] = []
    queue = list(failures)

    async def attempt(n: int) -> str:
        calls.append(f"attempt {n}")
        if queue:
            raise queue.pop(0)
        return result

    async def on_transient(failure: Transient) -> None:
        calls.append(f"transient {failure.message} overload={failure.overload}")

    def on_retry(n: int, failure: Transient) -> None:
        calls.append(f"retry {n}")

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    done = asyncio.run(retry(attempt, classify, policy, rng=random.Random(0), on_transient=on_transient,
                             on_retry=on_retry, sleep=sleep))
    return done, sleeps, calls


def test_backoff_delays_and_success_after_retries() -> None:
    done, sleeps, calls = run_retry([Boom("a"), Boom("b"), Boom("c")], RetryPolicy(base_delay=1.0, max_delay=60))
    assert (done.value, done.error, done.attempts, done.ok) == ("ok", None, 4, True)
    assert sleeps == pytest.approx([1.3444218515250481, 2.515908805880605, 3.68228632332338], abs=1e-12)
    assert calls == [
        "attempt 1", "transient a overload=False", "retry 1",
        "attempt 2", "transient b overload=False", "retry 2",
        "attempt 3", "transient c overload=False", "retry 3",
        "attempt 4",
    ]


def test_retry_after_wins_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    _, sleeps, _ = run_retry([Boom("slow down", retry_after=3.0), Boom("later", retry_after=90.0)], policy)
    # 3 + uniform(0, 0.1); then capped at max_delay 5 + uniform(0, 0.1)
    assert sleeps == pytest.approx([3.0 + 0.1 * 0.8444218515250481, 5.0 + 0.1 * 0.7579544029403025], abs=1e-12)


def test_gives_up_after_max_retries_with_the_last_message() -> None:
    done, sleeps, calls = run_retry([Boom("503", overload=True)] * 3, RetryPolicy(max_retries=2, base_delay=0.5))
    assert (done.value, done.error, done.attempts) == (None, "503 (gave up after 3 attempts)", 3)
    assert len(sleeps) == 2  # no wait after the last attempt
    # the last failure still reaches on_transient (the engine lowers its concurrency), not on_retry
    assert calls[-2:] == ["attempt 3", "transient 503 overload=True"]


def test_permanent_failure_stops_at_once_without_a_draw() -> None:
    done, sleeps, calls = run_retry([Boom("a"), Boom("400 bad request", transient=False)], RetryPolicy())
    assert (done.error, done.attempts) == ("Boom: 400 bad request", 2)
    assert len(sleeps) == 1 and calls[-1] == "attempt 2"


def test_zero_retries_means_one_attempt() -> None:
    done, sleeps, _ = run_retry([Boom("x")], RetryPolicy(max_retries=0))
    assert (done.error, done.attempts, sleeps) == ("x (gave up after 1 attempts)", 1, [])


def test_cancellation_is_never_classified() -> None:
    seen: list[Exception] = []

    def record(exc: Exception) -> Transient | Permanent:
        seen.append(exc)
        return Transient("no")

    async def attempt(n: int) -> str:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(retry(attempt, record, RetryPolicy(), rng=random.Random(0)))
    assert seen == []


def test_runner_re_exports_the_policy() -> None:
    assert runner.RetryPolicy is RetryPolicy


def test_net_imports_only_foundation_modules() -> None:
    code = ("import sys, trustgauge.net.retry, trustgauge.net.atomic\n"
            "print('\\n'.join(m for m in sys.modules if m.startswith('trustgauge')))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert set(out.split()) <= {"trustgauge", "trustgauge._version", "trustgauge.net",
                                "trustgauge.net.retry", "trustgauge.net.atomic"}


# -- atomic writes ----------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_replaces_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    atomic_write_text(target, "new ünïcode\n")
    assert target.read_bytes() == "new ünïcode\n".encode()
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_write_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "plain", "x")
        atomic_write_text(tmp_path / "private", "x", mode=0o600)
        atomic_write_with(tmp_path / "private2", lambda p: p.write_text("y"), mode=0o600)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "plain") == 0o644  # what open() gives under this umask
    assert _mode(tmp_path / "private") == 0o600  # what mkstemp gave the HTML report
    assert _mode(tmp_path / "private2") == 0o600


def test_full_disk_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def writer(p: Path) -> None:
        p.write_text("new")

    monkeypatch.setattr(os, "fsync", no_space)
    for write in (lambda: atomic_write_text(target, "new"), lambda: atomic_write_with(target, writer)):
        with pytest.raises(OSError) as info:
            write()
        assert info.value.errno == errno.ENOSPC  # propagated unchanged: callers word it
        assert target.read_text() == "old"
        assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_writer_failing_half_way_leaves_nothing(tmp_path: Path) -> None:
    def half(p: Path) -> None:
        p.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError):
        atomic_write_with(tmp_path / "graph.onnx", half)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_with(tmp_path / "graph.onnx", lambda p: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert list(tmp_path.iterdir()) == []
