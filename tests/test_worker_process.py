"""judges/_worker_process.py: a helper process that computes what the parent would, starts in the
background, never re-runs the parent's script, survives nothing of its parent, and is not
reached by a terminal Ctrl-C (issue 14, item 3)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from trustgauge._secrets import register_secret
from trustgauge.judges._worker_process import WorkerGone, WorkerProcess

SRC = str(Path(__file__).resolve().parents[1] / "src")
TESTS = str(Path(__file__).resolve().parent)


def _wait(pred: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too: it only waits to be reaped
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# module-level functions, so the child can import them (tests/ is on the parent's sys.path)
def add(a: int, b: int) -> int:
    return a + b


def fail(message: str) -> int:
    raise ValueError(message)


def chatty(x: int) -> int:
    print("a stray print that must not reach the results pipe")
    return x * 2


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def child_pid() -> int:
    return os.getpid()


_STATE: dict[str, int] = {}


def remember(value: int) -> None:
    _STATE["value"] = value


def recall() -> int:
    return _STATE["value"]


@pytest.fixture
def worker() -> object:
    w = WorkerProcess(remember, (41,))
    try:
        yield w
    finally:
        w.close()


def test_calls_return_what_the_parent_would_compute(worker: WorkerProcess) -> None:
    assert worker.submit(add, 2, 3).result(timeout=30) == 5
    assert worker.submit(recall).result(timeout=30) == 41  # the initializer ran in the child
    assert worker.submit(chatty, 21).result(timeout=30) == 42  # a print does not corrupt the protocol
    assert worker.submit(child_pid).result(timeout=30) == worker.pid != os.getpid()
    assert worker.ready()
    with pytest.raises(ValueError, match="bad input"):
        worker.submit(fail, "bad input").result(timeout=30)
    # many calls sent at once come back each to its own future, with large arguments
    big = "x" * 200_000
    futures = [worker.submit(add, big, str(i)) for i in range(50)]
    assert [f.result(timeout=30) for f in futures] == [big + str(i) for i in range(50)]


def test_ready_is_false_until_the_child_is_up_and_submit_never_blocks() -> None:
    w = WorkerProcess()
    try:
        assert not w.ready()  # the interpreter takes a while to start: nothing waited for it
        started = time.monotonic()
        futures = [w.submit(add, i, i) for i in range(200)]
        assert time.monotonic() - started < 0.5
        assert [f.result(timeout=30) for f in futures] == [2 * i for i in range(200)]
        assert w.ready()
    finally:
        w.close()


def test_close_fails_calls_in_flight_and_leaves_no_process(worker: WorkerProcess) -> None:
    assert worker.submit(add, 1, 1).result(timeout=30) == 2
    slow = worker.submit(nap, 30)
    queued = worker.submit(add, 1, 2)
    worker.close()
    for future in (slow, queued):
        with pytest.raises(WorkerGone):
            future.result(timeout=10)
    assert not _alive(worker.pid)
    assert worker.closed and not worker.ready()
    with pytest.raises(WorkerGone):
        worker.submit(add, 1, 1)
    worker.close()  # twice: harmless


def test_a_child_that_dies_fails_its_calls_instead_of_hanging(worker: WorkerProcess) -> None:
    assert worker.submit(add, 1, 1).result(timeout=30) == 2
    pending = worker.submit(nap, 30)
    os.kill(worker.pid, signal.SIGKILL)
    with pytest.raises(WorkerGone):
        pending.result(timeout=10)
    assert _wait(lambda: worker.closed)
    assert not worker.ready()
    with pytest.raises(WorkerGone):
        worker.submit(add, 1, 1)


def test_the_child_has_its_own_session_so_a_terminal_ctrl_c_does_not_reach_it(worker: WorkerProcess) -> None:
    worker.submit(add, 0, 0).result(timeout=30)
    assert os.getsid(worker.pid) != os.getsid(0)
    assert os.getpgid(worker.pid) != os.getpgid(0)


_PARENT = textwrap.dedent(
    """
    import sys, time
    sys.path[:0] = [{src!r}, {tests!r}]
    from trustgauge.judges._worker_process import WorkerProcess
    import test_worker_process as t
    w = WorkerProcess()
    print(w.submit(t.child_pid).result(timeout=60), flush=True)
    {busy}
    time.sleep(120)
    """
)


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "mid-call"])
def test_a_killed_parent_leaves_no_child_behind(tmp_path: Path, busy: bool) -> None:
    code = _PARENT.format(src=SRC, tests=TESTS, busy="w.submit(t.nap, 60)" if busy else "")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)  # no chance to close anything
        parent.wait(timeout=10)
        # idle: its stdin reaches end of file; mid-call: the watcher sees the parent change
        assert _wait(lambda: not _alive(child), timeout=10), f"helper {child} outlived its parent"
    finally:
        parent.kill()


def test_a_script_without_a_main_guard_is_not_run_again_in_the_child(tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{SRC!r}]
        with open({str(marker)!r}, "a") as fh:
            fh.write("run\\n")
        from trustgauge.judges._worker_process import WorkerProcess
        import operator
        w = WorkerProcess()
        print(w.submit(operator.add, 20, 22).result(timeout=60))
        w.close()
        """
    ))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"
    assert marker.read_text() == "run\n"  # multiprocessing's spawn/forkserver would have run it twice


