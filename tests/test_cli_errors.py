"""cli/_errors.py, the one failure -> exit code / ``error:`` line path, and the shims left at the
old paths of the report commands (issue 13 step 13)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from trustgauge.cli import _errors
from trustgauge.engine.judging import JudgeFailedError
from trustgauge.errors import (
    ConfigError,
    DataError,
    JudgeError,
    ModelError,
    PermanentModelError,
    TransientModelError,
    UsageError,
)


@pytest.mark.parametrize(("exc", "code"), [
    (ModelError("x"), 1), (TransientModelError("x"), 1), (PermanentModelError("x"), 1),
    (JudgeFailedError("x"), 1),
    (UsageError("x"), 2), (ConfigError("x"), 2), (DataError("x"), 2), (JudgeError("x"), 2),
    (KeyboardInterrupt(), 130),
])
def test_exit_code_of_each_failure(exc: BaseException, code: int) -> None:
    assert _errors.exit_code(exc) == code


def test_the_codes_are_unchanged() -> None:
    assert (_errors.EXIT_FAILED_REQUESTS, _errors.EXIT_FAILED, _errors.EXIT_USAGE, _errors.EXIT_INTERRUPTED) == (1, 1, 2, 130)


def test_fail_on_prints_one_redacted_line_and_exits_with_the_mapped_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdefghijklmnop")
    with pytest.raises(typer.Exit) as info:
        _errors.fail_on(ModelError("401 for key sk-test-0123456789abcdefghijklmnop"), " (saved)")
    assert info.value.exit_code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: 401 for key ") and err.endswith(" (saved)\n") and err.count("\n") == 1
    assert "sk-test-0123456789abcdefghijklmnop" not in err


def test_interrupted_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as info:
        _errors.interrupted("\ninterrupted: saved.")
    assert info.value.exit_code == 130
    assert capsys.readouterr().err == "\ninterrupted: saved.\n"


def test_the_report_package_no_longer_imports_typer() -> None:
    code = (
        "import sys; import trustgauge.report.writer, trustgauge.report.gate, trustgauge.report.export; "
        "print('typer' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("module", ["trustgauge", "trustgauge.cli"])
def test_python_dash_m_runs_the_command_line(module: str) -> None:
    from trustgauge._version import __version__

    out = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True)
    assert (out.returncode, out.stdout) == (0, f"trustgauge {__version__}\n")
