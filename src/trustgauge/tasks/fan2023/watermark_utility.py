"""``fan2023.watermark_utility``: what a watermark costs in task quality (issue 18, item 1's
"task scores of a TrustLLM slice with and without the watermark").

Each item of a fixed TrustLLM slice (:data:`SUBTASKS`: sub-tasks scored by reading the answer,
no judge model: hallucination (truthfulness), social norms (ethics), stereotype recognition
(fairness), out-of-distribution generalisation (robustness); 12 records each, drawn from the
packaged quick sample by ``scripts/build_fan2023_watermark_utility.py``) is answered once without
a mark and once per watermarking scheme of the task parameter ``schemes`` (default ``kgw,synthid``;
``trustgauge.watermark.schemes()``), the same prompt through ``chat.send`` each time. Every answer
is read and scored by the TrustLLM sub-task's own ``samples()`` / ``build_request()`` /
``score()``, so a score here means exactly what that task's score means, and
``score[<arm>/<task>]`` is that task's own headline metric (its own aggregator) over the slice.

Temperature. Each sub-task's own (all four are TrustLLM's greedy, temperature-0 tasks). A scheme
that cannot mark a greedy decode (``needs_sampling`` on the scheme class; neither built-in
scheme needs it: KGW's bias and SynthID-Text's reweighting both change the greedy choice, and a
greedy SmolLM2 answer under either is detected) would make the comparison unfair
if only its arm sampled, so when any chosen scheme needs sampling and the sub-task's temperature
is 0, EVERY arm of that item, the unmarked one included, samples at :data:`SAMPLING_TEMPERATURE`;
whenever an item samples, all its arms share one seed (:func:`item_seed`, from the item id), so
the arms differ by the mark alone (and a rerun gives the same answers). The temperature and seed used are in each sample's metadata (``temperature``, ``seed``).

The key is the run's watermark key (``TRUSTGAUGE_WATERMARK_KEY``, else the public demo key);
it reaches the backend only inside the request's :class:`~trustgauge.types.WatermarkSpec` and is
never written (the stored request shows ``key_id``). ``run --watermark`` marks every target call
of a run, this task's unmarked arm included: do not combine them.

Metrics (``stats/aggregators/fan2023_watermark_utility.py``): ``delta`` (headline: the mean of
``delta[S]`` over the schemes), ``delta[S]`` (the mean over the slice's items of the paired
change of the per-item score, marked minus unmarked, with a paired bootstrap interval),
``score[none/<task>]``, ``score[S/<task>]`` (the sub-task's own headline metric),
``delta[S/<task>]``. A ``delta`` of 0 is no cost; the task score maps [-1, 1] onto [0, 1].
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from trustgauge.data.sources import PackageFiles
from trustgauge.errors import ConfigError, DataError
from trustgauge.tasks._common import get_field
from trustgauge.tasks.base import Task, TaskParameter
from trustgauge.tasks.outcome import Outcome
from trustgauge.tasks.registry import TASKS, register_task
from trustgauge.types import (
    TARGET,
    Chat,
    DataRef,
    GenerationParams,
    Judgement,
    Sample,
    SampleScore,
    Transcript,
    WatermarkSpec,
)

SOURCE = PackageFiles(
    id="fan2023-watermark-utility",
    description=(
        "a fixed slice of TrustLLM's quick sample (hallucination, social norms, stereotype recognition, "
        "OOD generalisation; 12 records each) for the watermark's quality cost"
    ),
    package="trustgauge.data",
    path="packaged/fan2023/watermark_utility",
    files={"items.json": 48},
    licence="TrustLLM's licences (see packaged/trustllm_quick/LICENSE.md)",
    licence_short="as TrustLLM",
)

#: the TrustLLM sub-tasks of the slice: scored by reading the answer (no judge model), each with
#: a 0/1 ``correct`` value per item (the value :data:`VALUE_KEY` names)
SUBTASKS: tuple[str, ...] = (
    "truthfulness.hallucination",
    "ethics.implicit.social_norm",
    "fairness.stereotype.recognition",
    "robustness.ood_generalization",
)
#: the per-item value of every sub-task's score that the paired change is taken of
VALUE_KEY = "correct"
#: the arm without a mark
NONE = "none"
#: the temperature of every arm of an item when a scheme needs sampling and the sub-task is greedy
SAMPLING_TEMPERATURE = 1.0


def item_seed(item_id: str) -> int:
    """The sampling seed of an item (all its arms): stable across runs and processes."""
    return int.from_bytes(hashlib.sha256(f"watermark_utility:{item_id}".encode()).digest()[:4], "big")


def parse_schemes(text: str) -> list[str]:
    """``"kgw, synthid"`` -> ``["kgw", "synthid"]`` (lower case, no repeats, order kept)."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    return list(dict.fromkeys(names))


