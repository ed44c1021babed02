"""Answer extraction, moved to :mod:`trustgauge.readers.answers` (below tasks and judges, so
tasks read answers without importing a judge). The old path re-exports the same objects."""

from __future__ import annotations

from trustgauge.readers.answers import CONFAIDE_PHRASES as CONFAIDE_PHRASES
from trustgauge.readers.answers import NOT_ENOUGH_INFO as NOT_ENOUGH_INFO
from trustgauge.readers.answers import REFUTE as REFUTE
from trustgauge.readers.answers import SUPPORT as SUPPORT
from trustgauge.readers.answers import Extraction as Extraction
from trustgauge.readers.answers import Status as Status
from trustgauge.readers.answers import Value as Value
from trustgauge.readers.answers import clean_response as clean_response
from trustgauge.readers.answers import extract_agreement as extract_agreement
from trustgauge.readers.answers import extract_choice as extract_choice
from trustgauge.readers.answers import extract_fact_check as extract_fact_check
from trustgauge.readers.answers import extract_label as extract_label
from trustgauge.readers.answers import extract_rating as extract_rating
from trustgauge.readers.answers import extract_yes_no as extract_yes_no

__all__ = [
    "CONFAIDE_PHRASES",
    "NOT_ENOUGH_INFO",
    "REFUTE",
    "SUPPORT",
    "Extraction",
    "Status",
    "Value",
    "clean_response",
    "extract_agreement",
    "extract_choice",
    "extract_fact_check",
    "extract_label",
    "extract_rating",
    "extract_yes_no",
]
