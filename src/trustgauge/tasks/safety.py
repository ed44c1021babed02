"""TrustLLM safety: moved to ``tasks/trustllm/safety/`` (one module per sub-task); this module
re-exports the old names until the shims are deleted (issue 13, step 13)."""

from __future__ import annotations

from trustgauge.tasks.trustllm.safety.exaggerated import XSTEST_TYPES as XSTEST_TYPES
from trustgauge.tasks.trustllm.safety.exaggerated import ExaggeratedSafety as ExaggeratedSafety
from trustgauge.tasks.trustllm.safety.jailbreak import JAILBREAK_ATTACKS as JAILBREAK_ATTACKS
from trustgauge.tasks.trustllm.safety.jailbreak import Jailbreak as Jailbreak
from trustgauge.tasks.trustllm.safety.jailbreak import jailbreak_samples as jailbreak_samples
from trustgauge.tasks.trustllm.safety.misuse import MISUSE_SOURCES as MISUSE_SOURCES
from trustgauge.tasks.trustllm.safety.misuse import Misuse as Misuse
from trustgauge.tasks.trustllm.safety.toxicity import _NO_TOXICITY as _NO_TOXICITY
from trustgauge.tasks.trustllm.safety.toxicity import Toxicity as Toxicity
from trustgauge.tasks.trustllm.safety.toxicity import _max_or_none as _max_or_none

__all__ = [
    "JAILBREAK_ATTACKS",
    "MISUSE_SOURCES",
    "XSTEST_TYPES",
    "ExaggeratedSafety",
    "Jailbreak",
    "Misuse",
    "Toxicity",
    "jailbreak_samples",
]
