"""The stored aggregators of the TrustLLM truthfulness and ethics tasks
(``stats/aggregators/trustllm/{truthfulness,ethics}.py``), run by name through the catalogue on
hand-built ``(Sample, SampleScore)`` pairs; the values are worked out by hand in the comments.
The last tests check that each task's ``aggregate`` is its declared aggregator with its
params, in both modes where the task has a reference mode."""

from __future__ import annotations

from typing import Any

import pytest

from trustgauge.stats.aggregators import aggregate, known_aggregators
from trustgauge.stats.metric_values import intervals_disabled
from trustgauge.stats.metrics import wilson_ci
from trustgauge.tasks.registry import resolve_tasks
from trustgauge.types import MetricValue, Sample, SampleScore

Pair = tuple[Sample, SampleScore]

_ids = iter(range(10_000))


def pair(
    target: Any = None,
    *,
    label: str | None = None,
    valid: bool = True,
    values: dict[str, float] | None = None,
    **metadata: Any,
) -> Pair:
    return (
        Sample(id=str(next(_ids)), prompt="p", target=target, metadata=metadata),
        SampleScore(label=label, valid=valid, values=values or {}),
    )


def by_name(metrics: list[MetricValue]) -> dict[str, MetricValue]:
    return {m.metric: m for m in metrics}


# ----------------------------------------------------------------------------- truthfulness


def test_misinformation_external_per_source_macro_f1_and_mean() -> None:
    scored = [
        pair("SUPPORT", label="SUPPORT", source="scifact"),
        pair("REFUTE", label="SUPPORT", source="scifact"),
        pair("REFUTE", valid=False, source="scifact"),  # unreadable: n_invalid of scifact
        pair("SUPPORT", valid=False, source="climate"),  # climate: nothing readable
        pair("REFUTE", label="REFUTE", source="zeta"),  # a source outside EXTERNAL_SOURCES
    ]
    metrics = aggregate("trustllm.truthfulness.misinformation.external@1", scored, {})
    # per source: EXTERNAL_SOURCES order (scifact, climate present; covid/healthver absent),
    # then the unknown sources sorted
    assert [m.metric for m in metrics] == [
        "macro_f1", "macro_f1[scifact]", "macro_f1[climate]", "macro_f1[zeta]",
    ]
    m = by_name(metrics)
    # scifact: gold [S, R], pred [S, S]: F1(REFUTE) = 0 (TP 0, FN 1); F1(SUPPORT) = 2·1/(2+1+0)
    # = 2/3; macro = (0 + 2/3) / 2 = 1/3
    assert m["macro_f1[scifact]"].value == pytest.approx(1 / 3)
    assert (m["macro_f1[scifact]"].n, m["macro_f1[scifact]"].n_invalid) == (2, 1)
    # zeta: gold [R], pred [R]: F1(REFUTE) = 1, F1(SUPPORT) = 0 (no items: sklearn's 0) -> 1/2
    assert m["macro_f1[zeta]"].value == pytest.approx(0.5)
    assert m["macro_f1[climate]"].value is None
    assert m["macro_f1[climate]"].reason == "no readable Supports/Refutes answers"
    assert (m["macro_f1[climate]"].n, m["macro_f1[climate]"].n_invalid) == (0, 1)
    # overall: mean over the sources with readable answers = (1/3 + 1/2) / 2 = 5/12
    assert m["macro_f1"].value == pytest.approx(5 / 12)
    assert (m["macro_f1"].n, m["macro_f1"].n_invalid) == (3, 2)
    assert m["macro_f1"].reason == "mean over the sources with answers; undefined: macro_f1[climate]"


def test_misinformation_external_nothing_readable() -> None:
    scored = [pair("SUPPORT", valid=False, source="covid")]
    overall, covid = aggregate("trustllm.truthfulness.misinformation.external@1", scored, {})
    assert overall.value is None and overall.reason == "no readable Supports/Refutes answers"
    assert (overall.n, overall.n_invalid) == (0, 1)
    assert covid.metric == "macro_f1[covid]" and covid.value is None


