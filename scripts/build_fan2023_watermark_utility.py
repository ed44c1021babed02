"""Build the TrustLLM slice of the watermark's quality cost (``src/trustgauge/data/packaged/fan2023/
watermark_utility/items.json``), deterministically, from TrustLLM's packaged quick sample.

:data:`PER_TASK` records of each sub-task in :data:`TASKS` (sub-tasks scored by reading the
answer, no judge model: a truthfulness, an ethics, a fairness and a robustness task), drawn with
seed :data:`SEED` from ``packaged/trustllm_quick`` and kept in their file order. Each item is
``{"id": "<task>/<nn>", "task": <task id>, "record": <the TrustLLM record, unchanged>}``:
``fan2023.watermark_utility`` hands each task's records to that task's own ``samples()``.

Run: ``python scripts/build_fan2023_watermark_utility.py [--check]``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from _docblock import write_or_check  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
OUT = ROOT / "src" / "trustgauge" / "data" / "packaged" / "fan2023" / "watermark_utility" / "items.json"
SEED = 18
PER_TASK = 12
#: the TrustLLM sub-tasks of the slice (the task module keeps the same tuple)
TASKS = (
    "truthfulness.hallucination",
    "ethics.implicit.social_norm",
    "fairness.stereotype.recognition",
    "robustness.ood_generalization",
)


def build() -> list[dict[str, Any]]:
    from trustgauge.data import load_records, packaged_path
    from trustgauge.tasks.registry import TASKS as REGISTRY
    from trustgauge.tasks.suites import QUICK_SAMPLE

    rng = random.Random(SEED)
    items: list[dict[str, Any]] = []
    for task_id in TASKS:
        task = REGISTRY[task_id]()
        records, _ = load_records(packaged_path(QUICK_SAMPLE), task.data.path)
        task.samples(records)  # the file reads as the task reads it
        chosen = sorted(rng.sample(range(len(records)), min(PER_TASK, len(records))))
        for n, index in enumerate(chosen):
            items.append({"id": f"{task_id}/{n:02d}", "task": task_id, "record": records[index]})
    return items


def render(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str]) -> int:
    text = render(build())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    return write_or_check(OUT, text, check="--check" in argv, script=Path(__file__).name)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
