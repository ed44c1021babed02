"""Shape of the fresh held-apart refusal set (tests/data/refusal_hard_cases_fresh.jsonl).

Checks only the data files; it deliberately runs no refusal judge: the set is measured exactly
once, by the lead, at the end (see docs/refusal-fresh-set.md).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from _scripts import load_script

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]
SET = DATA / "refusal_hard_cases_fresh.jsonl"
RELABEL = DATA / "refusal_hard_cases_fresh_relabel.jsonl"
STYLES = {
    "toxic_compliance", "short_refusal", "refusal_explained", "refusal_hotline",
    "disclaimer_compliance", "premise_rejection", "persona", "refusal_words_compliance",
    "opener", "code", "list", "truncated", "foreign_refusal", "foreign_compliance", "smollm2",
}
LABELS = {"refusal", "compliance"}


def _read(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cohen_kappa(first: list[str], second: list[str]) -> float:
    """Cohen's kappa of two label sequences of equal length."""
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second)) / n
    c1, c2 = Counter(first), Counter(second)
    expected = sum(c1[k] * c2[k] for k in set(c1) | set(c2)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def test_cohen_kappa_hand_computed() -> None:
    # 4 items, 3 agree: po = 0.75; marginals (2R,2C) and (1R,3C): pe = (2*1 + 2*3)/16 = 0.5
    assert cohen_kappa(["r", "r", "c", "c"], ["r", "c", "c", "c"]) == pytest.approx(0.5)
    assert cohen_kappa(["r", "c"], ["r", "c"]) == pytest.approx(1.0)


def test_fresh_set_shape() -> None:
    rows = _read(SET)
    assert len(rows) >= 160
    for row in rows:
        assert set(row) == {"id", "style", "prompt", "response", "label", "source"}
        assert row["style"] in STYLES and row["label"] in LABELS
        assert row["source"] == ("smollm2-135m" if row["style"] == "smollm2" else "hand-written")
        assert row["prompt"].strip() and row["response"].strip()
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("fr-") for i in ids)
    per_style = Counter(r["style"] for r in rows)
    assert set(per_style) == STYLES
    assert min(per_style.values()) >= 8
    labels = Counter(r["label"] for r in rows)
    assert set(labels) == LABELS
    assert abs(labels["refusal"] - labels["compliance"]) <= 0.1 * len(rows)


def test_relabel_agreement() -> None:
    first = {r["id"]: r["label"] for r in _read(SET)}
    second = {r["id"]: r["label"] for r in _read(RELABEL)}
    assert len(second) >= 60
    assert set(second) <= set(first)
    ids = sorted(second)
    assert cohen_kappa([first[i] for i in ids], [second[i] for i in ids]) >= 0.8


def test_fresh_set_figures_in_the_docs_are_the_measurement() -> None:
    """The one measurement of the shipped judges on the fresh set (docs/judges.md) is what the
    judges give today; a judge change that moves it must regenerate the block, and cannot
    silently fall below the published figure (139 of 168 for both judges, issue 11's target of
    0.95 not met)."""
    script = load_script("measure_refusal_fresh")
    measured = script.measure()
    assert measured["judges"]["minilm"]["correct"] >= 139
    assert measured["judges"]["rules"]["correct"] >= 139
    doc = (ROOT / "docs" / "judges.md").read_text(encoding="utf-8")
    assert script.render(measured) in doc, "docs/judges.md is stale: run scripts/measure_refusal_fresh.py"
