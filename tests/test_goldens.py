"""Results the restructuring must leave identical (scripts/goldens.py; tests/golden/).

Each case runs the real CLI and compares the normalised scores.json and per-task hashes of
samples.jsonl with the stored golden record. After an intended change of results:
``python scripts/goldens.py --write`` (and say why in the commit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _scripts import load_script

ROOT = Path(__file__).resolve().parents[1]


goldens = load_script("goldens")


@pytest.mark.parametrize(
    "case",
    [
        "trustllm-refuse-all",
        "trustllm-comply-all",
        "trustllm-test-server",
        pytest.param("quick-smollm2", marks=pytest.mark.slow),
    ],
)
def test_golden_outputs_unchanged(case: str, trustllm_dir: Path) -> None:
    assert (goldens.GOLDEN_DIR / f"{case}.json").is_file(), "golden record missing: scripts/goldens.py --write"
    diffs = goldens.check(case)
    assert not diffs, "\n".join(diffs[:40])


def test_normalise_drops_run_specific_fields_only() -> None:
    record = {
        "run_id": "x", "started_at": "t", "cached": True, "command": ["run"],
        "model": "openai-compatible:m@http://127.0.0.1:43817/v1",
        "value": 0.1 + 0.2, "n": 3, "nested": [{"wall_time_s": 1.5, "keep": "yes"}],
    }
    assert goldens.normalise(record) == {
        "model": "openai-compatible:m@http://127.0.0.1:PORT/v1",
        "value": 0.3, "n": 3, "nested": [{"keep": "yes"}],
    }


def test_differences_name_the_task_that_changed() -> None:
    base = {"scores": {"schema_version": 1, "tasks": [{"task": "a", "v": 1}]},
            "samples": {"a": {"n": 1, "sha256": "x"}}}
    changed = json.loads(json.dumps(base))
    changed["samples"]["a"]["sha256"] = "y"
    changed["scores"]["tasks"][0]["v"] = 2
    changed["scores"]["schema_version"] = 2
    diffs = goldens.differences(base, changed)
    assert diffs[0].startswith("samples of a:")
    assert "scores of a differ" in diffs
    assert diffs[-1] == "scores.json fields differ: schema_version"
    assert goldens.differences(base, json.loads(json.dumps(base))) == []
