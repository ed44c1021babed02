"""Process liveness, for the locks and leftovers that name the process that made them."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (this process counts as alive; a process owned
    by another user, which ``kill(pid, 0)`` may not signal, counts as alive too)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True