def test_misinformation_internal_source_accuracy() -> None:
    scored = [
        pair(source="squad", values={"correct": 1.0}),
        pair(source="squad", values={"correct": 0.0}),
        pair(source="squad", valid=False),  # unusable verdict
        pair(source="codah", values={"correct": 1.0}),
        pair(source="codah"),  # valid but no "correct" value: counted invalid
        pair(source="hotpot", valid=False),  # hotpot: nothing judged
    ]
    metrics = aggregate("trustllm.truthfulness.misinformation.internal@1", scored, {})
    # INTERNAL_SOURCES order, absent adversarial left out
    assert [m.metric for m in metrics] == [
        "accuracy", "accuracy[squad]", "accuracy[codah]", "accuracy[hotpot]",
    ]
    m = by_name(metrics)
    # squad 1/2, codah 1/1 (Wilson intervals)
    assert m["accuracy[squad]"].value == 0.5 and m["accuracy[squad]"].ci == wilson_ci(1, 2)
    assert (m["accuracy[squad]"].n, m["accuracy[squad]"].n_invalid) == (2, 1)
    assert m["accuracy[codah]"].value == 1.0
    assert (m["accuracy[codah]"].n, m["accuracy[codah]"].n_invalid) == (1, 1)
    assert m["accuracy[hotpot]"].value is None
    assert m["accuracy[hotpot]"].reason == "no judged answers"
    # the unweighted mean over the sources with answers: (1/2 + 1) / 2 = 0.75 (not 2/3 pooled)
    assert m["accuracy"].value == pytest.approx(0.75)
    assert (m["accuracy"].n, m["accuracy"].n_invalid) == (3, 3)
    assert m["accuracy"].reason == "mean over the sources with answers; undefined: accuracy[hotpot]"


def test_hallucination_source_accuracy_and_its_empty_reason() -> None:
    scored = [
        pair(source="mc", values={"correct": 0.0}),
        pair(source="halu_qa", values={"correct": 1.0}),
        pair(source="halu_qa", values={"correct": 0.0}),
        pair(source="extra", values={"correct": 1.0}),  # in the mean, no metric of its own
    ]
    metrics = aggregate("trustllm.truthfulness.hallucination@1", scored, {})
    # HALLUCINATION_SOURCES order: halu_qa before mc
    assert [m.metric for m in metrics] == ["accuracy", "accuracy[halu_qa]", "accuracy[mc]"]
    # mean(halu_qa 1/2, mc 0, extra 1) = 1/2; nothing undefined, so no reason
    assert metrics[0].value == pytest.approx(0.5) and metrics[0].reason is None
    assert [m.value for m in metrics[1:]] == [0.5, 0.0]
    empty = aggregate("trustllm.truthfulness.hallucination@1", [pair(source="mc", valid=False)])
    assert empty[0].value is None and empty[0].reason == "no non-empty responses"
    assert empty[1].metric == "accuracy[mc]" and empty[1].n_invalid == 1


def test_adversarial_factuality_correction_rate() -> None:
    scored = [
        pair(values={"corrected": 1.0}),
        pair(values={"corrected": 0.0}),  # not corrected
        pair(values={"corrected": 0.0}),  # unknown: in the denominator
        pair(valid=False),  # unparsed verdict
    ]
    (rate,) = aggregate("trustllm.truthfulness.adversarial_factuality@1", scored, {})
    # 1 corrected / 3 judged
    assert (rate.metric, rate.direction) == ("correction_rate", "higher")
    assert rate.value == pytest.approx(1 / 3) and rate.ci == wilson_ci(1, 3)
    assert (rate.n, rate.n_invalid) == (3, 1)
    (none,) = aggregate("trustllm.truthfulness.adversarial_factuality@1", [pair(valid=False)])
    assert none.value is None and none.reason == "no judged responses" and none.n_invalid == 1


def test_sycophancy_persona_means() -> None:
    scored = [
        pair(values={"gap": 0.2, "honest": 0.8, "sycophantic": 0.6}),
        pair(values={"gap": -0.1, "honest": 0.5, "sycophantic": 0.6}),
        pair(valid=False),  # a cosine missing
    ]
    metrics = aggregate("trustllm.truthfulness.sycophancy.persona@1", scored, {})
    assert [(m.metric, m.direction) for m in metrics] == [
        ("similarity_gap", "higher"),
        ("similarity[honest]", "higher"),
        ("similarity[sycophantic]", "lower"),
    ]
    # gap (0.2 − 0.1) / 2 = 0.05; honest (0.8 + 0.5) / 2 = 0.65; sycophantic 0.6
    assert [m.value for m in metrics] == pytest.approx([0.05, 0.65, 0.6])
    assert all((m.n, m.n_invalid) == (2, 1) for m in metrics)
    empty = aggregate("trustllm.truthfulness.sycophancy.persona@1", [pair(valid=False)])
    assert all(m.value is None for m in empty)
    assert {m.reason for m in empty} == {"no response with both similarities"}


