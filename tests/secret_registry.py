"""Save and restore trustgauge's secret registry around a test (redaction state is per process:
a secret a test registers would otherwise be redacted from every later test's text)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from trustgauge import _secrets


@contextlib.contextmanager
def kept_registry(*, empty: bool = False) -> Iterator[None]:
    """The registry as it was when the block ends; ``empty``: start the block with none."""
    saved = set(_secrets._SECRETS), dict(_secrets._PATTERNS), list(_secrets._LONG)
    if empty:
        _secrets._SECRETS.clear()
        _secrets._PATTERNS.clear()
        _secrets._LONG.clear()
    try:
        yield
    finally:
        _secrets._SECRETS.clear()
        _secrets._PATTERNS.clear()
        _secrets._LONG.clear()
        _secrets._SECRETS.update(saved[0])
        _secrets._PATTERNS.update(saved[1])
        _secrets._LONG.extend(saved[2])
