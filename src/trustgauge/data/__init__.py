"""Datasets: the pinned sources, downloading into the cache, and reading record files.

Typical use::

    from trustgauge.data import load_records, resolve_data_dir

    root = resolve_data_dir("trustllm", data_dir=None)  # cached copy, fetched if needed
    records, sha256 = load_records(root, "safety/jailbreak.json", source_id="trustllm")

``resolve_data_dir`` takes ``--data-dir``, else ``$TRUSTGAUGE_DATA_DIR``, else the cached copy
(the pinned GitHub release, else one fetched with ``fetch_dataset(..., origin="hf")``), else
downloads the pinned release. ``source_id=`` makes ``load_records`` check the file's record
count against the registry (never pass it for the packaged samples).
"""

from __future__ import annotations

from trustgauge.data.fetch import (
    CachedCopy,
    cached_copies,
    cached_dataset,
    dataset_cache_path,
    fetch_dataset,
    get_data_hint,
    hf_cache_path,
    read_copy_info,
)
from trustgauge.data.loader import (
    DATA_DIR_ENV,
    check_record_count,
    load_records,
    packaged_path,
    require_fields,
    resolve_data_dir,
)
from trustgauge.data.registry import TRUSTLLM, DatasetSource, get_source, source_ids

__all__ = [
    "DATA_DIR_ENV",
    "TRUSTLLM",
    "CachedCopy",
    "DatasetSource",
    "cached_copies",
    "cached_dataset",
    "check_record_count",
    "dataset_cache_path",
    "fetch_dataset",
    "get_data_hint",
    "get_source",
    "hf_cache_path",
    "load_records",
    "packaged_path",
    "read_copy_info",
    "require_fields",
    "resolve_data_dir",
    "source_ids",
]
