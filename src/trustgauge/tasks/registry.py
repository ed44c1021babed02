"""Task ids -> task classes, and the selectors users type (``safety``, ``safety.misuse``, ``all``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from trustgauge.errors import ConfigError
from trustgauge.tasks.base import Task
from trustgauge.tasks.ethics import (
    CapabilityAwareness,
    EmotionalAwareness,
    ExplicitHighAmbiguity,
    ExplicitLowAmbiguity,
    ImplicitEthics,
    MissionAwareness,
    PerspectiveAwareness,
    SocialNorm,
)
from trustgauge.tasks.fairness import (
    Disparagement,
    Preference,
    StereotypeAgreement,
    StereotypeQuery,
    StereotypeRecognition,
)
from trustgauge.tasks.privacy import ConfAIde, PrivacyAwarenessQuery, PrivacyLeakage
from trustgauge.tasks.robustness import AdvGlue, AdvInstruction, OODDetection, OODGeneralization
from trustgauge.tasks.safety import ExaggeratedSafety, Jailbreak, Misuse, Toxicity
from trustgauge.tasks.truthfulness import (
    AdversarialFactuality,
    ExternalKnowledge,
    Hallucination,
    InternalKnowledge,
    SycophancyPersona,
    SycophancyPreference,
)

_CLASSES: tuple[type[Task], ...] = (
    InternalKnowledge,
    ExternalKnowledge,
    Hallucination,
    SycophancyPersona,
    SycophancyPreference,
    AdversarialFactuality,
    Jailbreak,
    Toxicity,
    Misuse,
    ExaggeratedSafety,
    StereotypeRecognition,
    StereotypeAgreement,
    StereotypeQuery,
    Disparagement,
    Preference,
    AdvGlue,
    AdvInstruction,
    OODDetection,
    OODGeneralization,
    ConfAIde,
    PrivacyAwarenessQuery,
    PrivacyLeakage,
    ImplicitEthics,
    SocialNorm,
    ExplicitLowAmbiguity,
    ExplicitHighAmbiguity,
    EmotionalAwareness,
    CapabilityAwareness,
    MissionAwareness,
    PerspectiveAwareness,
)

#: every task by id, in a stable order (dimension order of the TrustLLM paper)
TASKS: dict[str, type[Task]] = {cls.id: cls for cls in _CLASSES}


def dimensions() -> list[str]:
    """The dimensions that have tasks, in registry order."""
    return list(dict.fromkeys(cls.dimension for cls in TASKS.values()))


def benchmark_task_ids() -> list[str]:
    """The ids of TrustLLM's benchmark sub-tasks: every task but the extras."""
    return [task_id for task_id, cls in TASKS.items() if not cls.extra]


def _expand(selector: str) -> list[str]:
    name = selector.strip()
    if name == "all":
        return benchmark_task_ids()
    if name == "extra":
        return [task_id for task_id, cls in TASKS.items() if cls.extra]
    if name in TASKS:
        return [name]
    if name in dimensions():
        return [t for t, cls in TASKS.items() if cls.dimension == name and not cls.extra]
    choices = [*TASKS, *dimensions(), "all", "extra"]
    near = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    # also suggest the tasks whose short name (after the dot) is close, e.g. "jailbrake"
    short = {task_id.split(".", 1)[1]: task_id for task_id in TASKS}
    near += [short[s] for s in difflib.get_close_matches(name, list(short), n=3, cutoff=0.6)]
    near = list(dict.fromkeys(near))
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise ConfigError(
        f"unknown task {name!r}{hint} (known: 'all', 'extra', dimensions "
        f"{', '.join(dimensions())}, or a task id; `trustgauge tasks` lists them)"
    )


def resolve_tasks(selectors: Iterable[str], *, reference: bool = False) -> list[Task]:
    """Instantiate the tasks named by ``selectors``, in registry order, without duplicates.

    A selector is a task id (``safety.jailbreak``), a dimension (``safety``: its benchmark
    tasks), ``all`` (TrustLLM's benchmark) or ``extra`` (the tasks outside it); comma-separated lists inside one selector are split. Unknown selectors raise
    :class:`~trustgauge.errors.ConfigError` naming close matches. ``reference`` creates the
    tasks in TrustLLM's reference mode (see :class:`~trustgauge.tasks.base.Task`).
    """
    wanted: set[str] = set()
    names = [part for selector in selectors for part in selector.split(",") if part.strip()]
    if not names:
        raise ConfigError("no tasks selected: name task ids, dimensions, or 'all'")
    for name in names:
        wanted.update(_expand(name))
    return [cls(reference=reference) for task_id, cls in TASKS.items() if task_id in wanted]
