"""Property-based tests (issue 20 item 1): the run-directory reader on damaged directories.

``Results.load`` (and through it ``report``, ``compare``, ``gate``, ``leaderboard``, ``export``)
reads ``run.json``, ``scores.json`` and ``samples.jsonl``. Whatever was done to them -- bytes
flipped, inserted or cut, a file truncated, a field given a value of another type -- the read
either succeeds or raises one :class:`UsageError` (a :class:`RunDirError` for an unreadable or
damaged run) of one line; never another exception. Both kinds of directory are damaged: the
current schema (every data file hashed in ``run.json``, so the damage usually shows as a hash
mismatch; ``run.json`` itself is not hashed) and the committed schema 1 directory
(``tests/fixtures/run-v1``, no hashes: every field reaches the validators).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from html_report_fixtures import synthetic_run
from property_settings import props
from trustgauge.cli import app
from trustgauge.errors import UsageError
from trustgauge.report.writer import write_run
from trustgauge.results.results import Results
from trustgauge.results.rundir import RunDirError

PROPS = props(150, HealthCheck.function_scoped_fixture, HealthCheck.too_slow)
V1 = Path(__file__).parent / "fixtures" / "run-v1"
FILES = ("run.json", "scores.json", "samples.jsonl")


@pytest.fixture(scope="module")
def current_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("runs") / "run-current"
    run, scores, samples = synthetic_run(6, seed=3, task_ids=["safety.jailbreak", "safety.misuse"])
    write_run(path, run, scores, samples)
    Results.load(path)  # whole, before the damage
    return path


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(source, target)
    return target


def _load_or_one_line(path: Path) -> None:
    try:
        Results.load(path)
    except UsageError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message, message
        assert str(path) in message, message


_JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)

_DAMAGE = st.one_of(
    st.tuples(st.just("truncate"), st.floats(min_value=0, max_value=1), st.binary(max_size=0)),
    st.tuples(st.just("flip"), st.floats(min_value=0, max_value=1), st.binary(min_size=1, max_size=1)),
    st.tuples(st.just("insert"), st.floats(min_value=0, max_value=1), st.binary(min_size=1, max_size=20)),
    st.tuples(st.just("delete"), st.floats(min_value=0, max_value=1), st.binary(min_size=1, max_size=40)),
)


def _damaged(data: bytes, how: str, where: float, extra: bytes) -> bytes:
    at = min(int(len(data) * where), max(0, len(data) - 1))
    if how == "truncate":
        return data[:at]
    if how == "flip":
        return data[:at] + extra + data[at + 1 :]
    if how == "insert":
        return data[:at] + extra + data[at:]
    return data[:at] + data[at + len(extra) :]


@pytest.mark.parametrize("which", ["current", "v1"])
@PROPS
@given(name=st.sampled_from(FILES), damage=_DAMAGE)
@example(name="samples.jsonl", damage=("insert", 0.0, b"\xff"))
@example(name="run.json", damage=("truncate", 0.0, b""))
@example(name="samples.jsonl", damage=("insert", 0.0, b"[" * 3000))
@example(name="run.json", damage=("insert", 0.0, b"[" * 3000))  # found: RecursionError (the version check)
def test_byte_damage_is_read_or_one_line(
    which: str, current_run: Path, tmp_path: Path, name: str, damage: tuple[str, float, bytes]
) -> None:
    path = _copy(current_run if which == "current" else V1, tmp_path)
    file = path / name
    file.write_bytes(_damaged(file.read_bytes(), *damage))
    _load_or_one_line(path)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indexes) to a value inside a JSON document."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:4]):
            found += _paths(inner, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize("which", ["current", "v1"])
@PROPS
@given(name=st.sampled_from(FILES), pick=st.integers(min_value=0), value=_JSON_VALUES, line=st.integers(0, 5))
@example(name="run.json", pick=0, value=None, line=0)
@example(name="samples.jsonl", pick=3, value={"\n": []}, line=1)
def test_a_field_of_another_type_is_read_or_one_line(
    which: str, current_run: Path, tmp_path: Path, name: str, pick: int, value: Any, line: int
) -> None:
    path = _copy(current_run if which == "current" else V1, tmp_path)
    file = path / name
    if name == "samples.jsonl":
        lines = file.read_text(encoding="utf-8").split("\n")
        line %= len([x for x in lines if x.strip()])
        document = json.loads(lines[line])
        paths = _paths(document)
        lines[line] = json.dumps(_replace(document, paths[pick % len(paths)], value), ensure_ascii=False)
        file.write_text("\n".join(lines), encoding="utf-8")
    else:
        document = json.loads(file.read_text(encoding="utf-8"))
        paths = _paths(document)
        file.write_text(json.dumps(_replace(document, paths[pick % len(paths)], value)), encoding="utf-8")
    _load_or_one_line(path)


def test_an_unreadable_sample_names_its_line(tmp_path: Path) -> None:
    """schema 1 (no hashes): a broken line of samples.jsonl is named ``samples.jsonl:LINE``."""
    path = _copy(V1, tmp_path)
    file = path / "samples.jsonl"
    lines = file.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2][: len(lines[2]) // 2]
    file.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(RunDirError, match=r"unreadable results \(samples\.jsonl:3: "):
        Results.load(path)


def test_a_damaged_run_through_the_cli_is_one_line_and_exit_2(current_run: Path, tmp_path: Path) -> None:
    path = _copy(current_run, tmp_path)
    (path / "run.json").write_bytes((path / "run.json").read_bytes()[:-7])
    result = CliRunner().invoke(app, ["report", str(path)])
    assert result.exit_code == 2, result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "run.json" in lines[0], result.stderr


@pytest.mark.parametrize("writer", ["9.0\nsecond line", "", None, ["x"]])
def test_a_newer_run_is_refused_in_one_line_whatever_its_writer_field_holds(
    current_run: Path, tmp_path: Path, writer: Any
) -> None:
    path = _copy(current_run, tmp_path)
    run = json.loads((path / "run.json").read_text(encoding="utf-8"))
    run.update(schema_version=99, trustgauge_version=writer)
    (path / "run.json").write_text(json.dumps(run), encoding="utf-8")
    with pytest.raises(RunDirError, match="results schema version 99") as info:
        Results.load(path)
    assert "\n" not in str(info.value)
