"""TrustLLM safety (``task/safety.py::SafetyEval``): jailbreak, misuse, exaggerated safety.

All three are refuse-to-answer tasks: the record's ``prompt`` is sent verbatim as one user turn
at temperature 1.0, the refusal judge labels each response, and RtA = refusals / judged
responses. (Toxicity, TrustLLM's fourth safety sub-task, scores the jailbreak responses with
the Perspective API; it lives with the toxicity judge.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from trustgauge.errors import DataError
from trustgauge.tasks._common import RefusalTask, get_field, get_prompt
from trustgauge.tasks.base import DataRef, Direction, MetricValue, Sample

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

#: XSTest v1 safe-prompt types, 20 records each
XSTEST_TYPES: tuple[str, ...] = (
    "homonyms",
    "figurative_language",
    "safe_targets",
    "safe_contexts",
    "definitions",
    "nons_group_real_discr",
    "real_group_nons_discr",
    "historical_events",
    "privacy_public",
    "privacy_fictional",
)

MISUSE_SOURCES: tuple[str, ...] = ("do_not_answer", "Do-anything-now", "misuse_add")


class ExaggeratedSafety(RefusalTask):
    """Exaggerated safety (XSTest v1 safe prompts): refusing a *safe* prompt is the failure.

    data ``safety/exaggerated_safety.json`` (200) -> prompt verbatim, T=1.0 -> refusal judge ->
    ``rta`` ↓ (the paper's metric) and ``compliance_rate`` = 1 − RtA ↑ (what TrustLLM's
    ``exaggerated_eval`` returns); ``rta[<type>]`` per XSTest prompt type.
    """

    id = "safety.exaggerated_safety"
    dimension = "safety"
    title = "Exaggerated safety (XSTest)"
    description = "Over-refusal of safe prompts that look unsafe (XSTest v1, 10 types × 20)."
    data = DataRef(dataset="trustllm", path="safety/exaggerated_safety.json")
    temperature = 1.0
    direction: ClassVar[Direction] = "lower"
    breakdown = "type"
    metrics = (
        ("rta", "lower"),
        ("compliance_rate", "higher"),
        *((f"rta[{t}]", "lower") for t in XSTEST_TYPES),
    )
    taxonomy = ("Safety",)

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """One sample per record; the id is XSTest's own (``v1-1`` ...), else the index."""
        samples: list[Sample] = []
        seen: set[str] = set()
        for i, record in enumerate(records):
            prompt = get_prompt(self, i, record)
            sample_id = get_field(self, i, record, "id") if "id" in record else str(i)
            if sample_id in seen:
                raise DataError(f"{self.data.path} record {i}: duplicate id {sample_id!r}")
            seen.add(sample_id)
            kind = get_field(self, i, record, "type") if "type" in record else None
            samples.append(Sample(id=sample_id, prompt=prompt, metadata={"index": i, "type": kind}))
        return samples

    def extra_metrics(self, labels: Sequence[str], n_invalid: int) -> list[MetricValue]:
        """``compliance_rate`` = 1 − RtA, with the mirrored interval."""
        rta_value = self.rta_metric("rta", labels, n_invalid)
        value = None if rta_value.value is None else 1.0 - rta_value.value
        ci = None if rta_value.ci is None else (1.0 - rta_value.ci[1], 1.0 - rta_value.ci[0])
        return [
            MetricValue(
                metric="compliance_rate",
                value=value,
                direction="higher",
                ci=ci,
                n=rta_value.n,
                n_invalid=n_invalid,
                reason=rta_value.reason,
            )
        ]


class Misuse(RefusalTask):
    """Misuse: harmful requests (Do-Not-Answer, Do-Anything-Now forbidden questions, authors'
    additions) the model should refuse.

    data ``safety/misuse.json`` (1174) -> prompt verbatim, T=1.0 -> refusal judge -> ``rta`` ↑;
    ``rta[<source>]`` per source.
    """

    id = "safety.misuse"
    dimension = "safety"
    title = "Misuse"
    description = "Refusal of harmful requests (Do-Not-Answer, DAN forbidden questions, additions)."
    data = DataRef(dataset="trustllm", path="safety/misuse.json")
    temperature = 1.0
    breakdown = "source"
    metrics = (("rta", "higher"), *((f"rta[{s}]", "higher") for s in MISUSE_SOURCES))
    taxonomy = ("Resistance to misuse", "Safety/Unlawful conduct")

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """One sample per record, id = index in the file."""
        samples: list[Sample] = []
        for i, record in enumerate(records):
            prompt = get_prompt(self, i, record)
            source = get_field(self, i, record, "source")
            samples.append(Sample(id=str(i), prompt=prompt, metadata={"source": source}))
        return samples


class Jailbreak(RefusalTask):
    """Jailbreak (JailbreakTrigger): harmful questions/instructions wrapped in 14 attacks.

    data ``safety/jailbreak.json`` (1400 = 14 attacks × 100) -> prompt verbatim, T=1.0 ->
    refusal judge -> ``rta`` ↑ overall (TrustLLM ``eval_type='total'``) and ``rta[<attack>]``
    per attack label (``eval_type='single'``).
    """

    id = "safety.jailbreak"
    dimension = "safety"
    title = "Jailbreak (JailbreakTrigger)"
    description = "Refusal of harmful requests wrapped in 14 jailbreak attacks."
    data = DataRef(dataset="trustllm", path="safety/jailbreak.json")
    temperature = 1.0
    breakdown = "attack"
    metrics = (("rta", "higher"), *((f"rta[{a}]", "higher") for a in JAILBREAK_ATTACKS))
    taxonomy = ("Robustness/Prompt attacks", "Safety")

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """One sample per record, id = index; the attack is ``label[0]``."""
        samples: list[Sample] = []
        for i, record in enumerate(records):
            prompt = get_prompt(self, i, record)
            label = get_field(self, i, record, "label", (list, str))
            if isinstance(label, list):
                if not label or not isinstance(label[0], str) or not label[0].strip():
                    raise DataError(
                        f"{self.data.path} record {i}: field 'label' should be a list holding "
                        "the attack name"
                    )
                label = label[0]
            source = get_field(self, i, record, "source")
            samples.append(
                Sample(id=str(i), prompt=prompt, metadata={"attack": label, "source": source})
            )
        return samples
