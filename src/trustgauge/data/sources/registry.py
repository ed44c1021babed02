"""Which dataset sources exist: registered by a call or decorator, or by outside packages
through the ``trustgauge.data_sources`` entry point group.

A benchmark declares its data without touching ``trustgauge.data``::

    from trustgauge.data.sources import PinnedFile, register_source

    @register_source
    def mybench() -> PinnedFile:
        return PinnedFile(id="mybench", url="https://.../items.json", sha256="...",
                          size_bytes=12_345, files={"items.json": 500})

An outside package names a module (importing it registers its sources), a source object, or a
zero-argument function returning one in its ``pyproject.toml``::

    [project.entry-points."trustgauge.data_sources"]
    mybench = "mypkg.data:mybench"

Entry points are loaded the first time an id is not found among those already registered, or
when all ids are listed.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from trustgauge.data.sources.base import DataSource
from trustgauge.errors import DataError

#: the entry point group outside packages register their sources in
ENTRY_POINT_GROUP = "trustgauge.data_sources"

_REGISTRY: dict[str, DataSource] = {}
_entry_points_loaded = False


def register_source(source: DataSource | Callable[[], DataSource]) -> DataSource:
    """Make a source known by its id; usable as a call or as a decorator on a factory.

    Registering an equal source again is a no-op (the first object stays registered).

    Args:
        source: The source, or a zero-argument function (or class) returning it.

    Returns:
        The registered source (so ``@register_source`` binds the name to the source).

    Raises:
        TypeError: ``source`` is neither a :class:`DataSource` nor makes one.
        DataError: Another, different source already has this id.
    """
    if not isinstance(source, DataSource):
        if not callable(source):
            raise TypeError(f"register_source expects a DataSource, got {type(source).__name__}")
        made = source()
        if not isinstance(made, DataSource):
            raise TypeError(
                f"register_source: {getattr(source, '__name__', source)!r} returned "
                f"{type(made).__name__}, expected a DataSource"
            )
        source = made
    existing = _REGISTRY.get(source.id)
    if existing is None:
        _REGISTRY[source.id] = source
        return source
    if existing != source:
        raise DataError(
            f"dataset id {source.id!r} is registered twice (a {type(existing).__name__} and a "
            f"{type(source).__name__}); pick another id"
        )
    return existing


def source_ids() -> list[str]:
    """Return the ids of all known dataset sources (entry points loaded), in registration
    order."""
    _load_entry_points()
    return list(_REGISTRY)


def get_source(source_id: str) -> DataSource:
    """Look up a dataset source by id.

    Args:
        source_id: A registered id such as ``"trustllm"``.

    Returns:
        The source.

    Raises:
        DataError: The id is unknown (the message lists the known ids), or an entry point of
            :data:`ENTRY_POINT_GROUP` failed to load.
    """
    source = _REGISTRY.get(source_id)
    if source is None:
        _load_entry_points()
        source = _REGISTRY.get(source_id)
    if source is None:
        raise DataError(f"unknown dataset {source_id!r} (known: {', '.join(sorted(_REGISTRY))})")
    return source


def _load_entry_points() -> None:
    """Register the sources of every ``trustgauge.data_sources`` entry point, once."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        where = f"data source entry point {ep.name!r} ({ep.value})"
        try:
            loaded = ep.load()
        except Exception as exc:
            raise DataError(f"cannot load {where}: {type(exc).__name__}: {exc}") from exc
        if isinstance(loaded, ModuleType):
            continue  # importing the module registered its sources
        if isinstance(loaded, DataSource) or callable(loaded):
            try:
                register_source(loaded)
            except TypeError as exc:
                raise DataError(f"{where}: {exc}") from exc
            continue
        raise DataError(
            f"{where} is a {type(loaded).__name__}: expected a module, a DataSource or a "
            f"function returning one"
        )
    _entry_points_loaded = True
