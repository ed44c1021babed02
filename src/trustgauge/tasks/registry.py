"""Task ids -> task classes, and the selectors users type (``safety``, ``safety.misuse``, ``all``,
a taxonomy category or item such as ``reliability`` or ``safety/privacy-violation``)."""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import logging
import pkgutil
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

from trustgauge._plugins import load_plugin
from trustgauge.errors import ConfigError
from trustgauge.stats.aggregators.registry import NAME_PATTERN as AGGREGATOR_NAME
from trustgauge.tasks.base import Task
from trustgauge.taxonomy import BASE, check_tag, framework
from trustgauge.taxonomy import select as select_by_taxonomy

__all__ = [
    "BUILTIN_PACKAGE",
    "ENTRY_POINT_GROUP",
    "ORDER",
    "TASKS",
    "benchmark_task_ids",
    "dimensions",
    "plugin_errors",
    "register_task",
    "resolve_tasks",
    "tags_by_task",
]

log = logging.getLogger(__name__)

#: the entry-point group outside packages register their task modules under
ENTRY_POINT_GROUP = "trustgauge.tasks"
#: the packages holding the built-in tasks, one module per sub-task
#: (``tasks/trustllm/<dimension>/<subtask>.py``, ``tasks/liu2023/<study>.py``,
#: ``tasks/fan2023/<probe>.py``): every module
#: below them is imported on the first read of :data:`TASKS`
BUILTIN_PACKAGES: tuple[str, ...] = (
    "trustgauge.tasks.trustllm", "trustgauge.tasks.liu2023", "trustgauge.tasks.fan2023",
)
#: the first of them (TrustLLM's), kept for callers that named one package
BUILTIN_PACKAGE = BUILTIN_PACKAGES[0]

#: TrustLLM's sub-tasks in the order every listing, suite and ``samples.jsonl`` uses (dimension
#: order of the TrustLLM paper). Pinned here, not left to import order, because run outputs
#: depend on it. A built-in task missing from it comes after these (by module name), and
#: plugin tasks after all built-ins (in entry-point order).
ORDER: tuple[str, ...] = (
    "truthfulness.misinformation.internal",
    "truthfulness.misinformation.external",
    "truthfulness.hallucination",
    "truthfulness.sycophancy.persona",
    "truthfulness.sycophancy.preference",
    "truthfulness.adversarial_factuality",
    "safety.jailbreak",
    "safety.toxicity",
    "safety.misuse",
    "safety.exaggerated",
    "fairness.stereotype.recognition",
    "fairness.stereotype.agreement",
    "fairness.stereotype.query",
    "fairness.disparagement",
    "fairness.preference",
    "robustness.advglue",
    "robustness.advinstruction",
    "robustness.ood_detection",
    "robustness.ood_generalization",
    "privacy.awareness.confaide",
    "privacy.awareness.query",
    "privacy.leakage",
    "ethics.implicit.ethics",
    "ethics.implicit.social_norm",
    "ethics.explicit.low_ambiguity",
    "ethics.explicit.high_ambiguity",
    "ethics.emotional_awareness",
    "ethics.awareness.capability",
    "ethics.awareness.mission",
    "ethics.awareness.perspective",
)

_T = TypeVar("_T", bound=type[Task])

