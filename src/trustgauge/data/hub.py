"""Old import path of the Hugging Face fetch (kept so existing imports keep working).

The code now lives in :mod:`trustgauge.data.sources.hf_dataset` (the :class:`HFDataset` source
kind, also the hub mirror of a pinned release) and :func:`trustgauge.data.datasets.fetch_from_hub`.
Nothing in ``trustgauge.data`` imports this module.
"""

from __future__ import annotations

from trustgauge.data.datasets import fetch_from_hub
from trustgauge.data.sources.hf_dataset import (
    HFDataset,
    _arrange,
    _download,
    _endpoint,
    _has_token,
    _hub_error,
    _locate,
    _offline,
    _register_token,
    _timeout,
    _without_userinfo,
)

__all__ = [
    "HFDataset",
    "_arrange",
    "_download",
    "_endpoint",
    "_has_token",
    "_hub_error",
    "_locate",
    "_offline",
    "_register_token",
    "_timeout",
    "_without_userinfo",
    "fetch_from_hub",
]
