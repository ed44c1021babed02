"""Write the packaged TrustLLM demo sample: a few real records per demo task.

Usage::

    python scripts/make_demo_sample.py [--source ../shared/data/trustllm] [--out DIR] [--check]

Reads the unpacked TrustLLM release (``<dimension>/<file>.json``) and writes the same layout,
holding about 30 verbatim records, to ``src/trustgauge/data/packaged/trustllm_demo/``. The
selection is deterministic (no randomness): within each file it prefers short prompts, so a
135M-parameter model answers the whole demo quickly, while covering the file's categories
(XSTest types, misuse sources, jailbreak attacks, AdvGLUE tasks, Social-Chem judgments).
The fact-checking file (truthfulness/external.json) is left out: two of its sources (SciFact,
HealthVer) are CC BY-NC and two have no licence we could verify, so we do not redistribute them. AdvGLUE records are kept as whole original/modified pairs. The privacy-leakage file
keeps only 2 records (Enron names and addresses are public, but we ship as few as we can).

``--check`` verifies that the packaged files equal what the script would write.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Record = dict[str, Any]

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "trustllm"
DEFAULT_OUT = REPO / "src" / "trustgauge" / "data" / "packaged" / "trustllm_demo"


def _shortest_per(
    records: Sequence[Record],
    key: Callable[[Record], Any],
    limit: int,
    keep: Callable[[Record], bool] = lambda r: True,
) -> list[int]:
    """Indices of the shortest-prompt record of each ``key`` value (among the records ``keep``
    accepts), the ``limit`` shortest of those, in file order. Ties go to the earlier record."""
    best: dict[Any, int] = {}
    for i, record in enumerate(records):
        if not keep(record):
            continue
        k = key(record)
        if k not in best or len(record["prompt"]) < len(records[best[k]]["prompt"]):
            best[k] = i
    chosen = sorted(best.values(), key=lambda i: (len(records[i]["prompt"]), i))[:limit]
    return sorted(chosen)


def select_exaggerated_safety(records: Sequence[Record]) -> list[int]:
    """7 XSTest prompts of 7 different types."""
    return _shortest_per(records, lambda r: r["type"], 7)


def select_misuse(records: Sequence[Record]) -> list[int]:
    """5 harmful requests: the shortest of each of the 3 sources, plus the next two shortest."""
    per_source = _shortest_per(records, lambda r: r["source"], 3)
    rest = sorted(
        (i for i in range(len(records)) if i not in per_source),
        key=lambda i: (len(records[i]["prompt"]), i),
    )
    return sorted([*per_source, *rest[:2]])


def select_jailbreak(records: Sequence[Record]) -> list[int]:
    """5 jailbreak prompts of 5 different attacks."""
    return _shortest_per(records, lambda r: r["label"][0], 5)


def select_leakage(records: Sequence[Record]) -> list[int]:
    """Only 2 records: zero-shot, two different templates."""
    return _shortest_per(
        records, lambda r: r["type"], 2, keep=lambda r: r["shotType"] == "zero-shot"
    )


def select_advglue(records: Sequence[Record]) -> list[int]:
    """3 whole original/modified pairs from 3 different tasks."""
    pairs: dict[tuple[str, int], list[int]] = {}
    for i, record in enumerate(records):
        pairs.setdefault((record["task"], record["index"]), []).append(i)
    complete = {k: v for k, v in pairs.items() if len(v) == 2}

    def size(key: tuple[str, int]) -> tuple[int, str, int]:
        return (max(len(records[i]["prompt"]) for i in complete[key]), *key)

    best: dict[str, tuple[str, int]] = {}
    for key in sorted(complete, key=size):
        best.setdefault(key[0], key)
    chosen = sorted(best.values(), key=size)[:3]
    return sorted(i for key in chosen for i in complete[key])


def select_social_norm(records: Sequence[Record]) -> list[int]:
    """5 actions, one per judgment value −2..2 (so bad, neutral and good all occur)."""
    return _shortest_per(records, lambda r: r["label"], 5)


def select_awareness_query(records: Sequence[Record]) -> list[int]:
    """2 third-party requests for private data: one plain, one with the privacy policy."""
    return _shortest_per(records, lambda r: r["type"], 2)


def select_confaide(records: Sequence[Record]) -> list[int]:
    """3 vignettes with different human ratings (a correlation needs spread)."""
    return _shortest_per(records, lambda r: r["label"], 3)


def select_ood_detection(records: Sequence[Record]) -> list[int]:
    """The 3 shortest requests that need tools or real-time data."""
    return _shortest_per(records, lambda r: r["prompt"], 3)


def select_moralchoice(records: Sequence[Record]) -> list[int]:
    """4 scenarios: the 2 shortest of each ambiguity level."""
    low = _shortest_per(records, lambda r: r["prompt"], 2, keep=lambda r: r["type"] == "low")
    high = _shortest_per(records, lambda r: r["prompt"], 2, keep=lambda r: r["type"] == "high")
    return sorted(low + high)


def select_implicit_ethics(records: Sequence[Record]) -> list[int]:
    """4 actions: the 2 shortest wrong and 2 shortest not-wrong ones."""
    wrong = _shortest_per(records, lambda r: r["prompt"], 2, keep=lambda r: r["label"] == "wrong")
    fine = _shortest_per(records, lambda r: r["prompt"], 2, keep=lambda r: r["label"] == "not wrong")
    return sorted(wrong + fine)


def select_emotional_awareness(records: Sequence[Record]) -> list[int]:
    """The 2 shortest emotion stories (the file's other dimensions are not tasks yet)."""
    return _shortest_per(records, lambda r: r["prompt"], 2, keep=lambda r: r["dimension"] == "emotion")


def select_stereotype_recognition(records: Sequence[Record]) -> list[int]:
    """3 sentences, one per label (stereotype, anti-stereotype, unrelated)."""
    return _shortest_per(records, lambda r: r["label"], 3)


def select_stereotype_agreement(records: Sequence[Record]) -> list[int]:
    """3 statements of 3 different bias types."""
    return _shortest_per(records, lambda r: r["bias_type"], 3)


def select_stereotype_query(records: Sequence[Record]) -> list[int]:
    """The 3 shortest stereotype questions."""
    return _shortest_per(records, lambda r: r["prompt"], 3)


def select_disparagement(records: Sequence[Record]) -> list[int]:
    """6 people: one per sex x race, so both chi-square tests are defined."""
    return _shortest_per(records, lambda r: (r["sex"], r["race"]), 6)


def select_preference(records: Sequence[Record]) -> list[int]:
    """2 plain and 2 forced-choice questions."""
    plain = _shortest_per(records, lambda r: r["prompt"], 2, keep=lambda r: r["type"] == "plain")
    force = _shortest_per(records, lambda r: r["prompt"], 2, keep=lambda r: r["type"] == "force")
    return sorted(plain + force)


SELECTIONS: dict[str, Callable[[Sequence[Record]], list[int]]] = {
    "safety/jailbreak.json": select_jailbreak,
    "safety/misuse.json": select_misuse,
    "safety/exaggerated_safety.json": select_exaggerated_safety,
    "fairness/stereotype_recognition.json": select_stereotype_recognition,
    "fairness/stereotype_agreement.json": select_stereotype_agreement,
    "fairness/stereotype_query_test.json": select_stereotype_query,
    "fairness/disparagement.json": select_disparagement,
    "fairness/preference.json": select_preference,
    "robustness/AdvGLUE.json": select_advglue,
    "privacy/privacy_leakage.json": select_leakage,
    "privacy/privacy_awareness_query.json": select_awareness_query,
    "privacy/privacy_awareness_confAIde.json": select_confaide,
    "robustness/ood_detection.json": select_ood_detection,
    "ethics/implicit_SocialChemistry101.json": select_social_norm,
    "ethics/implicit_ETHICS.json": select_implicit_ethics,
    "ethics/explicit_moralchoice.json": select_moralchoice,
    "ethics/awareness.json": select_emotional_awareness,
}


def build(source: Path) -> dict[str, str]:
    """The demo files' text by relative path."""
    files: dict[str, str] = {}
    for rel, select in SELECTIONS.items():
        records = json.loads((source / rel).read_text(encoding="utf-8"))
        chosen = [records[i] for i in select(records)]
        files[rel] = json.dumps(chosen, indent=2, ensure_ascii=False) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        print(f"TrustLLM data not found: {args.source}", file=sys.stderr)
        return 2
    files = build(args.source)
    total = 0
    stale: list[str] = []
    for rel, text in files.items():
        path = args.out / rel
        count = len(json.loads(text))
        total += count
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        print(f"{rel}: {count} records")
    print(f"total: {total} records")
    if stale:
        print(f"out of date: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
