"""Old import path of the fetch API (kept so existing imports keep working).

The code now lives in :mod:`trustgauge.data.datasets` (by id), :mod:`trustgauge.data.cache`
(markers, staging, atomic install), :mod:`trustgauge.data.download` and
:mod:`trustgauge.data.sources` (one module per source kind). Nothing in ``trustgauge.data``
imports this module.
"""

from __future__ import annotations

from trustgauge.data.cache import (
    MARKER_NAME,
    CachedCopy,
    read_copy_info,
    staging_dir,
)
from trustgauge.data.cache import cache_error as _cache_error
from trustgauge.data.cache import install as _install
from trustgauge.data.cache import is_complete as _is_complete
from trustgauge.data.cache import verify_files as _verify_files
from trustgauge.data.cache import write_marker as _write_marker
from trustgauge.data.datasets import (
    ORIGINS,
    cached_copies,
    cached_dataset,
    dataset_cache_path,
    fetch_dataset,
    get_data_hint,
    hf_cache_path,
)
from trustgauge.data.download import local_path as _local_path
from trustgauge.data.sources.github_zip import unpack as _unpack

__all__ = [
    "MARKER_NAME",
    "ORIGINS",
    "CachedCopy",
    "_cache_error",
    "_install",
    "_is_complete",
    "_local_path",
    "_unpack",
    "_verify_files",
    "_write_marker",
    "cached_copies",
    "cached_dataset",
    "dataset_cache_path",
    "fetch_dataset",
    "get_data_hint",
    "hf_cache_path",
    "read_copy_info",
    "staging_dir",
]
