"""SQuAD exact match / token F1, containment, and the correctness judge."""

from __future__ import annotations

import asyncio
import json

import pytest

from trustgauge.judges import JudgeItem, create_judge
from trustgauge.judges.correctness import (
    SquadCorrectnessJudge,
    answer_text,
    answer_tokens,
    contains_answer,
    exact_match,
    normalize_answer,
    score_answer,
    token_f1,
)

# ----------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The Eiffel Tower", "eiffel tower"),
        ("  an  apple,  a PEAR!  ", "apple pear"),
        ("Theatre", "theatre"),  # "the" only as a whole word
        ("U.S.A.", "usa"),  # punctuation removed, not replaced by a space
        ("rock-and-roll", "rockandroll"),
        ("A", ""),
        ("the the the", ""),
        ("café «quoted»", "café «quoted»"),  # only ASCII punctuation, as in the script
        ("1,000 km", "1000 km"),
        ("Line\nbreak\ttab", "line break tab"),
    ],
)
def test_normalize_answer_is_squads(text: str, normalised: str) -> None:
    assert normalize_answer(text) == normalised


def test_answer_tokens() -> None:
    assert answer_tokens("") == []
    assert answer_tokens("The cat sat on a mat.") == ["cat", "sat", "on", "mat"]


# ----------------------------------------------------------------------------- EM and F1


@pytest.mark.parametrize(
    ("prediction", "gold", "em"),
    [
        ("Paris", "Paris", 1.0),
        ("paris.", "Paris", 1.0),
        ("The Paris", "Paris", 1.0),
        ("Paris, France", "Paris", 0.0),
        ("London", ["Paris", "London"], 1.0),
        ("Berlin", ["Paris", "London"], 0.0),
        ("", "", 1.0),
    ],
)
def test_exact_match(prediction: str, gold: str | list[str], em: float) -> None:
    assert exact_match(prediction, gold) == em


@pytest.mark.parametrize(
    ("prediction", "gold", "f1"),
    [
        # identical after normalisation
        ("The Eiffel Tower", "eiffel tower", 1.0),
        # pred [capital, of, france, is, paris], gold [paris]: 1 shared,
        # P = 1/5, R = 1/1, F1 = 2*(1/5)*1 / (1/5 + 1) = (2/5) / (6/5) = 1/3
        ("The capital of France is Paris.", "Paris", 1 / 3),
        # pred [albert, einstein], gold [einstein]: P = 1/2, R = 1, F1 = 1 / 1.5 = 2/3
        ("Albert Einstein", "Einstein", 2 / 3),
        # pred [new, york, city], gold [new, york]: 2 shared, P = 2/3, R = 1,
        # F1 = 2*(2/3) / (5/3) = 4/5
        ("New York City", "New York", 0.8),
        # pred [big, red, dog], gold [small, red, cat]: 1 shared, P = R = 1/3, F1 = 1/3
        ("big red dog", "small red cat", 1 / 3),
        # multiset: pred [a?] -> [new, new, york], gold [new, york]: shared min counts
        # new: min(2,1) = 1, york: 1 -> 2 shared; P = 2/3, R = 1, F1 = 0.8
        ("new new york", "new york", 0.8),
        # no shared token
        ("London", "Paris", 0.0),
        # max over golds: vs "Einstein" 2/3, vs "Albert Einstein" 1
        ("Albert Einstein", ["Einstein", "Albert Einstein"], 1.0),
        # an empty prediction against a non-empty gold, and both empty
        ("", "Paris", 0.0),
        ("", "", 1.0),
        # a gold that normalises to nothing is ignored when another gold exists
        ("Paris", ["the", "Paris"], 1.0),
    ],
)
def test_token_f1(prediction: str, gold: str | list[str], f1: float) -> None:
    assert token_f1(prediction, gold) == pytest.approx(f1)


