"""``trustgauge --help`` and every subcommand's ``--help``, byte for byte as recorded before
cli.py became the cli/ package (issue 13 step 13): moving the commands changes no user-visible
text. Re-record (only for an intended help change) with ``python tests/test_cli_help_snapshot.py``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from trustgauge.cli import app

SNAPSHOT = Path(__file__).parent / "fixtures" / "cli_help.json"
ENV = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]

    def walk(cmd: object, prefix: list[str]) -> None:
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


def _help_outputs() -> dict[str, dict[str, object]]:
    runner = CliRunner()
    out: dict[str, dict[str, object]] = {}
    for path in _command_paths():
        res = runner.invoke(app, [*path, "--help"], env=ENV)
        out[" ".join(path) or "<root>"] = {"exit": res.exit_code, "output": res.output}
    return out


def test_the_same_commands_exist() -> None:
    recorded = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert sorted(" ".join(p) or "<root>" for p in _command_paths()) == sorted(recorded)


@pytest.mark.parametrize("command", sorted(json.loads(SNAPSHOT.read_text(encoding="utf-8"))))
def test_help_is_byte_identical(command: str) -> None:
    recorded = json.loads(SNAPSHOT.read_text(encoding="utf-8"))[command]
    runner = CliRunner()
    args = [] if command == "<root>" else command.split()
    res = runner.invoke(app, [*args, "--help"], env=ENV)
    assert res.exit_code == recorded["exit"] == 0
    assert res.output == recorded["output"]


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(_help_outputs(), indent=1, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    sys.exit(0)
