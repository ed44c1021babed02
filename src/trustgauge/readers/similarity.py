"""Reading a similarity judgement: the exact cosine the ``similarity`` judges
(:mod:`trustgauge.judges.similarity`) write into ``raw`` as ``cosine=<value>``.

A pure function of a :class:`~trustgauge.types.Judgement`, below tasks and judges, so tasks
(persona sycophancy, AdvInstruction) read it without importing a judge.
"""

from __future__ import annotations

import re

from trustgauge.types import Judgement

_COSINE_RAW = re.compile(r"cosine=(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")


def exact_cosine(judgement: Judgement) -> float | None:
    """The exact cosine of a similarity judgement (``raw`` is ``cosine=<value>``; ``score`` is
    the cosine clipped to 0..1, used only when ``raw`` carries no cosine), or ``None`` when the
    judgement has none (label ``empty``, a judge error, an unreadable verdict)."""
    if judgement.label not in ("similar", "different"):
        return None
    match = _COSINE_RAW.search(judgement.raw or "")
    if match is not None:
        return float(match.group(1))
    return judgement.score
