"""The catalogue of aggregators: named, versioned pure functions from a task's scored samples
to its metrics.

An aggregator is ``fn(scored, params) -> list[MetricValue]`` registered under
``<name>@<version>`` (``rta@1``, ``trustllm.advglue@1``). ``scored`` is the task's
``(Sample, SampleScore)`` pairs, failed requests excluded, exactly as
:meth:`~trustgauge.tasks.base.Task.aggregate` receives them; ``params`` is a JSON object the
task declares (:meth:`~trustgauge.tasks.base.Task.aggregator_params`). ``scores.json`` stores
both per task, so ``trustgauge compare`` recomputes an old run's metrics from its
``samples.jsonl`` by name, without the task code that produced it.

A name, once released, means one behaviour for ever: a change of numbers is a new version
(``@2``), and the old version stays registered so that runs which stored it can still be
compared. Built-ins live in this package (one module per family); a plugin registers its own
through the ``trustgauge.aggregators`` entry point (a broken one is skipped with one error line).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import pkgutil
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from trustgauge._plugins import load_plugin
from trustgauge.types import MetricValue, Sample, SampleScore

__all__ = [
    "ENTRY_POINT_GROUP",
    "AggregatorFn",
    "Params",
    "Scored",
    "UnknownAggregator",
    "aggregate",
    "get_aggregator",
    "known_aggregators",
    "plugin_errors",
    "register_aggregator",
]

log = logging.getLogger(__name__)

Scored: TypeAlias = Sequence[tuple[Sample, SampleScore]]
Params: TypeAlias = Mapping[str, Any]
AggregatorFn: TypeAlias = Callable[[Scored, Params], list[MetricValue]]

#: entry-point group through which installed packages register aggregators
ENTRY_POINT_GROUP = "trustgauge.aggregators"
#: the package whose modules hold the built-in aggregators
BUILTIN_PACKAGE = "trustgauge.stats.aggregators"
#: ``name@version``: a dotted lower-case name and a positive version number
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*@[1-9][0-9]*$")

_lock = threading.RLock()
_aggregators: dict[str, AggregatorFn] = {}
_plugin_errors: list[str] = []
_loaded = False
_loading = False


class UnknownAggregator(LookupError):
    """No aggregator of that ``name@version`` is registered in this version of trustgauge."""

    def __init__(self, name: str) -> None:
        super().__init__(f"aggregator {name!r} is unknown to this version of trustgauge")
        self.name = name


def register_aggregator(name: str) -> Callable[[AggregatorFn], AggregatorFn]:
    """Register the decorated function as aggregator ``name`` (``name@version``).

    Registering a second, different function under a taken name is an error: a stored name must
    mean one behaviour."""
    if not NAME_PATTERN.match(name):
        raise ValueError(f"aggregator name {name!r} is not of the form 'dotted.name@version'")

    def decorate(fn: AggregatorFn) -> AggregatorFn:
        with _lock:
            known = _aggregators.get(name)
            if known is not None and _path(known) != _path(fn):
                raise ValueError(f"aggregator {name!r} is registered already (by {_path(known)})")
            _aggregators[name] = fn
        return fn

    return decorate


def _path(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def get_aggregator(name: str) -> AggregatorFn:
    """The aggregator registered as ``name``; :class:`UnknownAggregator` when there is none."""
    _ensure_loaded()
    with _lock:
        fn = _aggregators.get(name)
    if fn is None:
        raise UnknownAggregator(name)
    return fn


def aggregate(name: str, scored: Scored, params: Params | None = None) -> list[MetricValue]:
    """Run aggregator ``name`` over ``scored`` with ``params`` (``{}`` when none)."""
    return get_aggregator(name)(scored, dict(params or {}))


def known_aggregators() -> list[str]:
    """Every registered name, sorted."""
    _ensure_loaded()
    with _lock:
        return sorted(_aggregators)


def plugin_errors() -> list[str]:
    """One line per aggregator plugin that could not be loaded."""
    _ensure_loaded()
    return list(_plugin_errors)


def _builtin_modules() -> list[str]:
    package = importlib.import_module(BUILTIN_PACKAGE)
    return sorted(
        info.name
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{BUILTIN_PACKAGE}.")
        if not info.ispkg and info.name != __name__
    )


def _ensure_loaded() -> None:
    """Import the built-in modules, then the plugins; once."""
    global _loaded, _loading
    if _loaded:
        return
    with _lock:
        if _loaded or _loading:
            return
        _loading = True
        try:
            for module in _builtin_modules():
                importlib.import_module(module)
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                _load_plugin(ep)
            _loaded = True
        finally:
            _loading = False


def _load_plugin(ep: importlib.metadata.EntryPoint) -> None:
    def check(before: dict[str, AggregatorFn]) -> str | None:
        if any(name not in before for name in _aggregators) or _registered_from(ep.module):
            return None
        return "it registered no aggregator (decorate functions with @register_aggregator)"

    def restore(before: dict[str, AggregatorFn]) -> None:
        _aggregators.clear()
        _aggregators.update(before)

    load_plugin(ep, kind="aggregator", lock=_lock, snapshot=lambda: dict(_aggregators),
                restore=restore, check=check, errors=_plugin_errors, log=log)


def _registered_from(module: str) -> bool:
    """Some aggregator is in ``module`` or below: its decorator ran before the plugin was loaded
    (a task module imported it, or defines it and is named by both entry points), as the task,
    judge and backend registries accept."""
    return any(fn.__module__ == module or fn.__module__.startswith(f"{module}.")
               for fn in _aggregators.values())


def _state() -> tuple[dict[str, AggregatorFn], list[str], bool]:
    """A copy of the catalogue's state (tests restore it after registering their own)."""
    _ensure_loaded()
    with _lock:
        return dict(_aggregators), list(_plugin_errors), _loaded


def _restore(state: tuple[dict[str, AggregatorFn], list[str], bool]) -> None:
    global _loaded
    with _lock:
        aggregators, errors, loaded = state
        _aggregators.clear()
        _aggregators.update(aggregators)
        _plugin_errors[:] = errors
        _loaded = loaded