def needs_sampling(scheme: str) -> bool:
    """Whether scheme ``scheme`` marks only a sampled decode (its class's ``needs_sampling``)."""
    from trustgauge.watermark import get_scheme

    return get_scheme(scheme).needs_sampling


@register_task
class WatermarkUtility(Task):
    """Quality cost of watermarking: a TrustLLM slice answered with and without each mark."""

    id = "fan2023.watermark_utility"
    dimension = "fan2023"
    benchmark = "fan2023"
    title = "Watermark quality cost (TrustLLM slice with and without the mark)"
    description = (
        "Does watermarking change the answers' quality? 48 items of four TrustLLM sub-tasks scored by "
        "their own rules, answered without a mark and with each scheme; the paired change per scheme."
    )
    size = 48
    source = SOURCE
    data = DataRef(dataset=SOURCE.id, path="items.json")
    requires: ClassVar[tuple[str, ...]] = ("text", "logits_processor")
    #: ``delta`` (the mean of ``delta[S]`` over the schemes) first; per scheme ``delta[S]`` (the
    #: default schemes'), then ``score[<arm>/<task>]`` and ``delta[S/<task>]`` per sub-task
    metrics = (
        ("delta", "higher"),
        ("delta[kgw]", "higher"),
        ("delta[synthid]", "higher"),
    )
    aggregator = "fan2023.watermark_utility@1"
    taxonomy = ("fan2023:responsibility/content-detection",)
    quick = None
    parameters: ClassVar[dict[str, TaskParameter]] = {
        "schemes": TaskParameter("kgw,synthid", "watermarking schemes compared with no mark, comma-separated"),
    }

    def __init__(self, *, reference: bool = False, params: Mapping[str, str] | None = None) -> None:
        super().__init__(reference=reference, params=params)
        self._subtasks: dict[str, Task] = {}

    def check_params(self) -> None:
        from trustgauge.watermark import get_scheme

        names = parse_schemes(self.params["schemes"])
        if not names:
            raise ConfigError(f"task {self.id}: schemes is empty (name at least one watermarking scheme)")
        if NONE in names:
            raise ConfigError(f"task {self.id}: '{NONE}' is the unmarked arm, always run; name schemes only")
        for name in names:
            get_scheme(name)  # ConfigError naming the known schemes

    @property
    def schemes(self) -> list[str]:
        return parse_schemes(self.params["schemes"])

    def subtask(self, task_id: str) -> Task:
        """The TrustLLM sub-task (its default settings: TrustLLM's reading and metric)."""
        if task_id not in self._subtasks:
            self._subtasks[task_id] = TASKS[task_id]()
        return self._subtasks[task_id]

    # --- data ------------------------------------------------------------------------------------

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """Each sub-task's records through its own ``samples()``; one sample per item, with the
        sub-task's sample (id, target, group, metadata) in ``metadata``."""
        by_task: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        for i, record in enumerate(records):
            task_id = get_field(self, i, record, "task", choices=SUBTASKS)
            item_id = get_field(self, i, record, "id")
            inner = record.get("record")
            if not isinstance(inner, Mapping):
                raise DataError(f"{self.data.path} record {i}: field 'record' should be a TrustLLM record (an object)")
            by_task.setdefault(task_id, []).append((item_id, inner))
        out: list[Sample] = []
        seen: set[str] = set()
        for task_id in SUBTASKS:
            items = by_task.get(task_id, [])
            if not items:
                continue
            subs = self.subtask(task_id).samples([r for _, r in items])
            if len(subs) != len(items):
                raise DataError(f"{self.data.path}: {task_id} made {len(subs)} samples of {len(items)} records")
            for (item_id, _), sub in zip(items, subs):
                if item_id in seen:
                    raise DataError(f"{self.data.path}: item id {item_id!r} twice")
                seen.add(item_id)
                out.append(Sample(
                    id=item_id, prompt=sub.prompt, target=sub.target,
                    group=None if sub.group is None else f"{task_id}/{sub.group}",
                    metadata={"task": task_id, "sub_id": sub.id, "sub_group": sub.group,
                              "sub_metadata": dict(sub.metadata)},
                ))
        return out

    @staticmethod
    def inner_sample(sample: Sample) -> Sample:
        """The sub-task's own sample an item was made from."""
        meta = sample.metadata
        return Sample(id=str(meta.get("sub_id", sample.id)), prompt=sample.prompt, target=sample.target,
                      group=meta.get("sub_group"), metadata=dict(meta.get("sub_metadata") or {}))

    # --- the conversation -----------------------------------------------------------------------

    def arm_params(self, sample: Sample, base: GenerationParams, spec: WatermarkSpec | None) -> GenerationParams:
        """The generation settings of one arm: the sub-task's own, sampled at
        :data:`SAMPLING_TEMPERATURE` when a chosen scheme needs sampling and the sub-task is
        greedy (every arm alike), seeded with the item's seed whenever it samples, with the
        arm's watermark."""
        params = base
        if base.temperature == 0.0 and any(needs_sampling(s) for s in self.schemes):
            params = params.merged(temperature=SAMPLING_TEMPERATURE)
        if params.temperature > 0.0 and params.seed is None:  # every arm starts from one random state
            params = params.merged(seed=item_seed(sample.id))
        return params.merged(watermark=spec) if spec is not None else params

    async def run(self, sample: Sample, chat: Chat) -> Transcript:
        """The item's prompt, as its sub-task builds the request, once unmarked and once per scheme."""
        from trustgauge.watermark import key_from_environment, make_spec

        sub = self.subtask(str(sample.metadata["task"]))
        request = sub.build_request(self.inner_sample(sample))
        key = key_from_environment()
        arms: dict[str, dict[str, Any]] = {}
        used: GenerationParams | None = None
        for arm in (NONE, *self.schemes):
            spec = None if arm == NONE else make_spec(arm, key)
            params = self.arm_params(sample, request.params, spec)
            used = used or params
            response = await chat.send(TARGET, request.messages, params)
            arms[arm] = {"text": response.text, "finish_reason": response.finish_reason}
        assert used is not None
        shown = "\n\n".join(f"[{arm}]\n{a['text']}" for arm, a in arms.items())
        return Transcript(
            response=shown, messages=request.messages, finish_reason=arms[NONE]["finish_reason"],
            notes={"arms": arms, "temperature": used.temperature, "seed": used.seed},
        )

    # --- scoring ---------------------------------------------------------------------------------

    def score_transcript(
        self, sample: Sample, transcript: Transcript, judgements: Mapping[str, Judgement]
    ) -> SampleScore:
        """Each arm's answer scored by the sub-task: ``correct[<arm>]`` (``None`` when the
        sub-task found the answer unreadable) and ``valid[<arm>]`` (1/0)."""
        arms = transcript.notes.get("arms")
        if not isinstance(arms, Mapping) or NONE not in arms:
            return SampleScore(valid=False, note="no unmarked answer recorded")
        sub = self.subtask(str(sample.metadata["task"]))
        inner = self.inner_sample(sample)
        values: dict[str, float | None] = {}
        labels: list[str] = []
        for arm in (NONE, *self.schemes):
            answer = arms.get(arm)
            if not isinstance(answer, Mapping):
                values[f"valid[{arm}]"] = 0.0
                values[f"{VALUE_KEY}[{arm}]"] = None
                labels.append(f"{arm}: (no answer)")
                continue
            scored = sub.score(inner, str(answer.get("text", "")), {})
            value = scored.values.get(VALUE_KEY) if scored.valid else None
            values[f"valid[{arm}]"] = 1.0 if scored.valid else 0.0
            values[f"{VALUE_KEY}[{arm}]"] = None if value is None else float(value)
            labels.append(f"{arm}: {scored.label if scored.valid else '(unreadable)'}")
        temperature = transcript.notes.get("temperature")
        if isinstance(temperature, (int, float)):
            values["temperature"] = float(temperature)
        return SampleScore(label=labels[0].split(": ", 1)[1], values=values, note="; ".join(labels))

    def score(self, sample: Sample, response: str, judgements: Mapping[str, Judgement]) -> SampleScore:
        """Not used: the arms are scored from the conversation (:meth:`score_transcript`)."""
        return SampleScore(valid=False, note="watermark_utility scores each arm of the conversation")

    def outcome(self, score: SampleScore) -> Outcome:
        """No verdict per item: the cost is a paired mean over the slice."""
        return "none"

    def aggregator_params(self) -> dict[str, Any]:
        """The arms, and per sub-task the aggregator (with its params) and headline metric that
        make its own score, so ``compare`` recomputes ``score[<arm>/<task>]`` without task code."""
        tasks = {}
        for task_id in SUBTASKS:
            sub = self.subtask(task_id)
            metric, direction = sub.metrics[0]
            tasks[task_id] = {"aggregator": sub.aggregator, "params": sub.aggregator_params(),
                              "metric": metric, "direction": direction}
        return {"arms": [NONE, *self.schemes], "value": VALUE_KEY, "tasks": tasks}

    def oracle_response(self, sample: Sample) -> str:
        return self.subtask(str(sample.metadata["task"])).oracle_response(self.inner_sample(sample))
