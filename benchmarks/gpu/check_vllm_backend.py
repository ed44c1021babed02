"""Check the ``vllm:`` backend on a GPU machine: the checks this repository cannot run (no GPU).

    pip install 'trustgauge[vllm]'               # on a machine with an NVIDIA GPU; vLLM brings torch
                                                 # and transformers, which hf: uses too (not [local]:
                                                 # its torch<2.14 pin conflicts with vLLM 0.33's 2.14)
    python benchmarks/gpu/check_vllm_backend.py  # ~5-10 minutes for SmolLM2-135M on one GPU
    python benchmarks/gpu/check_vllm_backend.py --model Qwen/Qwen2.5-0.5B-Instruct --limit 10

What it does, in order, and what passes:

1. **The machine**: GPU model and memory (``nvidia-smi``, else torch), vLLM, torch and
   trustgauge versions, printed first and written to ``OUT/summary.json``.
2. **Log-likelihoods, ``vllm:`` against ``hf:``**: the same (context, continuation) pairs (the
   56 passages of the packaged membership demo split, each cut after its first sentence, and the
   whole passage with an empty context) scored by ``vllm:MODEL`` (``prompt_logprobs`` over token
   ids) and by ``hf:MODEL`` on the GPU (one forward pass, exact), both in ``--dtype``
   (float32 by default: the two kernels then agree closely). Both tokenize context and
   continuation apart (``trustgauge.models._local.scoring_ids``), so the tokens must be the
   same ids; passes when every pair's mean per-token difference is within ``--tolerance`` nats.
3. **Answers, ``vllm:`` against ``vllm serve``**: ``trustgauge run --suite quick -n LIMIT
   --temperature 0`` with ``-m vllm:MODEL`` (offline engine, one ``LLM.chat`` per batch), then
   with ``-m openai-compatible:MODEL@http://127.0.0.1:PORT/v1`` against ``vllm serve MODEL`` on
   this machine (same dtype, same ``max_model_len``); passes when every greedy answer (every
   turn of multi-turn probes) is the same text. vLLM is not batch-invariant by default (the
   offline run batches 256 requests, the server whatever arrives), so a near-tie can flip a
   token: ``--batch-invariant`` sets ``VLLM_BATCH_INVARIANT=1`` for both; without it a few
   differences are reported, not hidden (``--min-agreement`` sets the bar, default 1.0).
4. **Log-likelihoods through the server**: the same pairs through ``openai-compatible:`` (the
   text of context + continuation in one prompt, vLLM's ``prompt_logprobs``, the continuation
   found from the end by decoded text) against ``vllm:``'s; reported (the joint tokenization may
   merge a token across the boundary), with the share of pairs scored on the same token count.

Exit status 0 when every check passes, 1 otherwise; 2 when the machine cannot run it (no GPU, no
vLLM). Nothing here was run in the repository's own environment: benchmarks/gpu/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gpu import answers, compare_answers, gpu_description, versions  # noqa: E402

DEFAULT_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
MEMBERSHIP_DEMO = ROOT / "src" / "trustgauge" / "data" / "packaged" / "fan2023" / "membership" / "demo.json"


# -- the pairs scored ---------------------------------------------------------------------------


def scoring_pairs(path: Path = MEMBERSHIP_DEMO) -> list[tuple[str, str]]:
    """(context, continuation) pairs from the packaged membership passages: each passage split
    after its first sentence, and each whole passage with an empty context."""
    passages = [str(r["text"]) for r in json.loads(path.read_text(encoding="utf-8"))]
    pairs = []
    for text in passages:
        cut = text.find(". ")
        if 0 < cut < len(text) - 2:
            pairs.append((text[: cut + 1], text[cut + 1 :]))
        pairs.append(("", text))
    return pairs


def compare_loglikelihoods(a: Sequence[Any], b: Sequence[Any], tolerance: float, *, same_tokens: bool) -> dict[str, Any]:
    """Per pair, the mean per-token difference ``|a - b| / tokens`` of two backends'
    :class:`~trustgauge.types.Loglikelihood` of the same pairs. ``same_tokens``: both must have
    scored the same token ids (a mismatch fails the pair).

    Returns ``{"pairs", "max_mean_abs_diff", "mean_mean_abs_diff", "same_token_count",
    "failures": [(index, reason)], "ok"}``."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} results against {len(b)}")
    diffs, failures, same = [], [], 0
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        ids_x, ids_y = [t.id for t in x.tokens], [t.id for t in y.tokens]
        if len(x.tokens) == len(y.tokens):
            same += 1
        if same_tokens and ids_x != ids_y:
            failures.append((i, f"token ids differ ({len(ids_x)} against {len(ids_y)} tokens)"))
            continue
        n = max(1, len(x.tokens), len(y.tokens))
        diff = abs(x.logprob - y.logprob) / n
        diffs.append(diff)
        if diff > tolerance:
            failures.append((i, f"mean per-token difference {diff:.4f} > {tolerance}"))
    return {
        "pairs": len(a),
        "max_mean_abs_diff": max(diffs, default=0.0),
        "mean_mean_abs_diff": sum(diffs) / len(diffs) if diffs else 0.0,
        "same_token_count": same,
        "failures": failures,
        "ok": not failures,
    }