_lock = threading.RLock()
#: id -> class, in registration order
_tasks: dict[str, type[Task]] = {}
#: ids registered by plugins (listed after the built-ins, never chosen by ``all``/dimensions)
_plugin_ids: list[str] = []
_loaded = False
_loading = False
_plugin_errors: list[str] = []


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def register_task(cls: _T) -> _T:
    """Class decorator: make the task class known by its :attr:`~Task.id` (the class is returned
    unchanged). A task that declares a :attr:`~Task.source` gets it registered as a dataset when
    no source of that id is known yet. Registering the same class again is a no-op (a module
    imported twice).

    Raises:
        ValueError: the class lacks ``id``/``dimension``/``metrics``, its id does not start with
            its dimension, it declares no ``aggregator`` or overrides ``aggregate``, a
            :attr:`~Task.taxonomy` tag is not an item of a known framework (see
            :mod:`trustgauge.taxonomy`), it ``uses`` anything but ``logprobs``, its ``source`` is not
            the dataset its ``data`` names, or
            another class is registered under the id already.
        DataError: its ``source`` clashes with another dataset of the same id.
    """
    task_id = getattr(cls, "id", None)
    dimension = getattr(cls, "dimension", None)
    if not isinstance(task_id, str) or not isinstance(dimension, str) or not getattr(cls, "metrics", None):
        raise ValueError(f"task class {_path(cls)} needs an id, a dimension and metrics")
    if not task_id.startswith(f"{dimension}.") or task_id == f"{dimension}.":
        raise ValueError(f"task id {task_id!r} must be '<dimension>.<name>' (dimension {dimension!r})")
    aggregator = getattr(cls, "aggregator", None)
    if not isinstance(aggregator, str) or not AGGREGATOR_NAME.match(aggregator):
        raise ValueError(
            f"task {task_id!r} declares no aggregator: set aggregator = 'name@version' "
            "(a built-in such as 'mean@1', or one registered with @register_aggregator)"
        )
    if cls.aggregate is not Task.aggregate:
        raise ValueError(
            f"task {task_id!r} overrides aggregate: register the aggregation with "
            "@register_aggregator and name it in aggregator, so that compare can recompute "
            "stored runs without the task's code"
        )
    unusable = [name for name in cls.uses if name != "logprobs"]
    if unusable:
        raise ValueError(
            f"task {task_id!r}: uses {unusable} - only 'logprobs' can be used when the model has it "
            "(list what the task cannot run without in requires)"
        )
    taxonomy = cls.taxonomy
    if isinstance(taxonomy, str) or not all(isinstance(tag, str) for tag in taxonomy):
        raise ValueError(f"task {task_id!r}: taxonomy must be a tuple of tag strings, not {taxonomy!r}")
    for tag in taxonomy:
        try:
            check_tag(tag)
        except ValueError as exc:
            raise ValueError(f"task {task_id!r} ({_path(cls)}): {exc}") from None
    source = cls.source
    if source is not None:
        if source.id != cls.data.dataset:
            raise ValueError(
                f"task {task_id!r} declares source {source.id!r} but reads dataset {cls.data.dataset!r}"
            )
        from trustgauge.data.sources import register_source

        register_source(source)
    with _lock:
        known = _tasks.get(task_id)
        if known is not None and known is not cls and _path(known) != _path(cls):
            raise ValueError(f"task {task_id!r} is registered already (by {_path(known)})")
        _tasks[task_id] = cls
    return cls


def _builtin_modules() -> list[str]:
    """Every module below each of :data:`BUILTIN_PACKAGES`, in that order (sorted within a
    package)."""
    modules: list[str] = []
    for name in BUILTIN_PACKAGES:
        package = importlib.import_module(name)
        modules += sorted(
            info.name
            for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}.")
            if not info.ispkg
        )
    return modules


def _ensure_loaded() -> None:
    """Import the built-in task modules, then the plugins; once (a read during the loading, from
    a module being imported, sees what is registered so far)."""
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
            missing = [task_id for task_id in ORDER if task_id not in _tasks]
            if missing:
                raise RuntimeError(f"built-in tasks not registered: {', '.join(missing)}")
            _load_plugins()
            _loaded = True
        finally:
            _loading = False


def _load_plugins() -> None:
    """Load every plugin of :data:`ENTRY_POINT_GROUP`. A broken one is skipped with one error
    line naming it (as the judge catalogue does), so one bad package cannot stop every run."""
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        _load_plugin(ep)


def _load_plugin(ep: importlib.metadata.EntryPoint) -> None:
    def check(before: dict[str, type[Task]]) -> str | None:
        new = [task_id for task_id in _tasks if task_id not in before]
        # tasks of this module registered before it was loaded: imported by the user (this
        # module or below), or by an earlier plugin that imports this module, which was credited
        # with them (defined in this very module: a sibling's task does not count)
        new += [
            task_id for task_id, cls in before.items()
            if task_id not in ORDER and task_id not in new and (
                cls.__module__ == ep.module or (task_id not in _plugin_ids and _in_module(cls, ep.module))
            )
        ]
        if not new:
            return "it registered no task (decorate task classes with @register_task)"
        _plugin_ids.extend(task_id for task_id in new if task_id not in _plugin_ids)
        return None

    def restore(before: dict[str, type[Task]]) -> None:
        _tasks.clear()
        _tasks.update(before)

    load_plugin(ep, kind="task", lock=_lock, snapshot=lambda: dict(_tasks), restore=restore, check=check,
                errors=_plugin_errors, log=log)


