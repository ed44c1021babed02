"""The ``trustgauge`` command line. Thin: parses, calls the API, prints.

One module per command group: :mod:`.app` (the Typer app, ``--version``, :func:`main`),
:mod:`.run` (run, demo), :mod:`.tasks` (tasks, suites), :mod:`.taxonomy` (taxonomy), :mod:`.judges` (judges, judge),
:mod:`.attacks` (attacks), :mod:`.watermark` (watermark schemes/detect), :mod:`.data` (data fetch/list), :mod:`.report` (compare, leaderboard, gate, export, report),
:mod:`.batches` (batches list/cancel);
:mod:`._errors` is the one place that maps failures to exit codes and ``error:`` lines.
Importing this package registers every command, in the order ``trustgauge --help`` lists them."""

from __future__ import annotations

# isort: off
# the commands register themselves on import, in the order `trustgauge --help` lists them
from trustgauge.cli import run  # noqa: F401
from trustgauge.cli import tasks  # noqa: F401
from trustgauge.cli import taxonomy  # noqa: F401
from trustgauge.cli import judges  # noqa: F401
from trustgauge.cli import attacks  # noqa: F401
from trustgauge.cli import watermark  # noqa: F401
from trustgauge.cli import data  # noqa: F401
from trustgauge.cli import report  # noqa: F401
from trustgauge.cli import batches  # noqa: F401
# isort: on
from trustgauge.cli._common import _judge_option, _parse_judges, _parse_value, _run_async, _split
from trustgauge.cli._errors import EXIT_FAILED_REQUESTS, EXIT_INTERRUPTED, EXIT_USAGE
from trustgauge.cli._errors import fail as _fail
from trustgauge.cli.app import app, data_app, main
from trustgauge.cli.run import DEMO_LIMIT, DEMO_MAX_TOKENS

__all__ = [
    "DEMO_LIMIT", "DEMO_MAX_TOKENS", "EXIT_FAILED_REQUESTS", "EXIT_INTERRUPTED", "EXIT_USAGE",
    "_fail", "_judge_option", "_parse_judges", "_parse_value", "_run_async", "_split",
    "app", "data_app", "main",
]
