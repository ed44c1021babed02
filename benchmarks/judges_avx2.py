"""The default refusal judge on the AVX2 code path, on any x86 machine: instructions per response.

    python benchmarks/judges_avx2.py --old ../bench-judge4 --new . -n 100

The judges' speed depends on the CPU family more than on anything in the code: ONNX Runtime picks
its int8 kernels by the instructions the CPU has, and on a CPU without VNNI (AVX2 only, like many
laptops and AMD EPYC servers) the MiniLM encoder is ~3.5x slower than on one with AVX-512 VNNI. A
machine here may be either, so this script measures the AVX2 path whatever the machine: it runs the
judge under valgrind (callgrind), whose virtual CPU reports AVX2 and FMA but no AVX-512 and no VNNI,
so ONNX Runtime takes exactly the kernels an AVX2-only CPU runs. Callgrind counts instructions, not
seconds: the count is the same on a busy machine and a quiet one.

For each source tree (``--old``, ``--new``), in a child under callgrind: the refusal judge judges 0
and then ``n`` XSTest responses (a stride sample over all three models' responses, each made unique);
the difference divided by ``n`` is the instructions per response, start-up excluded. The child also
prints what numpy's runtime dispatch saw (AVX512F must be absent) and, for a cascade judge, how the
responses were decided (rule, gate, head).

Time does not follow instructions exactly (the encoder's kernels retire more instructions per cycle
than Python does), so a rate projected from the ratio is an estimate; the measured figures on real
CPUs are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_description

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT.parent / "shared" / "data" / "labels" / "xstest_v2_refusal_labels.csv"
#: the learned refusal judge through `trustgauge judge refusal` on the issue-14 AVX2-only EPYC (minilm@4)
REPORTED_AVX2_RATE_OLD = 105.0


def sample(n: int) -> list[str]:
    with LABELS.open(encoding="utf-8") as fh:
        base = [r["response"] for r in csv.DictReader(fh)]
    step = max(1, len(base) // max(n, 1))
    return [f"{base[(i * step) % len(base)]} [{i}]" for i in range(n)]


def child(n: int) -> int:
    """Judge n responses with the tree on PYTHONPATH (runs under callgrind)."""
    import asyncio

    from trustgauge.judges.registry import create_judge
    from trustgauge.types import JudgeItem

    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as feats  # type: ignore[no-redef]
    from trustgauge.judges._encoder import shared_encoder

    judge = create_judge("refusal", "minilm")
    asyncio.run(judge.judge([JudgeItem(response="Warm-up: the capital of France is Paris.")]))
    # open the encoder's graph here, in the part subtracted as start-up, even where the cascade had no
    # need of it for the warm-up text (otherwise its loading would be counted against the responses)
    shared_encoder(judge.encoder_config).encode(["Warm-up: the capital of France is Paris."])
    out = asyncio.run(judge.judge([JudgeItem(response=t) for t in sample(n)])) if n else []
    stages: dict[str, int] = {}
    for j in out:
        stage = (j.raw or "").rsplit("by=", 1)[-1] if "by=" in (j.raw or "") else "head (no cascade)"
        stages[stage] = stages.get(stage, 0) + 1
    print(json.dumps({"judge": judge.id, "avx2": bool(feats.get("AVX2")), "avx512f": bool(feats.get("AVX512F")),
                      "stages": stages}))
    return 0


def count(tree: Path, n: int) -> tuple[int, dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(tree / "src"), "TRUSTGAUGE_HOME": tmp, "OMP_NUM_THREADS": "1"}
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out", sys.executable, __file__,
             "--child", str(n)],
            capture_output=True, text=True, env=env, check=False,
        )
    refs = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    if proc.returncode != 0 or not refs:
        raise SystemExit(f"error: the child under valgrind failed ({tree}, n={n}):\n{proc.stderr[-2000:]}")
    return int(refs.group(1).replace(",", "")), json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, required=False, help="source tree of the judge before (e.g. a worktree)")
    parser.add_argument("--new", type=Path, default=ROOT, help="source tree of the judge after (default: this one)")
    parser.add_argument("-n", type=int, default=100, help="responses judged (under valgrind: ~1 s each for minilm@4)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return child(args.child)
    if not shutil.which("valgrind"):
        print("error: valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    if not LABELS.exists():
        print(f"error: {LABELS} not found (needs ../shared beside the repo)", file=sys.stderr)
        return 2
    print(f"host CPU: {cpu_description()}")
    print("measured on valgrind's virtual CPU (AVX2 + FMA, no AVX-512, no VNNI): ONNX Runtime's AVX2 kernels")
    trees = {"old": args.old, "new": args.new} if args.old else {"new": args.new}
    per: dict[str, float] = {}
    for name, tree in trees.items():
        base, _ = count(tree.resolve(), 0)
        total, info = count(tree.resolve(), args.n)
        if info["avx512f"] or not info["avx2"]:
            print(f"error: the child saw avx2={info['avx2']} avx512f={info['avx512f']}: not the AVX2 path", file=sys.stderr)
            return 1
        per[name] = (total - base) / args.n
        print(f"{name:4s} {info['judge']:10s} {per[name] / 1e6:8.1f} M instructions/response  "
              f"(n={args.n}; start-up {base / 1e9:.2f} G excluded)  decided by: {info['stages']}")
    if "old" in per:
        ratio = per["old"] / per["new"]
        print(f"old/new instructions per response: {ratio:.2f}x; at the {REPORTED_AVX2_RATE_OLD:.0f}/s measured for "
              f"minilm@4 on the issue's AVX2-only EPYC, that projects to ~{REPORTED_AVX2_RATE_OLD * ratio:.0f}/s "
              "(if time followed instructions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
