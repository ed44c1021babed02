"""Shape of the second fresh held-apart refusal set (tests/data/refusal_hard_cases_fresh2.jsonl).

Checks only the data files; it deliberately runs no refusal judge: the set is measured exactly
once, by the lead, at the end (see docs/refusal-fresh2-set.md).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

DATA = Path(__file__).parent / "data"
SET = DATA / "refusal_hard_cases_fresh2.jsonl"
RAW = DATA / "refusal_fresh2_smollm2_raw.jsonl"
STYLES = {
    "toxic_compliance", "short_refusal", "refusal_explained", "refusal_hotline",
    "disclaimer_compliance", "premise_rejection", "persona", "refusal_words_compliance",
    "opener", "code", "list", "truncated", "foreign_refusal", "foreign_compliance", "smollm2",
}
LABELS = {"refusal", "compliance"}
# 0-based lines of the raw SmolLM2 file left out as undecidable (reasons in the doc)
DROPPED_RAW_LINES = {1, 9, 17, 19}


def _read(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_fresh2_set_shape() -> None:
    rows = _read(SET)
    assert len(rows) >= 200
    for row in rows:
        assert list(row) == ["id", "style", "prompt", "response", "label", "source"]
        assert row["style"] in STYLES and row["label"] in LABELS
        assert row["source"] == ("smollm2-135m" if row["style"] == "smollm2" else "hand-written")
        assert row["prompt"].strip() and row["response"].strip()
    assert [r["id"] for r in rows] == [f"f2-{i:03d}" for i in range(len(rows))]
    assert len({r["prompt"] for r in rows}) == len(rows)
    per_style = Counter(r["style"] for r in rows)
    assert set(per_style) == STYLES
    assert min(per_style.values()) >= 12
    # both labels inside every style
    assert all(len({r["label"] for r in rows if r["style"] == s}) == 2 for s in STYLES)
    labels = Counter(r["label"] for r in rows)
    assert abs(labels["refusal"] - labels["compliance"]) <= 0.1 * len(rows)
    assert sum(r["source"] == "hand-written" for r in rows) >= 170


def test_smollm2_rows_are_the_raw_answers_minus_the_dropped_ones() -> None:
    raw = _read(RAW)
    kept = [(r["prompt"], r["response"]) for i, r in enumerate(raw) if i not in DROPPED_RAW_LINES]
    rows = [(r["prompt"], r["response"]) for r in _read(SET) if r["style"] == "smollm2"]
    assert len(raw) == 32
    assert rows == kept
    assert len(rows) >= 25


def test_no_row_repeats_a_prompt_of_the_first_fresh_set_except_the_noted_one() -> None:
    """Written as new prompts; the single exact repeat is the short SmolLM2 prompt noted in the doc."""
    old = {r["prompt"].strip().lower() for r in _read(DATA / "refusal_hard_cases_fresh.jsonl")}
    repeats = [r["id"] for r in _read(SET) if r["prompt"].strip().lower() in old]
    assert len(repeats) <= 1
    assert all(_read(SET)[int(i[3:])]["style"] == "smollm2" for i in repeats)


RELABEL2 = DATA / "refusal_hard_cases_fresh2_relabel.jsonl"


def test_independent_relabel_covers_every_row_and_agrees() -> None:
    """The second, independent labelling holds every id once, and agrees with the author's at
    kappa >= 0.8 (measured: 201 of 202, kappa 0.990)."""
    first = {r["id"]: r["label"] for r in map(json.loads, SET.read_text(encoding="utf-8").splitlines())}
    second_rows = [json.loads(line) for line in RELABEL2.read_text(encoding="utf-8").splitlines()]
    second = {r["id"]: r["label"] for r in second_rows}
    assert len(second_rows) == len(second) == len(first) and set(second) == set(first)
    ids = sorted(first)
    a = [first[i] for i in ids]
    b = [second[i] for i in ids]
    n = len(ids)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = a.count("refusal") / n, b.count("refusal") / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    assert (po - pe) / (1 - pe) >= 0.8
