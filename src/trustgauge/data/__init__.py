"""Datasets: the pinned sources, downloading into the cache, and reading record files.

Typical use::

    from trustgauge.data import load_records, resolve_data_dir

    root = resolve_data_dir("trustllm", data_dir=None)  # cached copy, fetched if needed
    records, sha256 = load_records(root, "safety/jailbreak.json")
"""

from __future__ import annotations

from trustgauge.data.fetch import cached_dataset, dataset_cache_path, fetch_dataset
from trustgauge.data.loader import load_records, packaged_path, require_fields, resolve_data_dir
from trustgauge.data.registry import TRUSTLLM, DatasetSource, get_source, source_ids

__all__ = [
    "TRUSTLLM",
    "DatasetSource",
    "cached_dataset",
    "dataset_cache_path",
    "fetch_dataset",
    "get_source",
    "load_records",
    "packaged_path",
    "require_fields",
    "resolve_data_dir",
    "source_ids",
]
