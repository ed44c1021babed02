"""Issue 12 item 6: run directories are written atomically as a whole and verified when read.

A kill -9 at every step of writing leaves the old run or the new one, never a mix; a damaged,
truncated or mixed directory gets one line and exit 2 from every command that reads run dirs;
version 1 directories (tests/fixtures/run-v1, written before the hashes existed) still read.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from html_report_fixtures import synthetic_run
from rundir_fixtures import TASKS, reading_commands, write_synthetic_run
from trustgauge.cli import app
from trustgauge.errors import UsageError
from trustgauge.report.writer import write_run
from trustgauge.results import rundir
from trustgauge.results.results import Results
from trustgauge.results.writer import read_run

V1 = Path(__file__).parent / "fixtures" / "run-v1"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_refused_everywhere(run: Path, good: Path, tmp: Path, words: str) -> None:
    runner = CliRunner()
    for args in reading_commands(run, good, tmp):
        res = runner.invoke(app, args)
        lines = [line for line in res.output.splitlines() if line.strip()]
        assert res.exit_code == 2, (args, res.output)
        assert len(lines) == 1 and words in lines[0], (args, res.output)
        assert "Traceback" not in res.output


def test_run_json_records_hash_and_counts_of_each_file(tmp_path: Path) -> None:
    out = write_synthetic_run(tmp_path / "run", seed=1)
    run = json.loads((out / "run.json").read_text())
    assert run["schema_version"] == 3
    assert set(run["files"]) == {"scores.json", "samples.jsonl", "report.md"}
    assert run["files"]["samples.jsonl"]["records"] == 50
    assert run["files"]["samples.jsonl"]["sha256"] == _sha(out / "samples.jsonl")
    assert run["files"]["scores.json"]["records"] == len(TASKS)
    assert run["files"]["report.md"]["bytes"] == (out / "report.md").stat().st_size
    assert read_run(out)[0].files == Results.load(out).run.files
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no sibling left


def test_samples_cut_to_10_of_50_lines_is_refused_by_every_command(tmp_path: Path) -> None:
    good, bad = write_synthetic_run(tmp_path / "good", seed=1), write_synthetic_run(tmp_path / "bad", seed=2)
    lines = (bad / "samples.jsonl").read_text().split("\n")
    (bad / "samples.jsonl").write_text("\n".join(lines[:10]) + "\n")
    _assert_refused_everywhere(bad, good, tmp_path, "damaged or mixed run directory")
    with pytest.raises(UsageError, match=r"samples\.jsonl has \d+ bytes"):
        Results.load(bad)


@pytest.mark.parametrize("name", ["scores.json", "samples.jsonl", "report.md"])
def test_a_file_from_another_run_is_refused_by_every_command(tmp_path: Path, name: str) -> None:
    """What a kill between two file writes into a reused -o used to leave behind."""
    a, b = write_synthetic_run(tmp_path / "a", seed=1), write_synthetic_run(tmp_path / "b", seed=2)
    mixed = tmp_path / "mixed"
    shutil.copytree(a, mixed)
    shutil.copy(b / name, mixed / name)
    _assert_refused_everywhere(mixed, a, tmp_path, "damaged or mixed run directory")


def test_a_damaged_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    good, bad = write_synthetic_run(tmp_path / "good", seed=1), write_synthetic_run(tmp_path / "bad", seed=2)
    data = (bad / "scores.json").read_bytes()
    (bad / "scores.json").write_bytes(data[: len(data) // 2])
    _assert_refused_everywhere(bad, good, tmp_path, "unreadable results")
    (bad / "scores.json").write_bytes(data.replace(b'"value": 0.', b'"value": 1.', 1))  # still valid JSON
    _assert_refused_everywhere(bad, good, tmp_path, "content hash differs")


@pytest.mark.parametrize("name", ["run.json", "scores.json", "samples.jsonl"])
def test_a_file_that_is_not_json_is_named_in_the_one_line(tmp_path: Path, name: str) -> None:
    """"unreadable results (1 validation error for RunInfo)" did not say which file to look at."""
    good, bad = write_synthetic_run(tmp_path / "good", seed=1), write_synthetic_run(tmp_path / "bad", seed=2)
    (bad / name).write_text("not json {", encoding="utf-8")
    _assert_refused_everywhere(bad, good, tmp_path, f"unreadable results ({name}:")


def test_version_1_directory_is_still_read(tmp_path: Path) -> None:
    res = Results.load(V1)
    assert res.run.schema_version == 1 and res.run.files is None and len(res.samples) == 12
    runner = CliRunner()
    out = runner.invoke(app, ["report", str(V1), "-o", str(tmp_path / "r.html")])
    assert out.exit_code == 0, out.output
    assert runner.invoke(app, ["compare", str(V1), str(V1)]).exit_code == 0
    assert runner.invoke(app, ["export", str(V1), "-o", str(tmp_path / "x.csv")]).exit_code == 0


def test_version_1_directory_cut_short_or_mixed_is_refused(tmp_path: Path) -> None:
    good = write_synthetic_run(tmp_path / "good", seed=1)
    cut = tmp_path / "cut"
    shutil.copytree(V1, cut)
    lines = (cut / "samples.jsonl").read_text().split("\n")
    (cut / "samples.jsonl").write_text("\n".join(lines[:10]) + "\n")
    _assert_refused_everywhere(cut, good, tmp_path, "samples.jsonl holds 10 samples, scores.json counts 12")
    mixed = tmp_path / "mixed"
    shutil.copytree(V1, mixed)
    shutil.copy(good / "scores.json", mixed / "scores.json")  # schema 2 scores in a schema 1 run
    _assert_refused_everywhere(mixed, good, tmp_path, "damaged or mixed run directory")


# ------------------------------------------------------------------------------ kill -9

_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from rundir_fixtures import write_synthetic_run
    from trustgauge.results import rundir

    out, step, seed, exchange = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    if not exchange:
        rundir._exchange = lambda a, b: False  # the portable path: two renames

    def checkpoint(name):
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)

    rundir.checkpoint = checkpoint
    write_synthetic_run(out, seed, 50)
    """
)

