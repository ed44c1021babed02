"""Checks made before the first request, so that nothing is paid for a run that cannot be
saved: the run directory (``-o``), trustgauge's home (``TRUSTGAUGE_HOME``: the store, data and
models) and server URLs. Each failure is a :class:`~trustgauge.errors.UsageError` with a
one-line message (exit 2 from the CLI).

Writability is tested by doing it (a probe file created and removed), not with
``os.access``: permission bits say nothing about read-only mounts, and nothing at all when
running as root.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from trustgauge.errors import ConfigError, UsageError

# check_server_url lives with the backends that call it (models/_http.py): models importing
# the preflight while the preflight imported models was a package cycle
from trustgauge.models._http import check_server_url, split_spec

if TYPE_CHECKING:
    from trustgauge.config import ModelConfig
    from trustgauge.tasks.base import Task

__all__ = [
    "check_aggregators",
    "check_home",
    "check_model_urls",
    "check_output_dir",
    "check_run_locations",
    "check_store",
]

_PROBE_PREFIX = ".trustgauge-write-test-"


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists (the folder a ``mkdir -p`` would start in)."""
    current = path
    while not os.path.lexists(current) and current.parent != current:
        current = current.parent
    return current


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in ``folder``; a :class:`UsageError` naming ``what`` if that fails."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=_PROBE_PREFIX)
    except OSError as exc:
        raise UsageError(f"{what}: cannot write in {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(name)


def _creatable_folder(path: Path, what: str) -> None:
    """``path`` is a writable folder, or one ``mkdir -p`` could create (nothing is created)."""
    if os.path.lexists(path) and not path.is_dir():
        raise UsageError(f"{what}: {path} is a file, not a folder")
    start = _nearest_existing(path)
    if not start.is_dir():
        raise UsageError(f"{what}: cannot create {path}: {start} is a file, not a folder")
    _probe(start, what)


def check_output_dir(out: Path, flag: str = "-o") -> None:
    """The run directory can be written: not an existing file, and both it (when it exists,
    e.g. a run being resumed) and the folder it is written from are writable."""
    what = f"{flag} {out}"
    out = out.expanduser()
    if os.path.lexists(out) and not out.is_dir():
        raise UsageError(f"{what}: a file of that name exists; a run directory is a folder (choose another {flag})")
    if out.is_dir():
        if not (out / "run.json").is_file() and any(out.iterdir()):
            # the same rule the run directory writer applies at the end (report/rundir.py):
            # a folder with other content is never replaced, so refuse before paying for answers
            raise UsageError(f"{what}: the folder exists and holds something other than a run (choose another {flag})")
        _probe(out, what)
    parent = out.parent if out.parent != Path("") else Path(".")
    _creatable_folder(parent, what)


def check_home() -> None:
    """``TRUSTGAUGE_HOME`` (or the default cache folder) is, or can be made, a writable folder,
    and the store in it is not a folder and not read-only."""
    from trustgauge._paths import home_dir

    env = os.environ.get("TRUSTGAUGE_HOME")
    what = f"TRUSTGAUGE_HOME={env}" if env else "trustgauge's cache folder"
    home = home_dir()  # creates it; a UsageError when it cannot
    _probe(home, what)
    check_store(home / "store.sqlite3")


def check_store(store: Path) -> None:
    """The response store can be opened for writing: its folder is writable, and it is not a
    folder or a read-only file, on a network file system or of a newer schema version."""
    what = f"the store {store}"
    _creatable_folder(store.parent, what)
    if store.is_dir():
        raise UsageError(f"{what} is a folder, not a file")
    if store.exists() and not os.access(store, os.W_OK):
        raise UsageError(f"{what} is read-only")
    from trustgauge.engine.store import check_store_file

    check_store_file(store)  # a network file system, a store written by a newer trustgauge


def check_run_locations(out: Path | None, store_path: Path | None = None) -> None:
    """Everything a run writes, before it sends anything: the store (``store_path``, else the
    one in trustgauge's home) and the run directory (``out``, else the default ``runs/``)."""
    if store_path is None:
        check_home()
    else:
        check_store(store_path)
    if out is not None:
        check_output_dir(out)
    else:
        _creatable_folder(Path("runs"), "the default run folder runs/ (or choose one with -o)")


def check_model_urls(config: ModelConfig) -> None:
    """The server URL of an HTTP backend's spec (``openai-compatible:NAME@URL``) and a config's
    ``base_url`` parse: a bad one is reported before judges load or a dataset is downloaded
    (it used to surface only after both, or behind a failed download)."""
    backend, _, name = config.model.partition(":")
    if backend not in ("openai", "openai-compatible", "anthropic"):
        return
    _, url = split_spec(name)
    if url.startswith(("http://", "https://")) or (url and backend == "openai-compatible"):
        check_server_url(url)
    if config.base_url:
        check_server_url(config.base_url)


def check_aggregators(tasks: Iterable[Task]) -> None:
    """Before anything is sent: every selected task's aggregator is registered (a plugin task
    whose aggregator module is not installed would otherwise fail after all its requests).
    Raises :class:`ConfigError` naming the task and the aggregator."""
    from trustgauge.stats.aggregators import UnknownAggregator, get_aggregator
    from trustgauge.stats.aggregators.registry import plugin_errors

    for task in tasks:
        try:
            get_aggregator(task.aggregator)
        except UnknownAggregator:
            hint = "; ".join(plugin_errors())
            raise ConfigError(
                f"task {task.id} declares aggregator {task.aggregator!r}, which no installed "
                "module registers (a plugin needs a 'trustgauge.aggregators' entry point)"
                + (f"; {hint}" if hint else "")
            ) from None
