"""What a task is: data -> samples -> request -> judged response -> per-sample score -> metrics.

A task is data plus pure functions; it never does I/O. The engine sends its requests, the
judges it names judge the responses, and :meth:`Task.score` / :meth:`Task.aggregate` turn
those into numbers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from trustgauge.judges.base import JudgeItem, Judgement
from trustgauge.models.base import GenerationParams, Request

Direction = Literal["higher", "lower"]


class Sample(BaseModel):
    """One item of a task. ``group`` ties items that must be sampled together (AdvGLUE's
    original/modified pairs, AdvInstruction's 12 variants of one instruction)."""

    model_config = ConfigDict(frozen=True)

    id: str
    prompt: str
    target: Any = None
    group: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class SampleScore(BaseModel):
    """A sample's outcome: the label the scorer read from the response (``None`` when the
    response was unusable), whether it counts (``valid``), and per-metric contributions."""

    label: str | None = None
    valid: bool = True
    values: dict[str, float | None] = Field(default_factory=dict)
    note: str | None = None


class MetricValue(BaseModel):
    """One metric of one task. ``value`` is ``None`` with a ``reason`` when undefined."""

    metric: str
    value: float | None
    direction: Direction
    ci: tuple[float, float] | None = None
    n: int
    n_invalid: int = 0
    reason: str | None = None


class DataRef(BaseModel):
    """Where a task's records come from: a registered dataset and a file inside it."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    path: str


class Task(ABC):
    """A TrustLLM-style sub-task. Subclasses set the class attributes and implement
    :meth:`samples`, :meth:`score` and :meth:`aggregate`."""

    #: ``dimension.name``, e.g. ``safety.exaggerated_safety``
    id: ClassVar[str]
    dimension: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    data: ClassVar[DataRef]
    #: names and directions of the metrics :meth:`aggregate` returns, primary first
    metrics: ClassVar[tuple[tuple[str, Direction], ...]]
    #: judge kinds the task needs, e.g. ``("refusal",)``
    judges: ClassVar[tuple[str, ...]] = ()
    #: TrustLLM's generation temperature for this file
    temperature: ClassVar[float] = 0.0
    max_tokens: ClassVar[int] = 512
    #: Liu et al. taxonomy tags (category/sub-category)
    taxonomy: ClassVar[tuple[str, ...]] = ()
    #: what the task needs from the model: text, logprobs, open weights
    requires: ClassVar[tuple[str, ...]] = ("text",)

    @abstractmethod
    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """Turn the dataset's records into samples (raise DataError on a malformed record)."""

    def build_request(self, sample: Sample, overrides: Mapping[str, Any] | None = None) -> Request:
        """The prompt is sent verbatim as one user turn, as TrustLLM does, with the task's
        temperature and token cap unless ``overrides`` (user settings) replace them."""
        params = GenerationParams(temperature=self.temperature, max_tokens=self.max_tokens)
        if overrides:
            params = params.merged(**overrides)
        return Request.user(sample.prompt, params)

    def judge_item(self, kind: str, sample: Sample, response: str) -> JudgeItem:
        """What the judge of ``kind`` sees for this sample (override to add a reference)."""
        return JudgeItem(prompt=sample.prompt, response=response)

    def wants_judgement(self, kind: str, sample: Sample, earlier: Mapping[str, Judgement]) -> bool:
        """Whether the judge of ``kind`` should see this sample, given the judgements of the kinds
        listed before it in :attr:`judges` (default: always). Lets a task spare a paid or slow
        judge, e.g. score toxicity only of responses that complied."""
        return True

    @abstractmethod
    def score(self, sample: Sample, response: str, judgements: Mapping[str, Judgement]) -> SampleScore:
        """Score one response, given the judgements of the kinds in :attr:`judges`."""

    @abstractmethod
    def aggregate(self, scored: Sequence[tuple[Sample, SampleScore]]) -> list[MetricValue]:
        """Compute the task's metrics over all scored samples (failed requests excluded)."""
