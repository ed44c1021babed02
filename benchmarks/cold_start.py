"""Cold start (issue 14, item 5): how long the CLI's quick commands take, and how long the
offline judges' encoder takes to be ready on a fresh machine (no cached ONNX graph) and on a
warm one (graph cached).

Every figure is the wall time of a fresh interpreter (``subprocess``), so it includes Python's
start and every import, as a user sees it. The variants are interleaved round by round (other
processes share the CPU) and the table gives medians and the spread.

- ``help``: ``trustgauge --help``; ``tasks``: ``trustgauge tasks``; ``tasks --json``.
- ``encoder cold (legacy)``: the graph as it was built before issue 14: fp32 graph saved,
  then ``onnxruntime.quantization.quantize_dynamic`` (reproduced here for the ratio), then the
  session, then one text encoded; in a fresh, empty model cache.
- ``encoder cold (build_graph)``: the int8 graph written directly by ``build_graph`` through
  onnx (no skeleton: what ``graph_path`` falls back to), fresh empty model cache.
- ``encoder cold (skeleton)``: today's ``graph_path``: the shipped skeleton filled in with the
  weights, fresh empty model cache.
- ``encoder cold (skeleton, fp32)``: the same for the fp32 graph, which the default refusal judge
  reads since minilm@6 (and the similarity and toxicity judges since before).
- ``encoder warm``: the graph is cached; session and one text.

    python benchmarks/cold_start.py            # 5 rounds
    python benchmarks/cold_start.py --rounds 9 --json out.json
    python benchmarks/cold_start.py --before ../main/src   # also the CLI rows of another checkout
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from _machine import cpu_description  # noqa: E402

_LEGACY = r'''
import json, logging, os
from pathlib import Path
import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
from safetensors.numpy import load_file
from trustgauge.judges import _encoder as E

def legacy_graph_path(quantize):
    path = E.model_cache_dir() / f"minilm-{E.WEIGHTS_SHA256[:12]}-g{E.GRAPH_VERSION}-int8.onnx"
    folder = E.locate_weights()
    weights = load_file(str(folder / "model.safetensors"))
    config = json.loads((folder / "config.json").read_text())
    src = path.with_suffix(".fp32.tmp")
    onnx.save(E.build_graph(weights, config), str(src))
    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(str(src), str(path), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], per_channel=True)
    src.unlink()
    return path

E.graph_path = legacy_graph_path
'''

_NO_SKELETON = r'''
from pathlib import Path
from trustgauge.judges import _encoder as E
E.skeleton_path = lambda quantize: Path("/nonexistent")
'''

#: the CLI of another source tree (sys.path first, so PYTHONPATH's src does not shadow it)
_BEFORE = "import sys; sys.path.insert(0, {src!r}); sys.argv[0] = 'trustgauge'; from trustgauge.cli import main; main()"

_ENCODE = r'''
from trustgauge.judges._encoder import EncoderConfig, MiniLMEncoder
MiniLMEncoder(EncoderConfig(), threads=1).encode(["I'm sorry, but I can't help with that."])
'''

#: the refusal judge's graph since minilm@6 (and the similarity and toxicity judges'): fp32
_ENCODE_FP32 = _ENCODE.replace("EncoderConfig()", "EncoderConfig(64, quantize=False)")


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the raw times here")
    parser.add_argument("--before", type=Path, help="the src folder of another checkout: its help/tasks rows too, interleaved")
    args = parser.parse_args()
    py = sys.executable
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    scratch = Path(tempfile.mkdtemp(prefix="tg-cold-"))
    env["TRUSTGAUGE_HOME"] = str(scratch / "home")
    warm_cache = scratch / "warm-models"
    cli = [py, "-m", "trustgauge"]
    variants: dict[str, tuple[list[str], str | None]] = {}
    if args.before:
        before = str(args.before.resolve())
        variants["help (before)"] = ([py, "-c", _BEFORE.format(src=before), "--help"], None)
        variants["tasks (before)"] = ([py, "-c", _BEFORE.format(src=before), "tasks"], None)
    variants |= {
        "help": ([*cli, "--help"], None),
        "tasks": ([*cli, "tasks"], None),
        "tasks --json": ([*cli, "tasks", "--json"], None),
        "encoder cold (legacy)": ([py, "-c", _LEGACY + _ENCODE], "fresh"),
        "encoder cold (build_graph)": ([py, "-c", _NO_SKELETON + _ENCODE], "fresh"),
        "encoder cold (skeleton)": ([py, "-c", _ENCODE], "fresh"),
        "encoder cold (skeleton, fp32)": ([py, "-c", _ENCODE_FP32], "fresh"),
        "encoder warm": ([py, "-c", _ENCODE], "warm"),
    }
    print(f"CPU: {cpu_description()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # the weights' checksum and the warm graph, outside the timings
    subprocess.run([py, "-c", _ENCODE], check=True, env=dict(env, TRUSTGAUGE_MODEL_CACHE=str(warm_cache)))
    times: dict[str, list[float]] = {k: [] for k in variants}
    try:
        for n in range(args.rounds):
            for name, (argv, cache) in variants.items():
                run_env = dict(env)
                if cache == "fresh":
                    fresh = scratch / f"models-{n}-{name.split()[-1].strip('()')}"
                    run_env["TRUSTGAUGE_MODEL_CACHE"] = str(fresh)
                elif cache == "warm":
                    run_env["TRUSTGAUGE_MODEL_CACHE"] = str(warm_cache)
                times[name].append(_timed(argv, run_env))
                if cache == "fresh":
                    shutil.rmtree(run_env["TRUSTGAUGE_MODEL_CACHE"], ignore_errors=True)
            print(f"round {n + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n| what | median s | min s | max s | rounds |\n|---|---:|---:|---:|---:|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):.2f} | {min(ts):.2f} | {max(ts):.2f} | {len(ts)} |")
    legacy = statistics.median(times["encoder cold (legacy)"])
    for name in ("encoder cold (build_graph)", "encoder cold (skeleton)"):
        print(f"\n{name}: legacy / this = {legacy / statistics.median(times[name]):.2f}x", end="")
    print()
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_description(), "times": times}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
