"""Merge unit results into per-task results, in plan order (never arrival order), after
checking that every result belongs to the plan (docs/architecture.md step 12c)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trustgauge.engine.chat import ConversationResult
from trustgauge.engine.runner import Outcome
from trustgauge.errors import TrustgaugeError
from trustgauge.pipeline.executor import UnitResult
from trustgauge.pipeline.plan import Unit
from trustgauge.results.schema import DatasetInfo
from trustgauge.types import Judgement, Sample

if TYPE_CHECKING:
    from trustgauge.tasks.base import Task

__all__ = ["MergeError", "TaskResult", "merge"]


class MergeError(TrustgaugeError):
    """Unit results that do not make up the plan (missing, duplicated, foreign, another run)."""


@dataclass
class TaskResult:
    """A task's samples with what became of them, its units concatenated in shard order."""

    task: Task
    dataset: DatasetInfo
    samples: list[Sample] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    conversations: list[ConversationResult] | None = None
    judgements: dict[tuple[str, str, str], Judgement] = field(default_factory=dict)
    generation: dict[str, Any] | None = None
    lacking: list[str] = field(default_factory=list)


def merge(units: Sequence[Unit], results: Sequence[UnitResult], tasks: Mapping[str, Task], digest: str) -> list[TaskResult]:
    """Per task (in plan order), its units' results concatenated in plan order.

    Raises:
        MergeError: a result of another run (``spec_digest`` differs from ``digest``), of a
            unit not planned, twice for one unit, or a planned unit without a result; units of
            one task that read other data (SHA-256, record count) or disagree on what the
            model lacks.
    """
    by_unit: dict[Unit, UnitResult] = {}
    planned = set(units)
    for r in results:
        if r.unit.spec_digest != digest:
            raise MergeError(f"unit {r.unit.name} belongs to run spec {r.unit.spec_digest[:12]}, not {digest[:12]}")
        if r.unit not in planned:
            raise MergeError(f"unit {r.unit.name} is not in the plan")
        if r.unit in by_unit:
            raise MergeError(f"unit {r.unit.name} has two results")
        by_unit[r.unit] = r
    missing = [u.name for u in units if u not in by_unit]
    if missing:
        raise MergeError(f"no result for unit(s) {', '.join(missing)}")
    merged: dict[str, TaskResult] = {}
    for unit in units:
        r = by_unit[unit]
        t = merged.get(unit.task_id)
        if t is None:
            t = merged[unit.task_id] = TaskResult(task=tasks[unit.task_id], dataset=r.dataset, lacking=list(r.lacking))
        elif (r.dataset.sha256, r.dataset.records) != (t.dataset.sha256, t.dataset.records):
            raise MergeError(f"unit {unit.name} read other data ({r.dataset.path}: sha256 {r.dataset.sha256[:12]}, "
                             f"{r.dataset.records} records; the first unit {t.dataset.sha256[:12]}, {t.dataset.records})")
        elif list(r.lacking) != t.lacking:
            raise MergeError(f"unit {unit.name}: the model lacks {r.lacking}, for the first unit {t.lacking}")
        t.samples.extend(r.samples)
        t.prompts.extend(r.prompts)
        t.outcomes.extend(r.outcomes)
        if r.conversations is not None:
            t.conversations = (t.conversations or []) + r.conversations
        t.judgements.update(r.judgements)
        if t.generation is None:
            t.generation = r.generation
    return list(merged.values())
