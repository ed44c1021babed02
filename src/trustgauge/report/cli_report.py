"""Moved to :mod:`trustgauge.cli.report` (issue 13 step 13); this shim re-exports
``report_command`` lazily and goes when step 13 deletes the shims (see ``report/commands.py``)."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name == "report_command":
        return importlib.import_module("trustgauge.cli.report").report_command
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
