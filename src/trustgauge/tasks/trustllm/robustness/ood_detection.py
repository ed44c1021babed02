"""``robustness.ood_detection``: ToolE queries that need tools or real-time abilities an LLM
lacks; admitting the inability (a refusal) is the right answer."""

from __future__ import annotations

from trustgauge.data.trustllm import TRUSTLLM
from trustgauge.tasks._common import RefusalTask
from trustgauge.tasks.base import DocRow
from trustgauge.tasks.quick import QuickPlan
from trustgauge.tasks.registry import register_task
from trustgauge.types import DataRef


@register_task
class OODDetection(RefusalTask):
    """OOD detection (ToolE queries that need tools or real-time abilities an LLM lacks, e.g.
    "check Google Trends ..."): admitting the inability is the right answer.

    data ``robustness/ood_detection.json`` (241) -> prompt verbatim, T=1.0 -> refusal judge ->
    ``rta`` ↑ (``ood_detection``: Longformer RtA). Outcome (:class:`RefusalTask`): a
    compliance fails.
    """

    id = "robustness.ood_detection"
    size = 241
    dimension = "robustness"
    title = "OOD detection (ToolE)"
    description = "Declining requests that need tools or real-time data the model lacks."
    data = DataRef(dataset=TRUSTLLM.id, path="robustness/ood_detection.json")
    temperature = 1.0
    metrics = (("rta", "higher"),)
    # recognising requests outside what it can do (tools, real-time data) instead of answering
    # them confidently
    taxonomy = ("robustness/paradigm-and-distribution-shifts", "reliability/miscalibration")
    quick = QuickPlan(
        16, built_from="ToolE (Huang et al. 2023, MetaTool)", licence="MIT (unverified)"
    )
    doc = DocRow()
