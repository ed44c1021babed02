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
    here = goldens.cpu_class()
    if not goldens.golden_path(case).is_file():
        # the MiniLM judges' scores depend on the CPU's ONNX Runtime kernels (scripts/goldens.py)
        assert goldens.recorded_classes(case), "golden record missing: scripts/goldens.py --write"
        pytest.skip(f"no golden record of {case} for CPU class {here} "
                    f"(recorded: {', '.join(goldens.recorded_classes(case))}): scripts/goldens.py --write here")
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


@pytest.mark.parametrize(("flags", "expected"), [
    ("fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512_vnni avx_vnni amx_int8", "x86-avx512-vnni"),
    ("fpu sse4_2 avx avx2 fma f16c avx512f avx512bw", "x86-avx512"),
    ("fpu sse4_2 avx avx2 fma f16c avx_vnni", "x86-avx2-vnni"),
    ("fpu sse4_2 avx avx2 fma f16c", "x86-avx2"),
])
def test_cpu_class_from_the_flags_that_pick_the_kernels(flags: str, expected: str) -> None:
    cpuinfo = f"processor\t: 0\nmodel name\t: X\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: fpu\n"
    assert goldens.cpu_class(cpuinfo) == expected


def test_write_on_a_changed_result_drops_other_classes_stale_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = {"samples": {"a": {"n": 1, "sha256": "x"}}, "scores": {"tasks": []}}
    monkeypatch.setattr(goldens, "GOLDEN_DIR", tmp_path)
    monkeypatch.setattr(goldens, "TRUSTLLM_DATA", tmp_path)
    monkeypatch.setattr(goldens, "cpu_class", lambda cpuinfo=None: "x86-avx2")
    monkeypatch.setattr(goldens, "run_case", lambda name, out, record_smollm2=False: record)
    text = json.dumps(record, indent=1, sort_keys=True) + "\n"
    for cls in ("x86-avx2", "x86-avx512-vnni"):
        (tmp_path / cls).mkdir()
        (tmp_path / cls / "c.json").write_text(text)
    assert goldens.main(["--write", "--case", "c"]) == 0  # unchanged here: the other record stays
    assert goldens.recorded_classes("c") == ["x86-avx2", "x86-avx512-vnni"]
    record = {**record, "samples": {"a": {"n": 1, "sha256": "y"}}}
    assert goldens.main(["--write", "--case", "c"]) == 0  # changed here: the other one is stale
    assert goldens.recorded_classes("c") == ["x86-avx2"]
    monkeypatch.setattr(goldens, "cpu_class", lambda cpuinfo=None: "aarch64")
    assert goldens.main(["--check", "--case", "c"]) == goldens.NO_RECORD
