"""Scoring the full TrustLLM suite from the store: wall time and peak memory, no model calls.

Usage::

    python benchmarks/scoring.py [--data ../shared/data/trustllm] [--model scripted:echo] [--json out.json]

Three runs of ``trustgauge run --suite trustllm`` (every sub-task, 15,375 samples; 13,975
distinct prompts), each in its own process, in a fresh ``TRUSTGAUGE_HOME`` (the converted
MiniLM model cache is shared, so no run pays for the one-off ONNX conversion):

1. **fill**: the model answers every prompt (``scripted:echo`` repeats the prompt: responses of
   realistic, varied length at no cost), the default offline judges judge every response;
2. **re-judge**: the judgements are deleted from the store; every response comes from the
   store (the run asserts that no request was sent) and every judge runs again: this is the
   cost of scoring a full run's responses;
3. **cached**: responses and judgements both come from the store: the cost of loading the
   data, looking everything up, computing the metrics and writing the run directory.

Wall time and peak RSS (``ru_maxrss`` of each child process, via ``os.wait4``) are printed side
by side, with each run's time as a ratio of the cached run's. Target (issue 5): re-judge under
2 minutes and under 2 GiB on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "trustllm"


def run_cli(args: list[str], env: dict[str, str], log: Path) -> tuple[float, int]:
    """Run the CLI; return (wall seconds, peak RSS in bytes). Fails loudly on a non-zero exit."""
    t0 = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "trustgauge.cli", *args], env=env,
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        # wait4 gives this child's own resource usage (ru_maxrss in KiB on Linux)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise SystemExit(f"trustgauge {' '.join(args)} exited {proc.returncode}")
    return wall, usage.ru_maxrss * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", default="scripted:echo")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)

    from trustgauge._paths import model_cache_dir

    with tempfile.TemporaryDirectory(prefix="tg-bench-") as tmp:
        home = Path(tmp)
        env = {
            **os.environ,
            "TRUSTGAUGE_HOME": str(home / "home"),
            "TRUSTGAUGE_MODEL_CACHE": str(model_cache_dir()),
            "CI": "true",
        }
        base = ["run", "-m", args.model, "--suite", "trustllm", "--data-dir", str(args.data), "-q"]
        rows: list[dict[str, Any]] = []
        for phase in ("fill", "re-judge", "cached"):
            if phase == "re-judge":
                with sqlite3.connect(home / "home" / "store.sqlite3") as db:
                    deleted = db.execute("DELETE FROM judgements").rowcount
                print(f"deleted {deleted} stored judgements", file=sys.stderr)
            out = home / phase
            print(f"{phase} ...", file=sys.stderr, flush=True)
            wall, rss = run_cli([*base, "-o", str(out)], env, home / f"{phase}.log")
            run = json.loads((out / "run.json").read_text())
            samples = sum(t["n_samples"] for t in json.loads((out / "scores.json").read_text())["tasks"])
            if phase != "fill":
                assert run["requests"]["sent"] == 0, run["requests"]
            rows.append({
                "phase": phase, "wall_s": round(wall, 2), "peak_rss_mib": round(rss / 2**20, 1),
                "samples": samples, "requests_sent": run["requests"]["sent"],
                "judges": run["judges"],
            })
    cached = next(r for r in rows if r["phase"] == "cached")["wall_s"]
    print(f"\n{'phase':<10} {'wall s':>8} {'x cached':>9} {'peak RSS MiB':>13} {'samples':>8} {'sent':>6}")
    for r in rows:
        print(
            f"{r['phase']:<10} {r['wall_s']:>8.1f} {r['wall_s'] / cached:>9.2f} "
            f"{r['peak_rss_mib']:>13.0f} {r['samples']:>8} {r['requests_sent']:>6}"
        )
    print(f"judges: {rows[0]['judges']}")
    rejudge = next(r for r in rows if r["phase"] == "re-judge")
    ok = rejudge["wall_s"] < 120 and rejudge["peak_rss_mib"] < 2048
    print(f"target (re-judge < 120 s and < 2048 MiB): {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
