"""Log-likelihood scoring through ``hf:``: batched by length against one text at a time.

2,000 texts of 128 SmolLM2 tokens each (windows of the first 500 HaluEval knowledge passages,
``../shared/data/halueval/``, joined and cut every 20 tokens, so no two are alike) are scored as
membership inference scores them: scoring requests through the engine (``Engine.run``, no
store) to ``hf:gguf:smollm2``. Two models are loaded side by side, one with ``batch_size`` N
(the engine sorts the requests by length and sends N at a time; the backend pads and runs one
forward pass per batch), one with ``batch_size`` 1. The texts are split into rounds and the two
modes alternate round by round, so a change in machine load hits both; the ratio is total time
one at a time over total time batched. The CPU model and flags are printed with the figure.

Run: ``python benchmarks/loglikelihood_batching.py [--texts 2000] [--batch 16] [--rounds 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_description

ROOT = Path(__file__).resolve().parents[1]
HALUEVAL = ROOT.parent / "shared" / "data" / "halueval" / "qa_data_head.jsonl"
TOKENS = 128
STRIDE = 20


def texts(tokenizer: object, n: int) -> list[str]:
    """``n`` distinct texts of :data:`TOKENS` tokens: windows of the passages' joined tokens."""
    passages = [json.loads(line)["knowledge"] for line in HALUEVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids: list[int] = tokenizer(" ".join(passages), add_special_tokens=False)["input_ids"]  # type: ignore[operator]
    out = []
    for start in range(0, len(ids) - TOKENS, STRIDE):
        out.append(tokenizer.decode(ids[start : start + TOKENS]))  # type: ignore[attr-defined]
        if len(out) == n:
            break
    if len(out) < n:
        raise SystemExit(f"only {len(out)} windows in the passages; ask for fewer texts")
    return out


async def main_async(n: int, batch: int, rounds: int) -> None:
    from trustgauge.config import ModelConfig
    from trustgauge.engine.progress import Progress
    from trustgauge.engine.runner import Engine
    from trustgauge.models.registry import load_model
    from trustgauge.types import Request

    print(f"CPU: {cpu_description()}")
    print(f"load average before: {os.getloadavg()}")
    batched = load_model(ModelConfig(model="hf:gguf:smollm2", options={"batch_size": batch}))
    single = load_model(ModelConfig(model="hf:gguf:smollm2", options={"batch_size": 1}))
    await batched.check()
    await single.check()
    tokenizer = batched._tokenizer  # type: ignore[attr-defined]
    corpus = texts(tokenizer, n)
    lengths = {len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in corpus}
    print(f"{len(corpus)} texts, {min(lengths)}-{max(lengths)} tokens each (re-tokenised), batch {batch}, {rounds} rounds")
    # warm both (first-call allocations), outside the timing
    for model in (batched, single):
        await Engine(model, None, progress=Progress()).run([Request.scoring(corpus[0])])
    totals = {"batched": 0.0, "one at a time": 0.0}
    per_round = len(corpus) // rounds
    check: dict[str, list[float]] = {"batched": [], "one at a time": []}
    for r in range(rounds):
        chunk = corpus[r * per_round : (r + 1) * per_round]
        order = (("batched", batched), ("one at a time", single)) if r % 2 == 0 else (("one at a time", single), ("batched", batched))
        for name, model in order:
            engine = Engine(model, None, progress=Progress())
            t0 = time.perf_counter()
            outcomes = await engine.run([Request.scoring(t) for t in chunk])
            totals[name] += time.perf_counter() - t0
            assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok][:3]
            check[name] += [sum(t.logprob for t in o.response.tokens or ()) for o in outcomes if o.response]
        print(f"  round {r + 1}: batched {totals['batched']:.1f}s, one at a time {totals['one at a time']:.1f}s (cumulative)",
              flush=True)
    worst = max(abs(a - b) for a, b in zip(check["batched"], check["one at a time"]))
    texts_done = per_round * rounds
    print(f"\nbatched:       {totals['batched']:.1f}s ({texts_done / totals['batched']:.1f} texts/s)")
    print(f"one at a time: {totals['one at a time']:.1f}s ({texts_done / totals['one at a time']:.1f} texts/s)")
    print(f"ratio (one at a time / batched): {totals['one at a time'] / totals['batched']:.2f}")
    print(f"largest difference in a text's total log-probability between the modes: {worst:.2e} nats")
    print(f"load average after: {os.getloadavg()}")
    await batched.aclose()
    await single.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main_async(args.texts, args.batch, args.rounds))


if __name__ == "__main__":
    main()
