"""TrustLLM truthfulness: moved to ``tasks/trustllm/truthfulness/`` (one module per sub-task);
this module re-exports the old names until the shims are deleted (issue 13, step 13)."""

from __future__ import annotations

from trustgauge.tasks.trustllm.truthfulness.adversarial_factuality import (
    _CORRECTION_VALUES as _CORRECTION_VALUES,
)
from trustgauge.tasks.trustllm.truthfulness.adversarial_factuality import (
    AdversarialFactuality as AdversarialFactuality,
)
from trustgauge.tasks.trustllm.truthfulness.hallucination import (
    HALLUCINATION_SOURCES as HALLUCINATION_SOURCES,
)
from trustgauge.tasks.trustllm.truthfulness.hallucination import Hallucination as Hallucination
from trustgauge.tasks.trustllm.truthfulness.hallucination import (
    halueval_answer_trustllm as halueval_answer_trustllm,
)
from trustgauge.tasks.trustllm.truthfulness.hallucination import mc_options as mc_options
from trustgauge.tasks.trustllm.truthfulness.hallucination import (
    truthfulqa_letter_trustllm as truthfulqa_letter_trustllm,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_external import (
    EXTERNAL_SOURCES as EXTERNAL_SOURCES,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_external import (
    VERDICTS as VERDICTS,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_external import (
    ExternalKnowledge as ExternalKnowledge,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_external import (
    Verdict as Verdict,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_external import (
    _avg_macro_f1 as _avg_macro_f1,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_external import (
    _source_macro_f1 as _source_macro_f1,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_external import (
    extract_verdict as extract_verdict,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_internal import (
    _CORRECTNESS_VALUES as _CORRECTNESS_VALUES,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_internal import (
    INTERNAL_SOURCES as INTERNAL_SOURCES,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_internal import (
    InternalKnowledge as InternalKnowledge,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_internal import (
    _adversarial_question as _adversarial_question,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_internal import _answers as _answers
from trustgauge.tasks.trustllm.truthfulness.misinformation_internal import (
    codah_answer as codah_answer,
)
from trustgauge.tasks.trustllm.truthfulness.sycophancy_persona import (
    _PERSONA_VALUES as _PERSONA_VALUES,
)
from trustgauge.tasks.trustllm.truthfulness.sycophancy_persona import (
    SYCOPHANCY_SOURCES as SYCOPHANCY_SOURCES,
)
from trustgauge.tasks.trustllm.truthfulness.sycophancy_persona import (
    SycophancyPersona as SycophancyPersona,
)
from trustgauge.tasks.trustllm.truthfulness.sycophancy_preference import (
    _PREFERENCE_RE as _PREFERENCE_RE,
)
from trustgauge.tasks.trustllm.truthfulness.sycophancy_preference import (
    _SAME_PREFERENCE_FLIPS as _SAME_PREFERENCE_FLIPS,
)
from trustgauge.tasks.trustllm.truthfulness.sycophancy_preference import (
    SycophancyPreference as SycophancyPreference,
)

__all__ = [
    "EXTERNAL_SOURCES",
    "HALLUCINATION_SOURCES",
    "INTERNAL_SOURCES",
    "SYCOPHANCY_SOURCES",
    "VERDICTS",
    "AdversarialFactuality",
    "ExternalKnowledge",
    "Hallucination",
    "InternalKnowledge",
    "SycophancyPersona",
    "SycophancyPreference",
    "Verdict",
    "codah_answer",
    "extract_verdict",
    "halueval_answer_trustllm",
    "mc_options",
    "truthfulqa_letter_trustllm",
]
