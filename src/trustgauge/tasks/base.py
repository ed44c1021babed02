"""What a task is: data -> samples -> request -> judged response -> per-sample score -> metrics.

A task is data plus pure functions; it never does I/O. The engine sends its requests, the
judges it names judge the responses, and :meth:`Task.score` / :meth:`Task.aggregate` turn
those into numbers. The value types (:class:`Sample`, :class:`SampleScore`,
:class:`MetricValue`, ...) live in :mod:`trustgauge.types` and are re-exported here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from trustgauge.stats.aggregators import aggregate as run_aggregator
from trustgauge.tasks.outcome import Outcome, keyed_outcome
from trustgauge.tasks.quick import QuickPlan
from trustgauge.types import (
    TARGET,
    Chat,
    DataRef,
    Direction,
    GenerationParams,
    JudgeItem,
    Judgement,
    JudgeSlot,
    MetricValue,
    Request,
    Response,
    Sample,
    SampleScore,
    Transcript,
)

if TYPE_CHECKING:
    from trustgauge.data.sources import DataSource


@dataclass(frozen=True)
class TaskParameter:
    """A setting of a task the user may change for a run (``--task-param TASK:NAME=VALUE``),
    e.g. the attacks of a jailbreak probe or the defence of a prompt-injection probe. Values are
    strings (a task parses its own); the run records every task's values, so a run stays
    reproducible from its spec (HELM's run specs).

    Attributes:
        default: The value when the user sets none.
        help: One line for ``trustgauge tasks --params`` and errors.
        choices: The allowed values (``None``: any string the task's :meth:`Task.check_params`
            accepts).
    """

    default: str
    help: str
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DocRow:
    """What ``docs/trustllm.md`` says about a task beyond what its class declares (the task
    table's columns come from the class: id, data, size, judges, metrics, reference mode).

    Attributes:
        explained_by: The rows of the deviations table (their first cell) that explain a
            default-mode difference from TrustLLM's code on the parity set
            (``scripts/make_trustllm_doc.py``'s parity table names them).
        reference_reason: Why reference mode still differs from TrustLLM's code ("": it
            does not).
    """

    explained_by: tuple[str, ...] = ()
    reference_reason: str = ""


class Task(ABC):
    """A TrustLLM-style sub-task. Subclasses set the class attributes (among them
    :attr:`aggregator`) and implement :meth:`samples` and :meth:`score`."""

    #: ``dimension.name``, e.g. ``safety.exaggerated``
    id: ClassVar[str]
    dimension: ClassVar[str]
    #: samples on the full, pinned release (``trustgauge tasks``; a test checks it on the data)
    size: ClassVar[int]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    data: ClassVar[DataRef]
    #: names and directions of the metrics :meth:`aggregate` returns, primary first
    metrics: ClassVar[tuple[tuple[str, Direction], ...]]
    #: the ``name@version`` of the aggregator (``trustgauge.stats.aggregators``) that turns the
    #: scored samples into :attr:`metrics`; stored in ``scores.json`` so that ``compare``
    #: recomputes a run's metrics by name, without this class
    aggregator: ClassVar[str]
    #: the judgements the task needs per sample, in order, as :class:`JudgeSlot`\ s: a judge kind
    #: (``JudgeSlot("refusal")``), with a ``role`` when one kind is asked twice about a sample
    #: (persona sycophancy compares the response with two references:
    #: ``JudgeSlot("similarity", "honest")``, ``JudgeSlot("similarity", "sycophantic")``).
    #: One judge per kind serves all its slots; :meth:`score` gets the judgements keyed by
    #: ``str(slot)`` (``"similarity#honest"``). An ``optional`` slot (``"kind?"``) runs only when
    #: its kind has a judge in the run (an LLM fallback where TrustLLM asked GPT-4 about answers
    #: it could not read, e.g. ``ethics_judgement?``); without one the task scores from what it
    #: reads itself. A subclass may still list the slots as strings (``"similarity#honest"``,
    #: ``"ethics_judgement?"``): they are parsed into slots when the class is defined.
    judges: ClassVar[tuple[JudgeSlot, ...]] = ()
    #: TrustLLM's generation temperature for this file
    temperature: ClassVar[float] = 0.0
    max_tokens: ClassVar[int] = 512
    #: what the task measures, as taxonomy tags (:mod:`trustgauge.taxonomy`): Liu et al.
    #: sub-category ids (``"reliability/misinformation"``), plus ``"framework:item"`` for an
    #: item of another framework no Liu sub-category maps to (``"fan2023:security/jailbreak"``);
    #: :func:`~trustgauge.tasks.registry.register_task` refuses an unknown tag.
    #: ``trustgauge taxonomy`` shows the coverage; ``--tasks reliability`` selects by tag
    taxonomy: ClassVar[tuple[str, ...]] = ()
    #: the benchmark the task belongs to: ``trustllm`` (selected by ``all``, TrustLLM's
    #: dimensions and suites) or ``liu2023`` (Liu et al.'s studies: dimension ``liu2023``, suites
    #: ``liu2023`` and ``quick-liu2023``)
    benchmark: ClassVar[str] = "trustllm"
    #: the model roles besides ``target`` the task's :meth:`run` calls (``attacker``,
    #: ``judge``, ``paraphraser``, ``reference``): a run without ``--role NAME=SPEC`` for one
    #: of them is refused before anything is sent
    roles: ClassVar[tuple[str, ...]] = ()
    #: what the task needs from the model: text, logprobs, open weights
    requires: ClassVar[tuple[str, ...]] = ("text",)
    #: what the task needs from the model in a role it calls when the run has one (membership
    #: inference scores text under a ``reference`` model: ``{"reference": ("loglikelihood",)}``);
    #: a run whose role model lacks it is refused before anything is sent
    role_requires: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: what the task uses from the model when it can give it, without needing it: only
    #: ``logprobs`` today. A model without it still runs the task: the requests
    #: :meth:`build_request` makes are sent without asking for log-probabilities (a task that
    #: overrides :meth:`run` builds its own and must not ask), and the task reports the part that
    #: needed them not scored (miscalibration's token-probability calibration)
    uses: ClassVar[tuple[str, ...]] = ()
    #: the task deviates from TrustLLM's code (a reader or a metric bug fixed, see
    #: docs/trustllm.md) and offers TrustLLM's behaviour with ``reference=True``
    has_reference: ClassVar[bool] = False
    #: an extra task outside TrustLLM's benchmark (the later awareness items): not selected by
    #: ``all``, a dimension or the ``trustllm`` / ``quick`` suites; name it, or ``--suite awareness``
    extra: ClassVar[bool] = False
    #: the 0-1 task score of an undefined headline metric when every response was read (none
    #: unreadable, no failed request) and none gave the metric anything to measure, e.g.
    #: toxicity of the complied jailbreak answers when every one was refused; ``None``
    #: (default): an undefined headline always counts as a failure (task score 0)
    nothing_to_score: ClassVar[float | None] = None
    #: the dataset :attr:`data` names, declared by the task: registered with the task (by
    #: :func:`~trustgauge.tasks.registry.register_task`) when no source of that id is known, so a
    #: task brings its own data; ``None``: the source registered as ``data.dataset``
    source: ClassVar[DataSource | None] = None
    #: how ``scripts/make_quick_sample.py`` slices :attr:`data`'s file into the packaged quick
    #: sample (tasks sharing a file declare the same plan); ``None``: not in the quick sample
    quick: ClassVar[QuickPlan | None] = None
    #: the task's hand-written entries in ``docs/trustllm.md``
    doc: ClassVar[DocRow] = DocRow()
    #: the settings a user may change (``--task-param TASK:NAME=VALUE``), by name; the instance's
    #: values are in :attr:`params` (every name, defaults filled in)
    parameters: ClassVar[dict[str, TaskParameter]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "judges" in cls.__dict__:
            # slots written as strings (``"kind#role"``, ``"kind?"``) before they were typed
            cls.judges = tuple(JudgeSlot.parse(slot) for slot in cls.__dict__["judges"])

    def __init__(self, *, reference: bool = False, params: Mapping[str, str] | None = None) -> None:
        """``reference``: read answers and compute the metric exactly as TrustLLM's code does,
        bugs included, to compare with published numbers (only where :attr:`has_reference`;
        elsewhere trustgauge already matches TrustLLM and the flag changes nothing).
        ``params``: values of :attr:`parameters` (raises :class:`~trustgauge.errors.ConfigError`
        on an unknown name or a value the task refuses)."""
        self.reference = reference and self.has_reference
        self.params: dict[str, str] = resolve_params(type(self), params or {})
        self.check_params()

    def check_params(self) -> None:
        """Refuse a parameter value :attr:`TaskParameter.choices` cannot express (e.g. an unknown
        attack in a chain) with :class:`~trustgauge.errors.ConfigError`; default: nothing more."""
        return None

    def non_default_params(self) -> dict[str, str]:
        """The parameters set to other than their default (what a run records of the task)."""
        return {name: value for name, value in self.params.items() if value != self.parameters[name].default}

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

    async def run(self, sample: Sample, chat: Chat) -> Transcript:
        """Hold the sample's conversation: a task that talks back (several turns, a second
        model in a named role, an adaptive stop) overrides this; every ``chat.send`` is one
        cached call through the engine (see :class:`~trustgauge.types.Chat`, and
        docs/extending.md for an example). The code must be deterministic given the
        responses, so a rerun after a crash replays the stored turns exactly.

        The default is the single-turn request of :meth:`build_request`; the pipeline sends
        those in one batch without calling this, so tasks that do not override it are run
        exactly as before."""
        request = self.build_request(sample)
        response = await chat.send(TARGET, request.messages, request.params)
        return Transcript(response=response.text, messages=request.messages, finish_reason=response.finish_reason)

    @classmethod
    def is_conversational(cls) -> bool:
        """Whether the task holds conversations (overrides :meth:`run`)."""
        return cls.run is not Task.run

    def score_transcript(
        self, sample: Sample, transcript: Transcript, judgements: Mapping[str, Judgement]
    ) -> SampleScore:
        """Score a conversation (default: :meth:`score` of its ``response``); override to use
        the turns or the task's ``notes`` (e.g. how many rounds an attack needed)."""
        return self.score(sample, transcript.response, judgements)

    def score_response(
        self, sample: Sample, response: Response, judgements: Mapping[str, Judgement]
    ) -> SampleScore:
        """Score a single-turn response (default: :meth:`score` of its text); override to use
        what else the model returned, e.g. its token log-probabilities (``response.tokens``)."""
        return self.score(sample, response.text, judgements)

    def judge_item(
        self, slot: JudgeSlot, sample: Sample, response: str, peer_response: str | None = None
    ) -> JudgeItem:
        """What the judge of ``slot`` sees for this sample (override to add a reference).

        ``peer_response`` is the response to the sample :meth:`peer` names (``None`` when the
        slot compares with no other sample); by default it is the item's reference."""
        return JudgeItem(prompt=sample.prompt, response=response, reference=peer_response)

    def peer(self, slot: JudgeSlot, sample: Sample) -> str | None:
        """The id of another sample of this task whose *response* the judgement of ``slot``
        compares this sample's response with (AdvInstruction: the response to the unperturbed
        instruction; sycophancy preference: the response to the same pair asked in the other
        order), or ``None`` (default). When that sample has no response, the judgement is not
        asked and :meth:`score` does not get it."""
        return None

    def wants_judgement(
        self,
        slot: JudgeSlot,
        sample: Sample,
        earlier: Mapping[str, Judgement],
        response: str | None = None,
    ) -> bool:
        """Whether the judge of ``slot`` should see this sample, given the judgements of the
        slots listed before it in :attr:`judges` (keyed by ``str(slot)``) and the sample's
        ``response`` (default: always).
        Lets a task spare a paid or slow judge, e.g. score toxicity only of responses that
        complied, or ask an optional LLM fallback only about answers the task cannot read
        itself. ``response`` is ``None`` when the caller does not pass it: a task that decides
        on it then asks (its :meth:`score` ignores a judgement it did not need)."""
        return True

    def oracle_response(self, sample: Sample) -> str:
        """The response of an ideal model to ``sample``, from the task's gold data: the right
        answer in the form the task reads, a refusal where refusing is right, a helpful answer
        where it is not (``scripted:oracle`` answers with it). Every task overrides it."""
        raise NotImplementedError(f"{self.id} defines no oracle response")

    @abstractmethod
    def score(self, sample: Sample, response: str, judgements: Mapping[str, Judgement]) -> SampleScore:
        """Score one response, given the judgements of the slots in :attr:`judges` (a slot is
        missing when its judge did not run: not wanted, no peer response, or no judge model)."""

    def outcome(self, score: SampleScore) -> Outcome:
        """The sample's verdict: ``fail`` when the response counts against the model, ``pass``
        when it does not, ``none`` when one sample says nothing on its own (or the score is
        invalid: the report shows those as invalid). Default: the rule by score name that
        ``results/outcomes.py`` applies to stored runs (:func:`~trustgauge.tasks.outcome.keyed_outcome`);
        a task overrides it with its own rule, which must give the same verdicts on the goldens
        (``scripts/goldens.py --check``, ``outcome_differences``)."""
        if not score.valid:
            return "none"
        return keyed_outcome(score.values, score.label, dict(self.metrics))

    def aggregator_params(self) -> dict[str, Any]:
        """The JSON object :attr:`aggregator` is called with (stored beside its name): what this
        task, in this mode, sets that the aggregator does not fix, e.g. ``{"reference": True}``.
        Default: none."""
        return {}

    def aggregate(self, scored: Sequence[tuple[Sample, SampleScore]]) -> list[MetricValue]:
        """Compute the task's metrics over all scored samples (failed requests excluded): its
        :attr:`aggregator` with :meth:`aggregator_params`. Not overridden: the numbers must
        come from the stored aggregator alone, or ``compare`` could not recompute them."""
        return run_aggregator(self.aggregator, scored, self.aggregator_params())


def resolve_params(task: type[Task], given: Mapping[str, str]) -> dict[str, str]:
    """Every parameter of ``task`` with its value: ``given`` where set, else the default. Raises
    :class:`~trustgauge.errors.ConfigError` on a name the task does not have or a value outside
    its choices."""
    from trustgauge.errors import ConfigError

    unknown = sorted(set(given) - set(task.parameters))
    if unknown:
        known = ", ".join(sorted(task.parameters)) or "none"
        raise ConfigError(f"task {task.id} has no parameter {unknown[0]!r} (its parameters: {known})")
    values: dict[str, str] = {}
    for name, spec in task.parameters.items():
        value = str(given.get(name, spec.default))
        if spec.choices is not None and value not in spec.choices:
            raise ConfigError(
                f"task {task.id}: parameter {name}={value!r} is not one of {', '.join(spec.choices)}"
            )
        values[name] = value
    return values

