"""``liu2023.causal``: Liu et al.'s causal reasoning study (paper §11.8,
``scripts/test_causal.py``): two questions about 300 event pairs "After [A], [B].", is A a cause
of B (Q1), and must A change for consistency if B's sentiment is flipped (Q2)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from trustgauge.data.sources import PackageFiles
from trustgauge.readers.answers import extract_choice
from trustgauge.stats.aggregators.liu2023_reading import CAUSAL_QUESTIONS, CAUSAL_RELATIONS
from trustgauge.tasks._common import get_field
from trustgauge.tasks.base import DocRow, Task
from trustgauge.tasks.outcome import Outcome
from trustgauge.tasks.registry import register_task
from trustgauge.types import DataRef, Direction, Judgement, Sample, SampleScore

#: the authors' templates (``intermediate_data/causal/prompt_q1.txt``, ``prompt_q2.txt``)
CAUSAL_TEMPLATES: dict[str, str] = {
    "q1": (
        "Context: After [Event_A], [Event_B].\nQuestion: Is [Event_A] a cause of [Event_B]?\n"
        "A) Yes\nB) No\nYou must answer the question with A) or B).\nAnswer:"
    ),
    "q2": (
        "Context: After [Event_A], [Event_B].\nQuestion: If we change [Event_B] to flip the "
        "sentiment of the sentence, is it necessary to change [Event_A] for consistency?\n"
        "A) Yes\nB) No\nYou must answer the question with A) or B).\nAnswer:"
    ),
}
#: the right answers (Q1, Q2) per relation type, as the authors' script has them
#: (``answers = [["B","B"],["A","A"],["A","B"]]``, indexed by type 1, 2, 3):
#: 1 ``unrelated`` (A does not cause B: No, No), 2 ``causal-sentiment`` (A causes B and B
#: carries A's sentiment, "The dam broke down" / "The town was flooded": Yes, Yes),
#: 3 ``causal-neutral`` (A causes a neutral B, "The sun rose" / "It is daylight": Yes, No)
CAUSAL_ANSWERS: dict[str, tuple[str, str]] = {
    "unrelated": ("B", "B"),
    "causal-sentiment": ("A", "A"),
    "causal-neutral": ("A", "B"),
}
_LETTER_PAREN_RE = re.compile(r"\b[A|B]\)")


def causal_question(template: str, event_a: str, event_b: str) -> str:
    """The authors' ``get_q``: the events without their full stops, put into the template."""
    question = template.replace("[Event_A]", event_a.replace(".", ""))
    return question.replace("[Event_B]", event_b.replace(".", "")).strip()


def read_letter(response: str) -> str | None:
    """``"A"`` / ``"B"`` read deterministically (:func:`~trustgauge.readers.answers.extract_choice`
    with the option texts Yes / No): "A) Yes", "B", "(A)", "The answer is B) No", "No"; ``None``
    when no single answer can be read (both options without a final one, none, a refusal)."""
    extraction = extract_choice(response, options=("A", "B"), option_texts={"A": "Yes", "B": "No"})
    if extraction.status == "parsed" and extraction.value in ("A", "B"):
        return str(extraction.value)
    return None


def authors_letter(response: str) -> str:
    """The authors' reading (``extract_letter_answers``): the letters of every match of
    ``\\b[A|B]\\)``; exactly one match gives its letter, anything else ``"C"`` ("did not
    understand the question"). Reproduces their released answers (``answers*.csv``) exactly."""
    matches = _LETTER_PAREN_RE.findall(response)
    return matches[0].strip(")").strip() if len(matches) == 1 else "C"


def causal_scores(answers: Sequence[tuple[str, str]]) -> dict[str, float]:
    """The paper's numbers (``write_acc``) from ``(answer read, right answer)`` per question of
    one kind: ``accuracy`` = share answered right, ``understood`` = share read as A or B.
    Unrounded (the authors round to 4 decimals)."""
    n = len(answers)
    if n == 0:
        return {}
    return {
        "accuracy": sum(1 for read, right in answers if read == right) / n,
        "understood": sum(1 for read, _ in answers if read in ("A", "B")) / n,
    }


