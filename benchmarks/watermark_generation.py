"""What watermarking costs in generation time: SmolLM2 through ``hf:`` with and without KGW.

    python benchmarks/watermark_generation.py              # 16 prompts x 64 tokens, 2 rounds (~4 minutes)
    python benchmarks/watermark_generation.py --rounds 1   # quicker
    python benchmarks/watermark_generation.py --permutation  # also transformers' randperm green lists

Issue 18's target: watermarked generation costs <= 1.3x unwatermarked generation time on the same
model and prompts. The same 16 prompts are generated in batches of 8, 64 new tokens each,
temperature 1 with seed 0, through the backend's own path (``Model.generate``: chat template,
padding, ``model.generate`` with the scheme's logits processor; no cache). A warm-up batch runs
first; then the rounds alternate the conditions (plain, kgw, ...) so drifting load from other
users of the machine hits them alike, and each condition's median wall time counts. Sampling
differs once the bias applies, so a batch may stop early on end tokens in one condition and not
the other: the generated tokens are printed, and the ratio is given per generated token too.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _machine import cpu_description, load_average  # noqa: E402

from trustgauge.config import ModelConfig  # noqa: E402
from trustgauge.models.registry import load_model  # noqa: E402
from trustgauge.types import GenerationParams, Request, WatermarkSpec  # noqa: E402
from trustgauge.watermark import PUBLIC_KEY, WatermarkKey, make_spec  # noqa: E402

PROMPTS = [
    "Write a short paragraph about the history of the bicycle.",
    "Explain in a few sentences how a refrigerator keeps food cold.",
    "List some tips for a first-time visitor to a large city.",
    "Describe a sunrise over the mountains.",
    "What makes a good friend? Answer briefly.",
    "Summarise the plot of a fairy tale you know.",
    "Give advice to someone learning to cook.",
    "Why do leaves change colour in autumn?",
    "Write a short letter thanking a teacher.",
    "Explain what a computer program is to a child.",
    "Describe the sound of rain on a roof.",
    "What are the benefits of walking every day?",
    "Tell a short story about a lost cat.",
    "How does a library organise its books?",
    "Write a product description for a simple wooden chair.",
    "Explain why the sky is blue in two or three sentences.",
]


def processor_cost(key: WatermarkKey, batch: int = 8, vocab: int = 49152, steps: int = 200) -> None:
    """The logits processor alone: milliseconds per generation step for a batch of 8 rows of
    SmolLM2's 49,152 logits (what the model's forward pass is compared with)."""
    import torch

    from trustgauge.watermark import make_scheme

    scores = torch.randn(batch, vocab)
    input_ids = torch.randint(0, vocab, (batch, 100), generator=torch.Generator().manual_seed(0))
    for green_list, n in (("hash", steps), ("permutation", 5)):
        processor = make_scheme("kgw", key, green_list=green_list).logits_processor(vocab, "cpu")
        processor(input_ids, scores)
        start = time.perf_counter()
        for step in range(n):
            processor(input_ids + step, scores)  # new contexts every step (no mask cache hits)
        per_step = (time.perf_counter() - start) / n * 1000
        print(f"logits processor alone, green_list={green_list}: {per_step:.2f} ms per step "
              f"(batch {batch}, {vocab} logits)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--permutation", action="store_true", help="also green_list=permutation")
    args = parser.parse_args()
    print(f"CPU: {cpu_description()}")
    print(f"load average before: {load_average()}")
    key = WatermarkKey(PUBLIC_KEY)
    conditions: dict[str, WatermarkSpec | None] = {"plain": None, "kgw (hash)": make_spec("kgw", key)}
    if args.permutation:
        conditions["kgw (permutation)"] = make_spec("kgw", key, green_list="permutation")
    processor_cost(key)
    model = load_model(ModelConfig(model="hf:gguf:smollm2", options={"batch_size": args.batch}))
    base = GenerationParams(temperature=1.0, seed=0, max_tokens=args.tokens)

    async def generate(spec: WatermarkSpec | None, prompts: list[str]) -> tuple[float, int]:
        params = base if spec is None else base.model_copy(update={"watermark": spec})
        start = time.perf_counter()
        tokens = 0
        for i in range(0, len(prompts), args.batch):
            responses = await model.generate([Request.user(p, params) for p in prompts[i:i + args.batch]])
            tokens += sum(r.usage.output_tokens for r in responses if r.usage)
        return time.perf_counter() - start, tokens

    async def run() -> dict[str, list[tuple[float, int]]]:
        try:
            await model.check()
            await generate(conditions["kgw (hash)"], PROMPTS[: args.batch])  # warm-up
            times: dict[str, list[tuple[float, int]]] = {name: [] for name in conditions}
            for r in range(args.rounds):
                names = list(conditions) if r % 2 == 0 else list(reversed(conditions))
                for name in names:
                    times[name].append(await generate(conditions[name], PROMPTS))
                    print(f"   round {r + 1} {name}: {times[name][-1][0]:.2f} s", flush=True)
            return times
        finally:
            await model.aclose()

    times = asyncio.run(run())
    print(f"\n{len(PROMPTS)} prompts x {args.tokens} tokens, batch {args.batch}, temperature 1, seed 0; "
          f"median of {args.rounds} alternating rounds")
    print(f"   {'condition':<20}{'wall s':>9}{'tokens':>8}{'ms/token':>10}{'vs plain':>10}{'per token':>11}")
    plain_s = statistics.median(t for t, _ in times["plain"])
    plain_rate = statistics.median(t / n for t, n in times["plain"])
    for name, runs in times.items():
        wall = statistics.median(t for t, _ in runs)
        rate = statistics.median(t / n for t, n in runs)
        tokens = int(statistics.median(n for _, n in runs))
        print(f"   {name:<20}{wall:>9.2f}{tokens:>8}{rate * 1000:>10.1f}{wall / plain_s:>9.2f}x"
              f"{rate / plain_rate:>10.2f}x")
    ratio = statistics.median(t for t, _ in times["kgw (hash)"]) / plain_s
    print(f"   -> kgw (hash) / plain = {ratio:.2f}x wall time (target <= 1.3: {'ok' if ratio <= 1.3 else 'MISSED'})")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
