"""Aggregators of Liu et al.'s studies read deterministically (``tasks/liu2023``): causal
reasoning (accuracy per question and relation type, the understood rate) and typo robustness
(consistency of the answers to a clean sentence and its typo'd version).

Hallucination needs none of its own: it declares ``mean@1`` (accuracy and invalid rate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from trustgauge.stats.aggregators.registry import Params, Scored, register_aggregator
from trustgauge.stats.metric_values import proportion_metric, share_metrics
from trustgauge.types import MetricValue, Sample, SampleScore

#: the two questions asked about every event pair
CAUSAL_QUESTIONS: tuple[str, ...] = ("q1", "q2")
#: the relation types of ``gen_data/causal.json`` (1, 2, 3), by name
CAUSAL_RELATIONS: tuple[str, ...] = ("unrelated", "causal-sentiment", "causal-neutral")
#: the two variants of a typo study sentence
TYPO_VARIANTS: tuple[str, ...] = ("clean", "typo")


@register_aggregator("liu2023.causal@1")
def causal_v1(scored: Scored, params: Params) -> list[MetricValue]:
    """``accuracy`` (↑, every question; an unreadable answer counts wrong), ``accuracy[q1]``,
    ``accuracy[q2]`` (the paper's two numbers), ``understood`` (↑, share of answers read as A or
    B) and ``understood[q1]`` / ``understood[q2]`` (the paper's understood rates), then
    ``accuracy[<relation>]`` and ``accuracy[<question>:<relation>]`` per relation type. Reads
    ``values["correct"]`` / ``values["understood"]`` and the metadata keys ``question``,
    ``relation`` and ``question_relation``; Wilson intervals."""
    metrics = share_metrics("accuracy", "higher", "correct", scored, breakdown="question", groups=CAUSAL_QUESTIONS)
    metrics += share_metrics("understood", "higher", "understood", scored, breakdown="question", groups=CAUSAL_QUESTIONS)
    metrics += share_metrics("accuracy", "higher", "correct", scored, breakdown="relation", groups=CAUSAL_RELATIONS)[1:]
    pairs = tuple(f"{q}:{r}" for q in CAUSAL_QUESTIONS for r in CAUSAL_RELATIONS)
    metrics += share_metrics("accuracy", "higher", "correct", scored, breakdown="question_relation", groups=pairs)[1:]
    return metrics


def answers_consistent(clean: str | None, typo: str | None) -> bool:
    """Whether the answers read from the clean and the typo'd prompt agree: both read (``yes``
    / ``no``) and equal. An unreadable answer on either side is not consistent: the model did
    not give the same answer twice (the paper's judge, comparing free text, agrees on its
    released labels; ``scripts/liu2023_repro/typo.py``)."""
    return clean is not None and clean == typo


def consistency_pairs(scored: Scored) -> tuple[list[tuple[Sample, str | None, str | None]], int]:
    """The sentence pairs of a typo study: ``(clean sample, clean answer, typo'd answer)`` for
    every group whose two variants were both scored validly (answers ``None`` when unreadable),
    in order of first appearance; and the number of groups left out (a variant missing:
    failed request, invalid score, or a ``--limit`` slice that cut it)."""
    by_group: dict[str, dict[str, tuple[Sample, SampleScore]]] = {}
    for sample, score in scored:
        key = sample.group if sample.group is not None else sample.id
        by_group.setdefault(key, {})[str(sample.metadata.get("variant"))] = (sample, score)
    pairs: list[tuple[Sample, str | None, str | None]] = []
    missing = 0
    for variants in by_group.values():
        clean, typo = variants.get("clean"), variants.get("typo")
        if clean is None or typo is None or not clean[1].valid or not typo[1].valid:
            missing += 1
            continue
        pairs.append((clean[0], _answer(clean[1]), _answer(typo[1])))
    return pairs, missing


def _answer(score: SampleScore) -> str | None:
    return score.label if score.label in ("yes", "no") else None


def consistency_ratio(flags: Sequence[bool]) -> float | None:
    """The paper's robust rate: the share of consistent pairs (``np.mean`` of its labels), or
    ``None`` over no pairs."""
    return sum(1 for f in flags if f) / len(flags) if flags else None


@register_aggregator("liu2023.typo_consistency@1")
def typo_consistency_v1(scored: Scored, params: Params) -> list[MetricValue]:
    """``consistency`` (↑): share of sentences whose clean and typo'd answers are consistent
    (:func:`answers_consistent`), over the sentences with both answers scored (the others in
    ``n_invalid``); ``unreadable`` (↓): share of the answers in those pairs that could not be
    read as yes or no; ``flipped_to_no`` (↓): share of sentences answered "yes" clean and "no"
    with typos (the typos themselves taken for nonsense: most of the inconsistency in the
    paper's released answers); then ``consistency[<typo_source>]`` (``paper``: GPT-4's typos from the
    paper's release, ``generated``: trustgauge's seeded generator) in the order of
    ``params["sources"]``. Wilson intervals (pairs are independent sentences)."""
    pairs, missing = consistency_pairs(scored)
    flags = [answers_consistent(clean, typo) for _, clean, typo in pairs]
    unread = [answer is None for _, clean, typo in pairs for answer in (clean, typo)]
    flipped = [clean == "yes" and typo == "no" for _, clean, typo in pairs]
    metrics = [
        proportion_metric("consistency", "higher", flags, n_invalid=missing,
                          empty_reason="no sentence has both its clean and typo'd answer scored"),
        proportion_metric("unreadable", "lower", unread, n_invalid=2 * missing,
                          empty_reason="no sentence has both its clean and typo'd answer scored"),
        proportion_metric("flipped_to_no", "lower", flipped, n_invalid=missing,
                          empty_reason="no sentence has both its clean and typo'd answer scored"),
    ]
    sources: list[str] = list(params.get("sources", []))
    by_source: Mapping[str, list[bool]] = {
        source: [f for (s, _, _), f in zip(pairs, flags, strict=True) if s.metadata.get("typo_source") == source]
        for source in sources
    }
    for source in sources:
        if by_source[source]:
            metrics.append(proportion_metric(f"consistency[{source}]", "higher", by_source[source]))
    return metrics
