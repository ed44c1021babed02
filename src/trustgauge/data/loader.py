"""Find a dataset on disk and read its JSON record files with one-line, actionable errors."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Sequence, Sized
from pathlib import Path
from typing import Any

from trustgauge.data.registry import DatasetSource, get_source
from trustgauge.errors import DataError

#: an unpacked copy of the release to use when no data dir is given (as ``--data-dir``)
DATA_DIR_ENV = "TRUSTGAUGE_DATA_DIR"

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

    In order: ``data_dir``; else the folder named by ``$TRUSTGAUGE_DATA_DIR``; else the cached
    copy (the pinned GitHub release, or else one fetched with ``--from hf``); else the pinned
    release is downloaded (``auto_fetch``). A full release is never replaced by something
    smaller: when none of these works, the error says how to get the data.

    Only the files' presence is checked here; their record counts are checked as each file is
    read (:func:`check_record_count`, or :func:`load_records` with ``source_id``).

    Args:
        source_id: A registered dataset id, e.g. ``"trustllm"``.
        data_dir: A user-supplied unpacked copy (``--data-dir``), or ``None`` to use
            ``$TRUSTGAUGE_DATA_DIR`` or the cache. A folder holding the archive's top-level
            folder (e.g. ``dataset/`` for TrustLLM, as left by unzipping the release by hand) is
            accepted too.
        auto_fetch: When no folder is given and nothing is cached, download the dataset
            (otherwise raise).
        progress: Show a download progress bar on a terminal.

    Returns:
        The folder to read files from.

    Raises:
        DataError: The given folder (the message says if it came from
            ``TRUSTGAUGE_DATA_DIR``) does not exist or lacks an expected file (the message names
            the first missing one); nothing is cached and ``auto_fetch`` is false; or the
            download fails. Each message says how to get the data.
    """
    source = get_source(source_id)
    origin = ""
    if data_dir is None:
        env = os.environ.get(DATA_DIR_ENV, "").strip()
        if env:
            data_dir, origin = Path(env), f" (from {DATA_DIR_ENV})"
    if data_dir is not None:
        return _check_data_dir(source, Path(data_dir).expanduser(), origin)

    from trustgauge.data.fetch import cached_dataset, fetch_dataset, get_data_hint

    cached = cached_dataset(source_id)
    if cached is not None:
        return cached
    if not auto_fetch:
        raise DataError(
            f"the {source.display_name} dataset ({source.id}) is not downloaded yet; "
            f"{get_data_hint(source)}"
        )
    return fetch_dataset(source_id, progress=progress)


def _check_data_dir(source: DatasetSource, root: Path, origin: str) -> Path:
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise DataError(f"data dir {root}{origin} {what}")
    missing = _missing_file(root, source)
    if missing is None:
        return root
    if source.archive_root is not None:
        nested = root / source.archive_root
        if nested.is_dir() and _missing_file(nested, source) is None:
            return nested
    raise DataError(
        f"data dir {root}{origin} lacks {missing}: expected the unpacked {source.id} release laid "
        f"out as <dimension>/<file>.json ({len(source.files)} files)"
    )


def record_count_error(source: DatasetSource, where: str, found: int, expected: int) -> str:
    """The one-line message for a file whose record count differs from the registry.

    Args:
        source: The dataset.
        where: The file, as the user should see it (a path, or ``copy: relpath``).
        found: Records in the file.
        expected: Records in the pinned release.

    Returns:
        The message (without a trailing full stop).
    """
    return (
        f"{where} holds {found} records, expected {expected}: not the pinned "
        f"{source.display_name} release; use an unmodified copy of it (`trustgauge data fetch "
        f"{source.id}` downloads and verifies it)"
    )


def check_record_count(
    source_id: str, relpath: str, records: Sized | int, *, root: Path | None = None
) -> None:
    """Check that a file of a full dataset copy holds as many records as the pinned release.

    Call it for files read from ``--data-dir``, ``$TRUSTGAUGE_DATA_DIR`` or the cache, never
    for the deliberately smaller packaged samples (the demo / quick suite).

    Args:
        source_id: A registered dataset id, e.g. ``"trustllm"``.
        relpath: The file, ``/``-separated below the dataset folder, e.g.
            ``"safety/jailbreak.json"``. Files the registry does not list are not checked.
        records: The file's records (anything with a length) or their number.
        root: The dataset folder, so the message names the full path.

    Raises:
        DataError: The count differs; one line naming the file, the count found and expected.
    """
    source = get_source(source_id)
    expected = source.files.get(relpath)
    if expected is None:
        return
    found = records if isinstance(records, int) else len(records)
    if found != expected:
        where = str(Path(root).joinpath(*relpath.split("/"))) if root is not None else relpath
        raise DataError(record_count_error(source, where, found, expected))


def load_records(
    root: Path, relpath: str, *, source_id: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Read one JSON file that must hold a list of objects.

    Args:
        root: The dataset folder (see :func:`resolve_data_dir`).
        relpath: ``/``-separated path below ``root``, e.g. ``"safety/jailbreak.json"``.
        source_id: When given, also check the record count against this dataset's registry
            entry (:func:`check_record_count`). Leave it out for the packaged samples.

    Returns:
        The records and the SHA-256 (lowercase hex) of the file's bytes.

    Raises:
        DataError: The file is missing or unreadable, is not valid JSON (the message gives
            the line and column), is not a list of JSON objects (the message names the
            record), or (with ``source_id``) holds another number of records than the release.
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
    data = parse_records(raw, str(path))
    if source_id is not None:
        check_record_count(source_id, "/".join(parts), data, root=Path(root))
    return data, sha256


def parse_records(raw: bytes, name: str) -> list[dict[str, Any]]:
    """Parse the bytes of a record file: a JSON list of objects.

    Args:
        raw: The file's bytes (UTF-8).
        name: How messages name the file (a path).

    Returns:
        The records.

    Raises:
        DataError: Not UTF-8, not valid JSON (line and column given), not a list, or a record
            that is not an object (its index given).
    """
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
            f"(char {exc.pos})"
        ) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text: bad byte at offset {exc.start}") from None
    if not isinstance(data, list):
        raise DataError(f"{name} must hold a JSON list of objects, found a {_json_type(data)}")
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise DataError(
                f"{name}: record {index} is a {_json_type(record)}, expected a JSON object"
            )
    return data


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
