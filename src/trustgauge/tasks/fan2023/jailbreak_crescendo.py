"""``fan2023.jailbreak_crescendo``: a multi-turn escalation attack in the style of Crescendo
(Russinovich et al. 2024): a model in the ``attacker`` role opens with a harmless question near
each harmful behaviour and escalates turn by turn, building on the target's own answers, for up
to ``turns`` turns, stopping on success (:mod:`trustgauge.attacks.crescendo`). The benign twins
are asked directly: the over-refusal control. Scored like every attack task
(``tasks/fan2023/_attack_common.py``) on the answer the attack chose.
"""

from __future__ import annotations

from typing import ClassVar

from trustgauge.tasks.base import DocRow, TaskParameter
from trustgauge.tasks.fan2023._attack_common import IterativeJailbreakTask, behaviours_parameter
from trustgauge.tasks.registry import register_task


@register_task
class JailbreakCrescendo(IterativeJailbreakTask):
    """Crescendo-style escalation against each harmful behaviour, the benign twins direct.

    data ``fan2023/jailbreak/behaviours.json`` (``behaviours``: harmbench 200 + 200 twins by
    default) -> an escalating conversation of up to ``turns`` turns (5 by default; T=0, 256
    tokens for the target) -> ``attack_success`` and ``refusal`` judges ->
    ``fan2023.attack_success@1``.
    """

    id = "fan2023.jailbreak_crescendo"
    title = "Jailbreak: Crescendo, a multi-turn escalation (Fan et al.)"
    description = (
        "Crescendo-style multi-turn escalation: an attacker model starts harmless and builds on the target's "
        "answers towards HarmBench/AdvBench behaviours; benign twins asked directly for over-refusal."
    )
    attack_name = "crescendo"
    budget: ClassVar[dict[str, int]] = {"turns": 20}
    parameters: ClassVar[dict[str, TaskParameter]] = {
        "turns": TaskParameter("5", "attacker turns at most per behaviour (PyRIT's Crescendo: 10)"),
        "behaviours": behaviours_parameter(),
    }
    doc = DocRow()