STEPS = ["mkdir", "extra", "file:scores.json", "file:samples.jsonl", "file:report.md", "file:run.json",
         "before-rename"]


@pytest.mark.parametrize(
    ("step", "exchange"),
    [*((s, True) for s in [*STEPS, "exchanged"]), ("old-moved", False), ("renamed", False)],
)
def test_kill_9_at_each_step_of_replacing_a_run_leaves_one_whole_run(tmp_path: Path, step: str, exchange: bool) -> None:
    script = tmp_path / "killer.py"
    script.write_text(_KILLER.format(tests=str(Path(__file__).parent)))
    out = tmp_path / "run"
    old = write_synthetic_run(out, seed=1)
    old_hash = _sha(old / "samples.jsonl")
    proc = subprocess.run([sys.executable, str(script), str(out), step, "2", "1" if exchange else "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr  # killed at that step
    if step == "old-moved":
        # the portable path's one window: the name is briefly missing (never mixed)
        with pytest.raises(UsageError, match="not a trustgauge run directory"):
            read_run(out)
    else:
        _, _, samples = read_run(out)  # verified: one whole run
        new_hash = _sha(out / "samples.jsonl")
        landed = step in ("exchanged", "renamed")
        assert (new_hash != old_hash) == landed
        assert len(samples) == 50
    # the next write of the same run directory succeeds and clears what the kill left
    write_synthetic_run(out, seed=3)
    read_run(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("step", ["mkdir", "file:samples.jsonl", "file:run.json", "before-rename"])
def test_kill_9_while_writing_a_new_run_leaves_no_directory(tmp_path: Path, step: str) -> None:
    script = tmp_path / "killer.py"
    script.write_text(_KILLER.format(tests=str(Path(__file__).parent)))
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, str(script), str(out), step, "2", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    assert not out.exists()


def test_a_reused_o_holding_something_else_is_never_deleted(tmp_path: Path) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    run, scores, samples = synthetic_run(5, seed=1, task_ids=TASKS)
    with pytest.raises(rundir.RunDirError, match="holds something other than a run"):
        write_run(out, run, scores, samples)
    assert (out / "mine.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["notes"]


def test_files_stay_private_and_a_symlinked_o_is_written_where_it_points(tmp_path: Path) -> None:
    target = write_synthetic_run(tmp_path / "target", seed=1)
    link = tmp_path / "link"
    link.symlink_to(target)
    write_synthetic_run(link, seed=2)
    assert link.is_symlink() and read_run(link)[0].run_id == "link"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "target"]
    assert all((target / n).stat().st_mode & 0o077 == 0 for n in ("run.json", "samples.jsonl", "report.html"))


V2 = Path(__file__).parent / "fixtures" / "run-v2"


def test_version_2_directory_of_the_pre_restructuring_main_is_read(tmp_path: Path) -> None:
    """tests/fixtures/run-v2 was written by main just before the architecture step (issue 13:
    "a run directory written by today's main must still be read, reported, compared and gated");
    it holds a paired task (groups), a refusal task and a rating task."""
    res = Results.load(V2)
    assert res.run.schema_version == 2 and res.run.files is not None
    assert {s.task for s in res.samples} == {
        "safety.exaggerated", "robustness.advglue", "fairness.stereotype.recognition", "privacy.awareness.confaide",
    }
    runner = CliRunner()
    out = runner.invoke(app, ["report", str(V2), "-o", str(tmp_path / "r.html")])
    assert out.exit_code == 0, out.output
    assert runner.invoke(app, ["compare", str(V2), str(V2)]).exit_code == 0
    gate = runner.invoke(app, ["gate", str(V2), "--baseline", str(V2), "--max-drop", "0.01"])
    assert gate.exit_code == 0, gate.output
    assert runner.invoke(app, ["export", str(V2), "-o", str(tmp_path / "x.csv")]).exit_code == 0
