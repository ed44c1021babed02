"""A single-value option given twice is one line and exit 2 (Click would keep the last value)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

import trustgauge.cli  # noqa: F401  (registers every command)
from trustgauge.cli._repeated import may_repeat, repeated_option
from trustgauge.cli.app import app

COMMAND = typer.main.get_command(app)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("run --suite quick --suite trustllm -m scripted:refuse-all", "-s/--suite"),
        ("run --suite=quick -s quick -m x:y", "-s/--suite"),
        ("run -m x:y -n 2 -n3", "-n/--limit"),
        ("run -m x:y --limit 2 -n 3", "-n/--limit"),
        ("data fetch trustllm --from hf --from github", "--from"),
        # options that take several values, flags, and values that look like options
        ("run -m a:b -m c:d --suite quick", None),
        ("run -m x:y --judge refusal=rules --judge toxicity=minilm", None),
        ("tasks --json --json", None),
        ("run -m x:y --suite --suite", None),  # the second --suite is the first one's value
        ("run -m x:y --suite quick -- --suite full", None),  # nothing after -- is read
        ("run -m x:y --suite quick", None),
        ("--version", None),
    ],
)
def test_repeated_option(args: str, expected: str | None) -> None:
    assert repeated_option(COMMAND, args.split()) == expected


def test_the_cheap_precheck_sees_every_repetition_the_full_check_does() -> None:
    assert not may_repeat(["run", "-m", "x:y", "--suite", "quick", "-n", "2"])
    assert may_repeat(["run", "-n2", "-n3"]) and may_repeat(["run", "--suite=a", "--suite", "b"])
    assert not may_repeat(["run", "--suite", "a", "--", "--suite", "b"])


def test_the_command_line_refuses_it_in_one_line(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", "run", "-m", "scripted:refuse-all", "--suite", "quick",
         "--suite", "quick-safety", "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, env={"TRUSTGAUGE_HOME": str(tmp_path / "home"),
                                                          "PATH": "/usr/bin:/bin"},
    )
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == ["error: -s/--suite is given more than once: give it once (it takes one value)"]
    assert not (tmp_path / "out").exists()
