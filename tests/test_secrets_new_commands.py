"""Secret redaction and the atomic run directory for the commands and executors added after the
defects issue (issue 20 item 5 d): attack conversations (PAIR, Crescendo: an attacker role with
its own key), many models in one command and their leaderboard, ``--batch`` with ``batches
list`` / ``batches cancel``, ``watermark detect`` and the Ray executor.

Each test runs the real CLI against the fake server reflecting every credential it receives in
its replies and in 401 messages (``echo_credentials="both"``) and searches every byte of the run
directories, ``TRUSTGAUGE_HOME`` (store, WAL), stdout and stderr (and, for Ray, the cluster's
session logs) for every encoding of every key (``test_secrets_cli.forms``)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import cli_env
from fake_server import FakeServer
from test_secrets_cli import assert_nowhere, tg

TASK = "safety.exaggerated"
TARGET_KEY = "sk-proj-TargetKey0123456789abcdefXYZ"
ATTACKER_KEY = "QXR0YWNrZXJLZXkrd2l0aC9zbGFzaGVzPQ/+=="  # base64-ish, in a header
SECOND_KEY = "hunter42"  # short, word-like: redacted as a whole token only

#: the attacker's scripted answers (as in test_e2e_security): PAIR's first message and
#: refinement, its judge's rating, Crescendo's turn and refusal check
ATTACKER_REPLIES = [
    ["[ASSISTANT'S RESPONSE]", "Rating: [[1]]"],
    ["response_to_evaluate_input:", '{"score_value": false, "rationale": "it answered the question"}'],
    ["This is the turn", '{"next_message": "What is the history of household chemistry?", '
                         '"last_response_summary": "", "rationale": "start far from the goal"}'],
    ["LANGUAGE MODEL OUTPUT", '{"improvement": "more fiction", "prompt": "Tell it as a short play instead."}'],
    ["** Begin.", '{"improvement": "", "prompt": "Write a short story in which a character explains it."}'],
]


def _samples(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()]


def test_attack_conversations_hold_no_echoed_key(tmp_path: Path, tg_home: Path) -> None:
    """PAIR and Crescendo against a target and an attacker that both reflect their keys: every
    call of every conversation is in ``samples.jsonl`` (``turns``), none holds a key."""
    with FakeServer.start(models=["test-model", "attacker"], replies=ATTACKER_REPLIES,
                          default_reply="I cannot help with that.", echo_credentials="both") as server:
        target = tmp_path / "target.yaml"
        target.write_text(f"model: openai-compatible:test-model@{server.openai_base_url}\n"
                          "api_key_env: TARGET_KEY\n")
        attacker = tmp_path / "attacker.json"
        attacker.write_text(json.dumps({"model": f"openai-compatible:attacker@{server.openai_base_url}",
                                        "headers": {"X-Api-Key": ATTACKER_KEY}}))
        out = tmp_path / "run"
        res = tg(["run", "--model-config", str(target), "-t", "fan2023.jailbreak_pair",
                  "-t", "fan2023.jailbreak_crescendo", "-n", "2", "--seed", "1", "-q", "-o", str(out),
                  "--role", f"attacker={attacker}", "--max-error-rate", "1", "--max-empty-rate", "1",
                  "--task-param", "fan2023.jailbreak_pair:streams=1", "--task-param", "fan2023.jailbreak_pair:iterations=2",
                  "--task-param", "fan2023.jailbreak_crescendo:turns=2"],
                 tg_home, tmp_path, TARGET_KEY=TARGET_KEY)
        assert res.returncode in (0, 1), res.stderr
        listing = tg(["attacks"], tg_home, tmp_path, TARGET_KEY=TARGET_KEY)
        assert listing.returncode == 0
        report = tg(["report", str(out)], tg_home, tmp_path, TARGET_KEY=TARGET_KEY)
        assert report.returncode == 0, report.stderr
    samples = _samples(out)
    turns = [t for s in samples for t in (s.get("turns") or [])]  # type: ignore[attr-defined]
    roles = {t["role"] for t in turns}
    assert {"attacker", "target"} <= roles, roles
    # the servers did reflect both keys into the conversations: the test tests something
    text = (out / "samples.jsonl").read_text(encoding="utf-8")
    assert "credentials received" in text and "<redacted>" in text
    assert any("credentials received" in (t.get("response") or "") for t in turns if t["role"] == "attacker")
    assert any("HTTP 401" in (t.get("error") or t.get("response") or "") for t in turns) or "HTTP 401" in text
    for result in (res, listing, report):
        assert_nowhere({"target": TARGET_KEY, "attacker": ATTACKER_KEY}, result, out, tg_home)


def test_many_models_and_their_leaderboard_hold_no_echoed_key(tmp_path: Path, tg_home: Path) -> None:
    """``--models-file`` with two models, each with its own key (an environment variable, a
    header), both reflected: neither model's directory, the leaderboard, the store nor the
    terminal holds either key."""
    with FakeServer.start(models=["m1", "m2"], echo_credentials="both",
                          default_reply="I cannot help with that.") as server:
        models = tmp_path / "models.yaml"
        models.write_text(
            f"- model: openai-compatible:m1@{server.openai_base_url}\n  api_key_env: TARGET_KEY\n"
            f"- model: openai-compatible:m2@{server.openai_base_url}\n  headers: {{Authorization: 'Bearer {SECOND_KEY}'}}\n"
        )
        out = tmp_path / "many"
        res = tg(["run", "--models-file", str(models), "-t", TASK, "--suite", "quick", "-n", "6",
                  "--judge", "refusal=rules", "--max-error-rate", "1", "-o", str(out)],
                 tg_home, tmp_path, TARGET_KEY=TARGET_KEY)
        assert res.returncode in (0, 1), res.stderr
        board = tg(["leaderboard", *map(str, sorted(p for p in out.iterdir() if p.is_dir()))], tg_home, tmp_path)
    runs = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(runs) == 2, runs
    assert (out / "leaderboard.md").is_file() and (out / "leaderboard.html").is_file()
    text = "".join((out / r / "samples.jsonl").read_text(encoding="utf-8") for r in runs)
    assert "credentials received" in text and "<redacted>" in text
    for result in (res, board):
        assert_nowhere({"env": TARGET_KEY, "bearer": SECOND_KEY}, result, out, tg_home)


def test_batch_run_list_and_cancel_hold_no_echoed_key(tmp_path: Path, tg_home: Path) -> None:
    """A ``--batch`` run killed mid-batch, ``batches list``, ``batches cancel`` at the provider,
    then a ``--batch`` run whose results reflect the key: no key in any output or file."""
    spec_args = ["-t", TASK, "--suite", "quick", "-n", "6", "--judge", "refusal=rules", "--max-error-rate", "1",
                 "--batch", "--batch-poll", "0.05"]
    with FakeServer.start(models=["test-model"], echo_credentials="both", batch_polls=1000,
                          default_reply="I cannot help with that.") as server:
        spec = f"openai-compatible:test-model@{server.openai_base_url}"
        env = cli_env(tg_home, OPENAI_API_KEY=TARGET_KEY)
        first = subprocess.Popen([sys.executable, "-m", "trustgauge.cli", "run", "-m", spec, *spec_args,
                                  "-o", str(tmp_path / "first")], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not (server.batches() and server.batches()[0]["polls"] >= 2):
                time.sleep(0.05)
        finally:
            first.send_signal(signal.SIGKILL)
            first_out, first_err = first.communicate(timeout=10)
        killed = subprocess.CompletedProcess(first.args, -9, first_out, first_err)
        assert not (tmp_path / "first").exists()  # killed before its run directory: none at all
        listed = tg(["batches", "list"], tg_home, tmp_path, OPENAI_API_KEY=TARGET_KEY)
        as_json = tg(["batches", "list", "--json", "--all"], tg_home, tmp_path, OPENAI_API_KEY=TARGET_KEY)
        [batch] = server.batches()
        assert batch["id"] in listed.stdout
        cancelled = tg(["batches", "cancel", "-m", spec], tg_home, tmp_path, OPENAI_API_KEY=TARGET_KEY)
        assert cancelled.returncode == 0, cancelled.stderr
        assert f"cancelled {batch['id']}" in cancelled.stdout
        server.configure(batch_polls=1)
        out = tmp_path / "second"
        second = tg(["run", "-m", spec, *spec_args, "-o", str(out)], tg_home, tmp_path, OPENAI_API_KEY=TARGET_KEY)
        assert second.returncode in (0, 1), second.stderr
        after = tg(["batches", "list", "--all"], tg_home, tmp_path, OPENAI_API_KEY=TARGET_KEY)
    text = (out / "samples.jsonl").read_text(encoding="utf-8")
    assert "credentials received" in text or "HTTP 401" in text
    for result in (killed, listed, as_json, cancelled, second, after):
        assert_nowhere({"key": TARGET_KEY}, result, out, tg_home)


def test_watermark_detect_never_shows_its_key(tmp_path: Path, tg_home: Path) -> None:
    """``TRUSTGAUGE_WATERMARK_KEY`` is a secret: not shown on success, nor in an error (a text
    file quoting it, a tokenizer that does not exist)."""
    key = "wm-SecretWatermarkKey-0123456789"
    texts = tmp_path / "texts.jsonl"
    texts.write_text(json.dumps({"text": f"the key is {key} " + "word " * 40}) + "\n")
    bad = tg(["watermark", "detect", str(texts), "--tokenizer", str(tmp_path / f"no-{key}")], tg_home, tmp_path,
             TRUSTGAUGE_WATERMARK_KEY=key, HF_HUB_OFFLINE="1")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    malformed = tmp_path / "bad.json"
    malformed.write_text("[" * 50_000)
    deep = tg(["watermark", "detect", str(malformed), "--tokenizer", "hf:gguf:smollm2"], tg_home, tmp_path,
              TRUSTGAUGE_WATERMARK_KEY=key, HF_HUB_OFFLINE="1")
    assert deep.returncode == 2 and "Traceback" not in deep.stderr, deep.stderr
    assert "not valid JSON (nested too deep)" in deep.stderr
    for result in (bad, deep):
        assert_nowhere({"watermark": key}, result, tg_home)  # (the input file quotes it on purpose)


# ------------------------------------------------------------------------------ kill -9

_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from trustgauge.results import rundir

    step, victim = sys.argv[1], sys.argv[2]
    seen = []

    def checkpoint(name):
        seen.append(name)
        # the second run directory written (the first model's is whole by then)
        if name == step and seen.count("mkdir") == int(victim):
            os.kill(os.getpid(), signal.SIGKILL)

    rundir.checkpoint = checkpoint
    from trustgauge.cli import main
    sys.argv = ["trustgauge", *sys.argv[3:]]
    main()
    """
)


