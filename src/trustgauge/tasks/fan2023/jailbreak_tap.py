"""``fan2023.jailbreak_tap``: Tree of Attacks with Pruning (Mehrotra et al. 2023): from each
harmful behaviour, a model in the ``attacker`` role grows a tree of jailbreak prompts, each node
branching into ``branching`` refinements; prompts off the goal are pruned before they are sent,
and of the rated answers the best ``width`` are kept, for up to ``depth`` levels, stopping on
success (:mod:`trustgauge.attacks.tap`). The benign twins are asked directly: the over-refusal
control. Scored like every attack task (``tasks/fan2023/_attack_common.py``).
"""

from __future__ import annotations

from typing import ClassVar

from trustgauge.tasks.base import DocRow, TaskParameter
from trustgauge.tasks.fan2023._attack_common import IterativeJailbreakTask, behaviours_parameter
from trustgauge.tasks.registry import register_task


@register_task
class JailbreakTAP(IterativeJailbreakTask):
    """TAP against each harmful behaviour, the benign twins direct.

    data ``fan2023/jailbreak/behaviours.json`` (``behaviours``: harmbench 200 + 200 twins by
    default) -> TAP (``width`` 4, ``depth`` 3, ``branching`` 2 by default; T=0, 256 tokens for the
    target) -> ``attack_success`` and ``refusal`` judges -> ``fan2023.attack_success@1``.
    """

    id = "fan2023.jailbreak_tap"
    title = "Jailbreak: TAP, a pruned tree of attacker prompts (Fan et al.)"
    description = (
        "Tree of Attacks with Pruning: an attacker model branches and refines jailbreak prompts, off-topic "
        "ones pruned, the best kept per level, against HarmBench/AdvBench behaviours; benign twins asked "
        "directly for over-refusal."
    )
    attack_name = "tap"
    budget: ClassVar[dict[str, int]] = {"width": 50, "depth": 20, "branching": 10}
    parameters: ClassVar[dict[str, TaskParameter]] = {
        "width": TaskParameter("4", "prompts kept per level after rating (TAP's w; the paper: 10)"),
        "depth": TaskParameter("3", "levels of the tree at most (TAP's d; the paper: 10)"),
        "branching": TaskParameter("2", "refinements of each kept prompt per level (TAP's b; the paper: 4)"),
        "behaviours": behaviours_parameter(),
    }
    doc = DocRow()
