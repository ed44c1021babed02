"""Trustworthiness taxonomies as data: Liu et al.'s 7 categories and 29 sub-categories, Fan et
al.'s four dimensions, the OWASP Top 10 for LLM applications (2025) and NIST AI 600-1's twelve
risks (:mod:`.frameworks`), and which of their items a set of tagged tasks measures
(:mod:`.coverage`).

Tasks are tagged with Liu sub-category ids (``reliability/misinformation``); the other
frameworks are reached through each framework's mapping table from Liu sub-categories, plus
extra tags ``framework:item`` for what no Liu sub-category carries (``fan2023:security/jailbreak``).
Pure data and pure functions: this package imports nothing of trustgauge but :mod:`trustgauge.errors`.
"""

from __future__ import annotations

from trustgauge.taxonomy.coverage import (
    Coverage,
    ItemCoverage,
    check_tag,
    coverage,
    items_measured,
    select,
)
from trustgauge.taxonomy.frameworks import (
    BASE,
    Category,
    Framework,
    Item,
    framework,
    framework_ids,
)

__all__ = [
    "BASE",
    "Category",
    "Coverage",
    "Framework",
    "Item",
    "ItemCoverage",
    "check_tag",
    "coverage",
    "framework",
    "framework_ids",
    "items_measured",
    "select",
]
