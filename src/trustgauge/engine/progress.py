"""Progress of a run: a rich bar on a terminal, plain periodic lines in CI or a pipe."""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO


class Progress:
    """Counts work and reports it. The base class is silent (used by the Python API)."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.cached = 0
        self.retries = 0
        self.errors = 0
        self.description = ""
        self.notes: list[str] = []
        self._start = time.monotonic()

    def start(self, description: str, total: int, cached: int = 0) -> None:
        self.description = description
        self.total = total
        self.done = cached
        self.cached = cached
        self.retries = 0
        self.errors = 0
        self._start = time.monotonic()
        self._render(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._render()

    def retry(self) -> None:
        self.retries += 1
        self._render()

    def error(self) -> None:
        self.errors += 1
        self.done += 1
        self._render()

    def finish(self) -> None:
        self._render(force=True)

    def close(self) -> None:
        """Release the terminal."""

    def note(self, message: str) -> None:
        """A line worth reading now (a provider batch was submitted, and how to resume it);
        the silent base class keeps it in :attr:`notes`."""
        self.notes.append(message)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self._start
        fresh = self.done - self.cached
        return fresh / elapsed if elapsed > 0 else 0.0

    def summary(self) -> str:
        rate = self.rate
        remaining = self.total - self.done
        eta = f"{remaining / rate:.0f}s" if rate > 0 and remaining else "-"
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (
            f"{self.description}: {self.done}/{self.total} ({pct:.0f}%) {rate:.1f}/s eta {eta} "
            f"cached={self.cached} retries={self.retries} errors={self.errors}"
        )

    def _render(self, force: bool = False) -> None:
        pass


class PlainProgress(Progress):
    """One line every ``interval`` seconds (and at start and end)."""

    def __init__(self, stream: TextIO | None = None, interval: float = 5.0) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last = 0.0

    def _render(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            print(f"[trustgauge] {self.summary()}", file=self.stream, flush=True)

    def note(self, message: str) -> None:
        super().note(message)
        print(f"[trustgauge] {message}", file=self.stream, flush=True)


class RichProgress(Progress):
    """A live rich progress bar: done/total, rate, ETA, cache hits, retries, errors."""

    def __init__(self) -> None:
        super().__init__()
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as _RichProgress

        self._bar = _RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("[dim]{task.fields[stats]}"),
            console=Console(stderr=True),
            transient=False,
        )
        self._task_id: Any = None
        self._bar.start()

    def _render(self, force: bool = False) -> None:
        fields: dict[str, Any] = {
            "rate": f"{self.rate:.1f}/s",
            "stats": f"cached {self.cached} · retries {self.retries} · errors {self.errors}",
        }
        if self._task_id is None:
            self._task_id = self._bar.add_task(self.description, total=self.total, completed=self.done, **fields)
        else:
            self._bar.update(self._task_id, description=self.description, total=self.total, completed=self.done, **fields)

    def start(self, description: str, total: int, cached: int = 0) -> None:
        # each phase (generating, judging) keeps its own finished bar on screen
        self._task_id = None
        super().start(description, total, cached)

    def note(self, message: str) -> None:
        super().note(message)
        self._bar.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        self._bar.stop()


def make_progress(enabled: bool = True) -> Progress:
    """A rich bar on an interactive terminal; plain lines when not a TTY or ``CI`` is set."""
    if not enabled:
        return Progress()
    if sys.stderr.isatty() and not os.environ.get("CI"):
        return RichProgress()
    return PlainProgress()
