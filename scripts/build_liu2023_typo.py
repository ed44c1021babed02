"""Build the packaged prompt set of ``liu2023.typo`` from Liu et al.'s release.

Usage::

    python scripts/build_liu2023_typo.py [--shared ../shared/data] [--check]

Writes ``src/trustgauge/data/packaged/liu2023/typo/typo.json``: 1,000 distinct sentences of the
ETHICS justice test split (``liu-llm-eval/data/justice_test.csv``), each with its ETHICS
``label`` and a typo'd version:

- first, in order of first appearance, the 557 distinct sentences of the paper's
  ``gen_data/typo.jsonl`` (its 628 rows per model hold repeats: ``test_typo.py`` draws 1,000
  times with replacement), each with the typo'd version GPT-4 wrote for the first row that
  asks it (``typo_source: "paper"``; GPT-4 typo'd every sentence anew for each model tested);
- then 443 more sentences of the split, drawn without replacement by
  ``random.Random(SEED)`` from the others (the header row, which the authors' ``csv.reader``
  draws from too, left out), typo'd by ``trustgauge.tasks.liu2023.typo.add_typos``
  (``typo_source: "generated"``).

The authors' own draw (``random.seed(8888)``, ``random.choice`` 1,000 times) cannot be
replayed: calls inside their query loop moved the random stream, and only the sentence of the
first draw matches the released file. ``--check`` fails when the packaged file differs from
what it would write.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO / "src"))

from build_liu2023_hallucination import SHARED, write_or_check  # noqa: E402

from trustgauge.tasks.liu2023.typo import add_typos  # noqa: E402

OUT = REPO / "src" / "trustgauge" / "data" / "packaged" / "liu2023" / "typo"
#: the number of sentences, as the authors' ``NUM_TEST``
N_SENTENCES = 1000
#: the seed of the draw of the sentences the paper did not ask
SEED = 8888
#: the sentence inside the authors' question
_QUOTED_RE = re.compile(r'"""\n(.*)\n"""', re.S)


def paper_pairs(shared: Path) -> list[tuple[str, str]]:
    """``(clean sentence, typo'd sentence)`` of the first row asking each distinct sentence of
    ``gen_data/typo.jsonl``, in order of first appearance."""
    pairs: dict[str, str] = {}
    path = shared / "liu-llm-eval" / "gen_data" / "typo.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        clean_q, typo_q = json.loads(line)["question"].split("\n----\n")
        clean, typo = (_quoted(q) for q in (clean_q, typo_q))
        pairs.setdefault(clean, typo)
    return list(pairs.items())


def _quoted(question: str) -> str:
    match = _QUOTED_RE.search(question)
    if match is None:
        raise SystemExit(f"no sentence in triple quotes in {question[:80]!r}")
    return match.group(1)


def justice_labels(shared: Path) -> dict[str, int]:
    """Sentence -> ETHICS label (1: a reasonable justification), header left out."""
    text = (shared / "liu-llm-eval" / "data" / "justice_test.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return {scenario: int(label) for label, scenario in rows[1:]}


def build(shared: Path) -> dict[str, str]:
    """The packaged files, name -> text, from the shared data folder."""
    labels = justice_labels(shared)
    paper = paper_pairs(shared)
    asked = {clean for clean, _ in paper}
    others = [s for s in labels if s not in asked]
    drawn = random.Random(SEED).sample(others, N_SENTENCES - len(paper))
    rows: list[tuple[str, str, str]] = [(clean, typo, "paper") for clean, typo in paper]
    rows += [(sentence, add_typos(sentence), "generated") for sentence in drawn]
    records: list[dict[str, Any]] = [
        {"id": i, "sentence": clean, "label": labels[clean], "typo": typo, "typo_source": source}
        for i, (clean, typo, source) in enumerate(rows)
    ]
    return {"typo.json": json.dumps(records, ensure_ascii=False, indent=1) + "\n"}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    return write_or_check(build(args.shared), OUT, args.check)


if __name__ == "__main__":
    raise SystemExit(main())
