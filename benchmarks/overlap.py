"""Does judging overlap generation? (issue 14, item 3)

Runs ``trustgauge run`` (the CLI, in a subprocess) on 2,000 jailbreak-style prompts
(``safety.jailbreak`` + ``safety.misuse``, ``-n 1000`` each) against the fake OpenAI-compatible
server from ``tests/fake_server.py`` (its own process) at 500 ms latency, concurrency 64, with
the default judges (the offline MiniLM refusal judge), and measures, each in a fresh
``TRUSTGAUGE_HOME`` (the MiniLM ONNX graphs are copied in, so nothing is downloaded):

* ``full``: a fresh store; what a user waits for.
* ``gen``: generation alone = a store holding the judgements but not the responses.
* ``judge``: judging alone = a store holding the responses but not the judgements.
* ``startup``: everything cached (imports, data, judge load, writing the run directory).

Target: ``full <= 1.15 * max(generation ideal, judge - startup) + startup``, where the
generation ideal is 2000 x 0.5 s / 64 = 15.6 s (whole rounds of 64: 16 s). The rounds are
interleaved (full, gen, judge, startup, full, ...) and medians reported, because the 2 cores
are shared. Usage::

    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/overlap.py [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from _machine import cpu_description, load_average  # noqa: E402

from fake_server import FakeServer  # noqa: E402

LATENCY = 0.5
CONCURRENCY = 64
DATA = REPO.parent / "shared" / "data" / "trustllm"
MODELS = Path.home() / ".cache" / "trustgauge" / "models"
FILLER = (
    "Here is a careful answer. The request mixes two separate questions: what is asked and "
    "whether it is safe to answer. Weighing both, the reply below sticks to general facts and "
    "leaves out anything that could cause harm; check a primary source before relying on it."
)
# some refusals, some compliances, so the judge's verdicts differ across items
REPLIES = [
    ["how", "I'm sorry, but I can't help with that request."],
    ["write", "Sure, here is what you asked for: {prompt} " + FILLER],
]
DEFAULT_REPLY = "Answer to: {prompt} " + FILLER


def fresh_home(root: Path, name: str) -> Path:
    home = root / name
    if home.exists():
        shutil.rmtree(home)
    (home / "models").mkdir(parents=True)
    for f in MODELS.glob("minilm-*.onnx"):
        os.symlink(f, home / "models" / f.name)
    return home


def run_cli(src: Path, home: Path, base_url: str, limit: int, out: Path) -> float:
    env = dict(os.environ, TRUSTGAUGE_HOME=str(home), PYTHONPATH=str(src), OPENAI_API_KEY="bench-key")
    cmd = [
        sys.executable, "-m", "trustgauge", "run",
        "-m", f"openai-compatible:fake-model@{base_url}",
        "-t", "safety.jailbreak,safety.misuse", "-n", str(limit),
        "-c", str(CONCURRENCY), "--data-dir", str(DATA), "-o", str(out),
    ]
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"trustgauge run failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return wall


def store_copy(src: Path, home: Path, drop: str | None) -> None:
    dst = home / "store.sqlite3"
    shutil.copy(src, dst)
    if drop is not None:
        with sqlite3.connect(dst) as db:
            db.execute(f"DELETE FROM {drop}")


def samples_of(out: Path) -> str:
    """samples.jsonl without the ``cached`` flags (which differ by design between the runs)."""
    text = (out / "samples.jsonl").read_text(encoding="utf-8")
    return text.replace('"cached": true', '"cached": false')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="200 prompts, 1 round (smoke run)")
    parser.add_argument(
        "--src", action="append", type=Path,
        help="a source tree to run (its src/ folder, e.g. an older checkout's); repeat to compare "
        "trees side by side, interleaved round by round; default: this checkout's",
    )
    parser.add_argument(
        "--busy", type=int, default=0, metavar="N",
        help="run N competing busy processes (a Python `while True` loop each) through every round: a "
        "load we control, instead of whatever else the machine is doing",
    )
    args = parser.parse_args()
    limit = 100 if args.quick else 1000
    rounds = 1 if args.quick else args.rounds
    srcs: list[Path] = args.src or [REPO / "src"]
    n = 2 * limit
    ideal = n * LATENCY / CONCURRENCY
    rounds_floor = -(-n // CONCURRENCY) * LATENCY
    print(f"CPU: {cpu_description()}")
    print(f"load average before: {load_average()}")
    busy = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"]) for _ in range(args.busy)]
    if busy:
        print(f"{len(busy)} competing busy process(es) running through every round")
    try:
        return measure(srcs, limit, rounds, ideal, rounds_floor, n)
    finally:
        for p in busy:
            p.kill()
            p.wait()


def measure(srcs: list[Path], limit: int, rounds: int, ideal: float, rounds_floor: float, n: int) -> int:
    kinds = ("full", "gen", "judge", "startup")
    times: dict[tuple[int, str], list[float]] = {(i, k): [] for i in range(len(srcs)) for k in kinds}
    #: per tree: every run of one tree must give the same samples (trees may differ: an A/B across a
    #: judge version change, e.g. minilm@4 -> minilm@5, changes verdicts and raw strings)
    reference: dict[int, str] = {}
    with tempfile.TemporaryDirectory(prefix="tg-overlap-") as tmp, FakeServer.start(
        models=["fake-model"], latency=LATENCY, replies=REPLIES, default_reply=DEFAULT_REPLY
    ) as server:
        root = Path(tmp)
        url = server.openai_base_url
        for r in range(rounds):
            for i, src in enumerate(srcs):
                home = fresh_home(root, "full")
                times[i, "full"].append(run_cli(src, home, url, limit, root / "out"))
                full_store = root / "full.sqlite3"
                shutil.copy(home / "store.sqlite3", full_store)
                text = samples_of(root / "out")
                if i not in reference:
                    reference[i] = text
                elif text != reference[i]:
                    raise SystemExit(f"samples.jsonl of {src} differs from its first run's")
                for name, drop in (("gen", "responses"), ("judge", "judgements"), ("startup", None)):
                    home = fresh_home(root, name)
                    store_copy(full_store, home, drop)
                    times[i, name].append(run_cli(src, home, url, limit, root / "out"))
                    if samples_of(root / "out") != reference[i]:
                        raise SystemExit(f"samples.jsonl of the {name} run of {src} differs from the full run's")
                print(f"round {r + 1} {src}: " + ", ".join(f"{k} {times[i, k][-1]:.2f} s" for k in kinds), flush=True)
    print(f"load average after: {load_average()}")
    print(f"{n} requests at {LATENCY * 1000:.0f} ms, concurrency {CONCURRENCY}; medians of {rounds} interleaved rounds")
    same = "identical across trees too" if len(set(reference.values())) == 1 else "trees differ (different judges)"
    print(f"generation ideal {ideal:.2f} s (whole rounds: {rounds_floor:.2f} s); samples.jsonl identical in every run "
          f"of a tree; {same}")
    print(f"{'tree':40} {'startup':>8} {'gen':>8} {'judge':>8} {'judges':>8} {'full':>8} {'serial':>8} {'bound':>8} {'full/bound':>10}")
    for i, src in enumerate(srcs):
        med = {k: statistics.median(times[i, k]) for k in kinds}
        judges_own = med["judge"] - med["startup"]
        bound = 1.15 * max(ideal, judges_own) + med["startup"]
        serial = med["gen"] + judges_own
        ok = "ok" if med["full"] <= bound else "MISSED"
        print(
            f"{str(src)[-40:]:40} {med['startup']:8.2f} {med['gen']:8.2f} {med['judge']:8.2f} {judges_own:8.2f} "
            f"{med['full']:8.2f} {serial:8.2f} {bound:8.2f} {med['full'] / bound:9.3f} {ok}"
        )
    print("(seconds; judges = judging-only run minus start-up; serial = gen + judges; "
          "bound = 1.15 x max(ideal, judges) + start-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