def test_only_empty_golds_count_as_no_answer() -> None:
    # SQuAD v2: if every gold normalises to nothing, the gold is the empty answer
    assert exact_match("", ["a", "the"]) == 1.0
    assert token_f1("Paris", ["a", "the"]) == 0.0


# ----------------------------------------------------------------------------- containment


@pytest.mark.parametrize(
    ("prediction", "gold", "contained"),
    [
        ("The capital of France is Paris.", "Paris", True),
        ("It was built for the 1889 World's Fair.", "1889 World's Fair", True),
        ("The Parisian café", "Paris", False),  # whole tokens only
        ("It is not Paris.", "Paris", False),  # directly negated
        ("It isn't Paris, it is Lyon.", "Paris", False),
        ("Not London but Paris.", "Paris", True),
        ("Tower Eiffel", "Eiffel Tower", False),  # order matters
        ("anything", "the", False),  # a gold that normalises to nothing never matches
        ("It is in Lyon.", ["Paris", "Lyon"], True),
    ],
)
def test_contains_answer(prediction: str, gold: str | list[str], contained: bool) -> None:
    assert contains_answer(prediction, gold) is contained


# ----------------------------------------------------------------------------- answer text


@pytest.mark.parametrize(
    ("response", "text"),
    [
        ("Paris", "Paris"),
        ("Answer: Paris", "Paris"),
        ("**Answer:** Paris\n\nExplanation: it is the capital.", "Paris"),
        ("Let me think.\nAnswer:\nParis\nBecause ...", "Paris"),
        ("Answer: London. Wait. Answer: Paris.", "Paris."),
        ("<think>London?</think>The capital is Paris.", "The capital is Paris."),
        ("Answer:", ""),
    ],
)
def test_answer_text(response: str, text: str) -> None:
    assert answer_text(response) == text


def test_score_answer_records_the_deciding_gold() -> None:
    result = score_answer("Answer: the Eiffel Tower", ["Louvre", "Eiffel Tower"])
    assert (result.em, result.f1, result.containment, result.gold) == (
        1.0,
        1.0,
        True,
        "Eiffel Tower",
    )
    assert result.prediction == "the Eiffel Tower"
    # F1 decides when neither EM nor containment holds: vs "New York" 0.8, vs "Boston" 0
    result = score_answer("New York City", ["Boston", "New York"], containment=False)
    assert (result.em, result.containment, result.gold) == (0.0, False, "New York")
    assert result.f1 == pytest.approx(0.8)


# ----------------------------------------------------------------------------- the judge


def _judge(
    judge: SquadCorrectnessJudge, response: str, reference: object
) -> tuple[str, float | None, str]:
    (j,) = asyncio.run(judge.judge([JudgeItem(response=response, reference=reference)]))
    assert j.raw is not None
    return j.label, j.score, j.raw


def test_judge_identity_and_registry() -> None:
    judge = create_judge("correctness")
    assert isinstance(judge, SquadCorrectnessJudge)
    assert (judge.kind, judge.name, judge.version, judge.id) == (
        "correctness",
        "squad",
        "1",
        "squad@1",
    )
    assert create_judge("correctness", "squad", threshold=0.8).threshold == 0.8  # type: ignore[attr-defined]


def test_judge_exact_match() -> None:
    label, score, raw = _judge(SquadCorrectnessJudge(), "Paris.", "Paris")
    assert (label, score) == ("correct", 1.0)
    assert json.loads(raw) == {"em": 1, "f1": 1.0, "containment": True, "gold": "Paris"}


def test_judge_containment_in_a_sentence() -> None:
    judge = SquadCorrectnessJudge()
    label, score, raw = _judge(judge, "The capital of France is Paris.", ["Paris"])
    assert (label, score) == ("correct", 1.0)
    assert json.loads(raw) == {"em": 0, "f1": 0.3333, "containment": True, "gold": "Paris"}
    # without containment, F1 1/3 < 0.5 -> incorrect, score = F1
    strict = SquadCorrectnessJudge(containment=False)
    label, score, raw = _judge(strict, "The capital of France is Paris.", ["Paris"])
    assert label == "incorrect"
    assert score == pytest.approx(1 / 3)
    assert json.loads(raw)["containment"] is False