def _in_module(cls: type, module: str) -> bool:
    return cls.__module__ == module or cls.__module__.startswith(f"{module}.")


def plugin_errors() -> list[str]:
    """One line per task plugin that could not be loaded (after the registry was read)."""
    _ensure_loaded()
    return list(_plugin_errors)


def _package_rank(module: str) -> int:
    """The position of the built-in package holding ``module`` in :data:`BUILTIN_PACKAGES`
    (benchmarks listed in the order they were added: TrustLLM, Liu et al., Fan et al.)."""
    for rank, package in enumerate(BUILTIN_PACKAGES):
        if module.startswith(package + "."):
            return rank
    return len(BUILTIN_PACKAGES)


def _ordered() -> list[str]:
    """Every registered id: :data:`ORDER`, other built-ins by module name, then plugins."""
    _ensure_loaded()
    with _lock:
        builtin = [task_id for task_id in _tasks if task_id not in _plugin_ids]
        pinned = [task_id for task_id in ORDER if task_id in _tasks]
        rest = sorted((t for t in builtin if t not in ORDER), key=lambda t: (_package_rank(_tasks[t].__module__), _tasks[t].__module__, t))
        plugins = [task_id for task_id in _plugin_ids if task_id in _tasks]
        return [*pinned, *rest, *plugins]


class _Tasks(Mapping[str, type[Task]]):
    """Every task by id, in a stable order (a read-only view: register with
    :func:`register_task`). The built-in modules and plugins load on the first read."""

    def __getitem__(self, task_id: str) -> type[Task]:
        _ensure_loaded()
        return _tasks[task_id]

    def __iter__(self) -> Iterator[str]:
        return iter(_ordered())

    def __len__(self) -> int:
        _ensure_loaded()
        return len(_tasks)

    def __repr__(self) -> str:
        return f"TASKS({list(self)!r})"


#: every task by id, in a stable order: TrustLLM's sub-tasks in :data:`ORDER` (dimension order
#: of the TrustLLM paper), then plugins
TASKS: Mapping[str, type[Task]] = _Tasks()


def _is_plugin(task_id: str) -> bool:
    return task_id in _plugin_ids


def _is_trustllm(task_id: str, cls: type[Task]) -> bool:
    return cls.benchmark == "trustllm" and not _is_plugin(task_id)


def dimensions() -> list[str]:
    """The dimensions of TrustLLM's built-in tasks, in registry order (suites are made of
    these); another benchmark's tasks (Liu et al.'s studies, dimension ``liu2023``) are
    selected by their own dimension and have suites of their own."""
    return list(dict.fromkeys(cls.dimension for t, cls in TASKS.items() if _is_trustllm(t, cls)))


def benchmark_task_ids() -> list[str]:
    """The ids of TrustLLM's benchmark sub-tasks: every built-in TrustLLM task but the extras."""
    return [task_id for task_id, cls in TASKS.items() if not cls.extra and _is_trustllm(task_id, cls)]


