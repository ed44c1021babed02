"""The executor seam (docs/architecture.md step 12c): the pipeline hands units to an
executor and gets back, per unit, what happened to its samples; scoring, aggregation and the
run directory stay with the pipeline. :class:`~trustgauge.pipeline.local.LocalExecutor` is
today's asyncio engine; a Ray executor (design in docs/architecture.md) would run units on
other machines, each with its own store.

Everything here is plain data that pickles (no models, engines, stores or judges).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from trustgauge.engine.chat import ConversationResult
from trustgauge.engine.runner import Outcome
from trustgauge.pipeline.plan import Unit
from trustgauge.results.schema import DatasetInfo
from trustgauge.types import Judgement, Sample

if TYPE_CHECKING:
    from collections.abc import Mapping

    from trustgauge.engine.progress import Progress
    from trustgauge.pipeline.spec import ExecutionSettings, RunSpec
    from trustgauge.tasks.base import Task
    from trustgauge.types import Judge

__all__ = ["Executor", "ExecutorFactory", "RunStats", "UnitResult", "UnitResults"]


@dataclass
class UnitResult:
    """What became of one unit's samples, in sample order."""

    unit: Unit
    samples: list[Sample]
    #: ``samples.jsonl`` ``prompt`` per sample
    prompts: list[str]
    #: per sample: its response (a conversation's final one) or error
    outcomes: list[Outcome]
    #: per sample, for a conversational task; ``None`` for a single-turn one
    conversations: list[ConversationResult] | None
    #: ``(task id, sample id, str(slot)) -> verdict`` for this unit's samples
    judgements: dict[tuple[str, str, str], Judgement]
    dataset: DatasetInfo
    #: the generation parameters of the unit's first request (``None``: no request)
    generation: dict[str, Any] | None = None
    #: what the task ``requires`` that the model cannot give (then ``samples`` is empty)
    lacking: list[str] = field(default_factory=list)


@dataclass
class RunStats:
    """What the executor's engines did, for ``run.json`` (summed over workers)."""

    model_identity: dict[str, Any]
    model_description: str
    input_tokens: int = 0
    output_tokens: int = 0
    unique: int = 0
    cached: int = 0
    sent: int = 0
    retries: int = 0
    #: ``run.json`` ``roles`` (``None``: no conversational task ran)
    roles: dict[str, dict[str, Any]] | None = None


@dataclass
class UnitResults:
    """An executor's answer: one result per unit (in any order) and the run's counts."""

    results: list[UnitResult]
    stats: RunStats


class Executor(Protocol):
    """Runs units. Implementations decide where and in which order; the merge restores plan
    order, so the run directory does not depend on the schedule."""

    async def run(self, units: Sequence[Unit]) -> UnitResults: ...


class ExecutorFactory(Protocol):
    """Makes the executor of one run (one model): :class:`~trustgauge.pipeline.local.LocalExecutor`
    itself is one; the Ray executor's factory carries the cluster to use. A command that runs many
    models passes the same factory for each."""

    def __call__(
        self,
        spec: RunSpec,
        settings: ExecutionSettings,
        tasks: Mapping[str, Task],
        judges: Mapping[str, Judge],
        progress: Progress,
    ) -> Executor: ...
