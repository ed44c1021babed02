"""Reproduce Liu et al.'s typo robustness ratios (paper §11.9) from their released labels, and
compare trustgauge's deterministic yes/no reading with the paper's GPT-4 judge.

Usage::

    python scripts/liu2023_repro/typo.py [--shared ../shared/data]

``gen_data/typo.jsonl`` of the authors' release holds, per row, the clean and the typo'd
question (``question``: ``clean\\n----\\ntypo'd``), the model's two answers (``answer``, the
same way), the GPT-4 judge's verdict ``label`` (1: the answers are consistent) and the tested
``source_model``: 628 rows for each of davinci, text-davinci-003, gpt-3.5-turbo and gpt-4.

:func:`reproduce` gives, per model: the paper's robust rate from the labels
(``trustgauge.stats.aggregators.liu2023_reading.consistency_ratio``, exactly the authors'
``np.mean``); the consistency the ``liu2023.typo`` task finds in the same answers (its reader
``read_yes_no``, its ``score`` and its aggregator ``liu2023.typo_consistency@1`` over the pairs);
and the agreement of that deterministic reading with the GPT-4 labels, pair by pair (accuracy,
Cohen's kappa). The issue's target: the deterministic ratio within ±0.03 of the label ratio for
every model.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from trustgauge.stats.aggregators.liu2023_reading import (  # noqa: E402
    answers_consistent,
    consistency_ratio,
)
from trustgauge.stats.metrics import cohen_kappa  # noqa: E402
from trustgauge.tasks.liu2023.typo import Typo, read_yes_no  # noqa: E402
from trustgauge.types import Sample, SampleScore  # noqa: E402

#: the models of the release, in the paper's order
MODELS: tuple[str, ...] = ("gpt-4", "gpt-3.5-turbo", "text-davinci-003", "davinci")
TYPO_FILE = Path("liu-llm-eval") / "gen_data" / "typo.jsonl"
#: the issue's target: |deterministic ratio - label ratio| per model
TOLERANCE = 0.03
_SEPARATOR = "\n----\n"


def read_rows(shared: Path) -> list[dict[str, Any]]:
    """The released rows, in file order."""
    lines = (shared / TYPO_FILE).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def model_row(model: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One model's ratios and agreement."""
    task = Typo()
    labels = [bool(r["label"]) for r in rows]
    scored: list[tuple[Sample, SampleScore]] = []
    deterministic: list[bool] = []
    for i, row in enumerate(rows):
        answers = row["answer"].split(_SEPARATOR)
        questions = row["question"].split(_SEPARATOR)
        if len(answers) != 2 or len(questions) != 2:
            raise SystemExit(f"{model} row {i}: question and answer must each hold two parts")
        for variant, question, answer in zip(("clean", "typo"), questions, answers, strict=True):
            sample = Sample(id=f"{i}-{variant}", prompt=question, group=str(i),
                            metadata={"variant": variant, "typo_source": "paper"})
            scored.append((sample, task.score(sample, answer, {})))
        deterministic.append(answers_consistent(read_yes_no(answers[0]), read_yes_no(answers[1])))
    metrics = {m.metric: m for m in task.aggregate(scored)}
    label_ratio = consistency_ratio(labels)
    ratio = metrics["consistency"].value
    assert label_ratio is not None and ratio is not None
    return {
        "model": model,
        "n": len(rows),
        "consistent_labels": sum(labels),
        "label_ratio": label_ratio,
        "deterministic_ratio": ratio,
        "difference": ratio - label_ratio,
        "unreadable": metrics["unreadable"].value,
        "flipped_to_no": metrics["flipped_to_no"].value,
        "accuracy": sum(1 for d, lab in zip(deterministic, labels, strict=True) if d == lab) / len(rows),
        "kappa": cohen_kappa(deterministic, labels),
    }


def reproduce(shared: Path) -> dict[str, Any]:
    """Rows per model (paper order): ``label_ratio`` (the paper's robust rate from its GPT-4
    labels), ``deterministic_ratio`` (the task's reading and aggregator), their ``difference``,
    the ``unreadable`` share of answers, and ``accuracy`` / ``kappa`` of the deterministic
    verdicts against the labels."""
    rows = read_rows(shared)
    return {
        "study": "typo",
        "labels": "GPT-4 consistency verdicts (gen_data/typo.jsonl)",
        "judge": "deterministic yes/no reading (trustgauge.tasks.liu2023.typo.read_yes_no)",
        "tolerance": TOLERANCE,
        "rows": [model_row(m, [r for r in rows if r["source_model"] == m]) for m in MODELS],
    }


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args(argv)
    out = reproduce(args.shared)
    print(f"{'model':18} {'n':>4} {'labels':>7} {'ours':>7} {'diff':>7} {'unread':>7} {'acc':>6} {'kappa':>6}")
    for r in out["rows"]:
        print(f"{r['model']:18} {r['n']:4d} {r['label_ratio']:7.4f} {r['deterministic_ratio']:7.4f} "
              f"{r['difference']:+7.4f} {r['unreadable']:7.4f} {r['accuracy']:6.3f} {r['kappa']:6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
