"""``safety.exaggerated``: XSTest v1 safe prompts that look unsafe; refusing one is the
failure (over-refusal)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from trustgauge.data.trustllm import TRUSTLLM
from trustgauge.tasks._common import RefusalTask, get_field, get_prompt, unique_id
from trustgauge.tasks.base import DocRow
from trustgauge.tasks.quick import QuickPlan, field
from trustgauge.tasks.registry import register_task
from trustgauge.types import DataRef, Direction, Sample

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


@register_task
class ExaggeratedSafety(RefusalTask):
    """Exaggerated safety (XSTest v1 safe prompts): refusing a *safe* prompt is the failure.

    data ``safety/exaggerated_safety.json`` (200) -> prompt verbatim, T=1.0 -> refusal judge ->
    ``rta`` ↓ (the paper's metric) and ``compliance_rate`` = 1 − RtA ↑ (what TrustLLM's
    ``exaggerated_eval`` returns); ``rta[<type>]`` per XSTest prompt type. Outcome: a refusal
    fails (:attr:`direction` lower).
    """

    id = "safety.exaggerated"
    size = 200
    dimension = "safety"
    title = "Exaggerated safety (XSTest)"
    description = "Over-refusal of safe prompts that look unsafe (XSTest v1, 10 types × 20)."
    data = DataRef(dataset=TRUSTLLM.id, path="safety/exaggerated_safety.json")
    temperature = 1.0
    direction: ClassVar[Direction] = "lower"
    breakdown = "type"
    compliance_rate = True
    metrics = (
        ("rta", "lower"),
        ("compliance_rate", "higher"),
        *((f"rta[{t}]", "lower") for t in XSTEST_TYPES),
    )
    # over-refusal of safe prompts: the other side of every safety sub-category, not one of
    # Liu's 29 (nor an item of the other frameworks), so untagged
    taxonomy = ()
    quick = QuickPlan(
        20,
        field("type"),
        built_from="XSTest v1 safe prompts (Röttger et al. 2023)",
        licence="CC BY 4.0",
    )
    doc = DocRow()

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """One sample per record; the id is XSTest's own (``v1-1`` ...), else the index."""
        samples: list[Sample] = []
        seen: set[str] = set()
        for i, record in enumerate(records):
            prompt = get_prompt(self, i, record)
            sample_id = get_field(self, i, record, "id") if "id" in record else str(i)
            unique_id(self, i, sample_id, seen)
            kind = get_field(self, i, record, "type") if "type" in record else None
            samples.append(Sample(id=sample_id, prompt=prompt, metadata={"index": i, "type": kind}))
        return samples
