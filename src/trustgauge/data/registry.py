"""Old import path of the dataset registry (kept so existing imports keep working).

Sources are declared objects now (:mod:`trustgauge.data.sources`: one module per kind, and
:func:`~trustgauge.data.sources.register_source` plus the ``trustgauge.data_sources`` entry
point group); TrustLLM's is declared in :mod:`trustgauge.data.trustllm`. ``DatasetSource`` is
the base class of every kind. Nothing in ``trustgauge.data`` imports this module.
"""

from __future__ import annotations

from trustgauge.data.sources import DataSource, get_source, register_source, source_ids
from trustgauge.data.trustllm import TRUSTLLM

#: the old name of :class:`~trustgauge.data.sources.DataSource`
DatasetSource = DataSource

__all__ = ["TRUSTLLM", "DataSource", "DatasetSource", "get_source", "register_source", "source_ids"]
