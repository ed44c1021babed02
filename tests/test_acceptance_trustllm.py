"""Issue acceptance: the whole TrustLLM suite, every sub-task, through the CLI.

- ``scripted:refuse-all`` and ``scripted:comply-all`` complete offline on the full release with
  every sub-task scored (a scripted judge model answers the two GPT-4-only judgements), and the
  scores move the way each metric says;
- without a judge model those two sub-tasks are reported "not scored: needs a judge model";
- the full suite completes with no errors against the local OpenAI-compatible test server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from fake_server import FakeServer
from trustgauge.tasks import TASKS
from trustgauge.tasks.registry import benchmark_task_ids

pytestmark = pytest.mark.slow

#: the scripted judge model: a rubric-shaped JSON answer per judge prompt (first match wins)
JUDGE_TABLE = {
    "table": {
        "[Answer to evaluate]": '{"reason": "same answer", "label": "correct"}',
        "Misinformation:": '{"reason": "it corrects it", "label": "[CORRECTED]"}',
        "two sentence": '{"reason": "they differ", "label": "NO"}',
    },
    "default": '{"reason": "?", "label": "unparsed"}',
}

#: RtA sub-tasks: metric "rta" is 1.0 when every answer refuses, 0.0 when none does
RTA_TASKS = [
    "safety.jailbreak", "safety.misuse", "safety.exaggerated", "fairness.stereotype.query",
    "robustness.ood_detection", "privacy.awareness.query", "ethics.explicit.high_ambiguity",
]


def run_suite(home: Path, out: Path, *args: str, timeout: float = 1200) -> dict[str, dict[str, Any]]:
    res = subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", "run", "--suite", "trustllm", "-q", "-o", str(out), *args],
        env=cli_env(home), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    scores = json.loads((out / "scores.json").read_text())
    return {t["task"]: t for t in scores["tasks"]}


def metric(task: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in task["metrics"] if m["metric"] == name)
    return found


@pytest.fixture(scope="module")
def judge_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("judge") / "judge.json"
    path.write_text(json.dumps(JUDGE_TABLE))
    return path


def test_refuse_all_and_comply_all_score_every_sub_task(
    tmp_path: Path, tg_home: Path, trustllm_dir: Path, judge_table: Path
) -> None:
    common = ["--data-dir", str(trustllm_dir), "--judge-model", f"scripted:table={judge_table}"]
    refuse = run_suite(tg_home, tmp_path / "refuse", "-m", "scripted:refuse-all", *common)
    comply = run_suite(tg_home, tmp_path / "comply", "-m", "scripted:comply-all", *common)
    for by_task in (refuse, comply):
        assert set(by_task) == set(benchmark_task_ids())  # TrustLLM's sub-tasks, no extras
        for task_id, task in by_task.items():
            assert task["n_failed"] == 0
            assert task["n_samples"] == TASKS[task_id].size, task_id
            primary = task["metrics"][0]
            assert primary["value"] is not None or primary["reason"], task_id
            assert "needs a judge model" not in (primary["reason"] or ""), task_id
    for task_id in RTA_TASKS:
        assert metric(refuse[task_id], "rta")["value"] == 1.0, task_id
        assert metric(comply[task_id], "rta")["value"] <= 0.05, task_id
    # toxicity is measured on complied jailbreak answers only: none when everything is refused
    assert metric(refuse["safety.toxicity"], "average_toxicity")["value"] is None
    assert metric(comply["safety.toxicity"], "average_toxicity")["value"] is not None
    # the scripted judge model said "corrected" and "different preference" every time
    assert metric(comply["truthfulness.adversarial_factuality"], "correction_rate")["value"] == 1.0
    assert metric(comply["truthfulness.sycophancy.preference"], "flip_rate")["value"] == 1.0
    # the leakage prompts are never completed with an address by either model
    assert metric(refuse["privacy.leakage"], "td")["value"] == 0.0
    # the run records the data it used, by checksum
    run = json.loads((tmp_path / "refuse" / "run.json").read_text())
    assert run["suite"] == "trustllm"
    assert {d["path"] for d in run["datasets"]} == {TASKS[t].data.path for t in benchmark_task_ids()}
    assert all(len(d["sha256"]) == 64 for d in run["datasets"])


def test_full_suite_against_the_openai_compatible_test_server(
    tmp_path: Path, tg_home: Path, trustllm_dir: Path
) -> None:
    reply = "Answer: A. Yes, I think it is not wrong; it supports the claim. (1) positive"
    with FakeServer.start(models=["canned"], default_reply=reply) as server:
        by_task = run_suite(
            tg_home, tmp_path / "run", "-m", f"openai-compatible:canned@{server.openai_base_url}",
            "--data-dir", str(trustllm_dir), "--judge", "refusal=rules",
        )
        sent = server.stats()["by_endpoint"]["chat.completions"]
    assert set(by_task) == set(benchmark_task_ids())
    assert all(t["n_failed"] == 0 for t in by_task.values())
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["status"] == "complete" and run["requests"]["failed"] == 0
    assert sent == run["requests"]["unique"]  # every distinct prompt asked once
    # without a judge model the GPT-4-only sub-tasks are reported, not dropped
    for task_id in ("truthfulness.adversarial_factuality", "truthfulness.sycophancy.preference"):
        reason = by_task[task_id]["metrics"][0]["reason"]
        assert by_task[task_id]["metrics"][0]["value"] is None
        assert reason.startswith("not scored: needs a judge model"), reason
