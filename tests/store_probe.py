"""Count what a store holds while a run in another process may still be creating it (the tests
that kill a run at a chosen moment poll this)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def stored_responses(home: Path) -> int:
    """Responses in ``home``'s store; 0 while it does not exist or its tables are not made yet
    (the file appears a moment before the schema: polling then is not an error)."""
    path = home / "store.sqlite3"
    if not path.exists():
        return 0
    db = sqlite3.connect(path, timeout=30)
    try:
        (n,) = db.execute("SELECT COUNT(*) FROM responses").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise
    finally:
        db.close()
    return int(n)
