"""How a task's data file is sliced into the packaged ``quick`` sample (its :class:`QuickPlan`).

A task declares the plan of its file as :attr:`~trustgauge.tasks.base.Task.quick`;
``scripts/make_quick_sample.py`` reads the plans from the task registry and writes the sample.
Tasks that read the same file (jailbreak and toxicity) declare the same plan object.

Sampling (done by the script): records are grouped by :attr:`QuickPlan.group` (a group is kept
whole), groups are shuffled with a seeded generator and dealt round-robin over the strata
(:attr:`QuickPlan.strata`, sorted) until :attr:`QuickPlan.quota` records are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]
#: a key of record ``i`` among all the file's records (strata and groups are keys)
Key = Callable[[int, Sequence[Record]], Any]


def field(*names: str) -> Key:
    """Key: the tuple of the record's values of ``names`` (lists become tuples)."""

    def key(i: int, records: Sequence[Record]) -> Any:
        values = []
        for name in names:
            v = records[i].get(name)
            values.append(tuple(v) if isinstance(v, list) else v)
        return tuple(values)

    return key


def first_label(i: int, records: Sequence[Record]) -> Any:
    """Key: ``label[0]`` (JailbreakTrigger's attack), or ``label`` when it is not a list."""
    label = records[i]["label"]
    return label[0] if isinstance(label, list) else label


def each(i: int, records: Sequence[Record]) -> Any:
    """Key: the record itself (every record is its own group)."""
    return i


def no_strata(i: int, records: Sequence[Record]) -> Any:
    """Key: one stratum for the whole file."""
    return ""


def keep_all(record: Record) -> bool:
    """Every record may be chosen."""
    return True


@dataclass(frozen=True)
class QuickPlan:
    """The quick-sample plan of one data file, and where its records come from.

    Attributes:
        quota: Records to keep (whole groups, so the last group may take it a little over).
        strata: Key whose values are dealt round-robin.
        group: Key of the records that must be kept together.
        keep: Which records may be chosen at all.
        built_from: What the file is built from (the quick sample's ``LICENSE.md``).
        licence: Upstream licence(s), as far as they could be read ("unverified" otherwise).
    """

    quota: int
    strata: Key = no_strata
    group: Key = each
    keep: Callable[[Record], bool] = keep_all
    built_from: str = ""
    licence: str = ""
