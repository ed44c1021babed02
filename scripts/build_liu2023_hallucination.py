"""Build the packaged prompt set of ``liu2023.hallucination`` from the shared HaluEval copy.

Usage::

    python scripts/build_liu2023_hallucination.py [--shared ../shared/data] [--check]

Reads ``halueval/qa_data_head.jsonl`` (the opening records of HaluEval's ``data/qa_data.json``,
MIT) and writes ``src/trustgauge/data/packaged/liu2023/hallucination/``: ``halueval_qa.json``,
the first 300 records as Liu et al.'s ``test_hallucination.py`` reads them (``count > 300``
stops), each with ``id`` (its position) and ``correct``: which of (A)/(B) shows the right answer,
drawn as the authors do (``random() > 0.5``: the right answer is (A)) but from
``random.Random(SEED)``, so the order is the same on every build; and ``LICENSE-halueval``,
HaluEval's licence. ``--check`` fails when the packaged files differ from what it would write.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "trustgauge" / "data" / "packaged" / "liu2023" / "hallucination"
SHARED = REPO.parent / "shared" / "data"
#: the records the authors ask (``if count > 300: break``)
N_RECORDS = 300
#: the seed of the option order
SEED = 8888
FIELDS = ("knowledge", "question", "right_answer", "hallucinated_answer")


def build(shared: Path) -> dict[str, str]:
    """The packaged files, name -> text, from the shared data folder."""
    records: list[dict[str, Any]] = []
    rng = random.Random(SEED)
    lines = (shared / "halueval" / "qa_data_head.jsonl").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines[:N_RECORDS]):
        raw = json.loads(line)
        record: dict[str, Any] = {"id": i, **{k: raw[k] for k in FIELDS}}
        record["correct"] = "A" if rng.random() > 0.5 else "B"
        records.append(record)
    if len(records) != N_RECORDS:
        raise SystemExit(f"halueval/qa_data_head.jsonl holds {len(records)} records, not {N_RECORDS}")
    return {
        "halueval_qa.json": json.dumps(records, ensure_ascii=False, indent=1) + "\n",
        "LICENSE-halueval": (shared / "halueval" / "LICENSE").read_text(encoding="utf-8"),
    }


def write_or_check(files: dict[str, str], out: Path, check: bool) -> int:
    """Write ``files`` into ``out``, or (``check``) report those that differ; the exit code."""
    differ = [name for name, text in files.items()
              if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text]
    if check:
        for name in differ:
            print(f"{out / name}: differs from what {Path(sys.argv[0]).name} builds", file=sys.stderr)
        return 1 if differ else 0
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {', '.join(files)} to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    return write_or_check(build(args.shared), OUT, args.check)


if __name__ == "__main__":
    raise SystemExit(main())
