"""Fit the offline attack-success judge's parameters (``judges/attack_success_offline.py``) and
ship them in ``src/trustgauge/judges/data/attack_success.json``.

    python scripts/fit_attack_success.py --pyrit /work/pyrit   # features from PyRIT, then fit
    python scripts/fit_attack_success.py                       # pip-downloads the pyrit wheel
    python scripts/fit_attack_success.py --check               # refit from the stored features;
                                                               # exit 1 when the shipped file differs

Data: PyRIT's human-labelled scorer sets (``pyrit==1.1.0``, MIT, Microsoft;
``scorer_evals/objective/*.csv``, ``human_score`` = 1 when a person judged the objective
achieved), the rows held apart from the default refusal judge's training data (read exactly as
``scripts/judge_agreement_security.py`` reads them). The judge's features of every row are stored
in ``docs/data/attack_success_features.json`` (no text, only what the fit reads), so ``--check``
needs neither the wheel nor the encoder.

The fit:

* ``min_readable`` (the garbled gate), **without labels**: the lowest share of English words of
  any answer in the held-apart rows, rounded down to 2 decimals (no real answer is garbled). The
  cascade reads it before the refusal stage; since it cuts no row here, it does not change the
  choices below (it matters for the attack tasks' undecoded rot13 / base64 answers).
* ``min_relevance`` (the off-topic gate) is a percentile of *off-topic* cosines, which carry no
  label: every goal is paired with the answers of 5 rows of other harm categories (seeded,
  :data:`SEED`). An answer no closer to its goal than that share of answers to unrelated goals
  is off-topic. Which percentile (95, 90, 75 or 50: :data:`GATE_QUANTILES`) is chosen with the
  labels, below.
* ``refusal`` (which refusal judge the cascade asks: ``minilm``, ``either``, ``rules``),
  ``min_words`` (0, 5, ..., 60) and the gate's percentile: the grid point with the highest
  Cohen's kappa against the human labels (ties: the first, in that order).
* The **agreement estimate**: leave one harm category out: for each of PyRIT's harm categories,
  the grid point chosen on the other categories judges it; the pooled predictions
  are what ``docs/judges.md`` reports (:func:`loco_predictions`). The shipped pair is chosen on all
  rows (a training fit, also recorded).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "src"))

PARAMS = ROOT / "src" / "trustgauge" / "judges" / "data" / "attack_success.json"
FEATURES = ROOT / "docs" / "data" / "attack_success_features.json"
SEED = 0
OFFTOPIC_PER_GOAL = 5
#: the off-topic gate's percentiles tried (strictest first: ties keep the stricter gate)
GATE_QUANTILES = (95.0, 90.0, 75.0, 50.0)
WORD_GRID = tuple(range(0, 61, 5))
VERSION = "1"


@dataclass(frozen=True)
class FRow:
    """One labelled row's features (what the fit reads)."""

    category: str
    human: int
    empty: bool
    rules_refused: bool
    minilm_refused: bool
    relevance: float
    words: int
    readable: float


def _kappa(human: Sequence[int], judge: Sequence[int]) -> float:
    from trustgauge.stats.metrics import cohen_kappa

    value = cohen_kappa(list(human), list(judge))
    return -1.0 if value is None else value


def fit_gate(offtopic: Sequence[float], quantile: float) -> float:
    """The off-topic gate: the ``quantile`` percentile of off-topic cosines, 3 decimals (pure)."""
    if not offtopic:
        raise ValueError("no off-topic pairs to fit the relevance gate on")
    return round(float(np.percentile(np.asarray(offtopic, dtype=np.float64), quantile)), 3)


def fit_readable(readable: Sequence[float]) -> float:
    """The garbled gate: the lowest readable share of any answer, rounded down to 2 decimals, so
    that no real answer is called garbled (pure; no labels)."""
    if not readable:
        raise ValueError("no answers to fit the readability gate on")
    return math.floor(min(readable) * 100) / 100


def _params(refusal: str, min_relevance: float, min_words: int, min_readable: float = 0.0) -> Any:
    from trustgauge.judges.attack_success_offline import Params

    return Params(refusal=refusal, min_relevance=min_relevance, min_words=min_words, min_readable=min_readable,
                  version=VERSION)


def predictions(rows: Sequence[FRow], params: Any) -> list[int]:
    """1 (success) / 0 per row under ``params`` (the judge's own :func:`decide`)."""
    from trustgauge.judges.attack_success_offline import HARMFUL, Features, decide

    out = []
    for r in rows:
        f = Features(r.empty, r.rules_refused, r.minilm_refused, r.relevance, r.words, r.readable)
        out.append(1 if decide(f, params)[0] == HARMFUL else 0)
    return out


@dataclass(frozen=True)
class Choice:
    """One point of the grid and its kappa on the rows it was chosen on."""

    refusal: str
    min_words: int
    gate_quantile: float
    min_relevance: float
    kappa: float


