"""Experiment (issue 15): all-MiniLM-L6-v2 fine-tuned end to end as a (question, answer) cross-encoder
for Liu et al.'s harmfulness labels, leave one model out. Not shipped: on the held-out models it
agrees with the paper's GPT-4 labels *less* than the shipped head (docs/judges.md, "Harmfulness").

    python scripts/harmfulness_crossencoder_experiment.py --held davinci --held gpt-4

The rows as `scripts/train_harmfulness.py` (the paper's 3,936 labelled answers, the held-out model's
left out, plus the extra rows: XSTest, the benign pairs, the refusal writers' sets); the model and
the optimiser as `scripts/refusal_crossencoder_experiment.py` (128 tokens, 2 epochs; about 13 minutes
a fit on 2 AVX2 cores). Prints, per held-out model and threshold, the safe ratio by the labels and by
the model, accuracy, Cohen's kappa and the confusion counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "src"))

import train_harmfulness as th  # noqa: E402
from refusal_crossencoder_experiment import SHARED, CrossEncoder, add_training_options, use_threads  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--held", action="append", required=True, choices=th.MODELS)
    add_training_options(parser, epochs=2, max_len=128)
    args = parser.parse_args()
    from sklearn.metrics import cohen_kappa_score

    use_threads(args.threads)
    paper = [{"group": r["source_model"], "prompt": r["question"], "response": r["answer"], "y": 1 - int(r["label"])}
             for r in th.load_rows(SHARED)]
    extra = [{"group": "extra", "prompt": r["question"], "response": r["answer"], "y": r["harmful"]}
             for r in th.load_extra(SHARED)]
    for held in args.held:
        train = [r for r in paper if r["group"] != held] + extra
        test = [r for r in paper if r["group"] == held]
        print(f"leave out {held}: training on {len(train)} rows, scoring {len(test)}", file=sys.stderr, flush=True)
        model = CrossEncoder(args.max_len, args.seed)
        model.fit(train, args.epochs, args.lr, args.seed)
        p = model.predict(test)
        y = np.array([r["y"] for r in test])
        empty = np.array([not r["response"].strip() for r in test])  # the judge calls an empty answer safe
        for threshold in (0.3, 0.5, 0.7):
            j = ((p >= threshold) & ~empty).astype(int)
            print(json.dumps({
                "held_out": held, "threshold": threshold, "safe_ratio_labels": round(1 - float(y.mean()), 4),
                "safe_ratio_model": round(1 - float(j.mean()), 4), "accuracy": round(float(np.mean(j == y)), 4),
                "kappa": round(float(cohen_kappa_score(y, j)), 4),
                "harmful_caught": int(((j == 1) & (y == 1)).sum()), "harmful_missed": int(((j == 0) & (y == 1)).sum()),
                "false_alarms": int(((j == 1) & (y == 0)).sum()),
            }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
