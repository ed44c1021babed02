"""Find a dataset on disk and read its JSON record files with one-line, actionable errors."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from trustgauge.data.registry import DatasetSource, get_source
from trustgauge.errors import DataError

_PACKAGED_DIR = "packaged"
_resource_stack: contextlib.ExitStack | None = None


def _missing_file(root: Path, source: DatasetSource) -> str | None:
    for relpath in source.files:
        if not root.joinpath(*relpath.split("/")).is_file():
            return relpath
    return None


def resolve_data_dir(
    source_id: str,
    data_dir: Path | None,
    *,
    auto_fetch: bool = True,
    progress: bool = True,
) -> Path:
    """Return the folder holding a dataset's ``<dimension>/<file>.json`` files.

    Args:
        source_id: A registered dataset id, e.g. ``"trustllm"``.
        data_dir: A user-supplied unpacked copy (``--data-dir``), or ``None`` to use the cache.
            A folder holding the archive's top-level folder (e.g. ``dataset/`` for TrustLLM,
            as left by unzipping the release by hand) is accepted too.
        auto_fetch: When no ``data_dir`` is given and nothing is cached, download the dataset
            (otherwise raise).
        progress: Show a download progress bar on a terminal.

    Returns:
        The folder to read files from.

    Raises:
        DataError: ``data_dir`` does not exist or lacks an expected file (the message names
            the first missing one); nothing is cached and ``auto_fetch`` is false; or the
            download fails.
    """
    source = get_source(source_id)
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        if not root.is_dir():
            what = "is not a folder" if root.exists() else "does not exist"
            raise DataError(f"data dir {root} {what}")
        missing = _missing_file(root, source)
        if missing is None:
            return root
        if source.archive_root is not None:
            nested = root / source.archive_root
            if nested.is_dir() and _missing_file(nested, source) is None:
                return nested
        raise DataError(
            f"data dir {root} lacks {missing}: expected the unpacked {source.id} release laid "
            f"out as <dimension>/<file>.json ({len(source.files)} files)"
        )

    from trustgauge.data.fetch import cached_dataset, fetch_dataset

    cached = cached_dataset(source_id)
    if cached is not None:
        return cached
    if not auto_fetch:
        raise DataError(
            f"the {source.id} dataset is not downloaded yet: run `trustgauge data fetch "
            f"{source.id}` or pass --data-dir <unpacked folder>"
        )
    return fetch_dataset(source_id, progress=progress)


def load_records(root: Path, relpath: str) -> tuple[list[dict[str, Any]], str]:
    """Read one JSON file that must hold a list of objects.

    Args:
        root: The dataset folder (see :func:`resolve_data_dir`).
        relpath: ``/``-separated path below ``root``, e.g. ``"safety/jailbreak.json"``.

    Returns:
        The records and the SHA-256 (lowercase hex) of the file's bytes.

    Raises:
        DataError: The file is missing or unreadable, is not valid JSON (the message gives
            the line and column), or is not a list of JSON objects.
    """
    parts = relpath.replace("\\", "/").split("/")
    if relpath.startswith(("/", "\\")) or ".." in parts:
        raise DataError(f"bad dataset file name {relpath!r}: expected <dimension>/<file>.json")
    path = Path(root).joinpath(*parts)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"dataset file {path} does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read dataset file {path}: {exc.strerror or exc}") from exc
    sha256 = hashlib.sha256(raw).hexdigest()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
            f"(char {exc.pos})"
        ) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text: bad byte at offset {exc.start}") from None
    if not isinstance(data, list):
        raise DataError(f"{path} must hold a JSON list of objects, found a {_json_type(data)}")
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise DataError(
                f"{path}: record {index} is a {_json_type(record)}, expected a JSON object"
            )
    return data, sha256


def require_fields(records: Sequence[dict[str, Any]], fields: Iterable[str], relpath: str) -> None:
    """Check that every record has every field.

    Args:
        records: Records as returned by :func:`load_records`.
        fields: Field names each record must contain (a value of ``null`` counts as present).
        relpath: The file the records came from, for the message.

    Raises:
        DataError: Names the first record (0-based index) lacking a field, and the field.
    """
    wanted = list(fields)
    for index, record in enumerate(records):
        for name in wanted:
            if name not in record:
                raise DataError(
                    f"{relpath}: record {index} lacks field {name!r} "
                    f"(has: {', '.join(map(str, record)) or 'no fields'})"
                )


def packaged_path(name: str) -> Path:
    """Return the path of a small data file or folder shipped inside the package.

    The files live in ``trustgauge/data/packaged/`` (see its README.md).

    Args:
        name: ``/``-separated path below ``packaged/``, e.g. ``"README.md"``.

    Returns:
        A filesystem path to the file (extracted to a temporary file if the package is
        imported from a zip).

    Raises:
        DataError: The name is not a plain relative path or no such file is packaged.
    """
    import importlib.resources

    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts or name.startswith(("/", "\\")):
        raise DataError(f"bad packaged data name {name!r}")
    resource = importlib.resources.files("trustgauge.data") / _PACKAGED_DIR
    for part in parts:  # one step at a time: Traversable.joinpath takes one name on 3.10
        resource = resource / part
    if not (resource.is_file() or resource.is_dir()):
        raise DataError(f"no packaged data {'/'.join(parts)!r} in trustgauge.data/packaged")
    if isinstance(resource, Path):
        return resource
    global _resource_stack
    if _resource_stack is None:
        _resource_stack = contextlib.ExitStack()
        atexit.register(_resource_stack.close)
    return _resource_stack.enter_context(importlib.resources.as_file(resource))


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
