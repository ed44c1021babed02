"""A record of the user's own file (``--task-data``) that a task refuses is named by that file and
its line (issue 20 item 1: "a malformed record gets a clear error naming file and line").

Task readers name a record by the task's own data path and the record's index (the shipped
files are JSON lists); for a user's file that pointed at a file the user never wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_env
from trustgauge.data.records import read_user_records, user_record_line
from trustgauge.errors import DataError
from trustgauge.pipeline.local import _user_samples
from trustgauge.tasks.fan2023.membership_inference import MembershipInference
from trustgauge.tasks.trustllm.ethics.explicit_low_ambiguity import ExplicitLowAmbiguity

GOOD = {"prompt": "Pick one. A. help B. harm", "type": "low", "label": "A"}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_line_of_a_record_in_json_lines_skips_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.jsonl", '{"a": 1}\n\n   \n{"a": 2}\n{"a": 3}\n')
    assert [user_record_line(path, i) for i in range(4)] == [1, 4, 5, None]


def test_the_line_of_a_record_in_a_json_list(tmp_path: Path) -> None:
    text = '[\n  {"a": 1},\n\n  {"a": [\n 2]}, {"a": 3},\n  {"a": "x\\ny"}\n]\n'
    path = _write(tmp_path / "d.json", text)
    assert [user_record_line(path, i) for i in range(4)] == [2, 4, 5, 6]
    assert user_record_line(path, 4) is None  # past the end


def test_a_byte_order_mark_and_a_vanished_file(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"a": 1}\n{"a": 2}\n')
    assert user_record_line(path, 1) == 2
    assert user_record_line(tmp_path / "gone.jsonl", 0) is None


def test_a_refused_field_names_the_users_file_and_line(tmp_path: Path) -> None:
    lines = [json.dumps(GOOD), "", json.dumps(GOOD), json.dumps({**GOOD, "label": "C"})]
    path = _write(tmp_path / "mine.jsonl", "\n".join(lines) + "\n")
    records, _ = read_user_records(path)
    with pytest.raises(DataError) as caught:
        _user_samples(ExplicitLowAmbiguity(), records, path)
    assert str(caught.value) == f"{path}:4: field 'label' is 'C', expected one of 'A', 'B'"


def test_a_json_list_names_the_line_where_the_record_starts(tmp_path: Path) -> None:
    bad = {**GOOD, "prompt": 3}
    text = "[\n" + json.dumps(GOOD) + ",\n" + json.dumps(GOOD) + ",\n\n" + json.dumps(bad) + "\n]"
    path = _write(tmp_path / "mine.json", text)
    records, _ = read_user_records(path)
    with pytest.raises(DataError) as caught:
        _user_samples(ExplicitLowAmbiguity(), records, path)
    assert str(caught.value) == f"{path}:5: field 'prompt' should be str, got int"


def test_messages_that_name_the_task_id_are_placed_too(tmp_path: Path) -> None:
    rows = [{"text": "a member text", "label": 1}, {"text": "  ", "label": 0}]
    path = _write(tmp_path / "split.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    records, _ = read_user_records(path)
    with pytest.raises(DataError) as caught:
        _user_samples(MembershipInference(), records, path)
    assert str(caught.value) == f"{path}:2: needs a non-empty 'text' (a string)"


def test_a_message_about_the_whole_file_is_left_as_it_is(tmp_path: Path) -> None:
    rows = [{"text": "one text", "label": 1}, {"text": "two text", "label": 1}]
    path = _write(tmp_path / "one-label.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    records, _ = read_user_records(path)
    with pytest.raises(DataError) as caught:
        _user_samples(MembershipInference(), records, path)
    assert "needs both labels" in str(caught.value) and str(path) not in str(caught.value)


def test_the_cli_says_file_and_line_in_one_line(tmp_path: Path, tg_home: Path) -> None:
    path = _write(tmp_path / "mine.jsonl", json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "type": "medium"}) + "\n")
    task = ExplicitLowAmbiguity.id
    res = subprocess.run(
        [sys.executable, "-m", "trustgauge", "run", "-m", "scripted:oracle", "--tasks", task,
         "--task-data", f"{task}={path}", "-o", str(tmp_path / "out")],
        env=cli_env(tg_home), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [f"error: {path}:2: field 'type' is 'medium', expected one of 'low', 'high'"]
    assert not (tmp_path / "out").exists()


class _Unchecked(ExplicitLowAmbiguity):
    """A task as a plugin writes it from docs/extending.md: ``r["prompt"]``, no field checks."""

    def samples(self, records):  # type: ignore[no-untyped-def]
        return [self.sample(str(i), r["prompt"].strip(), label=r["label"]) for i, r in enumerate(records)]

    def sample(self, sid: str, prompt: str, label: str):  # type: ignore[no-untyped-def]
        from trustgauge.types import Sample

        return Sample(id=sid, prompt=prompt, metadata={"label": label})


def test_a_task_that_does_not_check_its_records_is_one_line_naming_the_record(tmp_path: Path) -> None:
    """A plugin task's KeyError on the user's record was a traceback (exit 1); it is one line
    naming the file, the line of the first record the task cannot read, and what it raised."""
    lines = [json.dumps(GOOD), "", json.dumps({"label": "A"}), json.dumps({**GOOD, "prompt": 5})]
    path = _write(tmp_path / "mine.jsonl", "\n".join(lines) + "\n")
    records, _ = read_user_records(path)
    task = _Unchecked()
    with pytest.raises(DataError) as caught:
        _user_samples(task, records, path)
    assert str(caught.value) == (f"{path}:3: {task.id} cannot read this record (KeyError: 'prompt'): "
                                 "a field it reads is missing or of another type")
    path = _write(tmp_path / "mine.jsonl", json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "prompt": 5}) + "\n")
    records, _ = read_user_records(path)
    with pytest.raises(DataError, match=rf"^{path}:2: .* \(AttributeError: 'int' object has no attribute 'strip'\)"):
        _user_samples(task, records, path)
    assert [s.prompt for s in _user_samples(task, [GOOD], path)] == [GOOD["prompt"]]
