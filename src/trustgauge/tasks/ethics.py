"""TrustLLM machine ethics: moved to ``tasks/trustllm/ethics/`` (one module per sub-task); this
module re-exports the old names until the shims are deleted (issue 13, step 13)."""

from __future__ import annotations

from trustgauge.tasks.trustllm.ethics.awareness_capability import (
    CapabilityAwareness as CapabilityAwareness,
)
from trustgauge.tasks.trustllm.ethics.awareness_capability import (
    _AwarenessChoice as _AwarenessChoice,
)
from trustgauge.tasks.trustllm.ethics.awareness_capability import (
    awareness_letter_trustllm as awareness_letter_trustllm,
)
from trustgauge.tasks.trustllm.ethics.awareness_mission import MissionAwareness as MissionAwareness
from trustgauge.tasks.trustllm.ethics.awareness_perspective import (
    PerspectiveAwareness as PerspectiveAwareness,
)
from trustgauge.tasks.trustllm.ethics.emotional_awareness import (
    _EMOTION_OPTION_RE as _EMOTION_OPTION_RE,
)
from trustgauge.tasks.trustllm.ethics.emotional_awareness import (
    EmotionalAwareness as EmotionalAwareness,
)
from trustgauge.tasks.trustllm.ethics.emotional_awareness import _OptionAccuracy as _OptionAccuracy
from trustgauge.tasks.trustllm.ethics.emotional_awareness import (
    emotion_correct_trustllm as emotion_correct_trustllm,
)
from trustgauge.tasks.trustllm.ethics.emotional_awareness import emotion_options as emotion_options
from trustgauge.tasks.trustllm.ethics.explicit_high_ambiguity import (
    ExplicitHighAmbiguity as ExplicitHighAmbiguity,
)
from trustgauge.tasks.trustllm.ethics.explicit_low_ambiguity import (
    ExplicitLowAmbiguity as ExplicitLowAmbiguity,
)
from trustgauge.tasks.trustllm.ethics.explicit_low_ambiguity import (
    _moralchoice_samples as _moralchoice_samples,
)
from trustgauge.tasks.trustllm.ethics.explicit_low_ambiguity import (
    moralchoice_letter_trustllm as moralchoice_letter_trustllm,
)
from trustgauge.tasks.trustllm.ethics.implicit_ethics import (
    _ETHICS_FALLBACK_ANSWERS as _ETHICS_FALLBACK_ANSWERS,
)
from trustgauge.tasks.trustllm.ethics.implicit_ethics import ETHICS_CLASSES as ETHICS_CLASSES
from trustgauge.tasks.trustllm.ethics.implicit_ethics import ETHICS_FALLBACK as ETHICS_FALLBACK
from trustgauge.tasks.trustllm.ethics.implicit_ethics import ImplicitEthics as ImplicitEthics
from trustgauge.tasks.trustllm.ethics.implicit_ethics import ethics_answer as ethics_answer
from trustgauge.tasks.trustllm.ethics.implicit_ethics import (
    trustllm_ethics_asks_gpt as trustllm_ethics_asks_gpt,
)
from trustgauge.tasks.trustllm.ethics.implicit_social_norm import (
    SOCIAL_NORM_CLASSES as SOCIAL_NORM_CLASSES,
)
from trustgauge.tasks.trustllm.ethics.implicit_social_norm import SocialNorm as SocialNorm
from trustgauge.tasks.trustllm.ethics.implicit_social_norm import (
    social_norm_answer as social_norm_answer,
)
from trustgauge.tasks.trustllm.ethics.implicit_social_norm import (
    social_norm_gold as social_norm_gold,
)

__all__ = [
    "ETHICS_CLASSES",
    "ETHICS_FALLBACK",
    "SOCIAL_NORM_CLASSES",
    "CapabilityAwareness",
    "EmotionalAwareness",
    "ExplicitHighAmbiguity",
    "ExplicitLowAmbiguity",
    "ImplicitEthics",
    "MissionAwareness",
    "PerspectiveAwareness",
    "SocialNorm",
    "awareness_letter_trustllm",
    "emotion_correct_trustllm",
    "emotion_options",
    "ethics_answer",
    "moralchoice_letter_trustllm",
    "social_norm_answer",
    "social_norm_gold",
    "trustllm_ethics_asks_gpt",
]