def _expand(selector: str) -> list[str]:
    name = selector.strip()
    if name == "all":
        return benchmark_task_ids()
    if name == "extra":
        return [task_id for task_id, cls in TASKS.items() if cls.extra and _is_trustllm(task_id, cls)]
    if name in TASKS:
        return [name]
    if name in dimensions():
        return [
            t for t, cls in TASKS.items() if cls.dimension == name and not cls.extra and _is_trustllm(t, cls)
        ]
    # another benchmark's or a plugin's own dimension (``liu2023``; never mixed into a TrustLLM
    # one or ``all``)
    plugin = [t for t, cls in TASKS.items() if cls.dimension == name and not cls.extra]
    if plugin:
        return plugin
    # a taxonomy category or item: every task tagged with it (extras and plugins included)
    tagged = select_by_taxonomy(name, tags_by_task())
    if tagged is not None:
        if not tagged:
            raise ConfigError(
                f"no task measures {name!r} yet (`trustgauge taxonomy` shows what each task measures)"
            )
        return tagged
    liu = framework(BASE)
    choices = [*TASKS, *dict.fromkeys(cls.dimension for cls in TASKS.values()), "all", "extra",
               *(c.id for c in liu.categories), *(i.id for i in liu.items)]
    near = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    # also suggest the tasks whose short name (after the dot) is close, e.g. "jailbrake"
    short = {task_id.split(".", 1)[1]: task_id for task_id in TASKS}
    near += [short[s] for s in difflib.get_close_matches(name, list(short), n=3, cutoff=0.6)]
    near = list(dict.fromkeys(near))
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    errors = "".join(f"; {e}" for e in _plugin_errors)
    raise ConfigError(
        f"unknown task {name!r}{hint} (known: 'all', 'extra', dimensions "
        f"{', '.join(dimensions())}, liu2023 (Liu et al.'s studies), fan2023 (Fan et al.'s "
        f"probes), a task id "
        f"(`trustgauge tasks` lists them), or a Liu "
        f"category or sub-category such as reliability or safety/privacy-violation "
        f"(`trustgauge taxonomy` lists them)){errors}"
    )


def tags_by_task() -> dict[str, tuple[str, ...]]:
    """Every task's :attr:`~Task.taxonomy` tags by id, in registry order (what
    :mod:`trustgauge.taxonomy`'s coverage functions read)."""
    return {task_id: tuple(cls.taxonomy) for task_id, cls in TASKS.items()}


def resolve_tasks(
    selectors: Iterable[str], *, reference: bool = False, params: Mapping[str, Mapping[str, str]] | None = None
) -> list[Task]:
    """Instantiate the tasks named by ``selectors``, in registry order, without duplicates.

    A selector is a task id (``safety.jailbreak``), a dimension (``safety``: its benchmark
    tasks), ``all`` (TrustLLM's benchmark), ``extra`` (the tasks outside it), or a taxonomy
    node: a Liu category or sub-category id (``reliability``, ``safety/privacy-violation``) or
    ``framework:id`` (``liu2023:safety``, ``owasp-llm-2025:llm09``), choosing every task that
    measures it, extras and plugins included. A TrustLLM dimension wins over a Liu category of
    the same name (``safety``, ``fairness``, ``robustness``); ``liu2023:safety`` names the
    category. Comma-separated lists inside one selector are split. Plugin tasks are chosen by
    id, by a dimension of their own or by a tag, never by ``all``, ``extra`` or a built-in
    dimension. Unknown selectors raise
    :class:`~trustgauge.errors.ConfigError` naming close matches. ``reference`` creates the
    tasks in TrustLLM's reference mode (see :class:`~trustgauge.tasks.base.Task`). ``params``:
    task id -> the values of its :attr:`~trustgauge.tasks.base.Task.parameters` (a task not
    selected is ignored here: the pipeline refuses it; an unknown name or a value the task
    refuses raises :class:`~trustgauge.errors.ConfigError`).
    """
    wanted: set[str] = set()
    names = [part for selector in selectors for part in selector.split(",") if part.strip()]
    if not names:
        raise ConfigError("no tasks selected: name task ids, dimensions, or 'all'")
    for name in names:
        wanted.update(_expand(name))
    given = params or {}
    return [
        cls(reference=reference, params=given[task_id]) if given.get(task_id) else cls(reference=reference)
        for task_id, cls in TASKS.items()
        if task_id in wanted
    ]


def _state() -> tuple[dict[str, type[Task]], list[str], list[str], bool]:
    """A copy of the registry's state (tests restore it after registering their own tasks).

    Loads the built-ins first: a state taken before loading would, once restored, mark the
    registry unloaded while the task modules stay imported, so their decorators never run
    again and the next read finds the built-ins missing."""
    _ensure_loaded()
    with _lock:
        return dict(_tasks), list(_plugin_ids), list(_plugin_errors), _loaded


def _restore(state: tuple[dict[str, type[Task]], list[str], list[str], bool]) -> None:
    global _loaded
    with _lock:
        tasks, plugin_ids, errors, loaded = state
        _tasks.clear()
        _tasks.update(tasks)
        _plugin_ids[:] = plugin_ids
        _plugin_errors[:] = errors
        _loaded = loaded
