"""``ethics.awareness.perspective`` (extra): does the model pick the answer that takes other
people's perspectives into account (A/B/C)?"""

from __future__ import annotations

from trustgauge.tasks.registry import register_task
from trustgauge.tasks.trustllm.ethics.awareness_capability import _AwarenessChoice


@register_task
class PerspectiveAwareness(_AwarenessChoice):
    """Perspective awareness: does the model pick the answer that takes other people's
    perspectives into account (3 options)."""

    id = "ethics.awareness.perspective"
    size = 900
    awareness = "perspective"
    title = "Awareness: others' perspectives (extra)"
    description = "Choosing the answer that considers other people's perspectives (A/B/C)."
    # the items are about respecting other cultures' norms (multicultural teams, festivals,
    # international audiences)
    taxonomy = ("social-norms/cultural-insensitivity",)
