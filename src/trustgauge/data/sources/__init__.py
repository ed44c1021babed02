"""Dataset sources as declared objects, one module per kind, and their registry.

- :class:`GithubReleaseZip`: a pinned zip (URL, size, SHA-256), unpacked below an
  ``archive_root``; optionally with a gated Hugging Face mirror (``hf_repo``).
- :class:`PackageFiles`: files shipped inside an installed package.
- :class:`HFDataset`: a (possibly gated) Hugging Face dataset repository at a revision.
- :class:`PinnedFile`: one file at a pinned URL (size, SHA-256).

Each has ``fetch(cache) -> Path`` (the verified folder) and checks every declared file's record
count and, when given, its SHA-256. :func:`register_source` (call or decorator) and the
``trustgauge.data_sources`` entry point group make a source known to ``trustgauge data`` and to
tasks. Sources use :mod:`trustgauge.data.cache` and :mod:`trustgauge.data.records`; those never
import this package.
"""

from __future__ import annotations

from trustgauge.data.sources.base import DataSource, PinnedDownload
from trustgauge.data.sources.github_zip import GithubReleaseZip
from trustgauge.data.sources.hf_dataset import HFDataset
from trustgauge.data.sources.package_files import PackageFiles
from trustgauge.data.sources.pinned_file import PinnedFile
from trustgauge.data.sources.registry import (
    ENTRY_POINT_GROUP,
    get_source,
    register_source,
    source_ids,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "DataSource",
    "GithubReleaseZip",
    "HFDataset",
    "PackageFiles",
    "PinnedDownload",
    "PinnedFile",
    "get_source",
    "register_source",
    "source_ids",
]