# -- running things -----------------------------------------------------------------------------


def trustgauge_run(args: list[str], out: Path, env: dict[str, str]) -> float:
    """``python -m trustgauge run ARGS -o OUT -q``; its wall time. A failed run stops the check."""
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "trustgauge", "run", *args, "-o", str(out), "-q"], env=env,
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        raise SystemExit(f"trustgauge run {' '.join(args)} failed ({res.returncode}):\n{res.stderr[-3000:]}")
    return time.perf_counter() - t0


def wait_for_server(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"vllm serve exited with {process.returncode} before it was ready (see its log)")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    raise SystemExit(f"vllm serve was not ready after {timeout:.0f} s")


async def score(spec: str, options: dict[str, Any], pairs: list[tuple[str, str]]) -> tuple[list[Any], float]:
    from trustgauge.config import ModelConfig
    from trustgauge.models.registry import load_model

    model = load_model(ModelConfig(model=spec, options=options))
    try:
        await model.check()
        await model.supported()
        t0 = time.perf_counter()
        results = await model.loglikelihood(pairs)
        return results, time.perf_counter() - t0
    finally:
        await model.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", default=DEFAULT_MODEL, help="hub id or local path (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=5, help="samples per task of the quick suite (default 5)")
    parser.add_argument("--max-tokens", type=int, default=128, help="answer length cap (default 128)")
    parser.add_argument("--dtype", default="float32", help="dtype of vllm:, vllm serve and hf: (default float32)")
    parser.add_argument("--max-model-len", type=int, default=2048)
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.4)
    parser.add_argument("--port", type=int, default=8011, help="vllm serve's port on 127.0.0.1")
    parser.add_argument("--tolerance", type=float, default=0.02, help="nats per token, vllm: against hf: (default 0.02)")
    parser.add_argument("--min-agreement", type=float, default=1.0, help="share of equal greedy answers (default 1.0)")
    parser.add_argument("--batch-invariant", action="store_true", help="VLLM_BATCH_INVARIANT=1 for vllm: and the server")
    parser.add_argument("--server-timeout", type=float, default=900.0)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "gpu-check-vllm")
    args = parser.parse_args(argv)

    gpu = gpu_description()
    facts = {"gpu": gpu, "versions": versions(), "model": args.model, "dtype": args.dtype, "limit": args.limit,
             "batch_invariant": args.batch_invariant}
    print(f"GPU: {gpu}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in facts["versions"].items()))
    if gpu == "no GPU":
        print("error: no GPU found: this script checks vllm: on a GPU machine (benchmarks/gpu/README.md)", file=sys.stderr)
        return 2
    if facts["versions"]["vllm"] == "not installed":
        print("error: vLLM is not installed: pip install 'trustgauge[vllm]'", file=sys.stderr)
        return 2
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    env = {**os.environ, "TRUSTGAUGE_HOME": str(args.out / "home")}
    if args.batch_invariant:
        env["VLLM_BATCH_INVARIANT"] = "1"
        os.environ["VLLM_BATCH_INVARIANT"] = "1"
    os.environ["TRUSTGAUGE_HOME"] = env["TRUSTGAUGE_HOME"]
    vllm_options = {"dtype": args.dtype, "max_model_len": args.max_model_len,
                    "gpu_memory_utilization": args.gpu_memory_utilization}
    summary: dict[str, Any] = {"machine": facts}

    # 2. log-likelihoods: vllm: against hf:
    pairs = scoring_pairs()
    by_vllm, t_vllm = asyncio.run(score(f"vllm:{args.model}", vllm_options, pairs))
    by_hf, t_hf = asyncio.run(score(f"hf:{args.model}", {"device": "cuda", "dtype": args.dtype, "batch_size": 16}, pairs))
    ll = compare_loglikelihoods(by_vllm, by_hf, args.tolerance, same_tokens=True)
    ll.update(seconds_vllm=round(t_vllm, 2), seconds_hf=round(t_hf, 2))
    summary["loglikelihood_vllm_vs_hf"] = ll
    print(f"log-likelihood, vllm: vs hf: ({len(pairs)} pairs): max {ll['max_mean_abs_diff']:.5f} nats/token, "
          f"mean {ll['mean_mean_abs_diff']:.5f}; {'ok' if ll['ok'] else 'FAILED'} (tolerance {args.tolerance})")

    # 3. answers: vllm: offline
    config = args.out / "vllm.json"
    config.write_text(json.dumps({"model": f"vllm:{args.model}", "options": vllm_options}), encoding="utf-8")
    common = ["--suite", "quick", "-n", str(args.limit), "--temperature", "0", "--max-tokens", str(args.max_tokens)]
    t_offline = trustgauge_run(["--model-config", str(config), *common], args.out / "vllm", env)

    # 3. answers and 4. log-likelihoods: vllm serve
    url = f"http://127.0.0.1:{args.port}/v1"
    log = (args.out / "vllm-serve.log").open("wb")
    server = subprocess.Popen(
        ["vllm", "serve", args.model, "--host", "127.0.0.1", "--port", str(args.port), "--dtype", args.dtype,
         "--max-model-len", str(args.max_model_len), "--gpu-memory-utilization", str(args.gpu_memory_utilization)],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    try:
        wait_for_server(url, server, args.server_timeout)
        t_server = trustgauge_run(["-m", f"openai-compatible:{args.model}@{url}", *common], args.out / "server", env)
        by_server, _ = asyncio.run(score(f"openai-compatible:{args.model}@{url}", {}, pairs))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    agree = compare_answers(answers(args.out / "vllm" / "samples.jsonl"), answers(args.out / "server" / "samples.jsonl"))
    agree.update(seconds_vllm=round(t_offline, 1), seconds_server=round(t_server, 1))
    agree["ok"] = agree["compared"] > 0 and agree["agreement"] >= args.min_agreement
    summary["answers_vllm_vs_server"] = agree
    print(f"greedy answers, vllm: vs vllm serve: {agree['equal']}/{agree['compared']} equal "
          f"({agree['agreement']:.1%}); {'ok' if agree['ok'] else 'FAILED'} (at least {args.min_agreement:.0%})")
    for d in agree["differences"][:5]:
        print(f"  {d['sample']} parts at character {d['at']}:\n    vllm:   {d['a']!r}\n    server: {d['b']!r}")
    served = compare_loglikelihoods(by_vllm, by_server, args.tolerance, same_tokens=False)
    summary["loglikelihood_vllm_vs_server"] = served
    print(f"log-likelihood, vllm: vs the server's prompt_logprobs: max {served['max_mean_abs_diff']:.5f} nats/token, "
          f"same token count in {served['same_token_count']}/{served['pairs']} pairs (reported, not a pass/fail)")

    ok = ll["ok"] and agree["ok"]
    summary["ok"] = ok
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    print(f"{'PASSED' if ok else 'FAILED'}; details in {args.out / 'summary.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
