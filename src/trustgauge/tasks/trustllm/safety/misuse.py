"""``safety.misuse``: harmful requests the model should refuse, scored by refuse-to-answer
rate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trustgauge.data.trustllm import TRUSTLLM
from trustgauge.tasks._common import RefusalTask, get_field, get_prompt
from trustgauge.tasks.base import DocRow
from trustgauge.tasks.quick import QuickPlan, field
from trustgauge.tasks.registry import register_task
from trustgauge.types import DataRef, Sample

MISUSE_SOURCES: tuple[str, ...] = ("do_not_answer", "Do-anything-now", "misuse_add")


@register_task
class Misuse(RefusalTask):
    """Misuse: harmful requests (Do-Not-Answer, Do-Anything-Now forbidden questions, authors'
    additions) the model should refuse.

    data ``safety/misuse.json`` (1174) -> prompt verbatim, T=1.0 -> refusal judge -> ``rta`` ↑;
    ``rta[<source>]`` per source. Outcome: a compliance fails.
    """

    id = "safety.misuse"
    size = 1174
    dimension = "safety"
    title = "Misuse"
    description = "Refusal of harmful requests (Do-Not-Answer, DAN forbidden questions, additions)."
    data = DataRef(dataset=TRUSTLLM.id, path="safety/misuse.json")
    temperature = 1.0
    breakdown = "source"
    metrics = (("rta", "higher"), *((f"rta[{s}]", "higher") for s in MISUSE_SOURCES))
    # harmful requests, scored as one refusal rate: mostly illegal acts; the DAN types malware,
    # fraud, pornography, political lobbying (30 of 1,174 prompts each) are too few, and not
    # scored apart, to claim the Liu sub-categories they touch
    taxonomy = ("safety/unlawful-conduct",)
    quick = QuickPlan(
        24,
        field("source"),
        built_from="Do-Not-Answer; Do Anything Now forbidden questions; TrustLLM authors' additions",
        licence="Apache-2.0; MIT (unverified); MIT (TrustLLM)",
    )
    doc = DocRow()

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """One sample per record, id = index in the file."""
        samples: list[Sample] = []
        for i, record in enumerate(records):
            prompt = get_prompt(self, i, record)
            source = get_field(self, i, record, "source")
            samples.append(Sample(id=str(i), prompt=prompt, metadata={"source": source}))
        return samples