def test_the_child_imports_from_the_parents_sys_path(tmp_path: Path) -> None:
    (tmp_path / "only_here.py").write_text("def triple(x):\n    return 3 * x\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import only_here  # type: ignore[import-not-found]

        w = WorkerProcess()
        try:
            assert w.submit(only_here.triple, 5).result(timeout=30) == 15
        finally:
            w.close()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("only_here", None)


class Unrebuildable(Exception):
    """An exception whose pickle cannot be loaded (its __init__ needs two arguments)."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a}/{b}")


def raise_unrebuildable() -> None:
    raise Unrebuildable("x", "y")


def env_value(name: str) -> str | None:
    return os.environ.get(name)


def test_an_exception_that_cannot_be_rebuilt_comes_back_as_text(worker: WorkerProcess) -> None:
    with pytest.raises(RuntimeError, match="Unrebuildable: x/y"):
        worker.submit(raise_unrebuildable).result(timeout=30)
    assert worker.submit(add, 1, 2).result(timeout=30) == 3  # the stream is still in step


def test_the_child_gets_no_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("TRUSTGAUGE_WATERMARK_KEY", "wm-secret-key-value")
    monkeypatch.setenv("SOME_HEADER_VALUE", "Bearer abcdef0123456789")
    monkeypatch.setenv("HARMLESS_SETTING", "kept")
    # credentials inside values whose names say nothing: URLs with user:password or a key in the
    # query (a *_BASE_URL), a key-shaped token, a value registered as a secret earlier in the run
    monkeypatch.setenv("OPENAI_BASE_URL", "https://alice:pa55word@proxy.example/v1")
    monkeypatch.setenv("MIRROR", "https://mirror.example/models?api_key=abc123def456ghi789")
    monkeypatch.setenv("NOTES", "use hf_abcdefghijklmnopqrstuvwxyz0123 for the hub")
    monkeypatch.setenv("OPAQUE", "zq-registered-earlier-7f3a")
    monkeypatch.setenv("PLAIN_URL", "http://127.0.0.1:8080/v1")
    register_secret("zq-registered-earlier-7f3a")
    names = ("OPENAI_API_KEY", "TRUSTGAUGE_WATERMARK_KEY", "SOME_HEADER_VALUE", "HARMLESS_SETTING", "OPENAI_BASE_URL",
             "MIRROR", "NOTES", "OPAQUE", "PLAIN_URL")
    w = WorkerProcess()
    try:
        got = {n: w.submit(env_value, n).result(timeout=30) for n in names}
    finally:
        w.close()
    kept = {"HARMLESS_SETTING": "kept", "PLAIN_URL": "http://127.0.0.1:8080/v1"}
    assert got == {n: kept.get(n) for n in names}


def make_child_only_object(folder: str) -> object:
    """Return an instance of a class only the child can import (the parent cannot unpickle it)."""
    sys.path.insert(0, folder)
    import child_only  # type: ignore[import-not-found]

    return child_only.Thing()


def test_a_reply_the_parent_cannot_read_fails_the_calls_instead_of_hanging(tmp_path: Path) -> None:
    (tmp_path / "child_only.py").write_text("class Thing:\n    pass\n")
    w = WorkerProcess()
    try:
        unreadable = w.submit(make_child_only_object, str(tmp_path))
        after = w.submit(nap, 0.01)
        for future in (unreadable, after):
            with pytest.raises(WorkerGone, match="could not be read"):
                future.result(timeout=30)
        assert _wait(lambda: w.closed) and _wait(lambda: w._proc.poll() is not None)
    finally:
        w.close()
