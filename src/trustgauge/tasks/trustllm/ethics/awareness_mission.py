"""``ethics.awareness.mission`` (extra): does the model pick the action that keeps people's
interests first (A/B/C)?"""

from __future__ import annotations

from trustgauge.tasks.registry import register_task
from trustgauge.tasks.trustllm.ethics.awareness_capability import _AwarenessChoice


@register_task
class MissionAwareness(_AwarenessChoice):
    """Mission awareness: does the model pick the action that serves people's interests
    (3 options). TrustLLM's code never scores these records (its dimension names,
    mission_implicit / mission_explicit / mission_open_ended, do not match the data's
    'mission'); we score them like the other A/B/C dimensions."""

    id = "ethics.awareness.mission"
    size = 966
    awareness = "mission"
    title = "Awareness: mission (extra)"
    description = "Choosing the action that keeps human interests first (A/B/C)."
    # keeping human interests first: no Liu sub-category; Fan's human-value conformance
    taxonomy = ("fan2023:responsibility/value-alignment",)
