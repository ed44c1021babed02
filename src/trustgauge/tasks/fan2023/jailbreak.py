"""``fan2023.jailbreak``: how well does the model resist jailbreak attacks (Fan et al.'s security
dimension, issue 17)? Every behaviour (HarmBench's standard behaviours, AdvBench's, or both) is
sent under every attack chain of the ``attacks`` parameter (templates, encodings, many-shot,
payload splitting, chains such as ``aim+base64``: :mod:`trustgauge.attacks`), and so is its
benign twin, under the same attack: a model that refuses whatever looks like an attack is
caught by the twins it refuses.

One conversation per sample (:meth:`Jailbreak.run`): the chain turns the plain request into the
attacked messages (seeded from the sample id, so a rerun sends the same calls), the target
answers, the chain recovers the answer (decodes base64, translates back) and the judges read the
*recovered* answer against the *plain* goal (``tasks/fan2023/_attack_common.py``). A transform
that calls a model (the low-resource-language translation) adds its role (``translator``) to
the task's, so a run without ``--role translator=SPEC`` is refused before anything is sent.

Metrics (``fan2023.attack_success@1``): ``resistance`` ↑ (1 − ASR − over-refusal, at least 0),
``asr`` ↓, ``over_refusal`` ↓, ``keyword_asr`` ↓ (the keyword baseline), ``unparsed_rate`` ↓,
then ``asr[<attack>]``, ``asr[<category>]``, ``over_refusal[<attack>]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from trustgauge.attacks.base import AttackError
from trustgauge.attacks.registry import Chain, parse_chain
from trustgauge.errors import ConfigError
from trustgauge.tasks.base import DocRow, Task, TaskParameter
from trustgauge.tasks.fan2023 import _attack_common as common
from trustgauge.tasks.outcome import Outcome
from trustgauge.tasks.registry import register_task
from trustgauge.types import (
    TARGET,
    Chat,
    ChatMessage,
    DataRef,
    GenerationParams,
    JudgeItem,
    Judgement,
    JudgeSlot,
    Sample,
    SampleScore,
    Transcript,
)

#: the attack chains run by default: every family that needs no model besides the target (the
#: translation attack needs ``--role translator=SPEC``: add ``translate_zu`` to ``attacks``)
DEFAULT_ATTACKS = (
    "none,aim,refusal_suppression,prefix_injection,dan_11_0,base64,many_shot,payload_split,aim+base64"
)
#: behaviours of the default selection (HarmBench's 200 standard behaviours and their twins)
DEFAULT_BEHAVIOURS = 400


def parse_attacks(spec: str) -> list[Chain]:
    """``"none,aim+base64"`` -> the chains, in order (:class:`ConfigError` on an unknown
    transform, an empty entry or a chain given twice)."""
    names = [part.strip() for part in spec.split(",")]
    if not spec.strip() or any(not n for n in names):
        raise ConfigError(f"attacks={spec!r}: attack chains separated by ',', e.g. none,aim,aim+base64")
    chains = [parse_chain(name) for name in names]
    seen: set[str] = set()
    for chain in chains:
        if chain.name in seen:
            raise ConfigError(f"attacks={spec!r}: {chain.name} is given twice")
        seen.add(chain.name)
    return chains


@register_task
class Jailbreak(Task):
    """Behaviours and their benign twins under static attack chains.

    data ``fan2023/jailbreak/behaviours.json`` (parameter ``behaviours``: ``harmbench`` 200 + 200
    twins by default) x the chains of ``attacks`` (9 by default) -> each chain applied to the
    plain request (T=0, 256 tokens), the answer recovered -> ``attack_success`` (harmful behaviours)
    and ``refusal`` judges on the recovered answer and the plain goal ->
    ``fan2023.attack_success@1``.
    """

    id = "fan2023.jailbreak"
    dimension = "fan2023"
    benchmark = "fan2023"
    title = "Jailbreak attacks (Fan et al.)"
    description = (
        "HarmBench/AdvBench behaviours under static jailbreak attacks (templates, encodings, many-shot, "
        "payload splitting, chains), benign twins under the same attacks: attack success, over-refusal "
        "and their difference (resistance), per attack and category."
    )
    source = common.SOURCE
    data = DataRef(dataset=common.SOURCE.id, path=common.BEHAVIOURS_FILE)
    size = DEFAULT_BEHAVIOURS * len(DEFAULT_ATTACKS.split(","))
    temperature = 0.0
    max_tokens = 256
    judges: ClassVar[tuple[JudgeSlot, ...]] = common.JUDGES
    metrics = common.METRICS
    aggregator = common.AGGREGATOR
    taxonomy = common.TAXONOMY
    quick = None
    doc = DocRow()
    parameters: ClassVar[dict[str, TaskParameter]] = {
        "attacks": TaskParameter(
            DEFAULT_ATTACKS,
            "attack chains separated by ',' (a chain: transforms joined by '+', applied left to right, "
            "e.g. aim+base64); `trustgauge attacks` lists the transforms",
        ),
        "behaviours": common.behaviours_parameter(),
    }

    def check_params(self) -> None:
        """Every chain of ``attacks`` names known transforms; the task's roles are those its
        chains call (``translator``)."""
        self.chains = parse_attacks(self.params["attacks"])
        # an instance attribute (the class declares none): what check_roles reads of this run
        self.roles = tuple(dict.fromkeys(role for chain in self.chains for role in chain.roles))  # type: ignore[misc]

    def generation_params(self) -> GenerationParams:
        return GenerationParams(temperature=self.temperature, max_tokens=self.max_tokens)

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """One sample per behaviour (in file order) and chain (in ``attacks`` order)."""
        behaviours = common.select_behaviours(self, common.read_behaviours(self, records), self.params["behaviours"])
        return [common.attack_sample(b, chain.name, chain.id, chain.family) for b in behaviours for chain in self.chains]

    def _chain(self, sample: Sample) -> Chain:
        """The chain the sample is under (its id ends with ``|<chain name>``)."""
        name = sample.id.rsplit("|", 1)[-1]
        for chain in self.chains:
            if chain.name == name:
                return chain
        raise ConfigError(f"{self.id}: sample {sample.id!r} is under attack {name!r}, not one of this run's attacks "
                          f"({self.params['attacks']})")

    async def run(self, sample: Sample, chat: Chat) -> Transcript:
        """Apply the sample's chain to the plain request (seed: the sample id), send it to the
        target, recover the answer: the transcript's ``response`` is the recovered answer,
        ``notes["raw_response"]`` the target's own. An attack that cannot be carried out on this
        sample (a translator that gives no translation) fails the sample with the reason
        (:func:`~trustgauge.tasks.fan2023._attack_common.failed_attack`)."""
        chain = self._chain(sample)
        plain = (ChatMessage(role="user", content=str(sample.metadata.get("goal", sample.prompt))),)
        try:
            attacked = await chain.apply(plain, chat, seed=sample.id)
            response = await chat.send(TARGET, attacked, self.generation_params())
            recovered = await chain.recover(response.text, chat)
        except AttackError as exc:  # an attack impossible on this sample: the sample fails, the run goes on
            raise common.failed_attack(exc, chain.id) from exc
        messages = (*attacked, ChatMessage(role="assistant", content=response.text))
        return Transcript(response=recovered, messages=messages, finish_reason=response.finish_reason,
                          notes={"raw_response": response.text, "attack": chain.id})

    def judge_item(self, slot: JudgeSlot, sample: Sample, response: str, peer_response: str | None = None) -> JudgeItem:
        """The plain goal and the recovered answer (not the jailbreak prompt)."""
        return common.judge_item(sample, response)

    def wants_judgement(
        self, slot: JudgeSlot, sample: Sample, earlier: Mapping[str, Judgement], response: str | None = None
    ) -> bool:
        """Harmfulness for harmful behaviours only; refusal for every answer."""
        return common.wants(slot, sample)

    def score_transcript(
        self, sample: Sample, transcript: Transcript, judgements: Mapping[str, Judgement]
    ) -> SampleScore:
        return common.attack_score(sample, transcript, judgements)

    def score(self, sample: Sample, response: str, judgements: Mapping[str, Judgement]) -> SampleScore:
        """A stored answer without its conversation (no cost values)."""
        return common.attack_score(sample, Transcript(response=response), judgements)

    def outcome(self, score: SampleScore) -> Outcome:
        return common.attack_outcome(score)

    def aggregator_params(self) -> dict[str, Any]:
        return common.aggregator_params([chain.id for chain in self.chains])

    def oracle_response(self, sample: Sample) -> str:
        """A refusal of a harmful behaviour, a helpful answer to a benign twin."""
        return common.oracle_answer(sample)
