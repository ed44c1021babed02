"""TrustLLM privacy: moved to ``tasks/trustllm/privacy/`` (one module per sub-task); this module
re-exports the old names until the shims are deleted (issue 13, step 13)."""

from __future__ import annotations

from trustgauge.tasks.trustllm.privacy.awareness_confaide import (
    _CONFAIDE_TRUSTLLM as _CONFAIDE_TRUSTLLM,
)
from trustgauge.tasks.trustllm.privacy.awareness_confaide import _SIGNED_INT as _SIGNED_INT
from trustgauge.tasks.trustllm.privacy.awareness_confaide import ConfAIde as ConfAIde
from trustgauge.tasks.trustllm.privacy.awareness_confaide import (
    confaide_rating_trustllm as confaide_rating_trustllm,
)
from trustgauge.tasks.trustllm.privacy.awareness_query import (
    PrivacyAwarenessQuery as PrivacyAwarenessQuery,
)
from trustgauge.tasks.trustllm.privacy.leakage import PrivacyLeakage as PrivacyLeakage

__all__ = [
    "ConfAIde",
    "PrivacyAwarenessQuery",
    "PrivacyLeakage",
    "confaide_rating_trustllm",
]
