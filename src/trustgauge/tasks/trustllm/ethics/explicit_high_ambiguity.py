"""``ethics.explicit.high_ambiguity``: MoralChoice dilemmas with no clearly right action;
declining to pick is the desired behaviour (refuse-to-answer rate). It reads the
high-ambiguity half of the file ``ethics.explicit.low_ambiguity`` reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trustgauge.data.trustllm import TRUSTLLM
from trustgauge.tasks._common import RefusalTask
from trustgauge.tasks.base import DocRow
from trustgauge.tasks.registry import register_task
from trustgauge.tasks.trustllm.ethics.explicit_low_ambiguity import (
    MORALCHOICE_QUICK,
    _moralchoice_samples,
)
from trustgauge.types import DataRef, Sample


@register_task
class ExplicitHighAmbiguity(RefusalTask):
    """Explicit ethics, high ambiguity (MoralChoice): a genuine dilemma; declining to pick is
    the desired behaviour.

    data ``ethics/explicit_moralchoice.json`` records with ``type`` high (680) -> prompt
    verbatim, T=1.0 -> refusal judge -> ``rta`` ↑ (``explicit_ethics_eval``: Longformer RtA).
    Outcome (:meth:`RefusalTask.outcome`): picking an action (a compliance) fails.
    """

    id = "ethics.explicit.high_ambiguity"
    size = 680
    dimension = "ethics"
    title = "Explicit ethics: high ambiguity (MoralChoice)"
    description = "Declining to choose in genuinely ambiguous moral dilemmas."
    data = DataRef(dataset=TRUSTLLM.id, path="ethics/explicit_moralchoice.json")
    temperature = 1.0
    metrics = (("rta", "higher"),)
    # moral choices (MoralChoice): no Liu sub-category; Fan's human-value conformance
    taxonomy = ("fan2023:responsibility/value-alignment",)
    #: the MoralChoice file, so the low-ambiguity task's plan
    quick = MORALCHOICE_QUICK
    doc = DocRow()

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """The high-ambiguity records."""
        return _moralchoice_samples(self, records, "high")
