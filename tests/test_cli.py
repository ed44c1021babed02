"""The CLI end to end against a real HTTP server on 127.0.0.1 (tests/fake_server.py):
outputs, resume after kill -9, faults, concurrency, secrets, bad input."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from fake_server import FakeServer

TASK = "safety.exaggerated"  # 200 XSTest prompts, refusal judge, RtA


def tg(args: list[str], home: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", *args],
        env=cli_env(home, **env), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def model_spec(server: Any) -> str:
    return f"openai-compatible:test-model@{server.openai_base_url}"


def read_samples(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def scores(out: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((out / "scores.json").read_text())
    return {t["task"]: {m["metric"]: m for m in t["metrics"]} for t in data["tasks"]}


def test_run_writes_results_and_scores_refusals(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    with FakeServer.start(models=["test-model"], replies=[["kill", "I'm sorry, but I can't help with that."]],
                          default_reply="Sure! Here is how: first, open the terminal.") as server:
        out = tmp_path / "run"
        res = tg(["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir),
                  "--limit", "40", "-o", str(out)], tg_home)
        assert res.returncode == 0, res.stderr
        samples = read_samples(out)
        assert len(samples) == 40 and all(s["response"] for s in samples)
        refused = sum(1 for s in samples if "kill" in s["prompt"])
        rta = scores(out)[TASK]["rta"]
        assert rta["n"] == 40
        assert rta["value"] == pytest.approx(refused / 40)
        assert rta["direction"] == "lower"
        run = json.loads((out / "run.json").read_text())
        assert run["model_identity"]["backend"] == "openai-compatible"
        assert run["datasets"][0]["sha256"] and run["judges"]["refusal"].startswith("minilm@")
        assert run["requests"]["sent"] == 40
        assert run["generation"][TASK]["temperature"] == 1.0  # TrustLLM's setting for this file
        assert "report:" in res.stdout and (out / "report.html").exists()
        assert server.stats()["requests"] == 40

        # the same command again costs no model call
        res2 = tg(["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir),
                   "--limit", "40", "-o", str(tmp_path / "run2")], tg_home)
        assert res2.returncode == 0, res2.stderr
        assert server.stats()["requests"] == 40
        assert json.loads((tmp_path / "run2" / "run.json").read_text())["requests"]["cached"] == 40
        # --no-cache sends everything again
        res3 = tg(["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir),
                   "--limit", "40", "--no-cache", "-o", str(tmp_path / "run3")], tg_home)
        assert res3.returncode == 0 and server.stats()["requests"] == 80


def _stored_prompts(home: Path) -> set[str]:
    db = sqlite3.connect(home / "store.sqlite3")
    try:
        rows = db.execute("SELECT request FROM responses").fetchall()
    finally:
        db.close()
    return {json.loads(r)["messages"][-1]["content"] for (r,) in rows}


def test_resume_after_kill_9_sends_no_stored_prompt_again(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    with FakeServer.start(models=["test-model"], latency=0.25) as server:
        args = ["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "60",
                "-c", "4", "-o", str(tmp_path / "run")]
        proc = subprocess.Popen([sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(tg_home),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while server.stats()["successes"] < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        stored = _stored_prompts(tg_home)
        assert 15 <= len(stored) < 60
        before = dict(server.stats()["prompt_requests"])

        res = tg(args, tg_home)
        assert res.returncode == 0, res.stderr
        samples = read_samples(tmp_path / "run")
        assert len(samples) == 60 and all(s["response"] for s in samples)
        after = server.stats()["prompt_requests"]
        for prompt in stored:
            assert after[prompt] == before[prompt] == 1, "a stored response was requested again"
        resent = [p for p in after if after[p] > 1]
        assert len(resent) <= 4  # at most the requests in flight at the kill (concurrency 4)


def test_transient_faults_are_retried_to_completion(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    with FakeServer.start(models=["test-model"], fault_rate=0.3, retry_after=0.05, seed=7,
                          faults=["429", "500", "503", "truncated_json", "garbage", "drop"]) as server:
        out = tmp_path / "run"
        res = tg(["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "60",
                  "--retry-delay", "0.01", "--max-retries", "12", "-o", str(out)], tg_home)
        assert res.returncode == 0, res.stderr
        stats = server.stats()
        assert stats["faults_total"] >= 10
        assert all(s["response"] for s in read_samples(out))
        run = json.loads((out / "run.json").read_text())
        assert run["requests"]["retries"] == stats["faults_total"]
        assert run["requests"]["failed"] == 0


def test_hang_past_timeout_is_recorded_and_exit_code_follows_max_error_rate(
    tmp_path: Path, tg_home: Path, trustllm_dir: Path
) -> None:
    with FakeServer.start(models=["test-model"], fault_rate=1.0, faults=["hang"], hang_seconds=30) as server:
        base = ["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "3",
                "--timeout", "0.5", "--max-retries", "1", "--retry-delay", "0.01"]
        res = tg([*base, "-o", str(tmp_path / "a")], tg_home)
        assert res.returncode == 1
        assert "3 of 3 requests failed" in res.stderr
        errors = [s["error"] for s in read_samples(tmp_path / "a")]
        assert all(e and "timeout" in e for e in errors)
        assert scores(tmp_path / "a")[TASK]["rta"]["value"] is None
        res = tg([*base, "--max-error-rate", "1", "-o", str(tmp_path / "b")], tg_home)
        assert res.returncode == 0


def test_requests_longer_than_the_context_are_not_advised_to_be_retried(
    tmp_path: Path, tg_home: Path, trustllm_dir: Path
) -> None:
    """A server that answers "exceeds the available context size" (llama.cpp) fails the same way
    every time: the exit line says so and names the fix, instead of "run again"."""
    with FakeServer.start(models=["test-model"], context_words=1) as server:
        res = tg(["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "2",
                  "--max-retries", "0", "-o", str(tmp_path / "run")], tg_home)
        assert res.returncode == 1
        assert "2 of 2 requests failed" in res.stderr
        assert "2 of them did not fit the model's context: sending them again cannot help" in res.stderr
        assert "n_ctx" in res.stderr and "Run the same command again" not in res.stderr
        assert all("exceeds the available context size" in s["error"] for s in read_samples(tmp_path / "run"))


def test_concurrency_bound_is_respected_and_reached(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    with FakeServer.start(models=["test-model"], latency=0.2) as server:
        res = tg(["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "36",
                  "-c", "6", "-o", str(tmp_path / "run")], tg_home)
        assert res.returncode == 0, res.stderr
        assert server.stats()["max_in_flight"] == 6


def test_adaptive_concurrency_grows_and_backs_off_on_429(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    with FakeServer.start(models=["test-model"], latency=0.1) as server:
        res = tg(["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "200",
                  "-o", str(tmp_path / "run")], tg_home)
        assert res.returncode == 0, res.stderr
        assert server.stats()["max_in_flight"] > 8  # grew past its initial 8


def test_api_key_never_written_or_printed(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    key = "sk-test-" + "9f8e7d6c5b4a" * 4
    with FakeServer.start(models=["test-model"], api_key=key, fault_rate=0.2, faults=["500"], retry_after=0.01) as server:
        out = tmp_path / "run"
        res = tg(["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "10",
                  "--retry-delay", "0.01", "-o", str(out)], tg_home, OPENAI_API_KEY=key)
        assert res.returncode == 0, res.stderr
        assert server.stats()["saw_auth"]
        # a wrong key: the error line must not echo it either
        bad = tg(["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "2",
                  "-o", str(tmp_path / "bad")], tg_home, OPENAI_API_KEY=key[:-4] + "0000")
        assert bad.returncode == 2
    texts = [res.stdout, res.stderr, bad.stdout, bad.stderr]
    for root in (out, tg_home, tmp_path):
        for path in root.rglob("*"):
            if path.is_file():
                texts.append(path.read_bytes().decode("utf-8", "replace"))
    for text in texts:
        assert key not in text and key[:-4] not in text and key[8:20] not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "-m", "nosuch:model", "-t", TASK], "unknown backend 'nosuch'"),
        (["run", "-m", "openai", "-t", TASK], "bad model spec"),
        (["run", "-m", "scripted:refuse-all", "-t", "safety.nosuchtask"], "unknown task"),
        (["run", "-m", "scripted:refuse-all", "-t", "safety/privacy"], "did you mean safety/privacy-violation"),
        (["run", "-m", "scripted:refuse-all", "-t", "robustness/poisoning-attacks"], "no task measures"),
        (["run", "-m", "openai:gpt-4o-mini", "-t", TASK], "missing API key"),
        (["run", "-m", "openai-compatible:m@http://127.0.0.1:9/v1", "-t", TASK], "cannot reach"),
        (["run", "--model-config", "/nonexistent/model.yaml", "-t", TASK], "cannot read config"),
        (["run", "-m", "scripted:refuse-all", "-t", TASK, "--judge", "refusal"], "bad --judge"),
        (["run", "-m", "scripted:refuse-all", "-t", TASK, "--judge", "refusal=nosuch"], "unknown refusal judge"),
        (["run", "-m", "scripted:refuse-all", "-t", TASK, "--data-dir", "/nonexistent"], "/nonexistent"),
    ],
)
def test_bad_input_one_line_exit_2(args: list[str], message: str, tg_home: Path, trustllm_dir: Path) -> None:
    if "--data-dir" not in args:
        args = [*args, "--data-dir", str(trustllm_dir)]
    res = tg(args, tg_home, timeout=60)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_unparseable_config_and_malformed_data(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    cfg = tmp_path / "m.yaml"
    cfg.write_text("model: [unclosed\n")
    res = tg(["run", "--model-config", str(cfg), "-t", TASK], tg_home, timeout=60)
    assert res.returncode == 2 and "cannot parse config" in res.stderr
    cfg.write_text("model: scripted:echo\ngeneration: {temperature: 9}\n")
    res = tg(["run", "--model-config", str(cfg), "-t", TASK], tg_home, timeout=60)
    assert res.returncode == 2 and "generation.temperature" in res.stderr
    # a copy of the data with one malformed record
    import shutil

    data = tmp_path / "data"
    shutil.copytree(trustllm_dir, data)
    path = data / "safety" / "exaggerated_safety.json"
    records = json.loads(path.read_text())
    del records[3]["prompt"]
    path.write_text(json.dumps(records))
    res = tg(["run", "-m", "scripted:refuse-all", "-t", TASK, "--data-dir", str(data)], tg_home, timeout=60)
    assert res.returncode == 2 and "prompt" in res.stderr and "3" in res.stderr, res.stderr
    path.write_text("[{")
    res = tg(["run", "-m", "scripted:refuse-all", "-t", TASK, "--data-dir", str(data)], tg_home, timeout=60)
    assert res.returncode == 2 and "exaggerated_safety.json" in res.stderr


def test_scripted_models_and_tasks_listing(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    res = tg(["run", "-m", "scripted:refuse-all", "-t", TASK, "--data-dir", str(trustllm_dir), "-q",
              "-o", str(tmp_path / "r")], tg_home, timeout=60)
    assert res.returncode == 0, res.stderr
    assert scores(tmp_path / "r")[TASK]["rta"]["value"] == 1.0
    res = tg(["tasks", "--json"], tg_home, timeout=60)
    rows = json.loads(res.stdout)
    row = next(r for r in rows if r["id"] == TASK)
    assert row == {**row, "dimension": "safety", "metric": "rta", "n_samples": 200}
    # every sub-task of the spec, with its sample count on the release
    counts = {r["id"]: r["n_samples"] for r in rows}
    assert counts["truthfulness.sycophancy.persona"] == 179 and counts["ethics.emotional_awareness"] == 200
    assert sum(counts.values()) >= 13975
    res = tg(["tasks", "--json", "--suite", "quick"], tg_home, timeout=60)
    quick = {r["id"]: r["n_samples"] for r in json.loads(res.stdout)}
    # the quick suite: TrustLLM's benchmark (not its extras, Liu et al.'s studies nor Fan et al.'s probes)
    trustllm = {r["id"] for r in rows if not r["extra"] and r["dimension"] not in ("liu2023", "fan2023")}
    assert set(quick) == trustllm and all(0 < quick[t] < counts[t] for t in quick)
    assert tg(["--version"], tg_home).stdout.startswith("trustgauge ")


def test_sigterm_mid_run_keeps_what_was_received(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    with FakeServer.start(models=["test-model"], latency=0.3) as server:
        args = ["run", "-m", model_spec(server), "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "40",
                "-c", "2", "-o", str(tmp_path / "run")]
        proc = subprocess.Popen([sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(tg_home),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while server.stats()["successes"] < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130
        assert "run the same command again to resume" in err
        assert len(_stored_prompts(tg_home)) >= 6


def test_toxicity_is_judged_only_for_complied_jailbreak_responses(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    for model, judged in (("scripted:refuse-all", False), ("scripted:comply-all", True)):
        out = tmp_path / model.split(":")[1]
        res = tg(["run", "-m", model, "-t", "safety.jailbreak,safety.toxicity", "--data-dir", str(trustllm_dir),
                  "--limit", "20", "-o", str(out)], tg_home)
        assert res.returncode == 0, res.stderr
        rows = [r for r in read_samples(out) if r["task"] == "safety.toxicity"]
        assert len(rows) == 20
        assert all(("toxicity" in r["judgements"]) == judged for r in rows)
        tox = scores(out)["safety.toxicity"]["average_toxicity"]
        if judged:
            assert tox["value"] is not None and 0.0 <= tox["value"] <= 1.0 and tox["n"] == 20
        else:
            assert tox["value"] is None and "no complied responses" in tox["reason"]
        run = json.loads((out / "run.json").read_text())
        assert run["judges"]["toxicity"] == "minilm@2"


def test_trustllm_reference_flag_switches_to_trustllm_readers(
    tmp_path: Path, tg_home: Path, trustllm_dir: Path
) -> None:
    # TrustLLM's disparagement reader (assign_option) takes the token "A" of "A person ..." for
    # option A
    config = tmp_path / "model.json"
    config.write_text(json.dumps({"model": "scripted:table", "options": {"table": {}, "default": "A person like this could earn anything."}}))
    base = ["run", "--model-config", str(config), "-t", "fairness.disparagement", "--data-dir", str(trustllm_dir),
            "-n", "6", "-q"]
    ours = tg([*base, "-o", str(tmp_path / "ours")], tg_home, timeout=60)
    theirs = tg([*base, "--trustllm-reference", "-o", str(tmp_path / "theirs")], tg_home, timeout=60)
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr + theirs.stderr
    assert scores(tmp_path / "ours")["fairness.disparagement"]["answer_rate"]["value"] == 0.0
    assert scores(tmp_path / "theirs")["fairness.disparagement"]["answer_rate"]["value"] == 1.0
    assert json.loads((tmp_path / "theirs" / "run.json").read_text())["reference"] is True
    assert json.loads((tmp_path / "ours" / "run.json").read_text())["reference"] is False
