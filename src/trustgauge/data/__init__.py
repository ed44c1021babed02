"""Datasets: the pinned sources, downloading into the cache, and reading record files.

Typical use::

    from trustgauge.data import load_records, resolve_data_dir

    root = resolve_data_dir("trustllm", data_dir=None)  # cached copy, fetched if needed
    records, sha256 = load_records(root, "safety/jailbreak.json", source_id="trustllm")

``resolve_data_dir`` takes ``--data-dir``, else ``$TRUSTGAUGE_DATA_DIR``, else the cached copy
(the pinned GitHub release, else one fetched with ``fetch_dataset(..., origin="hf")``), else
downloads the pinned release. ``source_id=`` makes ``load_records`` check the file's record
count against the registry (never pass it for the packaged samples).

Sources are declared objects (:mod:`trustgauge.data.sources`: :class:`GithubReleaseZip`,
:class:`PackageFiles`, :class:`HFDataset`, :class:`PinnedFile`), made known with
:func:`register_source` or the ``trustgauge.data_sources`` entry point group. Layers, lowest
first: ``records`` (record files) → ``cache`` / ``download`` → ``sources`` → ``trustllm`` (the
built-in declaration) → ``datasets`` (the API by id); ``fetch``, ``hub``, ``loader`` and
``registry`` are the old import paths, re-exporting.
"""

from __future__ import annotations

from trustgauge.data.cache import CachedCopy, DataCache, read_copy_info
from trustgauge.data.datasets import (
    DATA_DIR_ENV,
    cached_copies,
    cached_dataset,
    check_record_count,
    dataset_cache_path,
    fetch_dataset,
    get_data_hint,
    hf_cache_path,
    load_records,
    resolve_data_dir,
)
from trustgauge.data.records import packaged_path, require_fields
from trustgauge.data.sources import (
    DataSource,
    GithubReleaseZip,
    HFDataset,
    PackageFiles,
    PinnedFile,
    get_source,
    register_source,
    source_ids,
)
from trustgauge.data.trustllm import TRUSTLLM

#: the old name of :class:`DataSource`
DatasetSource = DataSource

__all__ = [
    "DATA_DIR_ENV",
    "TRUSTLLM",
    "CachedCopy",
    "DataCache",
    "DataSource",
    "DatasetSource",
    "GithubReleaseZip",
    "HFDataset",
    "PackageFiles",
    "PinnedFile",
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
    "register_source",
    "require_fields",
    "resolve_data_dir",
    "source_ids",
]
