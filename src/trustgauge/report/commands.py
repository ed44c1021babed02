"""Moved to :mod:`trustgauge.cli.report` (issue 13 step 13); this shim re-exports it lazily and
goes when step 13 deletes the shims. The import is by name (``importlib``) and only on first
use, so ``report`` itself neither imports typer nor the cli layer above it."""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = frozenset({"compare_cmd", "leaderboard_cmd", "gate_cmd", "export_cmd", "register", "EXIT_FAILED",
                    "EXIT_USAGE", "_fail", "_write_text"})


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module("trustgauge.cli.report"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
