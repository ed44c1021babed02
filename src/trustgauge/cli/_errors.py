"""The one error and exit path of the ``trustgauge`` command line: which failure ends a command
with which exit code, and the one-line ``error: ...`` message on stderr (secrets redacted).

Exit codes: 0 done; 1 requests or judges failed, or a check (gate, compare) did not pass; 2 a
usage error (bad option, missing file or dataset, invalid config: every :class:`UsageError`);
130 interrupted (Ctrl-C, SIGTERM)."""

from __future__ import annotations

from typing import NoReturn

import typer

from trustgauge.errors import ModelError, UsageError

EXIT_FAILED_REQUESTS = 1
EXIT_FAILED = EXIT_FAILED_REQUESTS  # a check that did not pass (gate, compare --fail-on)
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def exit_code(exc: BaseException) -> int:
    """The exit code a failure ends the command with: model calls or judges that failed -> 1
    (the work done so far is saved; running again resumes), an interrupt -> 130, anything the
    user can fix (every :class:`UsageError`) -> 2."""
    from trustgauge.engine.judging import JudgeFailedError

    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, ModelError | JudgeFailedError):
        return EXIT_FAILED_REQUESTS
    return EXIT_USAGE


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: MESSAGE`` (secrets redacted) on stderr and exit with ``code``."""
    from trustgauge._secrets import redact

    typer.echo(f"error: {redact(message)}", err=True)
    raise typer.Exit(code)


def fail_on(exc: BaseException, hint: str = "") -> NoReturn:
    """:func:`fail` with the exception's message (+ ``hint``) and the code :func:`exit_code` maps it to."""
    fail(f"{exc}{hint}", exit_code(exc))


def interrupted(message: str) -> NoReturn:
    """Print what an interrupt left behind and exit 130."""
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_INTERRUPTED) from None


def uncaught_usage_error(exc: UsageError) -> NoReturn:
    """A UsageError raised outside a command's own handling (printed as it is, exit 2)."""
    typer.echo(f"error: {exc}", err=True)
    raise SystemExit(EXIT_USAGE)
