"""Build the prefix/suffix passages of ``fan2023.extraction``
(``src/trustgauge/data/packaged/fan2023/extraction/passages.json``) from the public texts shipped
next to it (``texts.json``), deterministically.

Usage::

    python scripts/build_fan2023_extraction.py [--check]

Each text (whitespace made single spaces) is cut into windows of :data:`PREFIX_WORDS` +
:data:`SUFFIX_WORDS` words (words split at whitespace, punctuation kept), from its start, without
overlap, at most :data:`MAX_WINDOWS` a text: the first ``PREFIX_WORDS`` words are the prompt, the
next ``SUFFIX_WORDS`` the suffix the model should not be able to reproduce unless it memorised the
text. Carlini et al. (2023) cut 50-token prefixes and suffixes; trustgauge has no tokenizer common
to every backend, so it counts words: 50 words of prefix (about 65 tokens of English; a little
longer than the paper's, which only helps a model that memorised the text) and 36 words of suffix
(about 50 tokens, the paper's suffix length).

Every window has a control: the same text with its sentences (and clauses ending in ``;`` or
``:``; long ones split at commas) shuffled by a generator seeded with :data:`SEED` and the text's id, cut as near the same
word offset as a boundary between two units allows (:func:`control_windows`): 50 words before the
boundary, 36 after. A model that only knows the texts' style and vocabulary continues the control
about as well as the original; a model that memorised the sequence does better on the original.
The shuffle avoids keeping any unit before its original successor (the first of :data:`SHUFFLES`
tries that manages it, else the one with the fewest kept pairs), and the cut at a boundary keeps a
memorised sentence from being finished across it (a mid-sentence cut of shuffled text would let a
model complete the real sentence: Liu et al.'s copyright study rejected shuffled controls for
that, docs/liu2023.md).

``--check`` fails when the packaged file differs from what the script builds (a test runs it).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "src" / "trustgauge" / "data" / "packaged" / "fan2023" / "extraction"
TEXTS = FOLDER / "texts.json"
OUT = FOLDER / "passages.json"
SEED = 16
PREFIX_WORDS = 50
SUFFIX_WORDS = 36
MAX_WINDOWS = 3
SHUFFLES = 200
#: a unit longer than this many words is split at its commas too
LONG_UNIT = 30
_UNIT_END = re.compile(r"(?<=[.!?;:])\s+")
_COMMA = re.compile(r"(?<=,)\s+")


def units(text: str) -> list[str]:
    """``text`` with whitespace made single spaces, split after ``.``, ``!``, ``?``, ``;`` or ``:``
    followed by whitespace (sentences and the clauses verse and legal text are made of); a unit of
    more than :data:`LONG_UNIT` words is split after its commas as well (the licences' long
    sentences), so every text has boundaries near every cut."""
    flat = re.sub(r"\s+", " ", text).strip()
    out: list[str] = []
    for unit in _UNIT_END.split(flat):
        out.extend(_COMMA.split(unit) if len(unit.split()) > LONG_UNIT else [unit])
    return [u for u in out if u]


def kept_pairs(order: list[int]) -> int:
    """How many units are still followed by their original successor, plus one when the first
    unit still opens the text."""
    return sum(1 for a, b in itertools.pairwise(order) if b == a + 1) + (1 if order and order[0] == 0 else 0)


def shuffled(text_id: str, text: str) -> list[str]:
    """The units of ``text`` shuffled (seeded by :data:`SEED` and ``text_id``)."""
    parts = units(text)
    rng = random.Random(f"{SEED}/{text_id}")
    best: list[int] | None = None
    for _ in range(SHUFFLES):
        order = list(range(len(parts)))
        rng.shuffle(order)
        if best is None or kept_pairs(order) < kept_pairs(best):
            best = order
        if kept_pairs(best) == 0:
            break
    assert best is not None
    return [parts[i] for i in best]


def windows(words: list[str]) -> list[tuple[str, str]]:
    """The (prefix, suffix) windows of a text's words."""
    size = PREFIX_WORDS + SUFFIX_WORDS
    out = []
    for k in range(min(MAX_WINDOWS, len(words) // size)):
        start = k * size
        out.append((" ".join(words[start : start + PREFIX_WORDS]),
                    " ".join(words[start + PREFIX_WORDS : start + size])))
    return out


def control_windows(parts: list[str], count: int) -> list[tuple[str, str]]:
    """``count`` (prefix, suffix) windows of the shuffled units ``parts`` whose cut falls between
    two units: for window ``k`` the unit boundary nearest to the original cut (word
    ``k * (PREFIX_WORDS + SUFFIX_WORDS) + PREFIX_WORDS``) that leaves room for the prefix and the
    suffix and lies after the previous window's cut; the prefix is the ``PREFIX_WORDS`` words
    before it, the suffix the ``SUFFIX_WORDS`` after. So the suffix always starts a unit that did
    not follow the prefix's last one in the original text, and no memorised sentence can be
    finished across the cut."""
    words_ = " ".join(parts).split()
    bounds, total = [], 0
    for part in parts:
        total += len(part.split())
        bounds.append(total)
    out: list[tuple[str, str]] = []
    last = 0
    for k in range(count):
        target = k * (PREFIX_WORDS + SUFFIX_WORDS) + PREFIX_WORDS
        fits = [b for b in bounds if b >= PREFIX_WORDS and b + SUFFIX_WORDS <= len(words_) and b > last]
        if not fits:
            raise ValueError(f"no unit boundary for control window {k}")
        cut = min(fits, key=lambda b: (abs(b - target), b))
        out.append((" ".join(words_[cut - PREFIX_WORDS : cut]), " ".join(words_[cut : cut + SUFFIX_WORDS])))
        last = cut
    return out


def build(texts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for text in texts:
        original = windows(text["text"].split())
        control = control_windows(shuffled(text["id"], text["text"]), len(original))
        for k, ((prefix, suffix), (c_prefix, c_suffix)) in enumerate(zip(original, control, strict=True)):
            group = f"{text['id']}-w{k}"
            common = {"text": text["id"], "kind": text["kind"], "window": k, "group": group}
            records.append({"id": group, **common, "control": False, "prefix": prefix, "suffix": suffix})
            records.append({"id": f"{group}-shuffled", **common, "control": True, "prefix": c_prefix,
                            "suffix": c_suffix})
    return records


def render(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=1) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the packaged file differs; write nothing")
    args = parser.parse_args()
    text = render(build(json.loads(TEXTS.read_text(encoding="utf-8"))))
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} differs from what the script builds", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
