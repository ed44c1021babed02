"""Property-based tests (issue 20 item 1): dataset loaders on damaged files.

``trustgauge.data.records`` reads every record file: the packaged and downloaded datasets
(``parse_records``, a JSON list of objects) and a user's ``--task-data`` (``read_user_records``:
a JSON list or JSON Lines). Whatever the bytes -- truncated JSON, a record of the wrong type,
invalid UTF-8, a byte-order mark, a huge line, an empty file -- the loader returns the records or
raises one :class:`DataError` of one line that names the file and the line
(``FILE:LINE: what is wrong``). A task reading a field of the wrong type names the file and
the record (``get_field``).

Crashes and gaps found (kept as ``@example`` cases): a number of more than 4,300 digits raised
``ValueError`` and JSON nested thousands deep ``RecursionError`` (both escaped as tracebacks);
a JSON Lines record holding U+2028 (allowed unescaped in JSON strings) was split in two and
refused; a file saved with a byte-order mark was refused; messages said ``FILE line N`` or
``FILE is not valid JSON ... at line N`` instead of ``FILE:N:``, and a list element that is not
an object gave no line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from property_settings import props
from trustgauge.data.records import parse_records, read_user_records
from trustgauge.errors import DataError
from trustgauge.tasks._common import get_field

PROPS = props(200, HealthCheck.function_scoped_fixture, HealthCheck.too_slow)

_JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
)
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
_RECORDS = st.lists(st.dictionaries(st.text(max_size=8), _JSON, max_size=4), min_size=1, max_size=6)


def _one_line(exc: DataError) -> str:
    message = str(exc)
    assert message and "\n" not in message and "\r" not in message, message
    return message


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@PROPS
@given(data=st.binary(max_size=300))
@example(data=b"")
@example(data=b"\xef\xbb\xbf")
@example(data=b'{"a": ' + b"1" * 5000 + b"}")  # crash found: ValueError (int digit limit)
@example(data=b"[" * 3000 + b"]" * 3000)  # crash found: RecursionError
@example(data=b'{"a": "\xe2\x80\xa8"}\n')
def test_any_bytes_are_records_or_one_data_error(tmp_path: Path, data: bytes) -> None:
    path = _file(tmp_path, "user.jsonl", data)
    try:
        records, sha = read_user_records(path)
    except DataError as exc:
        message = _one_line(exc)
        assert str(path) in message
        return
    assert records and all(isinstance(r, dict) for r in records) and len(sha) == 64


@PROPS
@given(data=st.binary(max_size=300))
@example(data=b"[" * 3000 + b"]" * 3000)
@example(data=b"[" + b"9" * 5000 + b"]")
def test_any_bytes_as_a_dataset_file(data: bytes) -> None:
    try:
        records = parse_records(data, "safety/jailbreak.json")
    except DataError as exc:
        assert re.match(r"safety/jailbreak\.json:\d+: ", _one_line(exc)), str(exc)
        return
    assert isinstance(records, list) and all(isinstance(r, dict) for r in records)


_DAMAGES = ("truncate", "list", "number", "string", "bad-utf8", "deep", "huge-number", "open-string")


def _damage(line: str, how: str) -> bytes:
    if how == "truncate":
        return line[: max(1, len(line) // 2)].encode()[:-1] or b"{"
    if how == "list":
        return b"[1, 2]"
    if how == "number":
        return b"42"
    if how == "string":
        return b'"a record"'
    if how == "bad-utf8":
        return b'{"prompt": "caf\xe9"}'
    if how == "deep":
        return b"[" * 5000 + b"]" * 5000
    if how == "huge-number":
        return b'{"n": ' + b"7" * 5000 + b"}"
    return b'{"prompt": "never closed'


@PROPS
@given(
    records=_RECORDS,
    at=st.integers(min_value=0, max_value=5),
    how=st.sampled_from(_DAMAGES),
    blank_lines=st.integers(min_value=0, max_value=2),
    bom=st.booleans(),
    crlf=st.booleans(),
)
def test_a_damaged_jsonl_line_is_named_by_file_and_line(
    tmp_path: Path, records: list[dict[str, Any]], at: int, how: str, blank_lines: int, bom: bool, crlf: bool
) -> None:
    lines = [json.dumps(r).encode() for r in records]
    at = min(at, len(lines) - 1)
    lines[at] = _damage(lines[at].decode(), how)
    lines = [b""] * blank_lines + lines
    data = (b"\r\n" if crlf else b"\n").join(lines) + b"\n"
    if bom:
        data = b"\xef\xbb\xbf" + data
    if data.lstrip(b"\xef\xbb\xbf \r\n\t")[:1] == b"[":
        return  # the damaged line opens the file with "[": it is read as one JSON list (below)
    path = _file(tmp_path, "data.jsonl", data)
    with pytest.raises(DataError) as info:
        read_user_records(path)
    message = _one_line(info.value)
    assert message.startswith(f"{path}:{blank_lines + at + 1}: "), message


@PROPS
@given(records=_RECORDS, cut=st.floats(min_value=0.05, max_value=0.95), bom=st.booleans())
def test_a_truncated_json_list_is_named_by_file_and_line(
    tmp_path: Path, records: list[dict[str, Any]], cut: float, bom: bool
) -> None:
    text = json.dumps(records, indent=1).encode()
    data = text[: max(1, int(len(text) * cut))]
    path = _file(tmp_path, "data.json", (b"\xef\xbb\xbf" if bom else b"") + data)
    with pytest.raises(DataError) as info:
        read_user_records(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: ", _one_line(info.value)), str(info.value)


@PROPS
@given(records=_RECORDS, bom=st.booleans(), as_list=st.booleans())
@example(records=[{"prompt": "line\u2028separator\u0085and\x0cfeed"}], bom=False, as_list=False)
def test_well_formed_files_read_back_exactly(tmp_path: Path, records: list[dict[str, Any]], bom: bool, as_list: bool) -> None:
    """Both formats, with or without a byte-order mark (``ensure_ascii=False``: U+2028 and
    U+0085 stay raw in the file, as JSON allows)."""
    body = json.dumps(records, ensure_ascii=False) if as_list else "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    path = _file(tmp_path, "data.jsonl", (b"\xef\xbb\xbf" if bom else b"") + body.encode())
    assert read_user_records(path)[0] == records


@pytest.mark.parametrize("index", [0, 2, 3])
def test_a_list_element_that_is_not_an_object_names_its_line(index: int) -> None:
    items = ['{"a": 1}', '{"b": [1,\n 2]}', '{"c": 3}', '"x"']
    items[index] = '"not an object"'
    data = ("[\n" + ",\n".join(items) + "\n]").encode()
    line = 2 + index + (1 if index >= 2 else 0)
    with pytest.raises(DataError, match=rf"^d\.json:{line}: record {index} is a string, expected a JSON object$"):
        parse_records(data, "d.json")


def test_a_huge_line_is_read(tmp_path: Path) -> None:
    record = {"prompt": "x" * 2_000_000}
    path = _file(tmp_path, "big.jsonl", (json.dumps({"prompt": "a"}) + "\n" + json.dumps(record) + "\n").encode())
    assert read_user_records(path)[0][1] == record


def test_an_empty_file_is_one_line(tmp_path: Path) -> None:
    path = _file(tmp_path, "empty.jsonl", b"")
    with pytest.raises(DataError, match=r"holds no records"):
        read_user_records(path)


class _Data:
    path = "user-data.jsonl"


class _Task:
    id = "some.task"
    data = _Data()


@PROPS
@given(value=_JSON, kinds=st.sampled_from([str, int, (int, float), bool, list, dict]))
def test_a_field_of_the_wrong_type_names_the_file_and_the_record(value: Any, kinds: Any) -> None:
    try:
        got = get_field(_Task(), 7, {"field\nname": value, "prompt": value}, "prompt", kinds)  # type: ignore[arg-type]
    except DataError as exc:
        assert _one_line(exc).startswith("user-data.jsonl record 7: ")
        return
    assert got is value
