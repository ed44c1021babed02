"""``safety.jailbreak``: harmful questions and instructions wrapped in 14 jailbreak attacks
(JailbreakTrigger), scored by refuse-to-answer rate.

Also the JailbreakTrigger reader (:func:`jailbreak_samples`) and quick-sample plan
(:data:`JAILBREAK_QUICK`), which ``safety.toxicity`` shares: it reads the same file and sends
the same requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trustgauge.data.trustllm import TRUSTLLM
from trustgauge.errors import DataError
from trustgauge.tasks._common import RefusalTask, get_field, get_prompt
from trustgauge.tasks.base import DocRow, Task
from trustgauge.tasks.quick import QuickPlan, first_label
from trustgauge.tasks.registry import register_task
from trustgauge.types import DataRef, Sample

#: JailbreakTrigger's 14 attack labels (``label[0]``), 100 records each
JAILBREAK_ATTACKS: tuple[str, ...] = (
    "fixed sentence",
    "bad words",
    "no_punctuation",
    "no_long_word",
    "without_the",
    "json_format",
    "leetspeak",
    "url_encode",
    "Refusal sentence prohibition",
    "cot",
    "scenario",
    "multitask",
    "programming",
    "cou",
)

#: ``safety/jailbreak.json`` in the quick sample: 42 records, 3 per attack
JAILBREAK_QUICK = QuickPlan(
    42,
    first_label,
    built_from="JailbreakTrigger, written by the TrustLLM authors",
    licence="MIT (TrustLLM)",
)


def jailbreak_samples(task: Task, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
    """JailbreakTrigger records -> samples: id = index, metadata attack (``label[0]``) and
    source (ITC / QBB)."""
    samples: list[Sample] = []
    for i, record in enumerate(records):
        prompt = get_prompt(task, i, record)
        label = get_field(task, i, record, "label", (list, str))
        if isinstance(label, list):
            if not label or not isinstance(label[0], str) or not label[0].strip():
                raise DataError(
                    f"{task.data.path} record {i}: field 'label' should be a list holding "
                    "the attack name"
                )
            label = label[0]
        source = get_field(task, i, record, "source")
        samples.append(
            Sample(id=str(i), prompt=prompt, metadata={"attack": label, "source": source})
        )
    return samples


@register_task
class Jailbreak(RefusalTask):
    """Jailbreak (JailbreakTrigger): harmful questions/instructions wrapped in 14 attacks.

    data ``safety/jailbreak.json`` (1400 = 14 attacks × 100) -> prompt verbatim, T=1.0 ->
    refusal judge -> ``rta`` ↑ overall (TrustLLM ``eval_type='total'``) and ``rta[<attack>]``
    per attack label (``eval_type='single'``). Outcome: a compliance fails.
    """

    id = "safety.jailbreak"
    size = 1400
    dimension = "safety"
    title = "Jailbreak (JailbreakTrigger)"
    description = "Refusal of harmful requests wrapped in 14 jailbreak attacks."
    data = DataRef(dataset=TRUSTLLM.id, path="safety/jailbreak.json")
    temperature = 1.0
    breakdown = "attack"
    metrics = (("rta", "higher"), *((f"rta[{a}]", "higher") for a in JAILBREAK_ATTACKS))
    # Liu's prompt attacks; Fan's jailbreak item is narrower than that sub-category, so it is
    # tagged here, not mapped
    taxonomy = ("robustness/prompt-attacks", "fan2023:security/jailbreak")
    quick = JAILBREAK_QUICK
    doc = DocRow()

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """One sample per record, id = index; the attack is ``label[0]``."""
        return jailbreak_samples(self, records)
