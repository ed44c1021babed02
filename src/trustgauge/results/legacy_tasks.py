"""Frozen facts of the 30 TrustLLM tasks for run directories written before ``scores.json``
recorded them (results schema 1 and 2, and schema 3 before 2026-12-04): each task's data file,
and the aggregator (``trustgauge.stats.aggregators``) with the params, by mode, that computes
its metrics as those versions did.

``trustgauge compare`` recomputes an old run's metrics with these, without today's task code.
The ``@1`` aggregators are the tasks' ``aggregate`` methods moved unchanged (the goldens were
identical before and after the move), and compare still checks that the aggregator reproduces
the run's ``scores.json`` from its ``samples.jsonl`` before it tests anything.

Generated once on 2026-12-04 from the task registry of main at commit 8c6ec8f. **Never edit**:
it describes what those versions wrote, not what today's tasks do.
"""

from __future__ import annotations

from typing import Any

#: each legacy task's data file (the ``path`` of its entry in ``run.json``'s ``datasets``)
DATA_PATHS: dict[str, str] = {
    "truthfulness.misinformation.internal": "truthfulness/internal.json",
    "truthfulness.misinformation.external": "truthfulness/external.json",
    "truthfulness.hallucination": "truthfulness/hallucination.json",
    "truthfulness.sycophancy.persona": "truthfulness/sycophancy.json",
    "truthfulness.sycophancy.preference": "truthfulness/sycophancy.json",
    "truthfulness.adversarial_factuality": "truthfulness/golden_advfactuality.json",
    "safety.jailbreak": "safety/jailbreak.json",
    "safety.toxicity": "safety/jailbreak.json",
    "safety.misuse": "safety/misuse.json",
    "safety.exaggerated": "safety/exaggerated_safety.json",
    "fairness.stereotype.recognition": "fairness/stereotype_recognition.json",
    "fairness.stereotype.agreement": "fairness/stereotype_agreement.json",
    "fairness.stereotype.query": "fairness/stereotype_query_test.json",
    "fairness.disparagement": "fairness/disparagement.json",
    "fairness.preference": "fairness/preference.json",
    "robustness.advglue": "robustness/AdvGLUE.json",
    "robustness.advinstruction": "robustness/AdvInstruction.json",
    "robustness.ood_detection": "robustness/ood_detection.json",
    "robustness.ood_generalization": "robustness/ood_generalization.json",
    "privacy.awareness.confaide": "privacy/privacy_awareness_confAIde.json",
    "privacy.awareness.query": "privacy/privacy_awareness_query.json",
    "privacy.leakage": "privacy/privacy_leakage.json",
    "ethics.implicit.ethics": "ethics/implicit_ETHICS.json",
    "ethics.implicit.social_norm": "ethics/implicit_SocialChemistry101.json",
    "ethics.explicit.low_ambiguity": "ethics/explicit_moralchoice.json",
    "ethics.explicit.high_ambiguity": "ethics/explicit_moralchoice.json",
    "ethics.emotional_awareness": "ethics/awareness.json",
    "ethics.awareness.capability": "ethics/awareness.json",
    "ethics.awareness.mission": "ethics/awareness.json",
    "ethics.awareness.perspective": "ethics/awareness.json",
}

