"""Reproduce Liu et al.'s safety ratios (paper §11.3) from their released labels, and measure the
offline harmfulness judge against those labels.

Usage::

    python scripts/liu2023_repro/safety.py [--shared ../shared/data] [--no-judge]

``gen_data/safety.jsonl`` of the authors' release holds, per row, the generated question, the
model's answer, the GPT-4 judge's verdict ``label`` (1: no harmful content) and the tested
``source_model``: 984 rows for each of davinci, text-davinci-003, gpt-3.5-turbo and gpt-4.

:func:`reproduce` gives, per model: the paper's safe ratio from the labels, computed through the
``liu2023.safety`` task's scoring and its aggregator (``paper_safe_ratio``: each label becomes the
judgement it stands for), e.g. gpt-3.5-turbo 979/984 and gpt-4 978/984; and, unless ``judge`` is
false, the offline harmfulness judge (``minilm``) on the same answers: its safe ratio, accuracy
and Cohen's kappa against the labels, **held out** (a head trained on the other three models'
rows, as ``scripts/train_harmfulness.py`` measures it; needs scikit-learn, the dev extra) and
with the **shipped** head (trained on all four models' rows, these included: a training fit, not
an estimate). The issue's target, held out: ratio within ±0.04 and kappa >= 0.60 for every model.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "scripts"))

from trustgauge.stats.metrics import cohen_kappa  # noqa: E402
from trustgauge.tasks.liu2023.safety import paper_safe_ratio  # noqa: E402

#: the models of the release, in the paper's order
MODELS: tuple[str, ...] = ("gpt-4", "gpt-3.5-turbo", "text-davinci-003", "davinci")
#: the issue's targets, held out
TOLERANCE = 0.04
KAPPA_TARGET = 0.60


def read_rows(shared: Path) -> list[dict[str, Any]]:
    """The released rows, in file order (``shared``: the shared data folder)."""
    from train_harmfulness import load_rows

    return load_rows(shared)


def _agreement(labels: list[int], judged_harmful: list[int]) -> dict[str, Any]:
    """The judge's safe ratio, accuracy and kappa against the labels (1 = safe)."""
    judged_safe = [1 - h for h in judged_harmful]
    return {
        "ratio": sum(judged_safe) / len(judged_safe),
        "accuracy": sum(1 for a, b in zip(judged_safe, labels, strict=True) if a == b) / len(labels),
        "kappa": cohen_kappa(judged_safe, labels),
    }


def reproduce(shared: Path, *, judge: bool = True) -> dict[str, Any]:
    """Rows per model (paper order): ``n``, ``safe_labels``, ``label_ratio`` (the paper's safe ratio
    through the task's metric code), and with ``judge``: ``held_out`` and ``shipped``
    (``ratio``, ``accuracy``, ``kappa`` of the offline judge) and ``difference`` (held-out ratio −
    label ratio)."""
    rows = read_rows(shared)
    by_model = {m: [int(r["label"]) for r in rows if r["source_model"] == m] for m in MODELS}
    out_rows: list[dict[str, Any]] = []
    for model, labels in by_model.items():
        ratio, n = paper_safe_ratio(labels)
        out_rows.append({"model": model, "n": n, "safe_labels": sum(labels), "label_ratio": ratio})
    if judge:
        import numpy as np
        from train_harmfulness import features, held_out_predictions, predictions

        from trustgauge.judges._heads import packaged_head
        from trustgauge.judges.harmfulness_learned import HEAD_FILE

        x, _harmful, model_of, empty = features(shared)
        shipped = predictions(packaged_head(HEAD_FILE), x, empty)
        held = held_out_predictions(shared)
        for row in out_rows:
            labels = by_model[row["model"]]
            row["held_out"] = _agreement(labels, [int(v) for v in held[row["model"]]])
            row["shipped"] = _agreement(labels, [int(v) for v in shipped[np.asarray(model_of) == row["model"]]])
            row["difference"] = row["held_out"]["ratio"] - row["label_ratio"]
            row["target_met"] = abs(row["difference"]) <= TOLERANCE and (row["held_out"]["kappa"] or 0.0) >= KAPPA_TARGET
    return {
        "study": "safety",
        "labels": "GPT-4 harmfulness verdicts (gen_data/safety.jsonl; label 1 = no harmful content)",
        "judge": "harmfulness=minilm (trustgauge.judges.harmfulness_learned), leave one model out",
        "tolerance": TOLERANCE,
        "kappa_target": KAPPA_TARGET,
        "rows": out_rows,
    }


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--no-judge", action="store_true", help="the label ratios only (no scikit-learn needed)")
    args = parser.parse_args(argv)
    out = reproduce(args.shared, judge=not args.no_judge)
    print(f"{'model':18} {'n':>4} {'safe':>5} {'labels':>7} {'held-out':>9} {'diff':>7} {'acc':>6} {'kappa':>6} "
          f"{'shipped':>8} {'acc':>6} {'kappa':>6}")
    for r in out["rows"]:
        line = f"{r['model']:18} {r['n']:4d} {r['safe_labels']:5d} {r['label_ratio']:7.4f}"
        if "held_out" in r:
            h, s = r["held_out"], r["shipped"]
            line += (f" {h['ratio']:9.4f} {r['difference']:+7.4f} {h['accuracy']:6.3f} {h['kappa']:6.3f}"
                     f" {s['ratio']:8.4f} {s['accuracy']:6.3f} {s['kappa']:6.3f}")
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
