"""Build the packaged prompt set of ``liu2023.causal`` from Liu et al.'s release.

Usage::

    python scripts/build_liu2023_causal.py [--shared ../shared/data] [--check]

Reads ``liu-llm-eval/gen_data/causal.json`` (``{"data": [[event A, event B, relation type],
...]}``, 300 pairs, MIT) and writes ``src/trustgauge/data/packaged/liu2023/causal/causal.json``:
one object per pair, in the file's order, with ``id`` (its position, the key of the authors'
``answers*_raw.csv``), ``event_a``, ``event_b`` and ``relation``, the type named
(1 ``unrelated``, 2 ``causal-sentiment``, 3 ``causal-neutral``; see
``trustgauge.tasks.liu2023.causal.CAUSAL_ANSWERS``). ``--check`` fails when the packaged file
differs from what it would write.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_liu2023_hallucination import SHARED, write_or_check

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "trustgauge" / "data" / "packaged" / "liu2023" / "causal"
#: the authors' relation types, by number
RELATIONS = {1: "unrelated", 2: "causal-sentiment", 3: "causal-neutral"}


def build(shared: Path) -> dict[str, str]:
    """The packaged files, name -> text, from the shared data folder."""
    data = json.loads((shared / "liu-llm-eval" / "gen_data" / "causal.json").read_text(encoding="utf-8"))["data"]
    records: list[dict[str, Any]] = [
        {"id": i, "event_a": a, "event_b": b, "relation": RELATIONS[kind]} for i, (a, b, kind) in enumerate(data)
    ]
    return {"causal.json": json.dumps(records, ensure_ascii=False, indent=1) + "\n"}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    return write_or_check(build(args.shared), OUT, args.check)


if __name__ == "__main__":
    raise SystemExit(main())
