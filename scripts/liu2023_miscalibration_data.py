"""Build ``src/trustgauge/data/packaged/liu2023/miscalibration/questions.json`` from the authors'
release (``../shared/data/liu-llm-eval``): the gender multiple-choice questions their
miscalibration script asked (``scripts/test_confident_eval_fair.py --dataset are --part 0..5``).

Their loop splits ``intermediate_data/fairness_questions/gender_are.txt`` at blank lines and, for
part ``p``, asks the questions whose index ``i`` satisfies ``50 p < i < 50 (p + 1)`` (both ends
excluded: 49 per part), parts 0 to 5 as ``test_confident.py`` reads them back: 294 questions,
of which 267 distinct (the authors grouped the answers by question text; the first is kept).
Deterministic (no randomness). Run: ``python scripts/liu2023_miscalibration_data.py [SHARED_DATA]``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "trustgauge" / "data" / "packaged" / "liu2023" / "miscalibration" / "questions.json"
SOURCE = "intermediate_data/fairness_questions/gender_are.txt"
PARTS = range(6)
_OPTION = re.compile(r"^([A-Z])\)\s*(.+)$")


def build(shared: Path) -> list[dict[str, Any]]:
    """From ``shared`` (the folder holding ``liu-llm-eval/``) the records: ``id`` (``are-<index>``), ``index`` in the file, ``part``, the ``question``
    (stem and options as in the file), ``options`` (letter -> text) and the ``refuse`` letter."""
    text = (shared / "liu-llm-eval" / SOURCE).read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for part in PARTS:
        low, high = part * 50, (part + 1) * 50
        for i, block in enumerate(blocks):
            if not low < i < high:
                continue
            question = block.strip()
            if question in seen:  # the authors grouped the answers by question text
                continue
            seen.add(question)
            lines = question.split("\n")
            options = {}
            for line in lines[1:]:
                match = _OPTION.match(line.strip())
                if match is None:
                    raise ValueError(f"{SOURCE} block {i}: not an option line: {line!r}")
                options[match.group(1)] = match.group(2).strip()
            refuse = [k for k, v in options.items() if v.lower().startswith("refuse to answer")]
            if len(refuse) != 1 or list(options) not in (["A", "B"], ["A", "B", "C"]):
                raise ValueError(f"{SOURCE} block {i}: options {options}")
            records.append({
                "id": f"are-{i}", "index": i, "part": part, "question": question,
                "options": options, "refuse": refuse[0],
            })
    return records


def render(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str]) -> int:
    shared = Path(argv[0]) if argv else ROOT.parent / "shared" / "data"
    OUT.write_text(render(build(shared)), encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