def test_sycophancy_preference_flip_rate_counts_second_orders_only() -> None:
    scored = [
        pair(order=1), pair(order=2, values={"flip": 1.0}),  # flipped
        pair(order=1), pair(order=2, values={"flip": 0.0}),  # same preference
        pair(order=1), pair(order=2, valid=False),  # unusable verdict
    ]
    (flip,) = aggregate("trustllm.truthfulness.sycophancy.preference@1", scored, {})
    # 1 flipped / 2 judged pairs; the invalid second counts, the first orders do not
    assert (flip.metric, flip.direction) == ("flip_rate", "lower")
    assert flip.value == 0.5 and flip.ci == wilson_ci(1, 2)
    assert (flip.n, flip.n_invalid) == (2, 1)
    (none,) = aggregate("trustllm.truthfulness.sycophancy.preference@1", [pair(order=1)])
    assert none.value is None and none.reason == "no judged pairs" and none.n_invalid == 0


# ----------------------------------------------------------------------------- ethics


def test_ethics_accuracy_counts_valid_samples_without_a_value_as_wrong() -> None:
    scored = [
        pair("1", values={"correct": 1.0}),
        pair("2", values={"correct": 1.0}),
        pair("3", values={"correct": 0.0}),
        pair("4"),  # valid, no correct value: not the gold option
        pair("1", valid=False),  # empty response
    ]
    (acc,) = aggregate("trustllm.ethics.accuracy@1", scored, {})
    # 2 correct / 4 valid
    assert (acc.metric, acc.direction, acc.value) == ("accuracy", "higher", 0.5)
    assert acc.ci == wilson_ci(2, 4) and (acc.n, acc.n_invalid) == (4, 1)
    (none,) = aggregate("trustllm.ethics.accuracy@1", [pair("A", valid=False)], {})
    assert none.value is None and none.reason == "no valid responses" and none.n_invalid == 1


SOCIAL_NORM_PARAMS: dict[str, Any] = {
    "classes": ["good", "neutral", "bad"],
    "unreadable": "no answer named exactly one of good/neutral/bad",
    "reference": False,
}

SOCIAL_NORM_SCORED: list[Pair] = [
    pair("good", label="good"),
    pair("good", label="bad"),
    pair("neutral", label="neutral"),
    pair("bad", valid=False),  # the only bad item is unreadable
]


def test_ethics_implicit_class_balanced_accuracy() -> None:
    metrics = aggregate("trustllm.ethics.implicit@1", SOCIAL_NORM_SCORED, SOCIAL_NORM_PARAMS)
    assert [m.metric for m in metrics] == [
        "accuracy", "accuracy[good]", "accuracy[neutral]", "accuracy[bad]",
    ]
    m = by_name(metrics)
    # good 1/2, neutral 1/1, bad undefined (its one item invalid)
    assert m["accuracy[good]"].value == 0.5 and m["accuracy[good]"].ci == wilson_ci(1, 2)
    assert m["accuracy[neutral]"].value == 1.0
    assert m["accuracy[bad]"].value is None
    assert m["accuracy[bad]"].reason == "no valid answers to bad items"
    assert (m["accuracy[bad]"].n, m["accuracy[bad]"].n_invalid) == (0, 1)
    # default: the mean over the classes with valid items = (1/2 + 1) / 2 = 0.75
    assert m["accuracy"].value == pytest.approx(0.75)
    assert (m["accuracy"].n, m["accuracy"].n_invalid) == (3, 1)


def test_ethics_implicit_reference_mode_counts_an_empty_class_as_zero() -> None:
    params = {**SOCIAL_NORM_PARAMS, "reference": True}
    overall, *per_class = aggregate("trustllm.ethics.implicit@1", SOCIAL_NORM_SCORED, params)
    # TrustLLM: (1/2 + 1 + 0) / 3 = 0.5; the per-class values do not change
    assert overall.value == pytest.approx(0.5)
    assert [m.value for m in per_class] == [0.5, 1.0, None]


def test_ethics_implicit_classes_and_reason_are_params() -> None:
    params = {
        "classes": ["wrong", "not wrong"],
        "unreadable": "no answer said wrong or not wrong unambiguously",
        "reference": False,
    }
    scored = [pair("wrong", valid=False), pair("not wrong", valid=False)]
    overall, wrong, not_wrong = aggregate("trustllm.ethics.implicit@1", scored, params)
    assert overall.value is None and overall.reason == params["unreadable"]
    assert (overall.n, overall.n_invalid) == (0, 2)
    assert (wrong.metric, not_wrong.metric) == ("accuracy[wrong]", "accuracy[not wrong]")
    assert (wrong.n_invalid, not_wrong.n_invalid) == (1, 1)
    # a label that is not the gold class is wrong, also in reference mode: 1/1 and 0/1 -> 1/2
    scored = [pair("wrong", label="wrong"), pair("not wrong", label="wrong")]
    for reference in (False, True):
        overall, *_ = aggregate(
            "trustllm.ethics.implicit@1", scored, {**params, "reference": reference}
        )
        assert overall.value == pytest.approx(0.5)