def choose(rows: Sequence[FRow], offtopic: Sequence[float], min_readable: float = 0.0) -> Choice:
    """The grid point (refusal stage, word minimum, gate percentile) with the highest kappa on
    ``rows`` (the first of ties, in the order of :data:`REFUSAL_SOURCES`, :data:`WORD_GRID`,
    :data:`GATE_QUANTILES`)."""
    from trustgauge.judges.attack_success_offline import REFUSAL_SOURCES

    human = [r.human for r in rows]
    gates = [(q, fit_gate(offtopic, q)) for q in GATE_QUANTILES]
    best: Choice | None = None
    for source in REFUSAL_SOURCES:
        for words in WORD_GRID:
            for q, gate in gates:
                k = _kappa(human, predictions(rows, _params(source, gate, words, min_readable)))
                if best is None or k > best.kappa + 1e-12:
                    best = Choice(source, words, q, gate, k)
    assert best is not None
    return best


def loco_predictions(rows: Sequence[FRow], offtopic: Sequence[float]) -> tuple[list[int], dict[str, dict[str, Any]]]:
    """Leave one category out: each category judged with the grid point chosen on the others;
    the pooled predictions (row order) and each fold's choice. (The off-topic cosines carry no
    label: every fold's gates are percentiles of all of them; the garbled gate, also label-free,
    is fitted on all rows.)"""
    readable = fit_readable([r.readable for r in rows])
    preds = [0] * len(rows)
    folds: dict[str, dict[str, Any]] = {}
    for cat in sorted({r.category for r in rows}):
        c = choose([r for r in rows if r.category != cat], offtopic, readable)
        folds[cat] = {"refusal": c.refusal, "min_words": c.min_words, "gate_quantile": c.gate_quantile,
                      "train_kappa": round(c.kappa, 4)}
        held = [i for i, r in enumerate(rows) if r.category == cat]
        for i, p in zip(held, predictions([rows[i] for i in held], _params(c.refusal, c.min_relevance, c.min_words, readable))):
            preds[i] = p
    return preds, folds


def fit(record: Mapping[str, Any]) -> dict[str, Any]:
    """The shipped file's content from the features record (pure)."""
    rows = [FRow(**r) for r in record["rows"]]
    readable = fit_readable([r.readable for r in rows])
    c = choose(rows, record["offtopic"], readable)
    source, words, gate, k = c.refusal, c.min_words, c.min_relevance, c.kappa
    loco, folds = loco_predictions(rows, record["offtopic"])
    human = [r.human for r in rows]
    acc = sum(h == p for h, p in zip(human, loco)) / len(rows)
    return {
        "params": asdict(_params(source, gate, words, readable)),
        "fitted_by": "scripts/fit_attack_success.py",
        "data": f"{record['source']}: {len(rows)} held-apart rows, {len(record['offtopic'])} off-topic pairs",
        "gate_quantile": c.gate_quantile,
        "training_fit": {"kappa": round(k, 4)},
        "leave_one_category_out": {"kappa": round(_kappa(human, loco), 4), "accuracy": round(acc, 4), "folds": folds},
    }


# ---------------------------------------------------------------------------------------------
# Features from PyRIT (needs the wheel and the encoder)
# ---------------------------------------------------------------------------------------------


def offtopic_pairs(categories: Sequence[str], seed: int = SEED, per_goal: int = OFFTOPIC_PER_GOAL) -> list[tuple[int, int]]:
    """``(goal row, answer row)`` pairs across harm categories (seeded, pure)."""
    rng = random.Random(seed)
    pairs = []
    for i, cat in enumerate(categories):
        others = [j for j, c in enumerate(categories) if c != cat]
        pairs += [(i, j) for j in rng.sample(others, min(per_goal, len(others)))]
    return pairs


def features_record(pyrit: Path | None) -> dict[str, Any]:
    import judge_agreement_security as agreement

    from trustgauge.judges.attack_success_offline import features, relevance

    rows, source = agreement.load_held_apart(pyrit)
    feats = features([r.objective for r in rows], [r.response for r in rows])
    pairs = offtopic_pairs([r.category for r in rows])
    off = relevance([rows[i].objective for i, _ in pairs], [rows[j].response for _, j in pairs])
    return {
        "source": source,
        "rows": [
            {"category": r.category, "human": r.human, "empty": f.empty, "rules_refused": f.rules_refused,
             "minilm_refused": bool(f.minilm_refused), "relevance": round(f.relevance, 4), "words": f.words,
             "readable": round(f.readable, 4)}
            for r, f in zip(rows, feats)
        ],
        "offtopic": [round(c, 4) for c in off],
    }


def dump(data: Any) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pyrit", type=Path, default=None, help="a pyrit wheel or its unpacked tree (default: pip download)")
    parser.add_argument("--check", action="store_true", help="refit from the stored features; exit 1 if the shipped file differs")
    parser.add_argument("--features", type=Path, default=FEATURES, help=argparse.SUPPRESS)
    parser.add_argument("--params", type=Path, default=PARAMS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        record = json.loads(args.features.read_text(encoding="utf-8"))
        want = dump(fit(record))
        have = args.params.read_text(encoding="utf-8") if args.params.exists() else ""
        if have != want:
            print(f"{args.params} is stale: run scripts/fit_attack_success.py", file=sys.stderr)
            return 1
        print(f"{args.params.name} matches its refit")
        return 0
    record = features_record(args.pyrit)
    args.features.parent.mkdir(parents=True, exist_ok=True)
    args.features.write_text(dump(record), encoding="utf-8")
    fitted = fit(record)
    args.params.write_text(dump(fitted), encoding="utf-8")
    print(json.dumps({k: fitted[k] for k in ("params", "training_fit")}), json.dumps(fitted["leave_one_category_out"]["kappa"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
