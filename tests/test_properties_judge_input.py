"""Property-based tests (issue 20 item 1): the JSONL input of ``trustgauge judge``.

``_read_judge_input`` reads the rows a user hands ``trustgauge judge -i FILE``. Whatever the
bytes, it returns the rows (each with a string ``response``) or raises one :class:`DataError`
of one line that names the file and the line (``FILE:LINE: ...``); through the command line
that is one ``error:`` line and exit 2, with nothing written to ``-o``.

Crash found (kept as ``@example``): a line nested thousands deep raised ``RecursionError``,
a traceback instead of ``FILE:LINE:``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from property_settings import props
from trustgauge.cli import app
from trustgauge.cli.judges import _read_judge_input
from trustgauge.errors import DataError

PROPS = props(300, HealthCheck.function_scoped_fixture, HealthCheck.too_slow)

_LINES = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from([
            b'{"response": "fine"}', b'{"response": "a", "prompt": "p", "reference": [1]}', b"", b"\r",
            b'{"response": 1}', b'{"prompt": "p"}', b"[]", b"null", b'"text"', b'{"response": "caf\xe9"}',
            b'{"response": "x"', b"\xef\xbb\xbf{}", b"[" * 4000, b'{"response": "' + b"y" * 200_000 + b'"}',
            b'{"response": "a", "reference": ' + b"9" * 5000 + b"}",
        ]),
    ),
    max_size=6,
)


@PROPS
@given(lines=_LINES, needs_reference=st.booleans(), bom=st.booleans())
@example(lines=[b'{"response": "a"}', b"[" * 4000], needs_reference=False, bom=False)  # crash found
def test_any_lines_are_rows_or_one_line_naming_file_and_line(
    tmp_path: Path, lines: list[bytes], needs_reference: bool, bom: bool
) -> None:
    path = tmp_path / "in.jsonl"
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines)
    path.write_bytes(data)
    try:
        rows, items = _read_judge_input(str(path), needs_reference, "correctness=squad")
    except DataError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message, message
        if message == f"{path} holds no rows (one JSON object a line with a 'response' field)":
            # only when every line is blank (the reader's own test: str.strip() of the decoded line)
            assert not any(line.strip() for line in data.decode("utf-8-sig").split("\n")), message
            return
        found = re.match(rf"{re.escape(str(path))}:(\d+): ", message)
        assert found, message
        assert 1 <= int(found.group(1)) <= data.count(b"\n") + 1
        return
    assert len(rows) == len(items)
    assert all(isinstance(item.response, str) for item in items)
    assert all(not needs_reference or item.reference is not None for item in items)


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (b"[" * 4000, ":2: not valid JSON: nested more than 500 deep at column 501"),
        (b'{"response": "x', ":2: not valid JSON: Unterminated string starting at column 14"),
        (b'{"response": "caf\xe9"}', ":2: not UTF-8 text (byte 0xe9 at offset 57)"),
        (b'{"response": "a", "n": ' + b"9" * 5000 + b"}", ":2: not valid JSON: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits at column 24"),
    ],
)
def test_a_malformed_line_through_the_cli_is_one_line_and_exit_2(tmp_path: Path, bad: bytes, expected: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(json.dumps({"response": "I can't help with that."}).encode() + b"\n" + bad + b"\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["judge", "refusal=rules", "-i", str(src), "-o", str(out)])
    assert result.exit_code == 2, result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {src}{expected}"), result.stderr
    assert not out.exists()