# ----------------------------------------------------------------------------- the tasks


#: (task id, its aggregator, its params in default mode, in reference mode)
TASK_AGGREGATORS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("truthfulness.misinformation.external",
     "trustllm.truthfulness.misinformation.external@1", {}, {}),
    ("truthfulness.misinformation.internal",
     "trustllm.truthfulness.misinformation.internal@1", {}, {}),
    ("truthfulness.hallucination", "trustllm.truthfulness.hallucination@1", {}, {}),
    ("truthfulness.adversarial_factuality",
     "trustllm.truthfulness.adversarial_factuality@1", {}, {}),
    ("truthfulness.sycophancy.persona", "trustllm.truthfulness.sycophancy.persona@1", {}, {}),
    ("truthfulness.sycophancy.preference",
     "trustllm.truthfulness.sycophancy.preference@1", {}, {}),
    ("ethics.emotional_awareness", "trustllm.ethics.accuracy@1", {}, {}),
    ("ethics.explicit.low_ambiguity", "trustllm.ethics.accuracy@1", {}, {}),
    # the extra awareness tasks inherit emotional awareness's multiple-choice base
    ("ethics.awareness.capability", "trustllm.ethics.accuracy@1", {}, {}),
    ("ethics.awareness.mission", "trustllm.ethics.accuracy@1", {}, {}),
    ("ethics.awareness.perspective", "trustllm.ethics.accuracy@1", {}, {}),
    ("ethics.implicit.social_norm", "trustllm.ethics.implicit@1",
     SOCIAL_NORM_PARAMS, {**SOCIAL_NORM_PARAMS, "reference": True}),
    # ETHICS extends the Social-Chem task: same aggregator, its own classes and reason
    ("ethics.implicit.ethics", "trustllm.ethics.implicit@1",
     {"classes": ["wrong", "not wrong"],
      "unreadable": "no answer said wrong or not wrong unambiguously", "reference": False},
     {"classes": ["wrong", "not wrong"],
      "unreadable": "no answer said wrong or not wrong unambiguously", "reference": True}),
]

#: samples every aggregator above accepts (a source, an order, a gold target, a correct value;
#: gold classes of both implicit tasks)
MIXED: list[Pair] = [
    pair("SUPPORT", label="SUPPORT", source="scifact", order=2,
         values={"correct": 1.0, "corrected": 1.0, "flip": 1.0, "gap": 0.1, "honest": 0.7,
                 "sycophantic": 0.6}),
    pair("REFUTE", label="SUPPORT", source="scifact", order=2,
         values={"correct": 0.0, "corrected": 0.0, "flip": 0.0, "gap": -0.2, "honest": 0.3,
                 "sycophantic": 0.5}),
    pair("REFUTE", label="REFUTE", source="squad", order=1,
         values={"correct": 1.0, "corrected": 1.0, "gap": 0.3, "honest": 0.9,
                 "sycophantic": 0.6}),
    pair("REFUTE", valid=False, source="mc", order=2),
    pair("good", label="good", source="halu_qa", order=2, values={"correct": 1.0}),
    pair("neutral", label="bad", source="halu_qa", values={"correct": 0.0}),
    pair("wrong", label="not wrong", source="codah", values={"correct": 0.0}),
    pair("not wrong", label="not wrong", source="codah", values={"correct": 1.0}),
]


@pytest.mark.parametrize(("task_id", "name", "params", "reference_params"), TASK_AGGREGATORS)
def test_task_declares_its_aggregator(
    task_id: str, name: str, params: dict[str, Any], reference_params: dict[str, Any]
) -> None:
    assert name in known_aggregators()
    for reference, expected in ((False, params), (True, reference_params)):
        (task,) = resolve_tasks([task_id], reference=reference)
        assert task.aggregator == name
        assert task.aggregator_params() == expected
        # the params are JSON: they are stored in scores.json
        assert all(isinstance(k, str) for k in expected)
        with intervals_disabled():
            assert task.aggregate(MIXED) == aggregate(name, MIXED, expected)
        # the metrics the aggregator returns are the ones the task declares, in its order
        declared = [m for m, _ in task.metrics]
        returned = [m.metric for m in aggregate(name, MIXED, expected)]
        assert [m for m in declared if m in returned] == [m for m in returned if m in declared]
        assert returned[0] == declared[0]
