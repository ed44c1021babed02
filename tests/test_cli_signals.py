"""Ctrl-C and SIGTERM in the CLI's event loop (``cli/_common.py::_run_async``), each scenario in
its own Python process (a signal sent to the pytest worker would stop the suite).

The case that matters: a library that swaps the Python SIGINT handler for a moment and drops a
signal arriving then (Ray defers SIGINT while it submits a task and forgets it if the submission
raises). Behind asyncio's own Python-level handler that Ctrl-C was lost and the run went on to
the end; through the loop's wakeup pipe it still stops the run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

PRELUDE = textwrap.dedent(
    """
    import asyncio, os, signal, sys, time
    from trustgauge.cli._common import _run_async

    events = []

    def report(outcome):
        print(outcome, ",".join(events), flush=True)
    """
)


def _scenario(body: str, timeout: float = 30) -> tuple[str, str]:
    done = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(body)], capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome, _, events = done.stdout.strip().partition(" ")
    return outcome, events


def test_ctrl_c_cancels_the_work_runs_its_cleanup_and_raises_keyboard_interrupt() -> None:
    outcome, events = _scenario(
        """
        async def work():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                await asyncio.sleep(10)
                events.append("finished")
            except asyncio.CancelledError:
                events.append("cancelled")
                raise
            finally:
                await asyncio.sleep(0.01)  # cleanup may await
                events.append("cleanup")

        try:
            _run_async(work())
            report("returned")
        except KeyboardInterrupt:
            report("interrupted")
        """
    )
    assert (outcome, events) == ("interrupted", "cancelled,cleanup")


def test_sigterm_does_the_same_and_its_handler_is_restored() -> None:
    outcome, events = _scenario(
        """
        async def work():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                await asyncio.sleep(10)
            finally:
                events.append("cleanup")

        def mine(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, mine)
        try:
            _run_async(work())
            report("returned")
        except KeyboardInterrupt:
            events.append(f"sigint-default={signal.getsignal(signal.SIGINT) is signal.default_int_handler}")
            report("interrupted")
        """
    )
    assert (outcome, events) == ("interrupted", "cleanup,sigint-default=True")


def test_a_ctrl_c_that_a_library_swallows_still_stops_the_run() -> None:
    """The library's context (like Ray's DeferSigint) takes SIGINT for a moment, and drops it
    because the call inside raised; asyncio's Python-level handler never sees it."""
    outcome, events = _scenario(
        """
        def library_call():
            previous = signal.signal(signal.SIGINT, lambda s, f: events.append("deferred"))
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the Python-level handler runs here: the signal is 'deferred'
                raise ConnectionError("submission failed")
            finally:
                signal.signal(signal.SIGINT, previous)  # ... and dropped: an exception is on its way

        async def work():
            try:
                library_call()
            except ConnectionError:
                events.append("retried")
            started = time.monotonic()
            try:
                await asyncio.sleep(5)
                events.append("ran to the end")
            finally:
                events.append(f"stopped-within-1s={time.monotonic() - started < 1}")

        try:
            _run_async(work())
            report("returned")
        except KeyboardInterrupt:
            report("interrupted")
        """
    )
    assert (outcome, events) == ("interrupted", "deferred,retried,stopped-within-1s=True")


def test_a_second_ctrl_c_during_a_slow_cleanup_stops_at_once() -> None:
    outcome, events = _scenario(
        """
        async def work():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                events.append("cancelled")
                os.kill(os.getpid(), signal.SIGINT)  # impatient: Ctrl-C again
                started = time.monotonic()
                try:
                    await asyncio.sleep(10)  # a cleanup that would take long
                finally:
                    events.append(f"cleanup-cut-short={time.monotonic() - started < 5}")
                raise

        try:
            _run_async(work())
            report("returned")
        except KeyboardInterrupt:
            report("interrupted")
        """
    )
    assert (outcome, events) == ("interrupted", "cancelled,cleanup-cut-short=True")


def test_work_that_ends_normally_returns_its_value_and_leaves_no_handler_behind() -> None:
    outcome, events = _scenario(
        """
        async def work():
            await asyncio.sleep(0)
            return 42

        value = _run_async(work())
        events.append(f"value={value}")
        events.append(f"sigint-default={signal.getsignal(signal.SIGINT) is signal.default_int_handler}")
        report("returned")
        """
    )
    assert (outcome, events) == ("returned", "value=42,sigint-default=True")
