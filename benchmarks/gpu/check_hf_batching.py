"""Check the ``hf:`` backend's batching on a GPU: throughput at batch sizes 1, 8 and 32, and that
greedy answers do not change with the batch size. Not run in this repository (no GPU).

    pip install torch 'trustgauge[local]'     # a CUDA build of torch (or 'trustgauge[vllm]', which brings one)
    python benchmarks/gpu/check_hf_batching.py                       # SmolLM2-135M-Instruct, float32
    python benchmarks/gpu/check_hf_batching.py --model Qwen/Qwen2.5-0.5B-Instruct --dtype bfloat16

The prompts: 112 chat requests made from the 56 passages of the packaged membership demo split
(``src/trustgauge/data/packaged/fan2023/membership/demo.json``): "continue this text" after each
passage's first sentence and "summarise in one sentence" of each whole passage, so lengths vary
as in a run. One ``hf:MODEL`` model is loaded on the GPU once; for each batch size its
``batch_size`` is set and the requests go through trustgauge's engine (``Engine.run``, no store:
the path ``trustgauge run`` takes; the engine sorts by length and hands the backend
``batch_size`` at a time, the backend pads on the left and calls ``generate`` once per batch).
Greedy (temperature 0), ``--max-tokens`` new tokens at most. The batch sizes take turns, round
after round (``--rounds``), after one warm-up batch each, so drifting load or clocks hit them
alike; throughput is generated tokens (the end token included) per second of wall time, median
over rounds.

Passes (exit 0) when at every batch size at least ``--min-agreement`` of the answers (default
1.0) are the same text as at batch size 1. Padding changes the shapes the kernels see, so in
bfloat16 a near-tie may flip a token; the differences are printed with where the texts part.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gpu import compare_answers, gpu_description, versions  # noqa: E402

DEFAULT_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
MEMBERSHIP_DEMO = ROOT / "src" / "trustgauge" / "data" / "packaged" / "fan2023" / "membership" / "demo.json"


def prompts(path: Path = MEMBERSHIP_DEMO) -> list[str]:
    """Two prompts per packaged passage: continue it after its first sentence, summarise it."""
    out = []
    for record in json.loads(path.read_text(encoding="utf-8")):
        text = str(record["text"])
        cut = text.find(". ")
        first = text[: cut + 1] if cut > 0 else text[:200]
        out.append(f"Continue this text:\n\n{first}")
        out.append(f"Summarise this passage in one sentence:\n\n{text}")
    return out


def throughput(tokens: int, seconds: float) -> float:
    return tokens / seconds if seconds > 0 else 0.0


async def run(model_name: str, dtype: str, sizes: Sequence[int], rounds: int, max_tokens: int) -> dict[str, Any]:
    from trustgauge.config import ModelConfig
    from trustgauge.engine.progress import Progress
    from trustgauge.engine.runner import Engine
    from trustgauge.models.registry import load_model
    from trustgauge.types import GenerationParams, Request

    model = load_model(ModelConfig(model=f"hf:{model_name}", options={"device": "cuda", "dtype": dtype}))
    await model.check()
    requests = [Request.user(p, GenerationParams(temperature=0.0, max_tokens=max_tokens)) for p in prompts()]
    texts: dict[int, dict[str, str]] = {}
    rates: dict[int, list[float]] = {size: [] for size in sizes}
    try:
        for size in sizes:  # warm-up: allocations and kernels of this batch shape
            model.batch_size = size
            await Engine(model, None, progress=Progress()).run(requests[:size])
        for r in range(rounds):
            order = list(sizes) if r % 2 == 0 else list(reversed(sizes))
            for size in order:
                model.batch_size = size
                engine = Engine(model, None, progress=Progress())
                t0 = time.perf_counter()
                outcomes = await engine.run(requests)
                seconds = time.perf_counter() - t0
                failed = [o.error for o in outcomes if not o.ok]
                if failed:
                    raise SystemExit(f"batch size {size}: {len(failed)} requests failed, e.g. {failed[0]}")
                tokens = sum(o.response.usage.output_tokens for o in outcomes if o.response is not None)
                rates[size].append(throughput(tokens, seconds))
                texts.setdefault(size, {str(i): o.response.text for i, o in enumerate(outcomes) if o.response is not None})
                print(f"  round {r + 1}, batch {size:>3}: {tokens} tokens in {seconds:.1f} s "
                      f"({rates[size][-1]:.0f} tokens/s)", flush=True)
    finally:
        await model.aclose()
    base = min(sizes)
    return {
        "requests": len(requests),
        "tokens_per_second": {size: statistics.median(values) for size, values in rates.items()},
        "agreement_with_batch_1": {size: compare_answers(texts[base], texts[size]) for size in sizes if size != base},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--dtype", default="float32", help="float32 (default), bfloat16 or float16")
    parser.add_argument("--sizes", default="1,8,32", help="batch sizes, the smallest first (default 1,8,32)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--min-agreement", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "gpu-check-hf-batching.json")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    gpu = gpu_description()
    print(f"GPU: {gpu}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    if gpu == "no GPU":
        print("error: no GPU found: this script measures hf: batching on a GPU (benchmarks/gpu/README.md)", file=sys.stderr)
        return 2
    result = asyncio.run(run(args.model, args.dtype, sizes, args.rounds, args.max_tokens))
    print(f"\n{args.model} ({args.dtype}), {result['requests']} greedy requests, at most {args.max_tokens} tokens each:")
    one = result["tokens_per_second"][sizes[0]]
    for size in sizes:
        rate = result["tokens_per_second"][size]
        print(f"  batch {size:>3}: {rate:8.0f} tokens/s  ({rate / one if one else 0:.1f}x batch {sizes[0]})")
    ok = True
    for size, agree in result["agreement_with_batch_1"].items():
        passed = agree["agreement"] >= args.min_agreement
        ok = ok and passed
        print(f"  batch {size:>3}: {agree['equal']}/{agree['compared']} answers equal to batch {sizes[0]}'s "
              f"({'ok' if passed else 'FAILED'})")
        for d in agree["differences"][:3]:
            print(f"    request {d['sample']} parts at character {d['at']}: {d['a']!r} / {d['b']!r}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"gpu": gpu, "versions": versions(), "model": args.model, "dtype": args.dtype,
                                    **result, "ok": ok}, indent=1, default=str), encoding="utf-8")
    print(f"{'PASSED' if ok else 'FAILED'}; details in {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