#: task id -> (aggregator name, params in default mode, params in reference mode)
AGGREGATORS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "truthfulness.misinformation.internal": (
        "trustllm.truthfulness.misinformation.internal@1",
        {},
        {},
    ),
    "truthfulness.misinformation.external": (
        "trustllm.truthfulness.misinformation.external@1",
        {},
        {},
    ),
    "truthfulness.hallucination": ("trustllm.truthfulness.hallucination@1", {}, {}),
    "truthfulness.sycophancy.persona": ("trustllm.truthfulness.sycophancy.persona@1", {}, {}),
    "truthfulness.sycophancy.preference": ("trustllm.truthfulness.sycophancy.preference@1", {}, {}),
    "truthfulness.adversarial_factuality": (
        "trustllm.truthfulness.adversarial_factuality@1",
        {},
        {},
    ),
    "safety.jailbreak": (
        "rta@1",
        {
            "direction": "higher",
            "breakdown": "attack",
            "declared": [
                "rta",
                "rta[fixed sentence]",
                "rta[bad words]",
                "rta[no_punctuation]",
                "rta[no_long_word]",
                "rta[without_the]",
                "rta[json_format]",
                "rta[leetspeak]",
                "rta[url_encode]",
                "rta[Refusal sentence prohibition]",
                "rta[cot]",
                "rta[scenario]",
                "rta[multitask]",
                "rta[programming]",
                "rta[cou]",
            ],
            "compliance_rate": False,
        },
        {
            "direction": "higher",
            "breakdown": "attack",
            "declared": [
                "rta",
                "rta[fixed sentence]",
                "rta[bad words]",
                "rta[no_punctuation]",
                "rta[no_long_word]",
                "rta[without_the]",
                "rta[json_format]",
                "rta[leetspeak]",
                "rta[url_encode]",
                "rta[Refusal sentence prohibition]",
                "rta[cot]",
                "rta[scenario]",
                "rta[multitask]",
                "rta[programming]",
                "rta[cou]",
            ],
            "compliance_rate": False,
        },
    ),
    "safety.toxicity": ("trustllm.safety.toxicity@1", {}, {}),
    "safety.misuse": (
        "rta@1",
        {
            "direction": "higher",
            "breakdown": "source",
            "declared": ["rta", "rta[do_not_answer]", "rta[Do-anything-now]", "rta[misuse_add]"],
            "compliance_rate": False,
        },
        {
            "direction": "higher",
            "breakdown": "source",
            "declared": ["rta", "rta[do_not_answer]", "rta[Do-anything-now]", "rta[misuse_add]"],
            "compliance_rate": False,
        },
    ),
    "safety.exaggerated": (
        "rta@1",
        {
            "direction": "lower",
            "breakdown": "type",
            "declared": [
                "rta",
                "compliance_rate",
                "rta[homonyms]",
                "rta[figurative_language]",
                "rta[safe_targets]",
                "rta[safe_contexts]",
                "rta[definitions]",
                "rta[nons_group_real_discr]",
                "rta[real_group_nons_discr]",
                "rta[historical_events]",
                "rta[privacy_public]",
                "rta[privacy_fictional]",
            ],
            "compliance_rate": True,
        },
        {
            "direction": "lower",
            "breakdown": "type",
            "declared": [
                "rta",
                "compliance_rate",
                "rta[homonyms]",
                "rta[figurative_language]",
                "rta[safe_targets]",
                "rta[safe_contexts]",
                "rta[definitions]",
                "rta[nons_group_real_discr]",
                "rta[real_group_nons_discr]",
                "rta[historical_events]",
                "rta[privacy_public]",
                "rta[privacy_fictional]",
            ],
            "compliance_rate": True,
        },
    ),
    "fairness.stereotype.recognition": ("trustllm.fairness.stereotype.recognition@1", {}, {}),
    "fairness.stereotype.agreement": ("trustllm.fairness.stereotype.agreement@1", {}, {}),
    "fairness.stereotype.query": (
        "rta@1",
        {"direction": "higher", "breakdown": None, "declared": ["rta"], "compliance_rate": False},
        {"direction": "higher", "breakdown": None, "declared": ["rta"], "compliance_rate": False},
    ),
    "fairness.disparagement": ("trustllm.fairness.disparagement@1", {}, {}),
    "fairness.preference": ("trustllm.fairness.preference@1", {}, {}),
    "robustness.advglue": (
        "trustllm.robustness.advglue@1",
        {"reference": False},
        {"reference": True},
    ),
    "robustness.advinstruction": (
        "trustllm.robustness.advinstruction@1",
        {"reference": False},
        {"reference": True},
    ),
    "robustness.ood_detection": (
        "rta@1",
        {"direction": "higher", "breakdown": None, "declared": ["rta"], "compliance_rate": False},
        {"direction": "higher", "breakdown": None, "declared": ["rta"], "compliance_rate": False},
    ),
    "robustness.ood_generalization": ("trustllm.robustness.ood_generalization@1", {}, {}),
    "privacy.awareness.confaide": ("trustllm.privacy.awareness.confaide@1", {}, {}),
    "privacy.awareness.query": (
        "rta@1",
        {
            "direction": "higher",
            "breakdown": "type",
            "declared": ["rta", "rta[normal]", "rta[aug]"],
            "compliance_rate": False,
        },
        {
            "direction": "higher",
            "breakdown": "type",
            "declared": ["rta", "rta[normal]", "rta[aug]"],
            "compliance_rate": False,
        },
    ),
    "privacy.leakage": ("trustllm.privacy.leakage@1", {"reference": False}, {"reference": True}),
    "ethics.implicit.ethics": (
        "trustllm.ethics.implicit@1",
        {
            "classes": ["wrong", "not wrong"],
            "unreadable": "no answer said wrong or not wrong unambiguously",
            "reference": False,
        },
        {
            "classes": ["wrong", "not wrong"],
            "unreadable": "no answer said wrong or not wrong unambiguously",
            "reference": True,
        },
    ),
    "ethics.implicit.social_norm": (
        "trustllm.ethics.implicit@1",
        {
            "classes": ["good", "neutral", "bad"],
            "unreadable": "no answer named exactly one of good/neutral/bad",
            "reference": False,
        },
        {
            "classes": ["good", "neutral", "bad"],
            "unreadable": "no answer named exactly one of good/neutral/bad",
            "reference": True,
        },
    ),
    "ethics.explicit.low_ambiguity": ("trustllm.ethics.accuracy@1", {}, {}),
    "ethics.explicit.high_ambiguity": (
        "rta@1",
        {"direction": "higher", "breakdown": None, "declared": ["rta"], "compliance_rate": False},
        {"direction": "higher", "breakdown": None, "declared": ["rta"], "compliance_rate": False},
    ),
    "ethics.emotional_awareness": ("trustllm.ethics.accuracy@1", {}, {}),
    "ethics.awareness.capability": ("trustllm.ethics.accuracy@1", {}, {}),
    "ethics.awareness.mission": ("trustllm.ethics.accuracy@1", {}, {}),
    "ethics.awareness.perspective": ("trustllm.ethics.accuracy@1", {}, {}),
}


def legacy_aggregator(task: str, reference: bool) -> tuple[str, dict[str, Any]] | None:
    """``(name, params)`` of a legacy task in the run's mode; ``None`` for an unknown task."""
    entry = AGGREGATORS.get(task)
    if entry is None:
        return None
    name, default, in_reference = entry
    return name, dict(in_reference if reference else default)
