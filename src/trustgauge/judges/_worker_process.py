"""One helper process for a judge's pure-Python work, so it does not hold the run's GIL (issue 14).

A judge's rules and handcrafted features are plain Python: in the engine's process they take the
GIL from the event loop that sends the requests, and judging stops overlapping generation
(``benchmarks/README.md``, "Issue 14 on an AVX2-only CPU, second day"). :class:`WorkerProcess`
runs such functions in one child process instead.

* The child is a fresh interpreter (``python -c``) that reads pickled calls on its stdin and
  writes pickled results on its stdout. Unlike :mod:`multiprocessing`'s ``spawn`` and
  ``forkserver``, it never imports the parent's ``__main__``: a user's script without an
  ``if __name__ == "__main__"`` guard is not run a second time. It is not ``fork``: the parent
  has ONNX Runtime and event-loop threads.
* It starts in the background and is used only once started: :meth:`ready` is false until then,
  and a judge computes in its own process meanwhile, so a start (about half a second) never
  delays a verdict.
* It runs in a session of its own, so a Ctrl-C at the terminal does not reach it (the parent
  decides what a Ctrl-C means and closes the judge). It exits by itself when the parent is gone,
  even after a SIGKILL that gives the parent no chance to close it: its stdin reaches end of file,
  and a watcher thread sees its parent change within :data:`WATCH_SECONDS`.
* :meth:`close` kills it without waiting for work in flight; work not done fails with
  :class:`WorkerGone`, as it does when the child dies.

Functions and arguments must be picklable (module-level functions). Whatever the child computes
must equal what the parent would: it is a place to run code, never a different computation.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import IO, Any, Final, TypeVar

from trustgauge._secrets import is_credential_header, redact

__all__ = ["WATCH_SECONDS", "WorkerGone", "WorkerProcess", "serve"]

T = TypeVar("T")

#: how often the child checks that its parent is still there
WATCH_SECONDS: Final = 0.5

# the child's first message is the parent's sys.path, so it imports the same trustgauge
_BOOT: Final = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from trustgauge.judges._worker_process import serve; serve()"
)


class WorkerGone(RuntimeError):
    """The helper process was closed or died before the call's result came back."""


def _started() -> int:
    return os.getpid()


class WorkerProcess:
    """A helper process that starts in the background (see the module doc).

    Args:
        initializer: run once in the child before any call (e.g. to keep a head's weights there).
        initargs: its arguments (pickled once).
    """

    def __init__(self, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, Future[Any]] = {}
        self._next_id = 0
        self._closed = False
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True, env=_child_environment(),
        )
        self._outbox.put(pickle.dumps(list(sys.path)))
        self._outbox.put(pickle.dumps((initializer, initargs)))
        threading.Thread(target=self._write, name="worker-process-write", daemon=True).start()
        threading.Thread(target=self._read, name="worker-process-read", daemon=True).start()
        self._start: Future[int] = self.submit(_started)

    # -- parent side ---------------------------------------------------------------------------
    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` in the child; never blocks. Raises WorkerGone once closed or dead."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise WorkerGone("the helper process is closed")
            call_id = self._next_id
            self._next_id += 1
            self._pending[call_id] = future
        self._outbox.put(pickle.dumps((call_id, fn, args)))
        return future

    def ready(self) -> bool:
        """Whether the child is up (and ran the initializer): a call sent now starts at once."""
        if self._closed or not self._start.done():
            return False
        return self._start.exception() is None

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._proc.pid

    @property
    def closed(self) -> bool:
        """Closed, or found dead."""
        return self._closed

    def close(self) -> None:
        """Kill the child (it only computes: nothing of it is worth waiting for) and fail the calls
        not answered with :class:`WorkerGone`."""
        self._shut("the helper process is closed")
        with contextlib.suppress(OSError):
            self._proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)

    def _shut(self, why: str) -> None:
        with self._lock:
            self._closed = True
            pending, self._pending = self._pending, {}
        self._outbox.put(None)
        for future in pending.values():
            if not future.done():
                future.set_exception(WorkerGone(why))

    def _write(self) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            while (message := self._outbox.get()) is not None:
                stdin.write(message)
                stdin.flush()
        except (OSError, ValueError):  # the child is gone; the reader fails what is pending
            pass
        finally:
            with contextlib.suppress(OSError, ValueError):
                stdin.close()

    def _read(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        why = "the helper process died"
        try:
            while True:
                call_id, ok, value = pickle.load(stdout)
                with self._lock:
                    future = self._pending.pop(call_id, None)
                if future is None or future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except (EOFError, OSError):
            pass
        except Exception as exc:  # a reply that cannot be read: the stream cannot be trusted after it
            why = f"the helper process sent a reply that could not be read ({type(exc).__name__})"
            with contextlib.suppress(OSError):
                self._proc.kill()
        self._shut(why)
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)  # reap it


def _child_environment() -> dict[str, str]:
    """The parent's environment without what looks like a credential: named like one
    (``OPENAI_API_KEY``, ``HF_TOKEN``), a value in an auth scheme (``Bearer ...``), or a value
    :func:`redact` would change (a registered secret, a key-shaped token, a URL with
    ``user:password@`` or a credential query parameter, as a ``*_BASE_URL`` may carry): the child
    only computes, it needs no key."""
    return {name: value for name, value in os.environ.items()
            if not is_credential_header(name, value) and redact(value) == value}


# -- child side --------------------------------------------------------------------------------
def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(0)  # the parent is gone: nobody is left to read a result


def serve() -> None:
    """The child's loop (started by :class:`WorkerProcess`): read a call, run it, write the result,
    until end of file."""
    inp: IO[bytes] = sys.stdin.buffer
    out: IO[bytes] = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() must not corrupt the results
    threading.Thread(target=_watch_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    initializer, initargs = pickle.load(inp)
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            call_id, fn, args = pickle.load(inp)
        except EOFError:
            return
        try:
            reply = (call_id, True, fn(*args))
            data = pickle.dumps(reply)
        except Exception as exc:  # sent back to the caller, as a pool would
            try:
                data = pickle.dumps((call_id, False, exc))
                pickle.loads(data)  # our own bytes: an exception the parent could not rebuild goes as text
            except Exception:
                data = pickle.dumps((call_id, False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        try:
            out.write(data)
            out.flush()
        except OSError:  # the parent stopped reading
            return
