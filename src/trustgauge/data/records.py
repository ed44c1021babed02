"""Read a dataset's JSON record files with one-line, actionable errors.

The bottom of ``trustgauge.data``: it knows record files (a JSON list of objects) and the files
shipped in the package, nothing about sources, downloads or the cache. The record-count check
against a registered source is one layer up (:func:`trustgauge.data.datasets.load_records`).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from trustgauge.errors import DataError

_PACKAGED_DIR = "packaged"
_resource_stack: contextlib.ExitStack | None = None


class SourceInfo(Protocol):
    """What the record and cache layers need to know of a dataset source (its id, the name
    messages use, and the files a complete copy holds with their record counts)."""

    @property
    def id(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def files(self) -> Mapping[str, int]: ...

    @property
    def checksums(self) -> Mapping[str, str]: ...


def record_count_error(source: SourceInfo, where: str, found: int, expected: int) -> str:
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


def read_records(root: Path, relpath: str) -> tuple[list[dict[str, Any]], str]:
    """Read one JSON file that must hold a list of objects.

    Args:
        root: The dataset folder (see :func:`resolve_data_dir`).
        relpath: ``/``-separated path below ``root``, e.g. ``"safety/jailbreak.json"``.

    Returns:
        The records and the SHA-256 (lowercase hex) of the file's bytes.

    Raises:
        DataError: The file is missing or unreadable, is not valid JSON (the message gives
            the line and column), is not a list of JSON objects (the message names the
            record).
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
    parts = _plain_parts(name)
    if parts is None:
        raise DataError(f"bad packaged data name {name!r}")
    path = package_resource("trustgauge.data", [_PACKAGED_DIR, *parts])
    if path is None:
        raise DataError(f"no packaged data {'/'.join(parts)!r} in trustgauge.data/packaged")
    return path


def _plain_parts(name: str) -> list[str] | None:
    """The parts of a ``/``-separated relative path, ``None`` if it is absolute, empty or
    climbs out with ``..``."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts or name.startswith(("/", "\\")):
        return None
    return parts


def package_resource(package: str, parts: Sequence[str]) -> Path | None:
    """A filesystem path to a file or folder shipped in ``package`` (extracted to a temporary
    location, kept until exit, if the package is imported from a zip); ``None`` if absent.

    Raises:
        DataError: ``package`` cannot be imported.
    """
    import importlib.resources

    try:
        resource = importlib.resources.files(package)
    except (ImportError, TypeError) as exc:
        raise DataError(f"cannot import package {package!r} to read its data files: {exc}") from exc
    for part in parts:  # one step at a time: Traversable.joinpath takes one name on 3.10
        resource = resource / part
    if not (resource.is_file() or resource.is_dir()):
        return None
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


def read_user_records(path: Path) -> tuple[list[dict[str, Any]], str]:
    """Read a user's record file (``--task-data``): a JSON list of objects, or JSON Lines (one
    object per line; blank lines skipped). Returns the records and the file's SHA-256.

    Raises:
        DataError: missing or unreadable file, or a malformed record (the message names the
            file and the line).
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(f"data file {path} does not exist") from None
    except IsADirectoryError:
        raise DataError(f"data file {path} is a folder, not a file") from None
    except OSError as exc:
        raise DataError(f"cannot read data file {path}: {exc.strerror or exc}") from exc
    sha256 = hashlib.sha256(raw).hexdigest()
    if raw.lstrip()[:1] == b"[":
        return parse_records(raw, str(path)), sha256
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text: bad byte at offset {exc.start}") from None
    records: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict):
            raise DataError(f"{path} line {number}: a {_json_type(record)}, expected a JSON object")
        records.append(record)
    if not records:
        raise DataError(f"{path} holds no records (a JSON list of objects, or one object per line)")
    return records, sha256