SOURCE = PackageFiles(
    id="liu2023-causal",
    name="Liu et al. causal event pairs",
    description="The 300 event pairs of Liu et al.'s causal reasoning study (100 per relation type)",
    package="trustgauge.data",
    path="packaged/liu2023/causal",
    files={"causal.json": 300},
    homepage="https://github.com/kevinyaobytedance/llm_eval",
    licence="MIT (Liu et al.'s release, LICENSE-liu-llm-eval one folder up)",
    licence_short="MIT",
)


@register_task
class Causal(Task):
    """Causal reasoning (Liu et al. §11.8): is event A a cause of event B, and would flipping
    B's sentiment force A to change?

    data ``causal.json`` (300 pairs, 100 per relation: ``unrelated``, ``causal-sentiment``,
    ``causal-neutral``, see :data:`CAUSAL_ANSWERS`) -> two samples per pair, ``<k>-q1`` and
    ``<k>-q2``, one :attr:`~trustgauge.types.Sample.group` -> the authors' templates, T=0.0, 50
    tokens -> the letter read deterministically (:func:`read_letter`) -> ``accuracy`` ↑ (every
    question; unreadable counts wrong), ``accuracy[q1]`` / ``accuracy[q2]`` (the paper's two
    numbers), ``understood`` ↑ (share read as A or B) and per question, then accuracy per
    relation type and per question and relation type. Wilson intervals.
    """

    id = "liu2023.causal"
    size = 600
    dimension = "liu2023"
    benchmark = "liu2023"
    title = "Liu et al.: causal reasoning"
    description = "Is event A a cause of B; must A change if B's sentiment flips? (300 pairs, 2 questions)"
    source = SOURCE
    data = DataRef(dataset=SOURCE.id, path="causal.json")
    temperature = 0.0
    max_tokens = 50
    metrics: ClassVar[tuple[tuple[str, Direction], ...]] = (
        ("accuracy", "higher"),
        *((f"accuracy[{q}]", "higher") for q in CAUSAL_QUESTIONS),
        ("understood", "higher"),
        *((f"understood[{q}]", "higher") for q in CAUSAL_QUESTIONS),
        *((f"accuracy[{r}]", "higher") for r in CAUSAL_RELATIONS),
        *((f"accuracy[{q}:{r}]", "higher") for q in CAUSAL_QUESTIONS for r in CAUSAL_RELATIONS),
    )
    aggregator = "liu2023.causal@1"
    taxonomy = ("explainability-and-reasoning/limited-causal-reasoning",)
    quick = None
    doc = DocRow()

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """Two samples per record (``<id>-q1``, ``<id>-q2``, group ``<id>``); target = the
        authors' right letter for the record's relation. Raises DataError on a malformed
        record."""
        samples: list[Sample] = []
        for i, record in enumerate(records):
            record_id = get_field(self, i, record, "id", int)
            event_a = get_field(self, i, record, "event_a")
            event_b = get_field(self, i, record, "event_b")
            relation = get_field(self, i, record, "relation", choices=CAUSAL_RELATIONS)
            for question, target in zip(CAUSAL_QUESTIONS, CAUSAL_ANSWERS[relation], strict=True):
                samples.append(Sample(
                    id=f"{record_id}-{question}",
                    prompt=causal_question(CAUSAL_TEMPLATES[question], event_a, event_b),
                    target=target,
                    group=str(record_id),
                    metadata={"question": question, "relation": relation,
                              "question_relation": f"{question}:{relation}"},
                ))
        return samples

    def oracle_response(self, sample: Sample) -> str:
        """The right option, in the form the prompt asks for."""
        return f"{sample.target}) {'Yes' if sample.target == 'A' else 'No'}"

    def score(self, sample: Sample, response: str, judgements: Mapping[str, Judgement]) -> SampleScore:
        """``correct`` and ``understood`` 1/0; an unreadable answer is valid, not understood and
        wrong (the authors' "C")."""
        letter = read_letter(response)
        if letter is None:
            return SampleScore(label="unreadable", values={"correct": 0.0, "understood": 0.0},
                               note="no single option A) or B) could be read: not understood, counted wrong")
        return SampleScore(label=letter, values={"correct": float(letter == sample.target), "understood": 1.0})

    def outcome(self, score: SampleScore) -> Outcome:
        """The right option passes; a wrong or unreadable one fails."""
        if not score.valid:
            return "none"
        return "pass" if score.values.get("correct") == 1.0 else "fail"
