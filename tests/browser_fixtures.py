"""Headless Chromium for the report tests: Debian's ``chromium`` (``apt-get install -y chromium``,
or ``$TRUSTGAUGE_CHROMIUM``) driven by Playwright for Python, never a browser fetched by
``playwright install``.

A test module uses the browser by binding the fixture to a module-level name (pytest finds a
fixture there as if it were defined in the module; an assignment, not ``from ... import``,
so that ruff does not read the tests' ``browser`` argument as shadowing an unused import)::

    import browser_fixtures

    browser = browser_fixtures.browser

One browser per module (``scope="module"``): launching Chromium costs about a second, each test
opens its own page in it. Without Playwright or Chromium the tests that ask for it are skipped,
except under CI (``CI`` set), where ``.ci/run`` installs both and a missing browser fails them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("TRUSTGAUGE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def missing_browser() -> str | None:
    """Why the browser cannot be launched (Playwright or Chromium absent), ``None`` if it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).is_file():
        return f"chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (a Playwright ``Browser``), shared by the tests of one module."""
    why = missing_browser()
    if why and os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {why}", pytrace=False)
    if why:
        pytest.skip(f"browser tests skipped: {why}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
