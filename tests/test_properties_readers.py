"""Property-based tests (issue 20 item 1): every reader and answer extractor takes any text.

A reader reads a model's (or a judge model's) free text into a label, an option, a number or a
verdict. Whatever the text -- arbitrary Unicode (control characters, right-to-left marks,
zero-width characters, combining marks, astral planes), answer-shaped fragments glued together,
or a megabyte -- a reader returns a value of its documented type, or its documented
"unreadable" marker (``None``, an ``unparsed`` / ``ambiguous`` / ``refused`` extraction,
``"Unknown"``, a reason string), and never raises. Where the documentation promises more, the
properties say so too: an answer that is exactly a valid option is read as that option, and
surrounding white space does not change what the extractors read.

The crashes these properties found are kept as explicit ``@example`` cases (see
``docs/reliability.md``, "Property-based tests").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from property_settings import props
from trustgauge.attacks._iterative import (
    AttackerReply,
    parse_attacker,
    parse_on_topic,
    parse_rating,
)
from trustgauge.attacks.crescendo import parse_refusal
from trustgauge.judges.correctness import answer_text, answer_tokens, normalize_answer
from trustgauge.judges.llm_judge import AnswerError, extract_json_object, parse_answer
from trustgauge.judges.rubrics import RUBRICS, harmbench_native_answer, strongreject_native_answer
from trustgauge.readers.answers import (
    CONFAIDE_PHRASES,
    NOT_ENOUGH_INFO,
    REFUTE,
    SUPPORT,
    Extraction,
    clean_response,
    extract_agreement,
    extract_choice,
    extract_fact_check,
    extract_label,
    extract_rating,
    extract_yes_no,
)
from trustgauge.readers.overlap import longest_common_substring, rouge_l_recall, words
from trustgauge.readers.refusal import classify, delivers_nothing, normalize
from trustgauge.tasks.fan2023._attack_common import keyword_refusal
from trustgauge.tasks.fan2023._bipia_checks import CHECKS, followed, task_done
from trustgauge.tasks.fan2023.contamination import clean_paraphrase
from trustgauge.tasks.fan2023.divergence import divergence_point
from trustgauge.tasks.fan2023.extraction import continuation_words, match_scores
from trustgauge.tasks.fan2023.generated_text_detection import clean_continuation
from trustgauge.tasks.fan2023.membership_inference import parse_label
from trustgauge.tasks.fan2023.pii_association import email_leak, phone_leak
from trustgauge.tasks.fan2023.pii_leakage import leaks
from trustgauge.tasks.fan2023.system_prompt_leakage import detect
from trustgauge.tasks.liu2023.causal import authors_letter, read_letter
from trustgauge.tasks.liu2023.copyright import read_name
from trustgauge.tasks.liu2023.fairness import OptionRead
from trustgauge.tasks.liu2023.fairness import read_option as fairness_option
from trustgauge.tasks.liu2023.hallucination import authors_option
from trustgauge.tasks.liu2023.hallucination import read_option as halu_option
from trustgauge.tasks.liu2023.miscalibration import Stated, parse_confidence
from trustgauge.tasks.liu2023.typo import read_yes_no
from trustgauge.tasks.trustllm.ethics.awareness_capability import awareness_letter_trustllm
from trustgauge.tasks.trustllm.ethics.emotional_awareness import (
    emotion_correct_trustllm,
    emotion_options,
)
from trustgauge.tasks.trustllm.ethics.explicit_low_ambiguity import moralchoice_letter_trustllm
from trustgauge.tasks.trustllm.ethics.implicit_ethics import ethics_answer, trustllm_ethics_asks_gpt
from trustgauge.tasks.trustllm.ethics.implicit_social_norm import social_norm_answer
from trustgauge.tasks.trustllm.fairness.disparagement import disparagement_option
from trustgauge.tasks.trustllm.fairness.stereotype_agreement import agreement_direct_trustllm
from trustgauge.tasks.trustllm.privacy.awareness_confaide import confaide_rating_trustllm
from trustgauge.tasks.trustllm.privacy.leakage import leakage_flags
from trustgauge.tasks.trustllm.robustness.advglue import advglue_answer
from trustgauge.tasks.trustllm.robustness.ood_generalization import (
    ddxplus_answer,
    ddxplus_candidates,
    trustllm_ddxplus_target,
)
from trustgauge.tasks.trustllm.truthfulness.hallucination import (
    halueval_answer_trustllm,
    mc_options,
    truthfulqa_letter_trustllm,
)
from trustgauge.tasks.trustllm.truthfulness.misinformation_external import extract_verdict
from trustgauge.tasks.trustllm.truthfulness.misinformation_internal import codah_answer

PROPS = props(100, HealthCheck.too_slow, HealthCheck.data_too_large)

# ------------------------------------------------------------------------------ strategies

#: characters that break naive readers: controls, bidi marks, zero-width, BOM, combining marks,
#: full-width letters (NFKC), line / paragraph separators, a lone escape, astral emoji
NASTY = (
    "\x00\x01\x07\x08\x1b\x7f\x85\t\r\n\x0b\x0c\u200b\u200c\u200d\u2060\ufeff\u202e\u202d"
    "\u2066\u2069\u061c\u200e\u200f\u0301\u0336\uff21\uff22\uff08\uff09\u2028\u2029\u00a0"
    "\u2019\u201c\u201d\u2212\u2014\U0001f600\U0001d7d3\u0663\u00bd\u2155\u2460\\"
)
#: answer-shaped fragments, so that the generator reaches the readers' rules, not only their
#: "nothing found" exits
FRAGMENTS = (
    "A", "B", "C", "D", "a", "(B)", "B)", "1", "0", "-50", "4/5", "3-4", "999999999999999999999",
    "1e309", "Answer: ", "The answer is ", "Final answer:", "ANS: ", "A: 80%", "B: 20%", "C: 0%",
    "yes", "Yes.", "No", "no", "agree", "disagree", "I don't agree", "Supports", "Refutes",
    "not enough info", "I'm sorry, but I can't", "As an AI", "[[", "]]", "[[10]]", "[[YES]]",
    "{", "}", '{"a": 1}', '"prompt": "', '{"score_value": "true"}', "```json\n", "```",
    "<think>", "</think>", "\\boxed{", "<answer>", "</answer>", "<name>", "</name>", "**",
    "#scores\n1.b 0\n2.b 4\n3.b 5", "Rating: ", "/", "out of", "diagnosis is ", "most likely ",
    "Positive", "negative", "maybe", "相同", "不同", "可能", "(1) Elated", "Option ", "@", ".",
    ",", "\n", " ", "wrong", "not wrong", "Women", "Refuse to answer", "[🔓JAILBREAK]",
)

_CHARS = st.characters(exclude_categories=("Cs",))  # any code point a str can hold in UTF-8
texts = st.one_of(
    st.text(_CHARS, max_size=200),
    st.text(st.sampled_from(NASTY), max_size=40),
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text(st.sampled_from(NASTY), max_size=3)),
        max_size=25,
    ).map("".join),
)
STATUSES = {"parsed", "unparsed", "ambiguous", "refused"}


# ------------------------------------------------------------------------------ the readers


def _extraction(allowed: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def check(result: Any) -> bool:
        if not isinstance(result, Extraction) or result.status not in STATUSES:
            return False
        if result.status == "parsed":
            return result.value is not None and allowed(result.value)
        return result.value is None

    return check


def _one_of(*values: Any) -> Callable[[Any], bool]:
    return lambda v: v in values


def _optional(*values: Any) -> Callable[[Any], bool]:
    return lambda v: v is None or v in values


def _is(kind: type | tuple[type, ...]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, kind)


def _unit_float(v: Any) -> bool:
    return isinstance(v, float) and 0.0 <= v <= 1.0


def _float_dict(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(x, float) and math.isfinite(x) for x in v.values())


def _rating_in(low: float, high: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, float) and low <= v <= high


_FAIRNESS_OPTIONS = {"A": "Women", "B": "Men", "C": "Refuse to answer"}
_PERSON = {
    "email": "ada.lovelace@example.org",
    "phone": "+44 20 7946 0958",
    "street": "12 Analytical Engine Road",
    "zip": "NW1 2AB",
    "iban": "GB82WEST12345698765432",
}
_DDX = ["GERD", "Guillain-Barré syndrome", "Pneumonia"]
_EMOTIONS = {"1": "Elated", "2": "Sad", "3": "Angry", "4": "Calm"}

#: name -> (reader of one text, property of its result)
READERS: Mapping[str, tuple[Callable[[str], Any], Callable[[Any], bool]]] = {
    # readers/answers.py
    "clean_response": (clean_response, _is(str)),
    "extract_choice": (extract_choice, _extraction(_one_of("A", "B", "C", "D"))),
    "extract_choice[digits]": (
        lambda t: extract_choice(t, options=("0", "1", "2", "3")),
        _extraction(_one_of("0", "1", "2", "3")),
    ),
    "extract_choice[words+texts]": (
        lambda t: extract_choice(t, options=("A", "B", "none"), option_texts={"A": "Paris", "B": "Paris, Texas"}),
        _extraction(_one_of("A", "B", "none")),
    ),
    "extract_yes_no": (extract_yes_no, _extraction(_one_of("yes", "no"))),
    "extract_agreement": (extract_agreement, _extraction(_one_of("agree", "disagree"))),
    "extract_fact_check": (extract_fact_check, _extraction(_one_of(SUPPORT, REFUTE))),
    "extract_fact_check[nei]": (
        lambda t: extract_fact_check(t, not_enough_info=True),
        _extraction(_one_of(SUPPORT, REFUTE, NOT_ENOUGH_INFO)),
    ),
    "extract_label": (
        lambda t: extract_label(t, ("positive", "neutral", "negative"), synonyms={"negative": ["bad"]}),
        _extraction(_one_of("positive", "neutral", "negative")),
    ),
    "extract_rating[1-5]": (lambda t: extract_rating(t, 1, 5), _extraction(_rating_in(1, 5))),
    "extract_rating[confaide]": (
        lambda t: extract_rating(t, -100, 100, phrases=CONFAIDE_PHRASES),
        _extraction(_rating_in(-100, 100)),
    ),
    # readers/refusal.py, readers/overlap.py
    "refusal.classify": (
        classify,
        lambda v: isinstance(v, tuple) and v[0] in ("refusal", "compliance") and 0.0 <= v[1] <= 1.0 and isinstance(v[2], str),
    ),
    "refusal.normalize": (normalize, _is(str)),
    "refusal.delivers_nothing": (delivers_nothing, _is(bool)),
    "overlap.words": (words, lambda v: isinstance(v, list) and all(isinstance(w, str) and w for w in v)),
    "overlap.rouge_l_recall": (lambda t: rouge_l_recall(t, "the cat sat on the mat"), _unit_float),
    "overlap.longest_common_substring": (
        lambda t: longest_common_substring(t[:2000], "Ada Lovelace 12 Analytical"),
        lambda v: isinstance(v, int) and 0 <= v <= 26,
    ),
    # judges: LLM judge replies, rubric native formats, correctness
    "llm_judge.extract_json_object": (extract_json_object, lambda v: v is None or isinstance(v, dict)),
    "rubrics.strongreject_native_answer": (strongreject_native_answer, lambda v: v is None or isinstance(v, dict)),
    "rubrics.harmbench_native_answer": (harmbench_native_answer, lambda v: v is None or v["label"] in ("yes", "no")),
    "correctness.normalize_answer": (normalize_answer, _is(str)),
    "correctness.answer_tokens": (answer_tokens, _is(list)),
    "correctness.answer_text": (answer_text, _is(str)),
    # attacks: PAIR/TAP attacker and judge replies, Crescendo's refusal check
    "pair.parse_attacker": (
        parse_attacker,
        lambda v: isinstance(v, AttackerReply) and v.how in ("json", "truncated", "raw", "empty"),
    ),
    "pair.parse_rating": (parse_rating, lambda v: v is None or (isinstance(v, int) and 1 <= v <= 10)),
    "tap.parse_on_topic": (parse_on_topic, _optional(True, False)),
    "crescendo.parse_refusal": (parse_refusal, _optional(True, False)),
    # Liu et al. (tasks/liu2023)
    "liu.copyright.read_name": (read_name, lambda v: v is None or (isinstance(v, str) and v != "")),
    "liu.hallucination.read_option": (lambda t: halu_option(t, "Paris", "Lyon"), _optional("A", "B")),
    "liu.hallucination.authors_option": (lambda t: authors_option(t, davinci=True), _is(str)),
    "liu.causal.read_letter": (read_letter, _optional("A", "B")),
    "liu.causal.authors_letter": (authors_letter, _is(str)),
    "liu.fairness.read_option": (
        lambda t: fairness_option(t, _FAIRNESS_OPTIONS),
        lambda v: isinstance(v, OptionRead) and v.letter in (None, "A", "B", "C") and isinstance(v.rule, str),
    ),
    "liu.typo.read_yes_no": (read_yes_no, _optional("yes", "no")),
    "liu.miscalibration.parse_confidence": (
        parse_confidence,
        lambda v: isinstance(v, str)
        or (isinstance(v, Stated) and v.letter in "ABC" and all(0 <= c <= 1 for c in v.confidence.values())),
    ),
    # Fan et al. (tasks/fan2023)
    "fan.keyword_refusal": (keyword_refusal, _one_of(0.0, 1.0)),
    "fan.bipia.followed": (
        lambda t: [followed(check, t, ideal="Paris") for check in CHECKS.values()],
        lambda v: all(isinstance(x, bool) for x in v),
    ),
    "fan.bipia.task_done": (
        lambda t: [task_done(task, t, "The total is $12.50", ["x = 1"]) for task in ("email", "table", "code")],
        lambda v: all(isinstance(x, bool) for x in v),
    ),
    "fan.contamination.clean_paraphrase": (lambda t: clean_paraphrase(t, "The cat sat."), lambda v: v is None or isinstance(v, str)),
    "fan.divergence_point": (lambda t: divergence_point(t, "poem"), lambda v: v.repeats >= 0),
    "fan.extraction.continuation_words": (lambda t: continuation_words(t, "It was the best"), _is(list)),
    "fan.extraction.match_scores": (lambda t: match_scores(t, "It was the best", "of times"), _float_dict),
    "fan.generated.clean_continuation": (lambda t: clean_continuation(t, "Once upon a time"), _is(str)),
    "fan.membership.parse_label": (parse_label, _optional(True, False)),
    "fan.pii_association.email_leak": (
        lambda t: email_leak(t, "0" * 64, "1" * 64, "2" * 64),
        lambda v: all(isinstance(x, bool) for x in v),
    ),
    "fan.pii_association.phone_leak": (lambda t: phone_leak(t, "0" * 64, 10), _is(bool)),
    "fan.pii_leakage.leaks": (
        lambda t: [leaks(t, _PERSON, pii) for pii in ("email", "phone", "address", "account")],
        lambda v: all(isinstance(a, bool) and isinstance(b, bool) for a, b in v),
    ),
    "fan.system_prompt_leakage.detect": (
        lambda t: detect(t[:20_000], "You are a helpful bank assistant.", "CANARY-7f3a"),
        lambda v: isinstance(v.leaked, bool),
    ),
    # TrustLLM (tasks/trustllm)
    "trustllm.extract_verdict": (extract_verdict, _optional("SUPPORT", "REFUTE")),
    "trustllm.codah_answer": (codah_answer, lambda v: v is None or isinstance(v, str)),
    "trustllm.halueval_answer": (halueval_answer_trustllm, lambda v: v is None or isinstance(v, str)),
    "trustllm.truthfulqa_letter": (truthfulqa_letter_trustllm, lambda v: v is None or isinstance(v, str)),
    "trustllm.mc_options": (mc_options, _is(dict)),
    "trustllm.advglue_answer": (
        lambda t: [advglue_answer(t, task) for task in ("sst2", "qqp", "mnli", "qnli")],
        lambda v: all(x in ("Positive", "Negative", "Maybe", "Unknown") for x in v),
    ),
    "trustllm.ddxplus_answer": (lambda t: ddxplus_answer(t, _DDX), _extraction(_one_of(*_DDX))),
    "trustllm.ddxplus_candidates": (ddxplus_candidates, lambda v: v is None or isinstance(v, list)),
    "trustllm.ddxplus_target": (trustllm_ddxplus_target, lambda v: v is None or isinstance(v, str)),
    "trustllm.agreement_direct": (agreement_direct_trustllm, lambda v: v is None or isinstance(v, str)),
    "trustllm.disparagement_option": (disparagement_option, _is(int)),
    "trustllm.leakage_flags": (
        lambda t: leakage_flags(t, "ada@example.org"),
        lambda v: all(isinstance(x, bool) for x in v),
    ),
    "trustllm.confaide_rating": (confaide_rating_trustllm, lambda v: v is None or isinstance(v, float)),
    "trustllm.ethics_answer": (ethics_answer, lambda v: v is None or isinstance(v, str)),
    "trustllm.ethics_asks_gpt": (trustllm_ethics_asks_gpt, _is(bool)),
    "trustllm.emotion_options": (emotion_options, _is(dict)),
    "trustllm.emotion_correct": (lambda t: emotion_correct_trustllm(t, "2", _EMOTIONS), _is(bool)),
    "trustllm.moralchoice_letter": (lambda t: moralchoice_letter_trustllm(t, "A"), _is(bool)),
    "trustllm.social_norm_answer": (social_norm_answer, lambda v: v is None or isinstance(v, str)),
    "trustllm.awareness_letter": (awareness_letter_trustllm, _is(list)),
}


@pytest.mark.parametrize("name", sorted(READERS))
@PROPS
@given(text=texts)
@example(text="[[" + "9" * 400 + "]]")  # crash found: float("9"*400) is inf, int(inf) raised
@example(text='{"a":' * 3000 + "1" + "}" * 3000)  # crash found: RecursionError (PAIR, Crescendo)
@example(text="{" * 5000 + "}")
@example(text="\x00\u202e\u200b")
def test_any_text_reads_to_the_documented_type(name: str, text: str) -> None:
    read, holds = READERS[name]
    result = read(text)
    assert holds(result), f"{name}({text!r}) -> {result!r}"


@PROPS
@given(text=texts)
def test_llm_judge_replies_are_read_or_refused_with_answer_error(text: str) -> None:
    """``parse_answer`` (every rubric): a label and a score, or :class:`AnswerError` (the reply
    is re-asked); never another exception."""
    for rubric in RUBRICS.values():
        try:
            label, score = parse_answer(rubric, text)
        except AnswerError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        assert isinstance(label, str)
        assert score is None or (isinstance(score, float) and math.isfinite(score))


# ------------------------------------------------------------------------------ invariants

_WHITESPACE = st.text(st.sampled_from(" \t\n\r\u00a0\u2028\u3000"), max_size=6)


@PROPS
@given(option=st.sampled_from(["A", "B", "C", "D"]), before=_WHITESPACE, after=_WHITESPACE)
def test_an_answer_that_is_exactly_an_option_is_read_as_that_option(option: str, before: str, after: str) -> None:
    read = extract_choice(before + option + after)
    assert (read.status, read.value) == ("parsed", option)


@PROPS
@given(
    label=st.sampled_from(["yes", "no", "Yes", "NO"]),
    before=_WHITESPACE,
    after=_WHITESPACE,
)
def test_a_bare_yes_or_no_is_read(label: str, before: str, after: str) -> None:
    read = extract_yes_no(before + label + after)
    assert (read.status, read.value) == ("parsed", label.lower())
    assert read_yes_no(before + label + after) == label.lower()


@PROPS
@given(value=st.integers(min_value=1, max_value=5), before=_WHITESPACE, after=_WHITESPACE)
def test_a_bare_rating_in_range_is_read(value: int, before: str, after: str) -> None:
    read = extract_rating(f"{before}{value}{after}", 1, 5)
    assert (read.status, read.value) == ("parsed", float(value))


@PROPS
@given(option=st.sampled_from(sorted(_FAIRNESS_OPTIONS)), before=_WHITESPACE, after=_WHITESPACE)
def test_liu_fairness_reads_a_bare_option_letter_and_its_text(option: str, before: str, after: str) -> None:
    assert fairness_option(before + option + after, _FAIRNESS_OPTIONS).letter == option
    assert fairness_option(before + _FAIRNESS_OPTIONS[option] + after, _FAIRNESS_OPTIONS).letter == option


@PROPS
@given(text=texts, before=_WHITESPACE, after=_WHITESPACE)
def test_extractors_ignore_surrounding_white_space(text: str, before: str, after: str) -> None:
    """The extractors read :func:`clean_response`'s text, which is stripped: white space around
    a response changes nothing (value, status and span)."""
    padded = before + text + after
    assert clean_response(padded) == clean_response(text)
    for read in (
        extract_choice,
        extract_yes_no,
        extract_agreement,
        extract_fact_check,
        lambda t: extract_rating(t, 1, 5),
    ):
        a, b = read(text), read(padded)
        assert (a.value, a.status, a.span, a.candidates) == (b.value, b.status, b.span, b.candidates)


@PROPS
@given(rating=st.integers(min_value=1, max_value=10), before=_WHITESPACE)
def test_pair_rating_in_brackets_is_read(rating: int, before: str) -> None:
    assert parse_rating(f"{before}Rating: [[{rating}]]") == rating


@PROPS
@given(text=texts)
def test_clean_response_is_idempotent(text: str) -> None:
    once = clean_response(text)
    assert clean_response(once) == once or clean_response(clean_response(once)) == clean_response(once)
