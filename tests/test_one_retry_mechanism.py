"""Only net/ retries: no second retry/backoff loop or semaphore may come back elsewhere in
src/trustgauge (issue 13 step 7, docs/architecture.md).

What counts: a ``for``/``while`` loop whose body both handles exceptions (``try``/``except``)
and sleeps (``time.sleep``/``asyncio.sleep``/``sleep``), and any ``Semaphore(``/
``BoundedSemaphore(`` call. Found by walking the syntax trees, so comments and strings do not
count and a renamed import (``from time import sleep``) does. Each exception is listed in
:data:`ALLOWED` with the reason it is not a second mechanism.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "trustgauge"

#: (path below src/trustgauge, what) -> why it is legitimate
ALLOWED: dict[tuple[str, str], str] = {
    ("engine/runner.py", "Semaphore"): (
        "the engine's bound on queued request tasks (a window over its Limiter); the engine "
        "is the one concurrency mechanism, and its retries go through net.retry"
    ),
    ("engine/chat.py", "Semaphore"): (
        "the cap on conversations alive at once (step 12b); every call they make still waits "
        "for the engine's Limiter and retries through net.retry"
    ),
    ("engine/chat.py", "retry loop"): (
        "the batcher's drain loop: sleep(0) lets a batch fill (no backoff) and its except hands "
        "a failed batch's error to its callers (no retry)"
    ),
}

_SEMAPHORES = frozenset({"Semaphore", "BoundedSemaphore"})


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _sleeps(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and _called_name(n) == "sleep" for n in ast.walk(node)
    )


def _handles(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Try | ast.TryStar) and n.handlers for n in ast.walk(node)
    )


def findings(root: Path = SRC) -> list[tuple[str, str, int]]:
    """(relative path, what, line) of every retry loop or semaphore outside net/."""
    found: list[tuple[str, str, int]] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("net/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called_name(node) in _SEMAPHORES:
                found.append((rel, "Semaphore", node.lineno))
            elif isinstance(node, ast.For | ast.AsyncFor | ast.While):
                body = ast.Module(body=[*node.body, *node.orelse], type_ignores=[])
                if _sleeps(body) and _handles(body):
                    found.append((rel, "retry loop", node.lineno))
    return sorted(found)


def test_no_retry_loop_or_semaphore_outside_net() -> None:
    unexpected = [f for f in findings() if (f[0], f[1]) not in ALLOWED]
    assert unexpected == [], (
        "a second retry/concurrency mechanism: use trustgauge.net.retry (retry/retry_sync) "
        f"with a classify function, and engine.limiter.Limiter: {unexpected}"
    )


def test_every_allowance_is_still_needed() -> None:
    seen = {(f[0], f[1]) for f in findings()}
    assert set(ALLOWED) <= seen, f"stale allowances: {set(ALLOWED) - seen}"


def test_the_check_finds_what_it_forbids(tmp_path: Path) -> None:
    """The walk catches the old Perspective loop's shape, a renamed sleep and a semaphore,
    and leaves a pacing loop without exception handling alone."""
    (tmp_path / "old.py").write_text(
        "import asyncio\n"
        "async def f(client):\n"
        "    sem = asyncio.Semaphore(4)\n"
        "    for attempt in range(5):\n"
        "        try:\n"
        "            return await client.post()\n"
        "        except OSError:\n"
        "            pass\n"
        "        await asyncio.sleep(2 ** attempt)\n",
        encoding="utf-8",
    )
    (tmp_path / "renamed.py").write_text(
        "from time import sleep\n"
        "def g(get):\n"
        "    while True:\n"
        "        try:\n"
        "            return get()\n"
        "        except ConnectionError:\n"
        "            sleep(1)\n",
        encoding="utf-8",
    )
    (tmp_path / "pacing.py").write_text(
        "import asyncio\n"
        "async def h(wait):\n"
        "    while wait() > 0:\n"
        "        await asyncio.sleep(wait())\n",
        encoding="utf-8",
    )
    assert findings(tmp_path) == [
        ("old.py", "Semaphore", 3),
        ("old.py", "retry loop", 4),
        ("renamed.py", "retry loop", 3),
    ]
