"""The stored aggregators of the TrustLLM safety (toxicity), privacy and fairness tasks
(``trustgauge.stats.aggregators.trustllm.{safety,privacy,fairness}``): hand-computed cases run
by name through the catalogue, and each task's ``aggregate`` equal to its declared aggregator
with its params."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from trustgauge.stats.aggregators import aggregate, known_aggregators
from trustgauge.stats.aggregators.trustllm.fairness import AGREEMENT_BIAS_TYPES, RECOGNITION_TYPES
from trustgauge.stats.aggregators.trustllm.privacy import CONFAIDE_UNDEFINED
from trustgauge.stats.aggregators.trustllm.safety import NO_COMPLIED_REASON
from trustgauge.stats.metrics import bootstrap_ci, wilson_ci
from trustgauge.tasks.registry import TASKS
from trustgauge.types import MetricValue, Sample, SampleScore

Pair = tuple[Sample, SampleScore]

NAMES = {
    "safety.toxicity": "trustllm.safety.toxicity@1",
    "privacy.awareness.confaide": "trustllm.privacy.awareness.confaide@1",
    "privacy.leakage": "trustllm.privacy.leakage@1",
    "fairness.stereotype.recognition": "trustllm.fairness.stereotype.recognition@1",
    "fairness.stereotype.agreement": "trustllm.fairness.stereotype.agreement@1",
    "fairness.disparagement": "trustllm.fairness.disparagement@1",
    "fairness.preference": "trustllm.fairness.preference@1",
}


def pair(
    i: int,
    *,
    label: str | None = None,
    valid: bool = True,
    values: dict[str, float | None] | None = None,
    target: Any = None,
    **metadata: Any,
) -> Pair:
    sample = Sample(id=str(i), prompt=f"p{i}", target=target, metadata=metadata)
    return sample, SampleScore(label=label, valid=valid, values=values or {})


def by_name(metrics: list[MetricValue]) -> dict[str, MetricValue]:
    return {m.metric: m for m in metrics}


# --------------------------------------------------------------------------- safety.toxicity


def _toxicity_scored() -> list[Pair]:
    return [
        pair(0, label="compliance", values={"toxicity": 0.2}, source="ITC"),
        pair(1, label="compliance", values={"toxicity": 0.6}, source="QBB"),
        pair(2, label="refusal", values={"toxicity": None}, source="ITC"),  # judged, no toxicity
        pair(3, label="compliance", valid=False, source="QBB"),  # toxicity judge failed
        pair(4, label="compliance", values={"toxicity": 0.1}, source="other"),  # overall only
    ]


def test_toxicity_hand_computed() -> None:
    metrics = aggregate("trustllm.safety.toxicity@1", _toxicity_scored(), {})
    assert [m.metric for m in metrics] == [
        "average_toxicity",
        "max_toxicity",
        "average_toxicity[ITC]",
        "average_toxicity[QBB]",
    ]
    m = by_name(metrics)
    # complied: 0.2, 0.6, 0.1 -> mean 0.9 / 3 = 0.3, max 0.6; the refusal is no item; 1 invalid
    assert m["average_toxicity"].value == pytest.approx(0.3)
    assert m["max_toxicity"].value == pytest.approx(0.6)
    assert (m["average_toxicity"].n, m["average_toxicity"].n_invalid) == (3, 1)
    assert (m["max_toxicity"].n, m["max_toxicity"].n_invalid) == (3, 1)
    assert m["average_toxicity"].direction == "lower"
    # per source: ITC 0.2 (the refusal adds nothing), QBB 0.6; no n_invalid per source
    assert (m["average_toxicity[ITC]"].value, m["average_toxicity[ITC]"].n) == (0.2, 1)
    assert (m["average_toxicity[QBB]"].value, m["average_toxicity[QBB]"].n) == (0.6, 1)
    assert m["average_toxicity[QBB]"].n_invalid == 0
    # one item: no interval; three: the seeded percentile bootstrap of the mean
    assert m["average_toxicity[ITC]"].ci is None
    assert m["average_toxicity"].ci == bootstrap_ci(
        [0.2, 0.6, 0.1], lambda v: sum(v) / len(v) if v else None
    )


def test_toxicity_nothing_complied_is_undefined_with_reason() -> None:
    scored = [
        pair(0, label="refusal", values={"toxicity": None}, source="ITC"),
        pair(1, label=None, valid=False, source="QBB"),
    ]
    metrics = aggregate("trustllm.safety.toxicity@1", scored, {})
    assert len(metrics) == 4
    for m in metrics:
        assert m.value is None and m.ci is None and m.n == 0
        assert m.reason == NO_COMPLIED_REASON
    assert [m.n_invalid for m in metrics] == [1, 1, 0, 0]


# --------------------------------------------------------------------------- privacy


def test_confaide_hand_computed_pearson() -> None:
    scored = [
        pair(0, label="None", values={"rating": None}, target=0),  # a None rating reads as 0.0
        pair(1, label="100.0", values={"rating": 100.0}, target=50),
        pair(2, label="50.0", values={"rating": 50.0}, target=100),
        pair(3, label="unparsed", valid=False, target=-100),
        pair(4, label="odd", values={}, target=20),  # valid but no rating: left out, counted
    ]
    (m,) = aggregate("trustllm.privacy.awareness.confaide@1", scored, {})
    # human 0, 50, 100 (mean 50), model 0, 100, 50 (mean 50): deviations (-50, 0, 50) and
    # (-50, 50, 0); cov = 2500 / 3; both variances 5000 / 3; r = 2500 / 5000 = 0.5
    assert m.metric == "pearson" and m.direction == "higher"
    assert m.value == pytest.approx(0.5)
    assert (m.n, m.n_invalid) == (3, 2)
    assert m.reason is None


def test_confaide_constant_ratings_undefined() -> None:
    scored = [pair(i, values={"rating": 50.0}, target=float(i)) for i in range(3)]
    (m,) = aggregate("trustllm.privacy.awareness.confaide@1", scored, {})
    # model std 0 -> Pearson undefined; n still counts the 3 pairs
    assert (m.value, m.ci, m.n, m.n_invalid) == (None, None, 3, 0)
    assert m.reason == CONFAIDE_UNDEFINED


def _leak(i: int, shot: str, template: str, rta: float, td: float, has: float) -> Pair:
    values: dict[str, float | None] = {"rta": rta, "td": td, "has_address": has}
    return pair(i, values=values, shot=shot, template=template)


def _leakage_scored() -> list[Pair]:
    return [
        _leak(0, "zero-shot", "A", 0.0, 1.0, 1.0),  # the true address
        _leak(1, "zero-shot", "A", 1.0, 0.0, 0.0),  # no address
        _leak(2, "five-shot", "B", 0.0, 0.0, 1.0),  # another address
        pair(3, valid=False, shot="five-shot", template="C"),  # invalid: no cell
    ]


def test_leakage_default_averages_over_cells_with_responses() -> None:
    metrics = aggregate("trustllm.privacy.leakage@1", _leakage_scored(), {"reference": False})
    # cell zero/A: rta 1/2, td 1/2, cd 1/1 = 1; cell five/B: rta 0, td 0, cd 0/1 = 0
    # default: mean over the 2 cells -> rta 0.25, td 0.25, cd 0.5
    assert [(m.metric, m.direction) for m in metrics] == [
        ("rta", "higher"),
        ("td", "lower"),
        ("cd", "lower"),
    ]
    assert [m.value for m in metrics] == pytest.approx([0.25, 0.25, 0.5])
    assert all((m.n, m.n_invalid) == (3, 1) for m in metrics)
    # no params = default mode
    assert aggregate("trustllm.privacy.leakage@1", _leakage_scored(), {}) == metrics


def test_leakage_reference_divides_by_eight_cells() -> None:
    metrics = aggregate("trustllm.privacy.leakage@1", _leakage_scored(), {"reference": True})
    # TrustLLM: sums over the 2 cells divided by 8 -> rta 0.5/8, td 0.5/8, cd 1/8
    assert [m.value for m in metrics] == pytest.approx([0.0625, 0.0625, 0.125])


def test_leakage_all_invalid_is_undefined() -> None:
    scored = [pair(0, valid=False, shot="zero-shot", template="A")]
    for m in aggregate("trustllm.privacy.leakage@1", scored, {"reference": True}):
        assert (m.value, m.n, m.n_invalid, m.reason) == (None, 0, 1, "no responses")


def test_leakage_params_follow_reference_mode() -> None:
    cls = TASKS["privacy.leakage"]
    assert cls().aggregator_params() == {"reference": False}
    assert cls(reference=True).aggregator_params() == {"reference": True}


# --------------------------------------------------------------------------- fairness


def test_stereotype_recognition_hand_computed() -> None:
    scored = [
        pair(0, label="stereotype", values={"correct": 1.0}, type="race"),
        pair(1, label="unrelated", values={"correct": 0.0}, type="race"),
        pair(2, label="anti-stereotype", values={"correct": 1.0}, type="gender"),
        pair(3, label="unparsed", valid=False, type="profession"),
    ]
    metrics = aggregate("trustllm.fairness.stereotype.recognition@1", scored, {})
    # religion has no sample: no metric; the others in RECOGNITION_TYPES order
    assert [m.metric for m in metrics] == [
        "accuracy",
        "accuracy[race]",
        "accuracy[profession]",
        "accuracy[gender]",
    ]
    assert RECOGNITION_TYPES == ("race", "profession", "gender", "religion")
    m = by_name(metrics)
    # 2 correct of 3 valid, 1 invalid
    assert (m["accuracy"].value, m["accuracy"].n, m["accuracy"].n_invalid) == (2 / 3, 3, 1)
    assert m["accuracy"].ci == wilson_ci(2, 3)
    assert (m["accuracy[race]"].value, m["accuracy[race]"].n) == (0.5, 2)
    assert (m["accuracy[gender]"].value, m["accuracy[gender]"].n) == (1.0, 1)
    # only an invalid answer: undefined, counted
    profession = m["accuracy[profession]"]
    assert (profession.value, profession.n, profession.n_invalid) == (None, 0, 1)
    assert profession.reason == "no valid responses"


def test_stereotype_agreement_hand_computed() -> None:
    scored = [
        pair(0, label="agree", values={"agree": 1.0}, bias_type="age"),
        pair(1, label="disagree", values={"agree": 0.0}, bias_type="age"),
        pair(2, label="agree", values={"agree": 1.0}, bias_type="gender"),
        pair(3, label="unparsed", valid=False, bias_type="religion"),
        pair(4, label="disagree", values={"agree": 0.0}, bias_type="other"),  # overall only
    ]
    metrics = aggregate("trustllm.fairness.stereotype.agreement@1", scored, {})
    # groups in AGREEMENT_BIAS_TYPES order: gender (2), religion (7), age (8)
    assert [m.metric for m in metrics] == [
        "agreement_rate",
        "agreement_rate[gender]",
        "agreement_rate[religion]",
        "agreement_rate[age]",
    ]
    assert AGREEMENT_BIAS_TYPES.index("gender") < AGREEMENT_BIAS_TYPES.index("age")
    m = by_name(metrics)
    # 2 agree of 4 valid, 1 invalid
    overall = m["agreement_rate"]
    assert (overall.value, overall.n, overall.n_invalid, overall.direction) == (0.5, 4, 1, "lower")
    assert (m["agreement_rate[age]"].value, m["agreement_rate[age]"].n) == (0.5, 2)
    assert m["agreement_rate[gender]"].value == 1.0
    assert m["agreement_rate[religion]"].value is None
    assert m["agreement_rate[religion]"].n_invalid == 1


def test_disparagement_hand_computed() -> None:
    scored = [
        pair(0, label="1", values={"option": 1.0}, sex="Male", race="White"),
        pair(1, label="1", values={"option": 1.0}, sex="Male", race="White"),
        pair(2, label="2", values={"option": 2.0}, sex="Female", race="White"),
        pair(3, label="0", values={"option": 0.0}, sex="Female", race="White"),
        pair(4, label="3", valid=False, sex="Female", race="Black"),  # invalid
        pair(5, label=None, sex="Male", race="Black"),  # no label: left out, counted
    ]
    metrics = aggregate("trustllm.fairness.disparagement@1", scored, {})
    assert [m.metric for m in metrics] == ["p_value[sex]", "p_value[race]", "answer_rate"]
    m = by_name(metrics)
    # sex x answer over the 4 valid: Female [0:1, 1:0, 2:1], Male [0:0, 1:2, 2:0]; expected
    # 0.5 / 1 / 0.5 per row -> chi2 = 2 x (0.25/0.5 + 1/1 + 0.25/0.5) = 4 with 2 dof (no
    # Yates correction), p = exp(-4/2)
    sex = m["p_value[sex]"]
    assert sex.value == pytest.approx(math.exp(-2))
    assert (sex.n, sex.n_invalid, sex.ci, sex.reason) == (4, 2, None, None)
    # the valid answers are all from one race group: undefined
    race = m["p_value[race]"]
    assert race.value is None and race.reason == "needs answers from at least two race groups"
    # answered (not "0"): 3 of 4
    answer = m["answer_rate"]
    assert (answer.value, answer.n, answer.n_invalid) == (0.75, 4, 2)
    assert answer.ci == wilson_ci(3, 4)


def test_disparagement_two_by_two_uses_yates() -> None:
    scored = [
        pair(0, label="1", sex="Male", race="A"),
        pair(1, label="1", sex="Male", race="B"),
        pair(2, label="2", sex="Female", race="A"),
        pair(3, label="2", sex="Female", race="B"),
    ]
    m = by_name(aggregate("trustllm.fairness.disparagement@1", scored, {}))
    # sex: [[2, 0], [0, 2]], expected 1 each; Yates: 4 x (|1| - 0.5)^2 / 1 = 1 with 1 dof,
    # p = erfc(sqrt(1/2)); race: [[1, 1], [1, 1]] = expected -> chi2 0, p = 1
    assert m["p_value[sex]"].value == pytest.approx(math.erfc(math.sqrt(0.5)))
    assert m["p_value[race]"].value == pytest.approx(1.0)


def test_preference_hand_computed() -> None:
    scored = [
        pair(0, label="refusal", type="plain"),
        pair(1, label="compliance", type="plain"),
        pair(2, label="refusal", type="force"),
        pair(3, label="refusal", type="force"),
        pair(4, label="compliance", type="force"),
        pair(5, label="unparsed", valid=False, type="force"),
    ]
    metrics = aggregate("trustllm.fairness.preference@1", scored, {})
    assert [m.metric for m in metrics] == ["rta", "rta[plain]", "rta[force]"]
    m = by_name(metrics)
    # plain 1/2, force 2/3 (the invalid one left out) -> (1/2 + 2/3) / 2 = 7/12
    assert m["rta"].value == pytest.approx(7 / 12)
    assert (m["rta"].n, m["rta"].n_invalid) == (5, 1)
    assert (m["rta[plain]"].value, m["rta[plain]"].n, m["rta[plain]"].n_invalid) == (0.5, 2, 0)
    assert (m["rta[force]"].value, m["rta[force]"].n, m["rta[force]"].n_invalid) == (2 / 3, 3, 1)
    assert m["rta[force]"].ci == wilson_ci(2, 3)


def test_preference_needs_both_types() -> None:
    scored = [pair(0, label="refusal", type="plain"), pair(1, valid=False, type="force")]
    m = by_name(aggregate("trustllm.fairness.preference@1", scored, {}))
    assert m["rta"].value is None and m["rta"].reason == "needs judged plain and force items"
    assert (m["rta"].n, m["rta"].n_invalid) == (1, 1)
    assert (m["rta[plain]"].value, m["rta[plain]"].n) == (1.0, 1)
    assert (m["rta[force]"].value, m["rta[force]"].n_invalid) == (None, 1)


# --------------------------------------------------------------------------- the tasks


_SCORED: dict[str, list[Pair]] = {
    "safety.toxicity": _toxicity_scored(),
    "privacy.awareness.confaide": [
        pair(i, values={"rating": float(r)}, target=float(h))
        for i, (h, r) in enumerate([(0, 10), (50, 40), (100, 90), (-50, 0)])
    ],
    "privacy.leakage": _leakage_scored(),
    "fairness.stereotype.recognition": [
        pair(i, values={"correct": float(i % 2)}, type=t) for i, t in enumerate(RECOGNITION_TYPES)
    ],
    "fairness.stereotype.agreement": [
        pair(i, values={"agree": float(i % 2)}, bias_type=t)
        for i, t in enumerate(AGREEMENT_BIAS_TYPES)
    ],
    "fairness.disparagement": [
        pair(i, label=str(i % 3), sex=("Male", "Female")[i % 2], race=("A", "B", "C")[i % 3])
        for i in range(12)
    ],
    "fairness.preference": [
        pair(i, label=("refusal", "compliance")[i % 2], type=("plain", "force")[i // 2])
        for i in range(4)
    ],
}


@pytest.mark.parametrize("task_id", sorted(NAMES))
@pytest.mark.parametrize("reference", [False, True])
def test_task_aggregate_is_its_stored_aggregator(task_id: str, reference: bool) -> None:
    cls = TASKS[task_id]
    if reference and not cls.has_reference:
        pytest.skip("no reference mode")
    task = cls(reference=reference)
    assert task.aggregator == NAMES[task_id]
    assert NAMES[task_id] in known_aggregators()
    params = task.aggregator_params()
    assert json.loads(json.dumps(params)) == params  # stored in scores.json
    scored = _SCORED[task_id]
    metrics = task.aggregate(scored)
    assert metrics == aggregate(task.aggregator, scored, params)
    # the declared metrics, in order, are what the aggregator returns on full data
    assert [(m.metric, m.direction) for m in metrics] == list(task.metrics)


def test_no_task_overrides_aggregate() -> None:
    from trustgauge.tasks.base import Task

    for task_id in NAMES:
        assert TASKS[task_id].aggregate is Task.aggregate
