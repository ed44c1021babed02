"""Fake installed distributions for the plugin-loading tests (tasks, judges, backends, data
sources): a dist-info folder with METADATA and entry_points.txt, and the plugin's modules, on a
site folder the test puts on ``sys.path``, as pip would leave them in site-packages."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path


def install_dist(
    site: Path, name: str, group: str, entries: Mapping[str, str],
    modules: Mapping[str, str] | None = None, *, version: str = "1.0",
) -> Path:
    """Write distribution ``name`` (``{name}-{version}.dist-info``) into ``site`` with the entry
    points ``entries`` (entry name -> ``module[:attr]``) in ``group``, and each of ``modules``
    (module name -> source, dedented) as ``site/{module}.py``. Returns ``site``."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{entry} = {value}\n" for entry, value in entries.items())
    (info / "entry_points.txt").write_text(f"[{group}]\n{lines}")
    for module, source in (modules or {}).items():
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return site
