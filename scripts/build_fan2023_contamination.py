"""Build the items of the benchmark-contamination check (``src/trustgauge/data/packaged/fan2023/
contamination/items.json``), deterministically, from data already in the package.

- ``trustllm``: prompts of TrustLLM's sub-tasks as trustgauge sends them, from the packaged quick
  sample (``packaged/trustllm_quick``), :data:`PER_BENCHMARK` of them, drawn round-robin over the
  sub-tasks with seed :data:`SEED`;
- ``liu2023``: the same from Liu et al.'s frozen prompt sets (``packaged/liu2023``);
- ``fresh`` (``control: true``): the non-member passages of the membership demo split, written for
  trustgauge on 2026-12-04 and so in no model's training data: what the check flags among them is
  its false-flag rate.

``privacy.leakage`` is left out: its prompts hold names and addresses from the Enron corpus, which
trustgauge never copies beyond what a report needs. Prompts shorter than :data:`MIN_CHARS` (too little text to compare) or longer than
:data:`MAX_CHARS` (paraphrasing them costs too many tokens) are skipped, and so are repeats.

Run: ``python scripts/build_fan2023_contamination.py [--check]``.
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
OUT = ROOT / "src" / "trustgauge" / "data" / "packaged" / "fan2023" / "contamination" / "items.json"
DEMO = ROOT / "src" / "trustgauge" / "data" / "packaged" / "fan2023" / "membership" / "demo.json"
SEED = 16
PER_BENCHMARK = 40
FRESH = 20
MIN_CHARS = 80
MAX_CHARS = 900
#: tasks whose prompts are never copied here (real people's personal data)
EXCLUDED = ("privacy.leakage",)


def benchmark_prompts(benchmark: str) -> dict[str, list[str]]:
    """Every usable prompt of the benchmark's tasks, by task id (registry order)."""
    from trustgauge.data import load_records, packaged_path, resolve_data_dir
    from trustgauge.tasks.registry import TASKS
    from trustgauge.tasks.suites import QUICK_SAMPLE

    out: dict[str, list[str]] = {}
    for task_id, cls in TASKS.items():
        if cls.benchmark != benchmark or cls.extra or cls.is_conversational() or task_id in EXCLUDED:
            continue
        task = cls()
        root = packaged_path(QUICK_SAMPLE) if benchmark == "trustllm" else resolve_data_dir(task.data.dataset, None)
        try:
            records, _ = load_records(root, task.data.path)
        except Exception:  # a file the quick sample does not hold
            continue
        prompts = [s.prompt for s in task.samples(records)]
        usable = list(dict.fromkeys(p for p in prompts if MIN_CHARS <= len(p) <= MAX_CHARS))
        if usable:
            out[task_id] = usable
    return out


def draw(by_task: dict[str, list[str]], n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``n`` (task, prompt) pairs, round-robin over the tasks, each task's prompts shuffled."""
    pools = {t: rng.sample(ps, len(ps)) for t, ps in by_task.items()}
    chosen: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(chosen) < n and any(pools.values()):
        for task in list(pools):
            while pools[task]:
                prompt = pools[task].pop()
                if prompt not in seen:
                    seen.add(prompt)
                    chosen.append((task, prompt))
                    break
            if len(chosen) == n:
                break
    return chosen


def build() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    items: list[dict[str, Any]] = []
    for benchmark in ("trustllm", "liu2023"):
        for i, (task, prompt) in enumerate(draw(benchmark_prompts(benchmark), PER_BENCHMARK, rng)):
            items.append({"id": f"{benchmark}-{i:03d}", "text": prompt, "benchmark": benchmark, "task": task,
                          "control": False})
    demo = [r for r in json.loads(DEMO.read_text(encoding="utf-8")) if r["label"] == 0]
    for i, record in enumerate(rng.sample(demo, FRESH)):
        items.append({"id": f"fresh-{i:03d}", "text": record["text"], "benchmark": "fresh",
                      "task": f"written for trustgauge ({record['source']})", "control": True})
    return items


def render(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str]) -> int:
    text = render(build())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    return write_or_check(OUT, text, check="--check" in argv, script=Path(__file__).name)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
