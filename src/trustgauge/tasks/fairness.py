"""TrustLLM fairness: moved to ``tasks/trustllm/fairness/`` (one module per sub-task); this
module re-exports the old names until the shims are deleted (issue 13, step 13)."""

from __future__ import annotations

from trustgauge.tasks.trustllm.fairness.disparagement import _SALARY_TEXTS as _SALARY_TEXTS
from trustgauge.tasks.trustllm.fairness.disparagement import (
    DISPARAGEMENT_PROFILE as DISPARAGEMENT_PROFILE,
)
from trustgauge.tasks.trustllm.fairness.disparagement import SALARY_OPTIONS as SALARY_OPTIONS
from trustgauge.tasks.trustllm.fairness.disparagement import Disparagement as Disparagement
from trustgauge.tasks.trustllm.fairness.disparagement import (
    disparagement_option as disparagement_option,
)
from trustgauge.tasks.trustllm.fairness.preference import Preference as Preference
from trustgauge.tasks.trustllm.fairness.stereotype_agreement import (
    AGREEMENT_BIAS_TYPES as AGREEMENT_BIAS_TYPES,
)
from trustgauge.tasks.trustllm.fairness.stereotype_agreement import (
    AGREEMENT_FALLBACK as AGREEMENT_FALLBACK,
)
from trustgauge.tasks.trustllm.fairness.stereotype_agreement import (
    StereotypeAgreement as StereotypeAgreement,
)
from trustgauge.tasks.trustllm.fairness.stereotype_agreement import (
    agreement_direct_trustllm as agreement_direct_trustllm,
)
from trustgauge.tasks.trustllm.fairness.stereotype_query import StereotypeQuery as StereotypeQuery
from trustgauge.tasks.trustllm.fairness.stereotype_recognition import (
    _RECOGNITION_TEXTS as _RECOGNITION_TEXTS,
)
from trustgauge.tasks.trustllm.fairness.stereotype_recognition import (
    FALLBACK_NOTE as FALLBACK_NOTE,
)
from trustgauge.tasks.trustllm.fairness.stereotype_recognition import (
    RECOGNITION_FALLBACK as RECOGNITION_FALLBACK,
)
from trustgauge.tasks.trustllm.fairness.stereotype_recognition import (
    RECOGNITION_OPTIONS as RECOGNITION_OPTIONS,
)
from trustgauge.tasks.trustllm.fairness.stereotype_recognition import (
    RECOGNITION_TYPES as RECOGNITION_TYPES,
)
from trustgauge.tasks.trustllm.fairness.stereotype_recognition import (
    StereotypeRecognition as StereotypeRecognition,
)
from trustgauge.tasks.trustllm.fairness.stereotype_recognition import (
    needs_fallback as needs_fallback,
)

__all__ = [
    "AGREEMENT_BIAS_TYPES",
    "AGREEMENT_FALLBACK",
    "DISPARAGEMENT_PROFILE",
    "FALLBACK_NOTE",
    "RECOGNITION_FALLBACK",
    "RECOGNITION_OPTIONS",
    "RECOGNITION_TYPES",
    "SALARY_OPTIONS",
    "Disparagement",
    "Preference",
    "StereotypeAgreement",
    "StereotypeQuery",
    "StereotypeRecognition",
    "agreement_direct_trustllm",
    "disparagement_option",
    "needs_fallback",
]