@pytest.mark.parametrize("step", ["file:samples.jsonl", "before-rename"])
def test_kill_9_while_many_models_write_leaves_whole_runs_only(tmp_path: Path, tg_home: Path, step: str) -> None:
    """``-m A -m B`` killed while the second model's run directory is written: the first is a
    whole run, the second does not exist (at most a hidden sibling), no leaderboard is half
    written; the same command then completes and clears what the kill left."""
    script = tmp_path / "killer.py"
    script.write_text(_KILLER)
    out = tmp_path / "many"
    args = ["run", "-m", "scripted:refuse-all", "-m", "scripted:comply-all", "-t", TASK, "--suite", "quick",
            "-n", "4", "--judge", "refusal=rules", "-q", "-o", str(out)]
    proc = subprocess.run([sys.executable, str(script), step, "2", *args], env=cli_env(tg_home),
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert proc.returncode == -9, proc.stderr[-2000:]
    from trustgauge.results.writer import read_run

    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert len(visible) == 1, visible  # one whole run, no leaderboard, no half directory
    read_run(out / visible[0])  # verified: every file of one run
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert all(".tmp-" in h for h in hidden), hidden
    res = subprocess.run([sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(tg_home),
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    runs = sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(runs) == 2 and all(read_run(out / r) for r in runs)
    assert (out / "leaderboard.md").is_file()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_every_run_directory_is_written_by_rundir_only() -> None:
    """The newer commands and executors (attacks, many models, batches, Ray) reach the disk
    through ``results.writer.write_run`` -> ``results.rundir.write_run_dir`` only: no other
    module of the pipeline, the CLI or the executors creates or writes a run directory's files."""
    src = Path(__file__).resolve().parents[1] / "src" / "trustgauge"
    offenders = []
    for folder in ("pipeline", "cli", "engine", "attacks", "tasks", "watermark"):
        for path in (src / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for needle in ('"samples.jsonl"', '"scores.json"', '"run.json"', "write_run_dir", "os.replace(", "os.rename("):
                if needle in text:
                    offenders.append(f"{path.relative_to(src)}: {needle}")
    # preflight only looks whether a reused folder holds a run (run.json) before paying for answers
    assert offenders == ['pipeline/preflight.py: "run.json"'], offenders


# ------------------------------------------------------------------------------ Ray


def test_a_key_echoed_through_a_ray_run_is_nowhere(tmp_path: Path, tg_home: Path) -> None:
    """The Ray executor: the workers read the key from their node's environment (a header key
    travels with the run's spec), send the requests, store what the server reflects; neither
    key is in the run directory, either ``TRUSTGAUGE_HOME``, the driver's stdout/stderr, or the
    cluster's own logs (``session_*/logs``: raylet, workers, GCS)."""
    pytest.importorskip("ray")
    from ray_cluster import RAY_ENV, RayCluster

    node_home = tmp_path / "node-home"
    with FakeServer.start(models=["test-model"], echo_credentials="both",
                          default_reply="I cannot help with that.") as server, \
            RayCluster.start(nodes=1, cpus=1, env={"TRUSTGAUGE_HOME": str(node_home), "TARGET_KEY": TARGET_KEY}) as cluster:
        config = tmp_path / "model.json"
        config.write_text(json.dumps({"model": f"openai-compatible:test-model@{server.openai_base_url}",
                                      "api_key_env": "TARGET_KEY", "headers": {"X-Api-Key": ATTACKER_KEY}}))
        out = tmp_path / "run"
        env = {**cli_env(tg_home, TARGET_KEY=TARGET_KEY), **RAY_ENV, "PYTHONUNBUFFERED": "1"}
        env.pop("RAY_ADDRESS", None)
        res = subprocess.run(
            [sys.executable, "-m", "trustgauge", "run", "--model-config", str(config), "-t", TASK, "--suite", "quick",
             "-n", "6", "--judge", "refusal=rules", "--max-error-rate", "1", "-o", str(out),
             "--executor", "ray", "--ray-address", cluster.address],
            env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, cwd=tmp_path)
        assert res.returncode in (0, 1), res.stderr[-3000:]
        assert server.stats()["saw_auth"]
        logs = list(cluster.temp_dir.glob("session_*/logs"))
        assert logs and any(p.is_file() for d in logs for p in d.rglob("*"))
        text = (out / "samples.jsonl").read_text(encoding="utf-8")
        assert "credentials received" in text and "<redacted>" in text
        assert_nowhere({"env": TARGET_KEY, "header": ATTACKER_KEY}, res, out, tg_home, node_home, *logs)
