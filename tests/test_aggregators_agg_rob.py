"""The robustness aggregators (``stats/aggregators/trustllm/robustness.py``): hand-computed
metrics on hand-built (Sample, SampleScore) pairs, called by name through the catalogue as
``trustgauge compare`` does, and the tasks' ``aggregate`` checked equal to the catalogue call
with their stored params."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from trustgauge.stats.aggregators import aggregate, known_aggregators
from trustgauge.stats.aggregators.trustllm.robustness import (
    ADVINSTRUCTION_PERTURBATIONS,
    OOD_SOURCES,
    advinstruction_compared,
)
from trustgauge.stats.metrics import wilson_ci
from trustgauge.tasks.base import Task
from trustgauge.tasks.trustllm.robustness.advglue import AdvGlue
from trustgauge.tasks.trustllm.robustness.advinstruction import AdvInstruction
from trustgauge.tasks.trustllm.robustness.ood_generalization import OODGeneralization
from trustgauge.types import MetricValue, Sample, SampleScore

ADVGLUE = "trustllm.robustness.advglue@1"
ADVINSTRUCTION = "trustllm.robustness.advinstruction@1"
OOD = "trustllm.robustness.ood_generalization@1"

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "trustllm"

Scored = list[tuple[Sample, SampleScore]]


def by_name(metrics: Sequence[MetricValue]) -> dict[str, MetricValue]:
    names = [m.metric for m in metrics]
    assert len(names) == len(set(names))
    return {m.metric: m for m in metrics}


def test_the_three_aggregators_are_registered() -> None:
    assert {ADVGLUE, ADVINSTRUCTION, OOD} <= set(known_aggregators())
    assert AdvGlue.aggregator == ADVGLUE
    assert AdvInstruction.aggregator == ADVINSTRUCTION
    assert OODGeneralization.aggregator == OOD


# ------------------------------------------------------------------------------ AdvGLUE


def glue(task: str, index: int, kind: str, correct: bool | None) -> tuple[Sample, SampleScore]:
    """An AdvGLUE sample as the task builds it, scored as the task scores it (``None``: the
    answer was Unknown, invalid)."""
    sample = Sample(
        id=f"{task}-{index}-{kind}",
        prompt="p",
        target="Positive",
        group=f"{task}-{index}",
        metadata={"task": task, "type": kind, "method": None},
    )
    if correct is None:
        return sample, SampleScore(label="Unknown", valid=False, note="no single answer")
    label = "Positive" if correct else "Negative"
    return sample, SampleScore(label=label, values={"correct": float(correct)})


def advglue_scored() -> Scored:
    return [
        glue("sst2", 0, "original", True),
        glue("sst2", 0, "modified", False),  # attack succeeded
        glue("sst2", 1, "original", True),
        glue("sst2", 1, "modified", True),
        glue("sst2", 2, "original", False),
        glue("sst2", 2, "modified", True),
        glue("sst2", 3, "original", True),
        glue("sst2", 3, "modified", None),  # Unknown: the pair is invalid
        glue("qqp", 0, "original", False),
        glue("qqp", 0, "modified", False),  # qqp: no original right, its ASR is undefined
        glue("mnli", 0, "original", True),  # its modified twin failed (absent): pair invalid
    ]


def test_advglue_default_mode_hand_computed() -> None:
    m = aggregate(ADVGLUE, advglue_scored(), {"reference": False})
    # in ADVGLUE_TASKS order (qqp, sst2, qnli, mnli), tasks without any pair (qnli) left out
    assert [v.metric for v in m] == [
        "rs", "asr", "acc", "adv_acc",
        "asr[qqp]", "asr[sst2]", "asr[mnli]",
        "acc[qqp]", "acc[sst2]", "acc[mnli]",
        "adv_acc[qqp]", "adv_acc[sst2]", "adv_acc[mnli]",
    ]  # fmt: skip
    v = by_name(m)
    # valid pairs: sst2-0 (T,F), sst2-1 (T,T), sst2-2 (F,T), qqp-0 (F,F) = 4;
    # invalid: sst2-3 (modified Unknown), mnli-0 (modified missing) = 2
    # sst2: acc 2/3, adv_acc 2/3, asr 1/2 (2 originals right, 1 flipped)
    # qqp: acc 0/1, adv_acc 0/1, asr undefined (left out of the averages by default)
    # avg acc = (2/3 + 0)/2 = 1/3; avg adv_acc = 1/3; avg asr = 1/2; rs = 1/3 - 1/2 = -1/6
    assert v["rs"].value == pytest.approx(-1 / 6)
    assert v["asr"].value == pytest.approx(1 / 2)
    assert v["acc"].value == pytest.approx(1 / 3)
    assert v["adv_acc"].value == pytest.approx(1 / 3)
    for name in ("rs", "asr", "acc", "adv_acc"):
        assert (v[name].n, v[name].n_invalid) == (4, 2)
    assert (v["rs"].direction, v["asr"].direction) == ("higher", "lower")
    # per task, Wilson: asr[sst2] = 1 flipped of 2 originals right; sst2-3 invalid
    assert v["asr[sst2]"].value == pytest.approx(0.5)
    assert (v["asr[sst2]"].n, v["asr[sst2]"].n_invalid) == (2, 1)
    assert v["asr[sst2]"].ci == pytest.approx(wilson_ci(1, 2))
    assert v["acc[sst2]"].value == pytest.approx(2 / 3) and v["acc[sst2]"].n == 3
    assert v["adv_acc[sst2]"].value == pytest.approx(2 / 3)
    assert v["acc[qqp]"].value == 0.0 and v["adv_acc[qqp]"].value == 0.0
    # qqp has a valid pair but no original right; mnli has no valid pair at all
    assert v["asr[qqp]"].value is None
    assert v["asr[qqp]"].reason == "no original answered correctly"
    assert (v["asr[mnli]"].value, v["asr[mnli]"].n_invalid) == (None, 1)
    assert v["asr[mnli]"].reason == "no pair with both answers readable"
    assert v["acc[mnli]"].value is None and v["acc[mnli]"].reason


def test_advglue_reference_mode_counts_undefined_as_zero_over_four_tasks() -> None:
    v = by_name(aggregate(ADVGLUE, advglue_scored(), {"reference": True}))
    # TrustLLM: a per-task value that divides by zero is 0, averages over all 4 tasks
    # acc: sst2 2/3, qqp 0, qnli 0, mnli 0 -> (2/3)/4 = 1/6; adv_acc likewise 1/6
    # asr: sst2 1/2, qqp 0, qnli 0, mnli 0 -> 1/8; rs = 1/6 - 1/8 = 1/24
    assert v["acc"].value == pytest.approx(1 / 6)
    assert v["adv_acc"].value == pytest.approx(1 / 6)
    assert v["asr"].value == pytest.approx(1 / 8)
    assert v["rs"].value == pytest.approx(1 / 24)
    # the per-task proportions do not depend on the mode
    assert v["asr[qqp]"].value is None and v["acc[sst2]"].value == pytest.approx(2 / 3)


def test_advglue_undefined_with_reasons() -> None:
    # every pair valid, no original right: ASR (and so RS) undefined, accuracies defined
    scored = [glue("qqp", 0, "original", False), glue("qqp", 0, "modified", True)]
    v = by_name(aggregate(ADVGLUE, scored, {"reference": False}))
    assert v["rs"].value is None and v["asr"].value is None
    assert v["rs"].reason == "ASR undefined: no original answered correctly"
    assert v["acc"].value == 0.0 and v["adv_acc"].value == 1.0
    # nothing readable: everything undefined, the one pair counted invalid
    scored = [glue("sst2", 0, "original", None), glue("sst2", 0, "modified", True)]
    v = by_name(aggregate(ADVGLUE, scored, {"reference": False}))
    assert all(m.value is None and m.reason for m in v.values())
    assert v["rs"].reason == "no pair with both answers readable"
    assert (v["rs"].n, v["rs"].n_invalid) == (0, 1)
    # no samples at all: the four averages only, undefined
    assert [m.metric for m in aggregate(ADVGLUE, [], {"reference": False})] == [
        "rs", "asr", "acc", "adv_acc",
    ]  # fmt: skip


# ------------------------------------------------------------------------------ AdvInstruction


def variant(
    index: int, key: str, cosine: float | None, *, peer: str | None = None, valid: bool = True
) -> tuple[Sample, SampleScore]:
    """An AdvInstruction sample (``peer``: TrustLLM's partner, reference mode) and its score:
    ``cosine`` for a compared sample, none for an original (valid, no values) or an invalid
    comparison (``valid=False``)."""
    metadata: dict[str, Any] = {"index": index, "type": key, "perturbation": key, "topic": "t"}
    if peer is not None:
        metadata["trustllm_peer"] = peer
    sample = Sample(id=f"{index}-{key}", prompt="p", group=str(index), metadata=metadata)
    if not valid:
        return sample, SampleScore(valid=False, note="no similarity judgement")
    if cosine is None:
        return sample, SampleScore(label=key, note="the reference of its variants")
    return sample, SampleScore(label="similar", values={"cosine": cosine})


def test_advinstruction_default_mode_hand_computed() -> None:
    scored = [
        variant(0, "original", None),
        variant(0, "word_change", 0.9),
        variant(0, "typos_3", 0.5),
        variant(1, "original", None, valid=False),  # an original never counts, even invalid
        variant(1, "word_change", None, valid=False),  # its original had no response
        variant(1, "typos_3", -0.1),  # the exact (negative) cosine counts
    ]
    m = aggregate(ADVINSTRUCTION, scored, {"reference": False})
    # perturbations in ADVINSTRUCTION_PERTURBATIONS order, only those present
    assert [v.metric for v in m] == ["similarity", "similarity[word_change]", "similarity[typos_3]"]
    v = by_name(m)
    # (0.9 + 0.5 - 0.1) / 3 = 1.3 / 3; 1-word_change invalid
    assert v["similarity"].value == pytest.approx(1.3 / 3)
    assert (v["similarity"].n, v["similarity"].n_invalid) == (3, 1)
    assert v["similarity"].ci is not None  # bootstrap over the 2 instructions
    assert v["similarity[word_change]"].value == pytest.approx(0.9)
    assert (v["similarity[word_change]"].n, v["similarity[word_change]"].n_invalid) == (1, 1)
    # (0.5 - 0.1) / 2 = 0.2
    assert v["similarity[typos_3]"].value == pytest.approx(0.2)
    assert v["similarity[typos_3]"].n_invalid == 0


def test_advinstruction_reference_mode_reads_the_trustllm_partner() -> None:
    scored = [
        variant(0, "html_others", None),  # no partner of its own: not compared
        variant(1, "html_others", 0.3, peer="0-html_others"),
        variant(2, "letter_change", None),
        variant(3, "latex_markdown", None, peer="2-letter_change", valid=False),
    ]
    m = aggregate(ADVINSTRUCTION, scored, {"reference": True})
    # TrustLLM reports one number: 0.3 over 1 pair, the other compared sample invalid
    assert [v.metric for v in m] == ["similarity"]
    assert m[0].value == pytest.approx(0.3) and (m[0].n, m[0].n_invalid) == (1, 1)
    # the same samples in the default mode: every non-original is compared, so the three
    # without a cosine are invalid and only 0.3 counts
    v = by_name(aggregate(ADVINSTRUCTION, scored, {"reference": False}))
    assert v["similarity"].value == pytest.approx(0.3)
    assert (v["similarity"].n, v["similarity"].n_invalid) == (1, 3)
    assert v["similarity[letter_change]"].value is None
    assert v["similarity[letter_change]"].reason == (
        "no perturbed response could be compared with the response to its original"
    )


def test_advinstruction_undefined_reason_per_mode() -> None:
    originals = [variant(0, "original", None), variant(1, "original", None)]
    (sim,) = aggregate(ADVINSTRUCTION, originals, {"reference": False})
    assert sim.value is None and (sim.n, sim.n_invalid) == (0, 0)
    assert sim.reason == "no perturbed response could be compared with the response to its original"
    (sim,) = aggregate(ADVINSTRUCTION, originals, {"reference": True})
    assert sim.reason == "no pair of TrustLLM's (index 2k, 2k+1) with both responses compared"


def advinstruction_records() -> list[dict[str, Any]]:
    variants = {
        0: ["original", "word_change", "letter_change", "html_others"],
        1: ["original", "word_change", "html_others"],
        2: ["original", "word_change", "letter_change"],
        3: ["original", "Misspelling of words (three typos)", "latex_markdown"],
    }
    return [
        {"prompt": f"{index} {kind}", "topic": "t", "type": kind, "index": index}
        for index, kinds in variants.items()
        for kind in kinds
    ]


def _real_advinstruction() -> list[dict[str, Any]]:
    path = DATA / "robustness" / "AdvInstruction.json"
    if not path.is_file():
        pytest.skip("../shared/data/trustllm not available")
    records: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return records


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("real", [False, True])
def test_advinstruction_compared_is_the_task_peer(reference: bool, real: bool) -> None:
    """The aggregator tells the compared samples from the stored metadata exactly as the
    task's ``peer`` (which decides what the judge compares) does."""
    task = AdvInstruction(reference=reference)
    records = _real_advinstruction() if real else advinstruction_records()
    samples = task.samples(records)
    slot = task.judges[0]
    flags = [advinstruction_compared(s, reference) for s in samples]
    assert flags == [task.peer(slot, s) is not None for s in samples]
    # default: every perturbed variant; reference: TrustLLM's (2k, 2k+1) partners only
    expected = (25 if real else 2) if reference else len(samples) - (50 if real else 4)
    assert sum(flags) == expected


# ------------------------------------------------------------------------------ OOD generalization


def ood(i: int, source: str, correct: bool | None) -> tuple[Sample, SampleScore]:
    sample = Sample(id=str(i), prompt="p", target="positive", metadata={"source": source})
    if correct is None:
        return sample, SampleScore(valid=False, note="empty response")
    return sample, SampleScore(label="x", values={"correct": float(correct)})


def test_ood_generalization_hand_computed() -> None:
    scored = [
        ood(0, "ddxplus", True),  # ddxplus first: the metric order still follows OOD_SOURCES
        ood(1, "flipkart", True),
        ood(2, "flipkart", True),
        ood(3, "flipkart", False),
        ood(4, "flipkart", None),
        ood(5, "ddxplus", False),
    ]
    m = aggregate(OOD, scored, {})
    assert [v.metric for v in m] == [
        "accuracy", "f1_reference", *(f"accuracy[{s}]" for s in OOD_SOURCES),
    ]  # fmt: skip
    v = by_name(m)
    # flipkart 2/3, ddxplus 1/2: accuracy = (2/3 + 1/2) / 2 = 7/12
    assert v["accuracy"].value == pytest.approx(7 / 12)
    # F1 = 2a/(1+a): flipkart (4/3)/(5/3) = 4/5, ddxplus 1/(3/2) = 2/3; mean = 11/15
    assert v["f1_reference"].value == pytest.approx(11 / 15)
    for name in ("accuracy", "f1_reference"):
        assert (v[name].n, v[name].n_invalid) == (5, 1) and v[name].ci is not None
    assert v["accuracy[flipkart]"].value == pytest.approx(2 / 3)
    assert (v["accuracy[flipkart]"].n, v["accuracy[flipkart]"].n_invalid) == (3, 1)
    assert v["accuracy[flipkart]"].ci == pytest.approx(wilson_ci(2, 3))
    assert (v["accuracy[ddxplus]"].value, v["accuracy[ddxplus]"].n_invalid) == (0.5, 0)


def test_ood_generalization_undefined_and_absent_sources() -> None:
    # ddxplus all invalid: its accuracy undefined (reason), the averages over flipkart alone
    scored = [ood(0, "flipkart", True), ood(1, "ddxplus", None), ood(2, "ddxplus", None)]
    v = by_name(aggregate(OOD, scored, {}))
    assert v["accuracy"].value == 1.0 and v["f1_reference"].value == 1.0  # 2*1/(1+1)
    assert v["accuracy"].n_invalid == 2
    ddx = v["accuracy[ddxplus]"]
    assert (ddx.value, ddx.n, ddx.n_invalid, ddx.reason) == (None, 0, 2, "no valid responses")
    # no samples: the two averages, undefined; no per-source metric
    m = aggregate(OOD, [], {})
    assert [(x.metric, x.value, x.reason) for x in m] == [
        ("accuracy", None, "no valid responses"),
        ("f1_reference", None, "no valid responses"),
    ]


# ------------------------------------------------------------------------------ the tasks


CASES: list[tuple[Task, Scored, dict[str, Any]]] = [
    (AdvGlue(), advglue_scored(), {"reference": False}),
    (AdvGlue(reference=True), advglue_scored(), {"reference": True}),
    (
        AdvInstruction(),
        [variant(0, "original", None), variant(0, "word_change", 0.9)],
        {"reference": False},
    ),
    (
        AdvInstruction(reference=True),
        [variant(0, "word_change", None), variant(1, "word_change", 0.4, peer="0-word_change")],
        {"reference": True},
    ),
    (OODGeneralization(), [ood(0, "flipkart", True), ood(1, "ddxplus", False)], {}),
    (OODGeneralization(reference=True), [ood(0, "flipkart", None)], {}),
]


@pytest.mark.parametrize(("task", "scored", "params"), CASES)
def test_task_aggregate_is_the_stored_aggregator(
    task: Task, scored: Scored, params: dict[str, Any]
) -> None:
    assert task.aggregator_params() == params
    assert json.loads(json.dumps(params)) == params  # written to scores.json as is
    assert task.aggregate(scored) == aggregate(task.aggregator, scored, task.aggregator_params())
    assert "aggregate" not in type(task).__dict__  # the class no longer computes its own


def test_perturbation_keys_unchanged() -> None:
    assert ADVINSTRUCTION_PERTURBATIONS == (
        "word_change", "letter_change", "one_url", "detail_url", "grammatical_error",
        "typos_3", "typos_4", "typos_5", "space_in_words", "latex_markdown", "html_others",
    )  # fmt: skip
