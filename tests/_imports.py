"""What importing something loads: the ``trustgauge`` modules in ``sys.modules`` of a fresh
interpreter after ``statement`` (for tests pinning which layers a package pulls in)."""

from __future__ import annotations

import subprocess
import sys


def modules_after(statement: str, prefix: str = "trustgauge") -> set[str]:
    """The modules whose name starts with ``prefix`` loaded by running ``statement`` in a new
    interpreter (``prefix="trustgauge."`` leaves out the top package itself)."""
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return {m for m in out.stdout.split() if m.startswith(prefix)}
