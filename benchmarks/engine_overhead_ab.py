#!/usr/bin/env python
"""Did a change make the engine slower? ``engine_overhead.py`` on two source trees, alternated.

Issue 13's acceptance: "the engine overhead benchmark does not regress by more than 5%". Absolute
times on a shared 2-core machine move with the load, so this script compares what the benchmark
already normalises — the engine's client CPU per request divided by the bare OpenAI client's in
the same run (``ours/bare``), and wall time at 500 ms latency divided by the ideal — between two
revisions, run alternately (A B B A A B ...) so that load drifts hit both alike:

    git worktree add --detach /tmp/tg-old <old commit>
    python benchmarks/engine_overhead_ab.py --old /tmp/tg-old --new . --rounds 4

Each round runs ``benchmarks/engine_overhead.py`` of the *new* tree (same measurement code for
both) in a subprocess with ``PYTHONPATH=<tree>/src``, so only the imported trustgauge differs.
Prints the CPU model and flags, every round's ratios, and the median ratio per revision with
new/old - 1 (the regression). ``--quick`` uses the benchmark's smoke plan (256 requests).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import cpu_description  # noqa: E402


def ratios(result: dict) -> dict[str, float]:
    """ours/bare client CPU per request (best run each, 50 ms) and engine wall / ideal (500 ms)."""
    fast, slow, plan = result["fast"], result["slow"], result["plan"]
    best_cpu = {k: min(r["cpu"] / r["n"] for r in runs) for k, runs in fast.items()}
    engine_slow = min(r["wall"] for r in slow["engine"])
    n = slow["engine"][0]["n"]
    ideal = n * plan["slow_latency"] / 64
    return {
        "cpu_ours_over_bare": best_cpu["engine"] / best_cpu["bare"],
        "cpu_nostore_over_bare": best_cpu["engine_nostore"] / best_cpu["bare"],
        "wall_over_ideal": engine_slow / ideal,
    }


def run_once(tree: Path, quick: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="tg-ab-") as tmp:
        out = Path(tmp) / "r.json"
        cmd = [sys.executable, str(HERE / "engine_overhead.py"), "--no-inspect", "--no-memory", "--json", str(out)]
        if quick:
            cmd.append("--quick")
        env = {**os.environ, "PYTHONPATH": str(tree / "src"), "TRUSTGAUGE_HOME": tmp}
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        return ratios(json.loads(out.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="source tree before the change")
    parser.add_argument("--new", type=Path, required=True, help="source tree after the change")
    parser.add_argument("--rounds", type=int, default=4, help="runs per tree (alternated)")
    parser.add_argument("--quick", action="store_true", help="the benchmark's smoke plan")
    args = parser.parse_args(argv)
    print(f"cpu: {cpu_description()}")
    print(f"load average before: {os.getloadavg()}")
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    got: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for i in range(args.rounds):
        order = ["old", "new"] if i % 2 == 0 else ["new", "old"]
        for name in order:
            r = run_once(trees[name], args.quick)
            got[name].append(r)
            print(f"round {i + 1} {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()), flush=True)
    print(f"load average after: {os.getloadavg()}")
    print("\nmedian over rounds     old      new   new/old-1")
    for key in got["old"][0]:
        old = statistics.median(r[key] for r in got["old"])
        new = statistics.median(r[key] for r in got["new"])
        print(f"{key:22s} {old:7.3f}  {new:7.3f}  {new / old - 1:+7.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
