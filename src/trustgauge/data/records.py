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
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from trustgauge.errors import DataError, not_utf8

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
    package = getattr(source, "package", None)
    if getattr(source, "origin", None) == "package" and package:
        # shipped in a package (PackageFiles): nothing to download, the declaration and the
        # files of one package disagree
        return (
            f"{where} holds {found} records, expected {expected}: the files package {package} "
            f"ships do not match the `files` its source {source.id} declares"
        )
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
    raw = raw.removeprefix(_BOM)  # the byte-order mark some editors write: not an error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}:{_line_at(raw, exc.start)}: {not_utf8(raw, exc.start)}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{name}:{exc.lineno}: not valid JSON: {exc.msg} at column {exc.colno} (char {exc.pos})"
        ) from None
    except (ValueError, RecursionError) as exc:  # a 4,301-digit number; nesting thousands deep
        line, what = _unreadable_json(text, exc)
        raise DataError(f"{name}:{line}: not valid JSON: {what}") from None
    if not isinstance(data, list):
        raise DataError(f"{name}:1: must hold a JSON list of objects, found a {_json_type(data)}")
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            line = _line_at(text, _element_starts(text, index)[index])
            raise DataError(
                f"{name}:{line}: record {index} is a {_json_type(record)}, expected a JSON object"
            )
    return data


_BOM = b"\xef\xbb\xbf"
#: nesting deeper than this is reported where it starts (json.loads gave up with RecursionError)
_DEEP = 500


def _line_at(text: str | bytes, pos: int) -> int:
    """The 1-based line of offset ``pos``."""
    if isinstance(text, bytes):
        return text.count(b"\n", 0, pos) + 1
    return text.count("\n", 0, pos) + 1


def _unreadable_json(text: str, exc: Exception) -> tuple[int, str]:
    """Where (the 1-based line) and why :func:`json.loads` failed with something other than a
    JSONDecodeError: a number past Python's digit limit, or nesting too deep for its recursion."""
    pos, what = _unreadable_json_at(text, exc)
    return (1 if pos is None else _line_at(text, pos)), what


def _unreadable_json_at(text: str, exc: Exception) -> tuple[int | None, str]:
    """As :func:`_unreadable_json`, with the offset in ``text`` where the trouble starts (the
    bracket past :data:`_DEEP`, the first digit of the long number; ``None``: not found)."""
    if isinstance(exc, RecursionError):
        depth, quoted, escaped = 0, False, False
        for pos, char in enumerate(text):
            if escaped:
                escaped = False
            elif quoted:
                escaped, quoted = char == "\\", char != '"'
            elif char == '"':
                quoted = True
            elif char in "[{":
                depth += 1
                if depth > _DEEP:
                    return pos, f"nested more than {_DEEP} deep"
            elif char in "]}":
                depth -= 1
        return None, "nested too deep"
    found = re.search(r"\d{4000,}", text)
    return (found.start() if found else None), str(exc).split("\n", 1)[0]


def iter_jsonl_objects(data: bytes, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSON Lines file, one a line, each with its 1-based line number.

    The one reader of JSONL input (``--task-data``, ``trustgauge judge --input``, ``judges
    verify --labels``); each caller checks its own fields and says what an empty file means.
    Lines are split at ``b"\\n"`` only (``str.splitlines`` would also split at U+2028, U+0085
    or a form feed, which JSON allows unescaped inside a string); a ``\\r`` before it is
    whitespace to JSON. A UTF-8 byte-order mark at the start is skipped, and so are blank lines.
    Lazy: a line is decoded and parsed when reached, so the first bad line is the one reported.

    Args:
        data: The file's bytes.
        name: How messages name the file (a path, ``<stdin>``).

    Yields:
        ``(line number, object)`` for every non-blank line.

    Raises:
        DataError: One line, ``NAME:LINE: what``: the line is not UTF-8 (the byte and its offset
            in the file), not valid JSON (the reason; the column when known: a number past
            Python's 4,300-digit limit and nesting thousands deep included), or a JSON value
            other than an object (``expected a JSON object, got list``).
    """
    start = 0  # the offset of the current line in ``data``
    for number, raw in enumerate(data.split(b"\n"), start=1):
        skip = len(_BOM) if number == 1 and raw.startswith(_BOM) else 0
        try:
            line = raw[skip:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{name}:{number}: {not_utf8(data, start + skip + exc.start)}") from None
        start += len(raw) + 1
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            what = exc.msg.removesuffix(" at")  # "Unterminated string starting at" (at column ...)
            raise DataError(f"{name}:{number}: not valid JSON: {what} at column {exc.colno}") from None
        except (ValueError, RecursionError) as exc:  # a 4,301-digit number; nesting thousands deep
            pos, what = _unreadable_json_at(line, exc)
            what = what.split("; use sys.", 1)[0]  # Python's advice to a programmer, not to a user
            where = "" if pos is None else f" at column {pos + 1}"
            raise DataError(f"{name}:{number}: not valid JSON: {what}{where}") from None
        if not isinstance(value, dict):
            raise DataError(f"{name}:{number}: expected a JSON object, got {_json_type(value)}")
        yield number, value


def _element_starts(text: str, last: int) -> list[int]:
    """The offsets of the elements ``0..last`` of the JSON list ``text`` (valid JSON)."""
    decoder = json.JSONDecoder()
    starts: list[int] = []
    pos = text.index("[") + 1
    while len(starts) <= last:
        pos = _skip(text, pos)
        starts.append(pos)
        _, pos = decoder.raw_decode(text, pos)
        pos = _skip(text, pos) + 1  # past the comma
    return starts


def _skip(text: str, pos: int) -> int:
    while text[pos] in " \t\r\n":
        pos += 1
    return pos


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
                    f"(has: {', '.join(' '.join(str(k).split()) for k in record) or 'no fields'})"
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


def user_record_line(path: Path, index: int) -> int | None:
    """The 1-based line where record ``index`` (0-based, as :func:`read_user_records` returns
    them) starts in the user's file, or ``None`` when the file no longer reads as it did.

    Computed only when a record is refused (a task's reader names the record by its index), so
    reading a valid file costs nothing more: a JSON list is walked element by element, JSON
    Lines counted past blank lines.
    """
    try:
        text = Path(path).read_bytes().removeprefix(_BOM).decode("utf-8")
        if text.lstrip()[:1] == "[":
            return _line_at(text, _element_starts(text, index)[index])
        seen = -1
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                seen += 1
                if seen == index:
                    return number
    except (OSError, ValueError, IndexError, RecursionError):
        return None
    return None


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
    if raw.removeprefix(_BOM).lstrip()[:1] == b"[":
        return parse_records(raw, str(path)), sha256
    records = [record for _, record in iter_jsonl_objects(raw, str(path))]
    if not records:
        raise DataError(f"{path} holds no records (a JSON list of objects, or one object per line)")
    return records, sha256
