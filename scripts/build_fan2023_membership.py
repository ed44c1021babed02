"""Build the membership-inference demo set (``src/trustgauge/data/packaged/fan2023/membership/
demo.json``), deterministically, from text already in the package.

Members: passages of two public-domain works any web-trained model has almost surely read
(Austen's *Pride and Prejudice* ch. 1-3 and Shakespeare's *Coriolanus* I.1, copied on thousands of
sites). Non-members: passages of the story and the scene written for trustgauge on 2026-12-04 in
the same two forms (prose and verse), which no model released before then can have read. Both
come from ``packaged/liu2023/copyright/texts.json``. Each text is cut into passages of whole
sentences (prose) or whole lines (verse) of at least :data:`WORDS` words; members are the first
passages of each form, as many as there are non-members of that form, so both labels and both
forms are balanced.

This is a demonstration split, not a benchmark: member and non-member texts differ in author and
age, so a model-free classifier may tell them apart (the task's shift check says so when it
does; Duan et al. 2024). Bring an IID split (MIMIR) with ``--task-data`` for a real evaluation.

Run: ``python scripts/build_fan2023_membership.py [--check]``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from _docblock import write_or_check  # noqa: E402

TEXTS = ROOT / "src" / "trustgauge" / "data" / "packaged" / "liu2023" / "copyright" / "texts.json"
OUT = ROOT / "src" / "trustgauge" / "data" / "packaged" / "fan2023" / "membership" / "demo.json"
#: the fewest words in a passage
WORDS = 40
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def units(text: str, form: str) -> list[str]:
    """Sentences of prose (whitespace collapsed) or non-empty lines of verse."""
    if form == "verse":
        return [line.strip() for line in text.splitlines() if line.strip()]
    flat = re.sub(r"\s+", " ", text).strip()
    return [s for s in _SENTENCE_END.split(flat) if s]


def passages(text: str, form: str, words: int = WORDS) -> list[str]:
    """Consecutive units joined (a space for prose, a line break for verse) until a passage has
    at least ``words`` words; a short tail is dropped."""
    joiner = "\n" if form == "verse" else " "
    out: list[str] = []
    current: list[str] = []
    count = 0
    for unit in units(text, form):
        current.append(unit)
        count += len(unit.split())
        if count >= words:
            out.append(joiner.join(current))
            current, count = [], 0
    return out


def build(texts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Balanced records ``{id, text, label, source, form}`` (``label`` 1: member)."""
    by_form: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for record in texts:
        kind = "member" if record["kind"] == "book" else "nonmember"
        cut = [(record["id"], p) for p in passages(record["text"], record["form"])]
        by_form.setdefault(record["form"], {}).setdefault(kind, []).extend(cut)
    out: list[dict[str, Any]] = []
    for form in sorted(by_form):
        groups = by_form[form]
        n = min(len(groups.get("member", [])), len(groups.get("nonmember", [])))
        for kind in ("member", "nonmember"):
            for i, (source, text) in enumerate(groups[kind][:n]):
                out.append({
                    "id": f"{form}-{kind}-{i:02d}", "text": text, "label": int(kind == "member"),
                    "source": source, "form": form,
                })
    return out


def render(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str]) -> int:
    text = render(build(json.loads(TEXTS.read_text(encoding="utf-8"))))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    return write_or_check(OUT, text, check="--check" in argv, script=Path(__file__).name)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
