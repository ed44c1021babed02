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
import time
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


class Opened:
    """A page on a report, with everything it tried: requests, dialogs, errors."""

    def __init__(self, browser: Any, path: Path, width: int = 1320) -> None:
        self.url = path.resolve().as_uri()
        self.page = browser.new_page(viewport={"width": width, "height": 1000})
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.failed: dict[str, str] = {}
        self.page.on("requestfailed", lambda r: self.failed.setdefault(r.url, str(r.failure)))
        self.finished: list[str] = []
        self.page.on("requestfinished", lambda r: self.finished.append(r.url))
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        start = time.perf_counter()
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready]", state="attached", timeout=30_000)
        self.wall = time.perf_counter() - start
        assert self.page.get_attribute("body", "data-ready") == "1", self.console

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def cards(self) -> list[dict[str, Any]]:
        return list(self.page.eval_on_selector_all("#ex-list li.ex", """els => els.map(e => ({
            index: Number(e.dataset.index),
            task: e.querySelector('.task').textContent,
            badge: e.querySelector('.badge').textContent,
            label: e.querySelector('.label').textContent,
            texts: Array.from(e.querySelectorAll('pre')).map(p => p.textContent),
        }))"""))

    def count_text(self) -> str:
        return str(self.page.text_content("#ex-count"))

    def matches(self) -> int:
        return int(self.page.get_attribute("body", "data-matches") or -1)

    def wait_matches(self, n: int, *, timeout: float = 10_000) -> None:
        """Wait for the (debounced) search to redraw the list with ``n`` matches."""
        self.page.wait_for_selector(f'body[data-matches="{n}"]', state="attached", timeout=timeout)

    def close(self) -> None:
        self.page.close()
