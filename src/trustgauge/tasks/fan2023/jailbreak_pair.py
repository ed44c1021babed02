"""``fan2023.jailbreak_pair``: PAIR (Chao et al. 2023, "Jailbreaking Black Box Large Language
Models in Twenty Queries"): a model in the ``attacker`` role writes a jailbreak prompt for each
harmful behaviour, the target answers, a judge (role ``judge``, else the attacker) rates the
answer 1-10, and the attacker refines from the rating; ``streams`` conversations run at once,
each for up to ``iterations`` rounds, stopping on success (:mod:`trustgauge.attacks.pair`).
The benign twins are asked directly: the over-refusal control. Scored like every attack task
(``tasks/fan2023/_attack_common.py``): the attack-success judge on the plain goal and the answer the
attack chose.
"""

from __future__ import annotations

from typing import ClassVar

from trustgauge.tasks.base import DocRow, TaskParameter
from trustgauge.tasks.fan2023._attack_common import IterativeJailbreakTask, behaviours_parameter
from trustgauge.tasks.registry import register_task


@register_task
class JailbreakPAIR(IterativeJailbreakTask):
    """PAIR against each harmful behaviour, the benign twins direct.

    data ``fan2023/jailbreak/behaviours.json`` (``behaviours``: harmbench 200 + 200 twins by
    default) -> PAIR (``streams`` x ``iterations``, 5 x 3 by default; T=0, 256 tokens for the
    target) -> ``attack_success`` and ``refusal`` judges -> ``fan2023.attack_success@1``.
    """

    id = "fan2023.jailbreak_pair"
    title = "Jailbreak: PAIR, an attacker model refining its prompt (Fan et al.)"
    description = (
        "PAIR: an attacker model writes and refines jailbreak prompts from a judge's 1-10 rating, N streams x "
        "K iterations, against HarmBench/AdvBench behaviours; benign twins asked directly for over-refusal."
    )
    attack_name = "pair"
    budget: ClassVar[dict[str, int]] = {"streams": 100, "iterations": 20}
    parameters: ClassVar[dict[str, TaskParameter]] = {
        "streams": TaskParameter("5", "parallel attacker conversations per behaviour (PAIR's N; the paper: 20)"),
        "iterations": TaskParameter("3", "refinement rounds per stream, stopping on success (PAIR's K; the paper: 3)"),
        "behaviours": behaviours_parameter(),
    }
    doc = DocRow()
