"""scripts/generate_smollm2_answers.py (one script for every SmolLM2 answer set): the committed
raw files are their own prompt lists (the model run itself is not repeated here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_smollm2_answers", ROOT / "scripts" / "generate_smollm2_answers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("name", "count", "fields"), [
    ("refusal_smollm2_raw.jsonl", 40, ["source", "prompt"]),
    ("refusal_fresh_smollm2_raw.jsonl", 22, ["prompt"]),
    ("refusal_fresh2_smollm2_raw.jsonl", 32, ["prompt"]),
    ("refusal_fresh3_smollm2_raw.jsonl", 36, ["prompt"]),
])
def test_the_raw_files_are_the_prompt_lists(name: str, count: int, fields: list[str]) -> None:
    records = _script().read_prompts(DATA / name)
    raw = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    assert len(records) == count and all(list(r) == fields for r in records)
    assert [r["prompt"] for r in records] == [r["prompt"] for r in raw]


@pytest.mark.parametrize("name", ["refusal_smollm2_raw.jsonl", "refusal_fresh_smollm2_raw.jsonl",
                                  "refusal_fresh2_smollm2_raw.jsonl", "refusal_fresh3_smollm2_raw.jsonl"])
def test_the_raw_files_are_byte_for_byte_what_the_script_writes(name: str) -> None:
    """Re-running the script on its own output (same answers) must reproduce the file exactly:
    one record per line, as ``json.dumps(record, ensure_ascii=False)`` writes it."""
    text = (DATA / name).read_text(encoding="utf-8")
    assert text.endswith("\n")
    for number, line in enumerate(text.splitlines(), 1):
        assert line == json.dumps(json.loads(line), ensure_ascii=False), f"{name}:{number}"


def test_a_record_without_a_prompt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "ok"}\n\n{"text": "no prompt"}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"p\.jsonl:3: expected a JSON object with a string 'prompt'"):
        _script().read_prompts(path)
