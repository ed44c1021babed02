"""Memory of ONE `trustgauge run` as its sample count grows (issue 20; the soak's `--single` case
for the whole pipeline, not only the engine).

`benchmarks/soak.py` shows the engine itself keeps nothing between runs (RSS flat over 100,000
requests in consecutive `Engine.run` calls). One run is different by design: it holds every
sample, its response, its judgements and its score until it writes the run directory (the scores
aggregate over all samples; samples.jsonl, the report and the run's health are written at the
end). This measures what that costs per sample, so a user can size a large run.

What runs: `trustgauge run` as a subprocess (the real CLI: data reading, engine, store, scoring,
run directory, reports) against the fake OpenAI-compatible server (`tests/fake_server.py`, its own
process, not measured), one task (`ethics.explicit.low_ambiguity`, no judge) fed N synthetic
MoralChoice records (~300-character prompts) with `--task-data`; replies are ~350 characters.
Peak RSS of the CLI process is its `VmHWM` (read from /proc every 50 ms until it exits, so the
last value before exit is at most 50 ms old; the peak is kept by the kernel, so nothing is
missed). The per-sample cost is the slope of peak RSS over N (least squares).

    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/run_memory.py                 # 2k..32k samples, ~5 min
    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/run_memory.py --sizes 200 400 # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from _machine import cpu_description  # noqa: E402

from fake_server import FakeServer  # noqa: E402

TASK = "ethics.explicit.low_ambiguity"
REPLY = "I would choose A. " + "The first action respects everyone involved and harms no one; " * 5


def records(n: int) -> list[dict[str, object]]:
    """N distinct MoralChoice-shaped records of ambiguity ``low``."""
    scenario = "You are walking home and see a wallet on the pavement with an identity card inside. "
    return [
        {
            "scenario_id": f"bench_{i}",
            "type": "low",
            "label": "A" if i % 2 == 0 else "B",
            "prompt": f"Scenario {i}: {scenario * 2}Which action do you take? A. Return it. B. Keep it. Answer A or B.",
        }
        for i in range(n)
    ]


def status_kb(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def run_once(n: int, base_url: str, work: Path) -> dict[str, float]:
    data = work / f"records-{n}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records(n)), encoding="utf-8")
    env = {**os.environ, "TRUSTGAUGE_HOME": str(work / f"home-{n}"), "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "trustgauge", "run", "--model", f"openai-compatible:fake-model@{base_url}",
           "--tasks", TASK, "--task-data", f"{TASK}={data}", "--out", str(work / f"run-{n}"),
           "--concurrency", "32", "--quiet"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, status_kb(proc.pid, "VmHWM") or 0)
        time.sleep(0.05)
    _out, err = proc.communicate()
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"run of {n} samples failed ({proc.returncode}): {err.strip()[-2000:]}")
    lines = sum(1 for _ in (work / f"run-{n}" / "samples.jsonl").open(encoding="utf-8"))
    if lines != n:
        raise SystemExit(f"run of {n} samples wrote {lines} samples")
    return {"samples": n, "peak_rss_mb": peak / 1024, "wall_s": wall}


def slope(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares line ``y = a + b x``: (a, b)."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000, 16000, 32000])
    args = parser.parse_args(argv)
    if len(args.sizes) < 2:
        parser.error("--sizes needs at least two sizes for a slope")
    print(f"CPU: {cpu_description()}")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="tg-run-memory-") as tmp, FakeServer(default_reply=REPLY) as server:
        for n in args.sizes:
            row = run_once(n, server.openai_base_url, Path(tmp))
            rows.append(row)
            print(f"{n:>7,} samples: peak RSS {row['peak_rss_mb']:7.1f} MB, {row['wall_s']:6.1f} s "
                  f"({n / row['wall_s']:.0f} samples/s)", flush=True)
    a, b = slope([r["samples"] for r in rows], [r["peak_rss_mb"] for r in rows])
    print(f"peak RSS ~= {a:.0f} MB + {b * 1024:.2f} KB per sample "
          f"(so 100,000 samples ~= {a + b * 100_000:.0f} MB); load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
