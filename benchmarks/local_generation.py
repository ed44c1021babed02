"""SmolLM2 generation speed through the gguf backend's llama.cpp server, quiet and with one busy process.

    python benchmarks/local_generation.py              # 3 interleaved rounds (~15 minutes on 2 busy cores)
    python benchmarks/local_generation.py --rounds 1   # quicker

Issue 14, item 4: a busy machine should slow local generation in proportion (one competing
process on 2 cores: about half the CPU, so about half the speed), not 5-10x. The xllamacpp wheel
is built with OpenMP (``libgomp``), so llama.cpp's worker threads meet at an OpenMP barrier after
every graph op, and libgomp's default wait policy *spins* there. When one of them is descheduled
because another process wants its core, the others spin on until it comes back, so one busy
neighbour can stall every token. (llama.cpp's own ``cpuparams.poll`` only matters for its
non-OpenMP threadpool, so it is not varied here.)

For every configuration (threads x slots x ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``) the script starts
the server in a fresh process (libgomp reads both once, when it is loaded) with
:func:`trustgauge.models.gguf.start_server` (the backend's own code), sends the same fixed prompts
(greedy: temperature 0, seed 0, fixed ``max_tokens``; ``slots`` requests in flight) and counts
the completion tokens per wall second (warm-up excluded). Each configuration runs quiet and with
ONE competing busy process (a Python ``while True`` loop, not pinned, started and stopped by this
script), and the rounds interleave every configuration and both conditions, so drifting load from
other users of the machine hits them all alike. Medians over rounds are reported, with the CPU
model and flags, the load average, and whether the generated text was identical across every
configuration.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _machine import cpu_description  # noqa: E402

from trustgauge.models import gguf  # noqa: E402

PROMPTS = [
    "Write a short paragraph about the history of the bicycle.",
    "Explain in a few sentences how a refrigerator keeps food cold.",
    "List some tips for a first-time visitor to a large city.",
    "Describe what happens during a solar eclipse.",
]
BUSY_CODE = "while True:\n    pass\n"


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def generate_all(base_url: str, slots: int, max_tokens: int) -> tuple[int, float, list[str]]:
    """Send every prompt (``slots`` in flight); return (completion tokens, wall s, texts)."""

    def one(prompt: str) -> tuple[int, str]:
        body = json.dumps({
            "model": "m", "messages": [{"role": "user", "content": prompt}],
            "temperature": 0, "seed": 0, "max_tokens": max_tokens,
        }).encode()
        req = urllib.request.Request(
            base_url + "/chat/completions", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=600) as resp:
            data = json.loads(resp.read())
        return int(data["usage"]["completion_tokens"]), str(data["choices"][0]["message"]["content"])

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(slots) as pool:
        results = list(pool.map(one, PROMPTS))
    wall = time.perf_counter() - start
    return sum(n for n, _ in results), wall, [t for _, t in results]


def run_config(threads: int, slots: int, policy: str, max_tokens: int) -> tuple[float, list[str]]:
    """One configuration in a fresh process (libgomp reads OMP_WAIT_POLICY once, when loaded).

    ``policy``: an ``OMP_WAIT_POLICY`` value, ``unset`` (libgomp's default: spin ~300,000 times at a
    barrier, then sleep), or ``spin=N`` (wait policy unset, ``GOMP_SPINCOUNT=N``: a bounded spin)."""
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("GOMP_SPINCOUNT", None)
    unset = policy == "unset" or policy.startswith("spin=")
    if policy.startswith("spin="):
        env["GOMP_SPINCOUNT"] = policy.split("=", 1)[1]
    elif policy != "unset":
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run(
        [sys.executable, __file__, "--one", f"{threads},{slots},{max_tokens},{int(unset)}"],
        env=env, capture_output=True, text=True, timeout=900, check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return float(data["rate"]), list(data["texts"])


def one(threads: int, slots: int, max_tokens: int, unset: bool) -> None:
    if unset:
        # libgomp loaded with the environment as given (gguf would otherwise add its GOMP_SPINCOUNT)
        import xllamacpp  # noqa: F401
    base_url, stop = gguf.start_server(gguf.smollm2_path(), n_parallel=slots, n_ctx=1024, threads=threads)
    try:
        generate_all(base_url, slots, 8)  # warm-up (weights paged in, first-call costs)
        tokens, wall, texts = generate_all(base_url, slots, max_tokens)
    finally:
        stop()
    print(json.dumps({"rate": tokens / wall, "texts": texts}))


def configurations(cores: int) -> list[tuple[int, int, str]]:
    """(threads, slots, policy): "unset" = libgomp's default (spin ~300,000 rounds at barriers) =
    before issue 14; PASSIVE = never spin (the backend's default for a while); spin=N = the
    backend's default now (GOMP_SPINCOUNT). One thread has no barriers, so only PASSIVE."""
    # threads: 1, cores - 1 and cores (one set: on 2 cores that is 1 and 2)
    threads = sorted({1, max(1, cores - 1), cores})
    rows = [(t, s, "PASSIVE") for t in threads for s in (1, 2)]
    rows += [(t, s, p) for t in threads if t > 1 for s in (1, 2) for p in ("unset", f"spin={gguf.GOMP_SPINCOUNT}")]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument(
        "--config", action="append", metavar="THREADS,SLOTS,POLICY",
        help="only these configurations (repeatable); POLICY: PASSIVE, ACTIVE, unset or spin=N (GOMP_SPINCOUNT=N)",
    )
    args = parser.parse_args()
    if args.one:
        t, s, m, unset = (int(x) for x in args.one.split(","))
        one(t, s, m, bool(unset))
        return 0

    cores = available_cores()
    configs = configurations(cores)
    if args.config:
        configs = [(int(t), int(sl), p) for t, sl, p in (c.split(",", 2) for c in args.config)]
    print(f"SmolLM2-135M-Instruct Q4_1 via xllamacpp, {len(PROMPTS)} prompts x {args.max_tokens} max tokens, greedy")
    print(f"CPU: {cpu_description()}; {cores} in this process's affinity")
    print(f"backend defaults: before issue 14 threads={os.cpu_count()}, slots=2, OMP_WAIT_POLICY unset; "
          f"now threads={gguf.default_threads()}, slots=2, GOMP_SPINCOUNT={gguf.GOMP_SPINCOUNT} (wait policy unset)")
    print(f"load average before: {os.getloadavg()}")

    Key = tuple[int, int, str, str]
    rates: dict[Key, list[float]] = {}
    texts: dict[Key, list[str]] = {}
    for rnd in range(args.rounds):
        # alternate which condition goes first, and reverse the config order every other round
        conditions = ["quiet", "busy"] if rnd % 2 == 0 else ["busy", "quiet"]
        order = configs if rnd % 2 == 0 else configs[::-1]
        for cond in conditions:
            busy = subprocess.Popen([sys.executable, "-c", BUSY_CODE]) if cond == "busy" else None
            try:
                for t, s, p in order:
                    rate, out = run_config(t, s, p, args.max_tokens)
                    rates.setdefault((t, s, p, cond), []).append(rate)
                    texts.setdefault((t, s, p, cond), out)
                    print(f"  round {rnd + 1} {cond:5} threads={t} slots={s} OMP_WAIT_POLICY={p}: {rate:6.1f} tok/s", flush=True)
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()

    print(f"load average after: {os.getloadavg()}")
    print()
    print(f"median output tokens/s over {args.rounds} round(s); 'busy' = one competing `while True` process")
    print(f"{'threads':>7} {'slots':>5} {'OMP_WAIT_POLICY':>15} {'quiet':>8} {'busy':>8} {'busy/quiet':>10}")
    table = []
    for t, s, p in configs:
        quiet = statistics.median(rates[(t, s, p, "quiet")])
        busy_rate = statistics.median(rates[(t, s, p, "busy")])
        mark = ""
        if (t, s, p) == (os.cpu_count(), 2, "unset"):
            mark = "  <- old default"
        elif (t, s, p) == (gguf.default_threads(), 2, f"spin={gguf.GOMP_SPINCOUNT}"):
            mark = "  <- new default"
        print(f"{t:>7} {s:>5} {p:>15} {quiet:8.1f} {busy_rate:8.1f} {busy_rate / quiet:10.2f}{mark}")
        table.append({"threads": t, "slots": s, "omp_wait_policy": p, "quiet": quiet, "busy": busy_rate,
                      "quiet_all": rates[(t, s, p, "quiet")], "busy_all": rates[(t, s, p, "busy")]})
    distinct = {json.dumps(v) for v in texts.values()}
    print()
    print(f"generated text identical across all {len(texts)} configuration/condition pairs: "
          f"{'yes' if len(distinct) == 1 else f'NO ({len(distinct)} variants)'}")
    if len(distinct) > 1:
        by_variant: dict[str, list[str]] = {}
        for key, value in texts.items():
            by_variant.setdefault(json.dumps(value), []).append(f"t{key[0]}/s{key[1]}/{key[2]}/{key[3]}")
        for i, keys in enumerate(by_variant.values()):
            print(f"  variant {i}: {', '.join(keys)}")
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_description(), "rows": table}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
