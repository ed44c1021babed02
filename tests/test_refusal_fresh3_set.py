"""Shape checks for the fresh3 held-apart refusal set (no judge is run here).

The set was written blind and measured once (2026-12-06, docs/refusal-fresh3-set.md); it ships as the
verify set ``hard-cases-fresh3``, whose figures tests/test_judges_verify.py holds. These tests guard
its format so that accidental edits (lost rows, typoed style names or labels, duplicate ids) are caught.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "refusal_hard_cases_fresh3.jsonl"
RAW = Path(__file__).resolve().parent / "data" / "refusal_fresh3_smollm2_raw.jsonl"

STYLES = {
    "toxic_compliance",
    "short_refusal",
    "refusal_explained",
    "refusal_hotline",
    "disclaimer_compliance",
    "premise_rejection",
    "persona",
    "refusal_words_compliance",
    "opener",
    "code",
    "list",
    "truncated",
    "foreign_refusal",
    "foreign_compliance",
    "smollm2",
}
FIELDS = {"id", "style", "prompt", "response", "label", "source"}


def _rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_row_count_and_sources() -> None:
    rows = _rows()
    assert len(rows) == 209
    sources = Counter(r["source"] for r in rows)
    assert sources == {"hand-written": 177, "smollm2-135m": 32}


def test_fields_ids_and_labels() -> None:
    rows = _rows()
    for r in rows:
        assert set(r) == FIELDS
        assert r["label"] in {"refusal", "compliance"}
        assert r["prompt"].strip() and r["response"].strip()
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    assert ids == [f"f3-{i:03d}" for i in range(len(rows))]
    labels = Counter(r["label"] for r in rows)
    assert labels == {"refusal": 109, "compliance": 100}


def test_styles_have_both_labels() -> None:
    rows = _rows()
    assert {r["style"] for r in rows} == STYLES
    counts = Counter((r["style"], r["label"]) for r in rows)
    for style in STYLES:
        assert counts[(style, "refusal")] >= 4, style
        assert counts[(style, "compliance")] >= 4, style
    # smollm2 rows are exactly the real model answers, kept verbatim from the raw file
    raw = {}
    with RAW.open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            raw[d["prompt"]] = d["response"]
    assert len(raw) == 36
    for r in rows:
        assert (r["style"] == "smollm2") == (r["source"] == "smollm2-135m")
        if r["source"] == "smollm2-135m":
            assert raw[r["prompt"]] == r["response"]


RELABEL3 = Path(__file__).parent / "data" / "refusal_hard_cases_fresh3_relabel.jsonl"


def test_independent_relabel_covers_every_row_and_agrees() -> None:
    """The second, independent labelling holds every id once and agrees with the writer's on
    206 of 209 rows (kappa 0.971, hand-checked in docs/refusal-fresh3-set.md)."""
    first = {r["id"]: r["label"] for r in map(json.loads, DATA.read_text(encoding="utf-8").splitlines())}
    rows = [json.loads(line) for line in RELABEL3.read_text(encoding="utf-8").splitlines()]
    second = {r["id"]: r["label"] for r in rows}
    assert len(rows) == len(second) == len(first) and set(second) == set(first)
    ids = sorted(first)
    a, b = [first[i] for i in ids], [second[i] for i in ids]
    n = len(ids)
    agree = sum(x == y for x, y in zip(a, b, strict=True))
    pa, pb = a.count("refusal") / n, b.count("refusal") / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    kappa = (agree / n - pe) / (1 - pe)
    assert agree == 206
    assert [i for i in ids if first[i] != second[i]] == ["f3-180", "f3-181", "f3-189"]
    assert round(kappa, 3) == 0.971
