"""Old import path of the loader (kept so existing imports keep working).

Reading record files is :mod:`trustgauge.data.records`; resolving the data folder and checking
record counts against a registered source is :mod:`trustgauge.data.datasets`. Nothing in
``trustgauge.data`` imports this module.
"""

from __future__ import annotations

from trustgauge.data.datasets import (
    DATA_DIR_ENV,
    check_record_count,
    load_records,
    resolve_data_dir,
)
from trustgauge.data.records import (
    packaged_path,
    parse_records,
    record_count_error,
    require_fields,
)

__all__ = [
    "DATA_DIR_ENV",
    "check_record_count",
    "load_records",
    "packaged_path",
    "parse_records",
    "record_count_error",
    "require_fields",
    "resolve_data_dir",
]