def test_judge_threshold_on_token_f1() -> None:
    # "New York City" vs "New York": F1 0.8, no containment ("new york" is contained -> off)
    strict = SquadCorrectnessJudge(containment=False)
    label, score, _ = _judge(strict, "New York City", "New York")
    assert label == "correct"
    assert score == pytest.approx(0.8)
    stricter = SquadCorrectnessJudge(threshold=0.9, containment=False)
    assert _judge(stricter, "New York City", "New York")[0] == "incorrect"
    # at the threshold counts: "Albert Einstein" vs "Einstein" F1 = 2/3
    at = SquadCorrectnessJudge(threshold=2 / 3, containment=False)
    assert _judge(at, "Albert Einstein", "Einstein")[0] == "correct"


def test_judge_list_of_golds_uses_the_best() -> None:
    label, score, raw = _judge(SquadCorrectnessJudge(), "Answer: London", ["Paris", "London"])
    assert (label, score) == ("correct", 1.0)
    assert json.loads(raw)["gold"] == "London"


def test_judge_wrong_answer() -> None:
    label, score, raw = _judge(SquadCorrectnessJudge(), "Answer: Berlin", ["Paris", "London"])
    assert (label, score) == ("incorrect", 0.0)
    assert json.loads(raw) == {"em": 0, "f1": 0.0, "containment": False, "gold": "Paris"}


@pytest.mark.parametrize("response", ["", "   ", "Answer:", "...", "**  **"])
def test_judge_empty_response_is_unparsed(response: str) -> None:
    label, score, raw = _judge(SquadCorrectnessJudge(), response, "Paris")
    assert (label, score) == ("unparsed", None)
    assert json.loads(raw)["rule"] == "empty"


def test_judge_refusal() -> None:
    label, score, raw = _judge(
        SquadCorrectnessJudge(), "I'm sorry, but I can't help with that.", "Paris"
    )
    assert (label, score) == ("refused", 0.0)
    assert json.loads(raw)["refusal"] == "apology"


def test_judge_refusal_that_still_answers_is_correct() -> None:
    response = "I'm sorry, I can't be completely certain, but I believe it is Paris."
    assert _judge(SquadCorrectnessJudge(), response, "Paris")[0] == "correct"


def test_judge_numeric_reference() -> None:
    # CODAH-style integer golds are compared as strings
    assert _judge(SquadCorrectnessJudge(), "Answer: 2", 2)[0] == "correct"


@pytest.mark.parametrize("reference", [None, [], {"text": "Paris"}])
def test_judge_needs_a_reference(reference: object) -> None:
    with pytest.raises(ValueError, match="reference"):
        asyncio.run(SquadCorrectnessJudge().judge([JudgeItem(response="x", reference=reference)]))


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_judge_rejects_bad_threshold(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        SquadCorrectnessJudge(threshold=threshold)


def test_judge_batch_keeps_order() -> None:
    items = [
        JudgeItem(response="Paris", reference="Paris"),
        JudgeItem(response="", reference="Paris"),
        JudgeItem(response="Berlin", reference="Paris"),
        JudgeItem(response="I cannot answer that.", reference="Paris"),
        JudgeItem(response="It is Lyon, I think.", reference=["Paris", "Lyon"]),
    ]
    judgements = asyncio.run(SquadCorrectnessJudge().judge(items))
    assert [j.label for j in judgements] == [
        "correct",
        "unparsed",
        "incorrect",
        "refused",
        "correct",
    ]
    assert {j.judge for j in judgements} == {"squad@1"}
    assert all(j.raw is not None and json.loads(j.raw) for j in judgements)
    assert asyncio.run(SquadCorrectnessJudge().judge([])) == []
