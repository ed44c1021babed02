"""The units of a run: one task shard for one model (docs/architecture.md step 12c).

A :class:`Unit` is plain data (task id, shard ``i`` of ``n``, the model and role configs as
JSON, the spec's digest): it pickles, so an executor may run it in another process or on
another machine. Which samples a shard holds is decided where the task's data is read: the
task's selected samples (``--limit``, ``--seed``), cut into ``n`` contiguous slices, so the
units of a task in plan order hold its samples in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from trustgauge.pipeline.spec import RunSpec

if TYPE_CHECKING:
    from trustgauge.tasks.base import Task

__all__ = ["Unit", "plan", "shard_slice"]

T = TypeVar("T")


@dataclass(frozen=True)
class Unit:
    """One task shard for one model: what an executor runs. No live objects."""

    task_id: str
    shard: int
    shards: int
    #: ``ModelConfig`` JSON of the target (``RunSpec.model``)
    model: str
    #: role name -> ``ModelConfig`` JSON (``RunSpec.roles``)
    roles: tuple[tuple[str, str], ...]
    #: :attr:`RunSpec.digest`: the run this unit belongs to (checked on merge)
    spec_digest: str

    @property
    def name(self) -> str:
        return f"{self.task_id}#{self.shard + 1}of{self.shards}"

    def take(self, items: Sequence[T]) -> list[T]:
        """This shard's part of ``items`` (a task's selected samples)."""
        start, stop = shard_slice(len(items), self.shard, self.shards)
        return list(items[start:stop])


def shard_slice(n: int, shard: int, shards: int) -> tuple[int, int]:
    """``[start, stop)`` of shard ``shard`` of ``shards`` over ``n`` items: contiguous, sizes
    differ by at most one, concatenated in shard order they are ``range(n)``."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} of {shards}")
    return n * shard // shards, n * (shard + 1) // shards


def plan(spec: RunSpec, tasks: Sequence[Task], *, shards: int = 1) -> list[Unit]:
    """The run's units in plan order: task by task (in ``tasks`` order), shard by shard. The
    merge puts results back in this order whatever order they arrive in."""
    if shards < 1:
        raise ValueError(f"shards must be >= 1, got {shards}")
    digest = spec.digest
    return [
        Unit(task_id=task.id, shard=i, shards=shards, model=spec.model, roles=spec.roles, spec_digest=digest)
        for task in tasks
        for i in range(shards)
    ]
