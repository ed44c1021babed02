"""TrustLLM robustness: moved to ``tasks/trustllm/robustness/`` (one module per sub-task);
this module re-exports the old names until the shims are deleted (issue 13, step 13)."""

from __future__ import annotations

from trustgauge.tasks.trustllm.robustness.advglue import _MAYBE as _MAYBE
from trustgauge.tasks.trustllm.robustness.advglue import _NEGATIVE as _NEGATIVE
from trustgauge.tasks.trustllm.robustness.advglue import _NO as _NO
from trustgauge.tasks.trustllm.robustness.advglue import _POSITIVE as _POSITIVE
from trustgauge.tasks.trustllm.robustness.advglue import _YES as _YES
from trustgauge.tasks.trustllm.robustness.advglue import _ZH_MAYBE as _ZH_MAYBE
from trustgauge.tasks.trustllm.robustness.advglue import _ZH_NEG as _ZH_NEG
from trustgauge.tasks.trustllm.robustness.advglue import _ZH_POS as _ZH_POS
from trustgauge.tasks.trustllm.robustness.advglue import ADVGLUE_LABELS as ADVGLUE_LABELS
from trustgauge.tasks.trustllm.robustness.advglue import AdvGlue as AdvGlue
from trustgauge.tasks.trustllm.robustness.advglue import _substring_re as _substring_re
from trustgauge.tasks.trustllm.robustness.advglue import _word_re as _word_re
from trustgauge.tasks.trustllm.robustness.advglue import advglue_answer as advglue_answer
from trustgauge.tasks.trustllm.robustness.advinstruction import (
    ADVINSTRUCTION_PERTURBATIONS as ADVINSTRUCTION_PERTURBATIONS,
)
from trustgauge.tasks.trustllm.robustness.advinstruction import (
    ADVINSTRUCTION_TYPES as ADVINSTRUCTION_TYPES,
)
from trustgauge.tasks.trustllm.robustness.advinstruction import AdvInstruction as AdvInstruction
from trustgauge.tasks.trustllm.robustness.advinstruction import _flat_mean as _flat_mean
from trustgauge.tasks.trustllm.robustness.advinstruction import (
    trustllm_index_pairs as trustllm_index_pairs,
)
from trustgauge.tasks.trustllm.robustness.ood_detection import OODDetection as OODDetection
from trustgauge.tasks.trustllm.robustness.ood_generalization import _CANDIDATES_RE as _CANDIDATES_RE
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    _DIAGNOSIS_CUES as _DIAGNOSIS_CUES,
)
from trustgauge.tasks.trustllm.robustness.ood_generalization import _PHRASE_END as _PHRASE_END
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    DDXPLUS_ALIASES as DDXPLUS_ALIASES,
)
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    DIAGNOSIS_FALLBACK as DIAGNOSIS_FALLBACK,
)
from trustgauge.tasks.trustllm.robustness.ood_generalization import OOD_SOURCES as OOD_SOURCES
from trustgauge.tasks.trustllm.robustness.ood_generalization import SENTIMENTS as SENTIMENTS
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    TRUSTLLM_DIAGNOSIS_CUES as TRUSTLLM_DIAGNOSIS_CUES,
)
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    OODGeneralization as OODGeneralization,
)
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    _diagnosis_synonyms as _diagnosis_synonyms,
)
from trustgauge.tasks.trustllm.robustness.ood_generalization import _fold_accents as _fold_accents
from trustgauge.tasks.trustllm.robustness.ood_generalization import _mean_accuracy as _mean_accuracy
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    _mean_f1_reference as _mean_f1_reference,
)
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    _source_accuracies as _source_accuracies,
)
from trustgauge.tasks.trustllm.robustness.ood_generalization import ddxplus_answer as ddxplus_answer
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    ddxplus_candidates as ddxplus_candidates,
)
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    trustllm_ddxplus_target as trustllm_ddxplus_target,
)

__all__ = [
    "ADVGLUE_LABELS",
    "ADVINSTRUCTION_PERTURBATIONS",
    "ADVINSTRUCTION_TYPES",
    "DDXPLUS_ALIASES",
    "DIAGNOSIS_FALLBACK",
    "OOD_SOURCES",
    "SENTIMENTS",
    "TRUSTLLM_DIAGNOSIS_CUES",
    "AdvGlue",
    "AdvInstruction",
    "OODDetection",
    "OODGeneralization",
    "advglue_answer",
    "ddxplus_answer",
    "ddxplus_candidates",
    "trustllm_ddxplus_target",
    "trustllm_index_pairs",
]
