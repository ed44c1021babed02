"""liu2023.causal: Liu et al.'s event pairs, both questions, read deterministically; and the
paper's numbers reproduced from the authors' released answers (hand-computed expectations)."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from _scripts import SCRIPTS, load_script
from trustgauge.data import load_records, packaged_path
from trustgauge.errors import DataError
from trustgauge.stats.aggregators import aggregate
from trustgauge.tasks.liu2023.causal import (
    CAUSAL_ANSWERS,
    CAUSAL_TEMPLATES,
    Causal,
    authors_letter,
    causal_question,
    causal_scores,
    read_letter,
)
from trustgauge.tasks.registry import TASKS
from trustgauge.types import Sample, SampleScore

FOLDER = packaged_path("liu2023/causal")


def repro_module(study: str) -> ModuleType:
    """``scripts/liu2023_repro/<study>.py`` as a module."""
    name = f"liu2023_repro_{study}"
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / "liu2023_repro" / f"{study}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _samples() -> list[Sample]:
    records, _ = load_records(FOLDER, "causal.json")
    return Causal().samples(records)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("A) Yes", "A"),
        ("B) No", "B"),
        ("B", "B"),
        ("(A)", "A"),
        ("No", "B"),  # the option's text
        ("Yes, it is the cause.", "A"),
        ("You must answer the question with A) or B).\n\nThe answer is B).", "B"),
        ("A) or B)", None),
        ("The answer is not necessary to change the first event.", None),
        ("", None),
    ],
)
def test_read_letter(response: str, expected: str | None) -> None:
    assert read_letter(response) == expected


def test_authors_letter_needs_exactly_one_letter_with_a_parenthesis() -> None:
    assert authors_letter("B) No") == "B"
    assert authors_letter("The answer is A).") == "A"
    assert authors_letter("A) Yes\nB) No") == "C"  # two matches: "did not understand"
    assert authors_letter("B") == "C"  # no parenthesis
    assert authors_letter("No") == "C"
    assert authors_letter("CB) x") == "C"  # \b: B inside a word does not count


def test_causal_scores_by_hand() -> None:
    # read A right, C (not understood) where B was right, B where A was right
    assert causal_scores([("A", "A"), ("C", "B"), ("B", "A")]) == {"accuracy": 1 / 3, "understood": 2 / 3}
    assert causal_scores([]) == {}


def test_question_is_the_authors_get_q() -> None:
    q1 = causal_question(CAUSAL_TEMPLATES["q1"], "The dam broke down.", "The town was flooded")
    assert q1 == (
        "Context: After The dam broke down, The town was flooded.\nQuestion: Is The dam broke down a "
        "cause of The town was flooded?\nA) Yes\nB) No\nYou must answer the question with A) or B).\nAnswer:"
    )


def test_templates_are_the_authors_files(shared_data: Path) -> None:
    folder = shared_data / "liu-llm-eval" / "intermediate_data" / "causal"
    for q in ("q1", "q2"):
        assert CAUSAL_TEMPLATES[q] == (folder / f"prompt_{q}.txt").read_text(encoding="utf-8").strip()


def test_samples_pair_both_questions_with_the_right_answers() -> None:
    samples = _samples()
    assert len(samples) == 600 == Causal.size == TASKS["liu2023.causal"].size
    assert samples[0].id == "0-q1" and samples[1].id == "0-q2" and samples[0].group == samples[1].group == "0"
    assert Counter(s.metadata["relation"] for s in samples) == {
        "unrelated": 200, "causal-sentiment": 200, "causal-neutral": 200,
    }
    # first pair: raining / lottery, unrelated: B, B; "The dam broke down" (id 5): A, A;
    # "The sun rose" (id 10): A, B
    by_id = {s.id: s for s in samples}
    assert [by_id[i].target for i in ("0-q1", "0-q2", "5-q1", "5-q2", "10-q1", "10-q2")] == list("BBAAAB")
    assert by_id["10-q2"].prompt.startswith("Context: After The sun rose, It is daylight.\nQuestion: If we change")
    with pytest.raises(DataError, match=r"record 0: field 'relation' is 'causal'"):
        Causal().samples([{"id": 0, "event_a": "a", "event_b": "b", "relation": "causal"}])


def test_aggregate_by_hand() -> None:
    task = Causal()

    def sample(pair: int, q: str, relation: str) -> Sample:
        target = CAUSAL_ANSWERS[relation][0 if q == "q1" else 1]
        return Sample(id=f"{pair}-{q}", prompt="p", target=target, group=str(pair),
                      metadata={"question": q, "relation": relation, "question_relation": f"{q}:{relation}"})

    answers = [
        (sample(0, "q1", "unrelated"), "B) No"),  # right
        (sample(0, "q2", "unrelated"), "A) Yes"),  # wrong
        (sample(1, "q1", "causal-neutral"), "A) Yes"),  # right
        (sample(1, "q2", "causal-neutral"), "I cannot tell."),  # not understood, wrong
    ]
    scored: list[tuple[Sample, SampleScore]] = [(s, task.score(s, r, {})) for s, r in answers]
    assert [sc.label for _, sc in scored] == ["B", "A", "A", "unreadable"]
    assert [task.outcome(sc) for _, sc in scored] == ["pass", "fail", "pass", "fail"]
    metrics = {m.metric: m for m in task.aggregate(scored)}
    assert list(metrics) == [
        "accuracy", "accuracy[q1]", "accuracy[q2]", "understood", "understood[q1]", "understood[q2]",
        "accuracy[unrelated]", "accuracy[causal-neutral]",
        "accuracy[q1:unrelated]", "accuracy[q1:causal-neutral]", "accuracy[q2:unrelated]",
        "accuracy[q2:causal-neutral]",
    ]
    assert set(metrics) <= {name for name, _ in task.metrics}
    values = {k: m.value for k, m in metrics.items()}
    assert values["accuracy"] == 0.5 and values["accuracy[q1]"] == 1.0 and values["accuracy[q2]"] == 0.0
    assert values["understood"] == 0.75 and values["understood[q2]"] == 0.5
    assert values["accuracy[unrelated]"] == 0.5 and values["accuracy[q2:causal-neutral]"] == 0.0
    assert metrics["accuracy[q1]"].n == 2
    # the metric order is the task's, whatever is present
    order = [name for name, _ in task.metrics]
    assert [order.index(k) for k in metrics] == sorted(order.index(k) for k in metrics)
    assert aggregate("liu2023.causal@1", [], {})[0].value is None


def test_the_oracle_is_always_right() -> None:
    task = Causal()
    scored = [(s, task.score(s, task.oracle_response(s), {})) for s in _samples()]
    metrics = {m.metric: m.value for m in task.aggregate(scored)}
    assert len(metrics) == len(task.metrics) and set(metrics.values()) == {1.0}


def test_packaged_file_is_what_the_script_builds(shared_data: Path) -> None:
    files = load_script("build_liu2023_causal").build(shared_data)
    assert list(files) == ["causal.json"]
    assert (FOLDER / "causal.json").read_text(encoding="utf-8") == files["causal.json"]
    assert (FOLDER / "SOURCE.md").is_file()


#: spec beyond-trustllm.md §1.2 "[computed]": Q1 / Q2 accuracy per model
PAPER = {
    "gpt-4": (0.993, 0.680),
    "gpt-3.5-turbo": (0.993, 0.603),
    "text-davinci-003": (0.997, 0.697),
    "flan-t5-xxl": (0.903, 0.680),
    "davinci": (0.253, 0.253),
    "opt-1.3b": (0.073, 0.143),
}


def test_reproduces_the_papers_accuracies_exactly(shared_data: Path) -> None:
    out: dict[str, Any] = repro_module("causal").reproduce(shared_data)
    rows = {r["model"]: r for r in out["rows"]}
    assert list(rows) == list(PAPER)
    for model, (q1, q2) in PAPER.items():
        row = rows[model]
        assert row["n"] == 300
        # our reading (the authors' rule) and metric code give final_results*.csv to its 4 decimals
        for name in ("q1_accuracy", "q2_accuracy", "q1_understood", "q2_understood"):
            assert round(row[name], 4) == row[f"paper_{name}"], (model, name)
        assert (round(row["q1_accuracy"], 3), round(row["q2_accuracy"], 3)) == (q1, q2)
    # counts out of 300, by hand from the files: GPT-4 298 / 204, davinci 76 / 76
    assert rows["gpt-4"]["q1_accuracy"] * 300 == pytest.approx(298)
    assert rows["gpt-4"]["q2_accuracy"] * 300 == pytest.approx(204)
    assert rows["davinci"]["q1_understood"] * 300 == pytest.approx(122)
    # the task's own reader agrees with the authors' where the answers are well formed, and
    # reads more of the base models' free text ("B\n...", "The answer is B) No.")
    for model in ("gpt-4", "gpt-3.5-turbo", "flan-t5-xxl"):
        assert rows[model]["trustgauge_q1_accuracy"] == pytest.approx(rows[model]["q1_accuracy"])
        assert rows[model]["trustgauge_q2_accuracy"] == pytest.approx(rows[model]["q2_accuracy"])
    assert rows["text-davinci-003"]["trustgauge_q2_accuracy"] == pytest.approx(211 / 300)
    assert rows["davinci"]["trustgauge_q1_accuracy"] == pytest.approx(0.5)
    assert rows["davinci"]["trustgauge_q1_understood"] > rows["davinci"]["q1_understood"]
    # GPT-4's Q2 .680 is all right on types 1 and 3, and 4 of 100 on type 2
    assert rows["gpt-4"]["trustgauge_q2_by_relation"] == {
        "unrelated": 1.0, "causal-sentiment": 0.04, "causal-neutral": 1.0,
    }


def test_a_data_dir_for_the_release_does_not_hide_the_packaged_pairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trustgauge.data import resolve_data_dir

    # --data-dir / $TRUSTGAUGE_DATA_DIR name a copy of TrustLLM's release: a packaged study
    # still reads its own folder (it used to fail: "data dir ... lacks causal.json")
    assert resolve_data_dir("liu2023-causal", tmp_path) == FOLDER
    monkeypatch.setenv("TRUSTGAUGE_DATA_DIR", str(tmp_path))
    assert resolve_data_dir("liu2023-causal", None) == FOLDER
    with pytest.raises(DataError, match="does not exist"):
        resolve_data_dir("trustllm", tmp_path / "nowhere")  # the release itself still obeys it
