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
    """One line every ``interval`` seconds (and at start and end); ``label`` (a run of a
    many-model command: the model's run directory name) starts each line."""

    def __init__(self, stream: TextIO | None = None, interval: float = 5.0, label: str | None = None) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.interval = interval
        self.label = label
        self._last = 0.0

    def _render(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            prefix = f"[trustgauge] {self.label}: " if self.label else "[trustgauge] "
            print(f"{prefix}{self.summary()}", file=self.stream, flush=True)

    def note(self, message: str) -> None:
        super().note(message)
        print(f"[trustgauge] {message}", file=self.stream, flush=True)


class RichProgress(Progress):
    """A live rich progress bar: done/total, rate, ETA, cache hits, retries, errors.

    ``bar``: a rich ``Progress`` shared with other runs (:class:`ProgressGroup`); then this run
    keeps one row, labelled ``label``, that each phase (generating, judging) takes over, and
    :meth:`close` leaves the shared bar running."""

    def __init__(self, bar: Any = None, label: str | None = None) -> None:
        super().__init__()
        self.label = label
        self._own = bar is None
        self._task_id: Any = None
        if bar is not None:
            self._bar = bar
            return
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
        self._bar.start()

    def _render(self, force: bool = False) -> None:
        fields: dict[str, Any] = {
            "rate": f"{self.rate:.1f}/s",
            "stats": f"cached {self.cached} · retries {self.retries} · errors {self.errors}",
        }
        description = f"{self.label}: {self.description}" if self.label else self.description
        if self._task_id is None:
            self._task_id = self._bar.add_task(description, total=self.total, completed=self.done, **fields)
        else:
            self._bar.update(self._task_id, description=description, total=self.total, completed=self.done, **fields)

    def start(self, description: str, total: int, cached: int = 0) -> None:
        # alone, each phase (generating, judging) keeps its own finished bar on screen; in a
        # group, a run keeps one row (several models' phases would make a screenful)
        if self._own:
            self._task_id = None
        super().start(description, total, cached)

    def note(self, message: str) -> None:
        super().note(message)
        self._bar.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        if self._own:
            self._bar.stop()


def _interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def make_progress(enabled: bool = True) -> Progress:
    """A rich bar on an interactive terminal; plain lines when not a TTY or ``CI`` is set."""
    if not enabled:
        return Progress()
    if _interactive():
        return RichProgress()
    return PlainProgress()


class ProgressGroup:
    """The progress of several runs at once (``trustgauge run -m A -m B``): called with a run's
    label, it gives that run its own :class:`Progress`. On an interactive terminal every run is
    one row of one rich display (rich's ``Progress`` holds many tasks); in CI or a pipe each
    run's plain lines start with its label; ``enabled=False``: silent. :meth:`close` releases
    the terminal once every run is done (or interrupted)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._rich: RichProgress | None = RichProgress() if enabled and _interactive() else None

    def __call__(self, label: str) -> Progress:
        if not self.enabled:
            return Progress()
        if self._rich is not None:
            return RichProgress(bar=self._rich._bar, label=label)
        return PlainProgress(label=label)

    def close(self) -> None:
        rich, self._rich = self._rich, None
        if rich is not None:
            rich.close()
