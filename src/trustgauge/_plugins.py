"""Loading one entry-point plugin into a registry, all or nothing (the task registry, the judge
catalogue and the backend registry share it).

A plugin is foreign code: whatever it raises, or if it registers nothing, it is skipped with one
error line naming it (``<kind> plugin 'name' (value from dist) was skipped: <reason>``), logged
on the registry's own logger and kept in the registry's error list, and what it registered
before failing is rolled back, so one bad package cannot stop every run. Also
:func:`import_modules`, how self-registering built-ins are found. Foundation layer: imports
nothing of trustgauge."""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import pkgutil
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from types import ModuleType
from typing import Any, TypeVar

_S = TypeVar("_S")


def import_modules(package: ModuleType, skip: Collection[str] = ()) -> None:
    """Import every module of ``package`` (one level, not sub-packages' modules) but the private
    ones (``_name``) and those named in ``skip``: how a registry whose entries register themselves
    on import (attacks, watermark schemes) finds its built-ins, so a new one is one new file."""
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name not in skip:
            importlib.import_module(f"{package.__name__}.{info.name}")


def describe_failure(exc: BaseException) -> str:
    """``Type: first line of the message`` (``Type`` alone for an empty message)."""
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def origin(ep: importlib.metadata.EntryPoint) -> str:
    """`` from <distribution>`` when the entry point knows its distribution, else ``""``."""
    dist = getattr(ep, "dist", None)
    return f" from {dist.name}" if dist is not None and getattr(dist, "name", None) else ""


def load_plugin(
    ep: importlib.metadata.EntryPoint,
    *,
    kind: str,
    lock: AbstractContextManager[Any],
    snapshot: Callable[[], _S],
    restore: Callable[[_S], None],
    check: Callable[[_S], str | None],
    errors: list[str],
    log: logging.Logger,
) -> bool:
    """Load ``ep`` under ``lock``; True when it loaded and registered something.

    ``snapshot()`` copies the registry before the load; ``check(before)``, after a load that did
    not raise, returns why the plugin is refused (it registered nothing) or None. On a failure the
    registry is ``restore(before)``-d, the line is appended to ``errors`` and logged on ``log``."""
    with lock:
        before = snapshot()
        try:
            ep.load()
            error = check(before)
        except Exception as exc:  # any failure of foreign code: skip the plugin, say why
            error = describe_failure(exc)
        if error is None:
            return True
        restore(before)
    message = f"{kind} plugin {ep.name!r} ({ep.value}{origin(ep)}) was skipped: {error}"
    errors.append(message)
    log.error("error: %s", message)
    return False
