"""``iter_jsonl_objects``: the one JSON Lines reader behind ``--task-data``, ``trustgauge judge
--input`` and ``judges verify --labels``. Expectations worked out by hand from the bytes."""

from __future__ import annotations

import pytest

from trustgauge.data.records import iter_jsonl_objects
from trustgauge.errors import DataError


def _read(data: bytes) -> list[tuple[int, dict[str, object]]]:
    return list(iter_jsonl_objects(data, "f.jsonl"))


def _error(data: bytes) -> str:
    with pytest.raises(DataError) as info:
        _read(data)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message, message  # one line, always
    return message


def test_objects_come_with_their_line_numbers_blank_lines_skipped() -> None:
    data = b'{"a": 1}\n\n   \n\t\n{"b": 2}\n'
    assert _read(data) == [(1, {"a": 1}), (5, {"b": 2})]


def test_a_byte_order_mark_at_the_start_is_skipped() -> None:
    assert _read(b'\xef\xbb\xbf{"a": 1}\n{"b": 2}') == [(1, {"a": 1}), (2, {"b": 2})]


def test_a_byte_order_mark_on_a_later_line_is_not() -> None:
    # U+FEFF is not JSON whitespace: only the file's first bytes may carry it
    assert _error(b'{"a": 1}\n\xef\xbb\xbf{"b": 2}') == (
        "f.jsonl:2: not valid JSON: Unexpected UTF-8 BOM (decode using utf-8-sig) at column 1"
    )


def test_u2028_and_friends_inside_a_string_do_not_split_the_line() -> None:
    # U+2028, U+2029, U+0085: JSON allows them unescaped in a string; str.splitlines() would cut
    # each of these lines in two
    data = '{"t": "a\u2028b"}\n{"t": "c\u2029d\u0085e"}\n'.encode()
    assert _read(data) == [(1, {"t": "a\u2028b"}), (2, {"t": "c\u2029d\u0085e"})]


def test_crlf_line_ends_read_like_lf() -> None:
    assert _read(b'{"a": 1}\r\n\r\n{"b": "x"}\r\n') == [(1, {"a": 1}), (3, {"b": "x"})]


def test_an_empty_input_yields_nothing() -> None:
    # what "no rows" means is each caller's to say
    assert _read(b"") == [] and _read(b"\n \n") == [] and _read(b"\xef\xbb\xbf") == []


def test_a_line_nested_100000_deep_is_one_line_naming_where_it_gets_too_deep() -> None:
    data = b'{"a": 1}\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    # the 501st bracket (offset 500 in the line) is one past the 500 levels reported
    assert _error(data) == "f.jsonl:2: not valid JSON: nested more than 500 deep at column 501"


def test_nesting_inside_a_string_does_not_count() -> None:
    deep_text = '{"t": "' + "[" * 2000 + '"}'
    assert _read(deep_text.encode()) == [(1, {"t": "[" * 2000})]


def test_a_5000_digit_number_is_one_line_naming_its_column() -> None:
    data = b'{"a": 1}\n\n{"n": ' + b"7" * 5000 + b"}\n"
    # '{"n": ' is 6 characters: the number starts at column 7; Python's advice to call
    # sys.set_int_max_str_digits() is left out (a user of the CLI cannot)
    assert _error(data) == (
        "f.jsonl:3: not valid JSON: Exceeds the limit (4300 digits) for integer string conversion: "
        "value has 5000 digits at column 7"
    )


def test_invalid_utf8_on_line_3_names_line_3_and_the_byte() -> None:
    data = b'{"a": 1}\n{"b": 2}\n{"c": "caf\xe9"}\n{"d": 4}\n'
    # offset: 9 + 9 bytes of lines 1-2, then '{"c": "caf' is 10 bytes -> 28
    assert _error(data) == "f.jsonl:3: not UTF-8 text (byte 0xe9 at offset 28)"


def test_the_utf8_offset_counts_the_byte_order_mark() -> None:
    # offsets are of the file as it is on disk: the 3 bytes of the mark included
    assert _error(b'\xef\xbb\xbf{"c": "\xff"}') == "f.jsonl:1: not UTF-8 text (byte 0xff at offset 10)"


def test_the_first_bad_line_is_the_one_reported() -> None:
    # a JSON error on line 1 comes before a UTF-8 error on line 2
    assert _error(b'{"a": \n\xff\n').startswith("f.jsonl:1: not valid JSON")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'["a list"]', "f.jsonl:2: expected a JSON object, got list"),
        (b'"text"', "f.jsonl:2: expected a JSON object, got string"),
        (b"7", "f.jsonl:2: expected a JSON object, got number"),
        (b"true", "f.jsonl:2: expected a JSON object, got boolean"),
        (b"null", "f.jsonl:2: expected a JSON object, got null"),
    ],
)
def test_a_value_other_than_an_object_is_named_by_its_json_type(line: bytes, message: str) -> None:
    assert _error(b'{"a": 1}\n' + line + b"\n") == message


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # '{"a": 1,}': the closing brace at column 9 is where a name was expected
        (b'{"a": 1,}', "f.jsonl:1: not valid JSON: Expecting property name enclosed in double quotes at column 9"),
        # Python says "Unterminated string starting at"; the column completes the sentence
        (b'{"a": "x', "f.jsonl:1: not valid JSON: Unterminated string starting at column 7"),
        (b'{"a": 1} {"b": 2}', "f.jsonl:1: not valid JSON: Extra data at column 10"),
        (b"{not json", "f.jsonl:1: not valid JSON: Expecting property name enclosed in double quotes at column 2"),
        # the object split over two lines: JSON Lines is one object a line
        (b'{"a":\n1}', "f.jsonl:1: not valid JSON: Expecting value at column 6"),
    ],
)
def test_malformed_json_gives_the_reason_and_the_column(line: bytes, message: str) -> None:
    assert _error(line) == message


def test_it_is_lazy_rows_before_a_bad_line_come_first() -> None:
    rows = iter_jsonl_objects(b'{"a": 1}\n[1]\n', "f.jsonl")
    assert next(rows) == (1, {"a": 1})
    with pytest.raises(DataError, match=r"^f\.jsonl:2: expected a JSON object, got list$"):
        next(rows)
