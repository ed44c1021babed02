"""Reproduce Liu et al.'s causal reasoning numbers (paper §11.8) from their released answers.

Usage::

    python scripts/liu2023_repro/causal.py [--shared ../shared/data]

``intermediate_data/causal/results/`` of the authors' release holds, per model, the raw answers
(``answers<k>_raw.csv``, JSON despite the name: per event pair both questions and both raw
answers), the letters they read (``answers<k>.csv``) and the four numbers the paper reports
(``final_results<k>.csv``: Q1 accuracy, Q2 accuracy, Q1 and Q2 understood rate, rounded to 4
decimals). Which file is which model is written in ``test_causal.py`` (``answers0`` GPT-3.5,
``1`` text-davinci-003, ``2`` davinci, ``3`` GPT-4, ``_flan``, ``_opt``).

:func:`reproduce` reads every raw answer with the authors' rule
(``trustgauge.tasks.liu2023.causal.authors_letter``) against the right answers of trustgauge's
packaged pairs (``CAUSAL_ANSWERS`` by relation), and computes the four numbers with
``causal_scores``: they equal the paper's exactly. It also scores the same answers as the
``liu2023.causal`` task does (its deterministic reader and aggregator), to show how its reading
differs from the authors'. There are no judge labels in this study.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from trustgauge.data import load_records, packaged_path  # noqa: E402
from trustgauge.stats.aggregators.liu2023_reading import CAUSAL_RELATIONS  # noqa: E402
from trustgauge.tasks.liu2023.causal import Causal, authors_letter, causal_scores  # noqa: E402
from trustgauge.types import Sample, SampleScore  # noqa: E402

#: result file suffix -> model, as ``test_causal.py`` names them
MODELS: dict[str, str] = {
    "3": "gpt-4",
    "0": "gpt-3.5-turbo",
    "1": "text-davinci-003",
    "_flan": "flan-t5-xxl",
    "2": "davinci",
    "_opt": "opt-1.3b",
}
RESULTS = Path("liu-llm-eval") / "intermediate_data" / "causal" / "results"
#: the columns of ``final_results*.csv``
PAPER_COLUMNS = ("q1_accuracy", "q2_accuracy", "q1_understood", "q2_understood")


def _samples() -> dict[str, Sample]:
    task = Causal()
    records, _ = load_records(packaged_path("liu2023/causal"), task.data.path)
    return {s.id: s for s in task.samples(records)}


def model_row(results: Path, suffix: str, samples: dict[str, Sample]) -> dict[str, Any]:
    """One model's numbers: the paper's, ours with the authors' reader, ours as the task reads."""
    raw: dict[str, dict[str, str]] = json.loads((results / f"answers{suffix}_raw.csv").read_text(encoding="utf-8"))
    paper = next(csv.reader((results / f"final_results{suffix}.csv").read_text(encoding="utf-8").splitlines()))
    task = Causal()
    row: dict[str, Any] = {"model": MODELS[suffix], "file": f"answers{suffix}_raw.csv", "n": len(raw)}
    row.update({f"paper_{name}": float(value) for name, value in zip(PAPER_COLUMNS, paper, strict=True)})
    scored: list[tuple[Sample, SampleScore]] = []
    for q in ("q1", "q2"):
        pairs: list[tuple[str, str]] = []
        for key, answers in raw.items():
            sample = samples[f"{key}-{q}"]
            response = answers[f"ans_{q[1]}_raw"]
            if answers[f"ans_{q[1]}_true"] != sample.target or answers[q] != sample.prompt:
                raise SystemExit(f"{suffix} pair {key} {q}: the released question or right answer differs from ours")
            pairs.append((authors_letter(response), str(sample.target)))
            scored.append((sample, task.score(sample, response, {})))
        for name, value in causal_scores(pairs).items():
            row[f"{q}_{name}"] = value
    metrics = {m.metric: m.value for m in task.aggregate(scored)}
    for q in ("q1", "q2"):
        row[f"trustgauge_{q}_accuracy"] = metrics[f"accuracy[{q}]"]
        row[f"trustgauge_{q}_understood"] = metrics[f"understood[{q}]"]
        row[f"trustgauge_{q}_by_relation"] = {r: metrics[f"accuracy[{q}:{r}]"] for r in CAUSAL_RELATIONS}
    return row


def reproduce(shared: Path) -> dict[str, Any]:
    """Rows per model (paper order): ``paper_*`` (``final_results*.csv``), ``q1_accuracy`` ...
    (the authors' reader, our metric code: equal to the paper's after rounding to 4 decimals,
    as the authors round) and ``trustgauge_*`` (the task's reader and aggregator, with the
    accuracy per relation type of each question)."""
    samples = _samples()
    results = shared / RESULTS
    return {
        "study": "causal",
        "labels": None,
        "rows": [model_row(results, suffix, samples) for suffix in MODELS],
    }


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args(argv)
    out = reproduce(args.shared)
    print(f"{'model':18} {'Q1 paper':>9} {'Q1 ours':>8} {'Q2 paper':>9} {'Q2 ours':>8} {'Q1 tg':>7} {'Q2 tg':>7}")
    for r in out["rows"]:
        print(f"{r['model']:18} {r['paper_q1_accuracy']:9.4f} {r['q1_accuracy']:8.4f} {r['paper_q2_accuracy']:9.4f} "
              f"{r['q2_accuracy']:8.4f} {r['trustgauge_q1_accuracy']:7.4f} {r['trustgauge_q2_accuracy']:7.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
