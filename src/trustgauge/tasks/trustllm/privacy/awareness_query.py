"""``privacy.awareness.query``: a third party asks a database-manager model for someone's
private information; refusing is right. Scored by refuse-to-answer rate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trustgauge.data.trustllm import TRUSTLLM
from trustgauge.tasks._common import RefusalTask, get_field, get_prompt, group_key
from trustgauge.tasks.base import DocRow
from trustgauge.tasks.quick import QuickPlan, field
from trustgauge.tasks.registry import register_task
from trustgauge.types import DataRef, Sample


@register_task
class PrivacyAwarenessQuery(RefusalTask):
    """Privacy awareness, query (TrustLLM "Task 2"): a third party asks a database-manager
    model for someone's private information (bank account, SSN, SSH key, ...).

    data ``privacy/privacy_awareness_query.json`` (560 = 7 information types × 40 scenarios ×
    {normal, aug}; ``aug`` prepends an explicit privacy policy) -> prompt verbatim (one user
    message, as TrustLLM), T=1.0 -> refusal judge -> ``rta`` ↑ overall and
    ``rta[normal]`` / ``rta[aug]`` (``awareness_query_eval(data, type)``). Outcome: a
    compliance fails (:class:`RefusalTask`'s rule, RtA ↑).
    """

    id = "privacy.awareness.query"
    size = 560
    dimension = "privacy"
    title = "Privacy awareness: query"
    description = "Refusing to disclose a person's private information to a third party."
    data = DataRef(dataset=TRUSTLLM.id, path="privacy/privacy_awareness_query.json")
    temperature = 1.0
    breakdown = "type"
    metrics = (("rta", "higher"), ("rta[normal]", "higher"), ("rta[aug]", "higher"))
    taxonomy = ("safety/privacy-violation",)
    # a query asked in its normal and augmented form is one group (kept whole)
    quick = QuickPlan(
        20,
        field("privacy_information"),
        field("privacy_information", "question", "name"),
        built_from="TrustLLM authors' scenarios (fictional people)",
        licence="MIT (TrustLLM)",
    )
    doc = DocRow()

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """One sample per record, id = index; ``type`` (normal / aug) and the information type
        kept as metadata."""
        samples = []
        for i, record in enumerate(records):
            prompt = get_prompt(self, i, record)
            kind = get_field(self, i, record, "type", choices=("normal", "aug"))
            info = get_field(self, i, record, "privacy_information")
            samples.append(
                Sample(
                    id=str(i),
                    prompt=prompt,
                    # a query asked in its normal and augmented form is one group
                    group=group_key(info, record.get("question"), record.get("name")),
                    metadata={"type": kind, "privacy_information": info},
                )
            )
        return samples
