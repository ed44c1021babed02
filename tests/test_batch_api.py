"""``trustgauge run --batch`` end to end through the CLI against the test server's files and
batches endpoints (tests/fake_server.py: real state; a batch runs its requests through the
server's own chat handlers, a share per poll): scores equal to a normal run's, the same cache
keys both ways, a killed run resumes polling the same batch, errored lines become failures,
expired batches are resubmitted, rejected batches are one line and exit 2, no key anywhere."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from fake_server import FakeServer, echo_refuses

TASK = "safety.exaggerated"  # XSTest: refusal judge, RtA; the packaged quick sample (offline)
KEY = "sk-tgbatchSECRET0123456789abcdefXYZ"  # recognisable: must never be written anywhere
REFUSE = [["kill", "I'm sorry, but I can't help with that."]]


def tg(args: list[str], home: Path, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(home, **env),
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def run_args(server: FakeServer, out: Path, *extra: str, n: int = 12, task: str = TASK) -> list[str]:
    return ["run", "-m", f"openai-compatible:test-model@{server.openai_base_url}", "--suite", "quick", "-t", task,
            "-n", str(n), "-o", str(out), *extra]


BATCH = ("--batch", "--batch-poll", "0.05")


def samples(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def scores(out: Path) -> list[dict[str, Any]]:
    return [
        {k: m[k] for k in ("metric", "value", "ci", "n", "n_invalid")}
        for t in json.loads((out / "scores.json").read_text())["tasks"] for m in t["metrics"]
    ]


def store_rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(home / "store.sqlite3")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def direct_chats(server: FakeServer) -> int:
    """Chat completions sent one by one (a batch's own requests are counted apart)."""
    return int(server.stats()["by_endpoint"].get("chat.completions", 0))


def test_batch_run_scores_as_a_normal_run_under_the_same_cache_keys(tmp_path: Path) -> None:
    with FakeServer.start(models=["test-model"], replies=REFUSE) as server:
        batch_home, normal_home = tmp_path / "home-b", tmp_path / "home-n"
        res = tg(run_args(server, tmp_path / "b", *BATCH), batch_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        stats = server.stats()
        assert stats["batch_creations"] == {"openai": 1}
        assert direct_chats(server) == 0 and stats["by_endpoint"]["batch:chat.completions"] == 12
        assert "submitted to openai" in res.stderr and "completed, 12/12 requests done" in res.stderr
        run = json.loads((tmp_path / "b" / "run.json").read_text())
        assert run["requests"]["sent"] == 12 and run["requests"]["failed"] == 0
        [(batch_id, provider, state, n)] = store_rows(
            batch_home, "SELECT batch_id, provider, state, requests FROM provider_batches")
        assert (provider, state, n) == ("openai", "done", 12)
        assert [b["id"] for b in server.batches()] == [batch_id]
        # the batch JSONL went from memory: no line of it in any file
        written = [p for p in [*batch_home.rglob("*"), *(tmp_path / "b").rglob("*")] if p.is_file()]
        assert written and not [p for p in written if b'"url":"/v1/chat/completions"' in p.read_bytes()]

        # the same run without --batch, in its own store: the same scores
        res = tg(run_args(server, tmp_path / "n"), normal_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        assert direct_chats(server) == 12
        assert scores(tmp_path / "b") == scores(tmp_path / "n")
        assert [s["response"] for s in samples(tmp_path / "b")] == [s["response"] for s in samples(tmp_path / "n")]

        # same cache keys both ways: a normal run after the batch run sends nothing ...
        res = tg(run_args(server, tmp_path / "b2"), batch_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        assert direct_chats(server) == 12
        assert json.loads((tmp_path / "b2" / "run.json").read_text())["requests"]["cached"] == 12
        # ... and a batch run after the normal run submits no batch
        res = tg(run_args(server, tmp_path / "n2", *BATCH), normal_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        assert server.stats()["batch_creations"] == {"openai": 1} and direct_chats(server) == 12
        assert scores(tmp_path / "n2") == scores(tmp_path / "n")


def test_killed_run_resumes_polling_the_same_batch(tmp_path: Path, tg_home: Path) -> None:
    # the batch does not end while the first run lives (1,000 polls): the run is killed mid-batch
    with FakeServer.start(models=["test-model"], replies=REFUSE, batch_polls=1000) as server:
        args = run_args(server, tmp_path / "run", *BATCH)
        proc = subprocess.Popen([sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(tg_home, OPENAI_API_KEY=KEY),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not (server.batches() and server.batches()[0]["polls"] >= 2):
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        [batch] = server.batches()
        assert batch["end"] is None  # still running at the provider
        # recorded at creation, with the cache key of each of its requests
        [(batch_id, state)] = store_rows(tg_home, "SELECT batch_id, state FROM provider_batches")
        assert (batch_id, state) == (batch["id"], "open")
        assert store_rows(tg_home, "SELECT COUNT(*) FROM provider_batch_items") == [(12,)]
        assert store_rows(tg_home, "SELECT COUNT(*) FROM responses") == [(0,)]

        server.configure(batch_polls=batch["polls"] + 2)  # it ends two polls later
        res = tg(args, tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        assert f"batch {batch_id}: resuming" in res.stderr
        stats = server.stats()
        assert stats["batch_creations"] == {"openai": 1}  # polled again, never paid twice
        assert stats["by_endpoint"]["batches.create"] == 1 and stats["by_endpoint"]["files.create"] == 1
        assert stats["by_endpoint"]["files.content"] == 1  # downloaded once
        assert direct_chats(server) == 0 and all(v == 1 for v in stats["prompt_requests"].values())
        assert store_rows(tg_home, "SELECT state FROM provider_batches") == [("done",)]
        assert len(samples(tmp_path / "run")) == 12 and all(s["response"] for s in samples(tmp_path / "run"))


@pytest.mark.parametrize("quiet", [False, True])
def test_ctrl_c_leaves_the_batch_running_and_says_how_to_resume(tmp_path: Path, tg_home: Path, quiet: bool) -> None:
    with FakeServer.start(models=["test-model"], batch_polls=1000) as server:
        args = run_args(server, tmp_path / "run", *BATCH, *(["--quiet"] if quiet else []), n=6)
        proc = subprocess.Popen([sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(tg_home, OPENAI_API_KEY=KEY),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (server.batches() and server.batches()[0]["polls"] >= 1):
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        [batch] = server.batches()
        assert f"batch {batch['id']} keeps running at openai" in err
        assert "run the same command again to resume polling it" in err
        assert "Traceback" not in err and batch["end"] is None
        # the store knows it; 'trustgauge batches cancel' stops it at the provider
        listed = tg(["batches", "list"], tg_home)
        assert listed.returncode == 0 and batch["id"] in listed.stdout and "openai-compatible:test-model" in listed.stdout
        spec = f"openai-compatible:test-model@{server.openai_base_url}"
        res = tg(["batches", "cancel", "-m", spec, "batch_unknown"], tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 2 and "no open batch batch_unknown" in res.stderr
        res = tg(["batches", "cancel", "-m", spec], tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        assert f"cancelled {batch['id']}" in res.stdout
        # the same run command collects what finished and submits the rest (ending at its first poll)
        server.configure(batch_polls=1)
        res = tg(args, tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        first, *later = server.batches()
        assert first["end"] == "cancelled" and sum(b["requests"] for b in later) == 6 - first["ran"]
        assert all(v == 1 for v in server.stats()["prompt_requests"].values())
        assert tg(["batches", "list"], tg_home).stdout.strip() == "no open batches"


def test_errored_lines_are_failures_and_no_key_is_written_anywhere(tmp_path: Path, tg_home: Path) -> None:
    # a careless server: half the prompts get a 401 quoting the key, the others a reply quoting it
    with FakeServer.start(models=["test-model"], api_key=KEY, echo_credentials="both") as server:
        out = tmp_path / "run"
        res = tg(run_args(server, out, *BATCH, "--max-error-rate", "1"), tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        rows = samples(out)
        refused = [s for s in rows if echo_refuses("both", s["prompt"])]
        assert 0 < len(refused) < len(rows)
        for s in rows:
            if s in refused:
                assert s["response"] is None and s["error"].startswith("HTTP 401: Incorrect API key provided")
            else:
                assert s["error"] is None and "[credentials received:" in s["response"]
        run = json.loads((out / "run.json").read_text())
        assert run["requests"]["failed"] == len(refused) and run["requests"]["sent"] == len(rows) - len(refused)
        assert server.stats()["saw_auth"]
        leaked = [p for p in [*out.rglob("*"), *tg_home.rglob("*")] if p.is_file() and KEY.encode() in p.read_bytes()]
        assert leaked == []
        assert KEY not in res.stdout + res.stderr
        # the failures are submitted again by the next run (in a new batch), the rest is stored
        server.configure(echo_credentials=None)
        res = tg(run_args(server, tmp_path / "again", *BATCH), tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        assert server.stats()["batch_creations"] == {"openai": 2}
        assert server.batches()[-1]["requests"] == len(refused)


def test_expired_batch_resubmits_only_what_did_not_run(tmp_path: Path, tg_home: Path) -> None:
    with FakeServer.start(models=["test-model"], replies=REFUSE, batch_expire=1) as server:
        out = tmp_path / "run"
        res = tg(run_args(server, out, *BATCH), tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        first, second = server.batches()
        assert (first["end"], first["ran"], second["end"], second["requests"]) == ("expired", 6, "completed", 6)
        assert "expired with 6 requests not run; they are submitted again" in res.stderr
        assert all(v == 1 for v in server.stats()["prompt_requests"].values())  # nothing ran twice
        assert all(s["response"] for s in samples(out))
        assert sorted(r[0] for r in store_rows(tg_home, "SELECT state FROM provider_batches")) == ["done", "done"]


def test_a_batch_is_split_under_the_limits(tmp_path: Path, tg_home: Path) -> None:
    with FakeServer.start(models=["test-model"]) as server:
        config = tmp_path / "model.yaml"
        config.write_text(
            f"model: openai-compatible:test-model@{server.openai_base_url}\noptions:\n  batch_max_requests: 5\n"
        )
        res = tg(["run", "--model-config", str(config), "--suite", "quick", "-t", TASK, "-n", "12", *BATCH,
                  "-o", str(tmp_path / "run")], tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        assert [b["requests"] for b in server.batches()] == [5, 5, 2]
        assert len(samples(tmp_path / "run")) == 12


@pytest.mark.parametrize("mode", ["create", "validate"])
def test_a_rejected_batch_is_one_line_and_exit_2(tmp_path: Path, tg_home: Path, mode: str) -> None:
    with FakeServer.start(models=["test-model"], batch_reject=mode) as server:
        res = tg(run_args(server, tmp_path / "run", *BATCH), tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 2, res.stderr
        [line] = [x for x in res.stderr.splitlines() if x.startswith("error:")]
        assert "rejected" in line and "run the same command again" in line
        assert "Traceback" not in res.stderr and KEY not in res.stderr
        assert store_rows(tg_home, "SELECT COUNT(*) FROM responses") == [(0,)]
        assert direct_chats(server) == 0
        if mode == "validate":  # created, then failed: recorded, and never polled again
            assert store_rows(tg_home, "SELECT state FROM provider_batches") == [("failed",)]
        else:
            assert store_rows(tg_home, "SELECT COUNT(*) FROM provider_batches") == [(0,)]


def test_backends_without_a_batch_api_refuse_before_sending(tmp_path: Path, tg_home: Path) -> None:
    res = tg(["run", "-m", "scripted:refuse-all", "--suite", "quick", "-t", TASK, "-n", "4", "--batch",
              "-o", str(tmp_path / "s")], tg_home)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].startswith("error: --batch: scripted:refuse-all has no provider batch API")
    with FakeServer.start(models=["test-model"], batches=False) as server:
        res = tg(run_args(server, tmp_path / "c", *BATCH), tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 2
        assert "has no batch API (/v1/batches answered HTTP 404); run without --batch" in res.stderr
        assert direct_chats(server) == 0 and server.stats()["batch_lines"] == 0


def test_conversational_tasks_run_normally_in_a_batch_run(tmp_path: Path, tg_home: Path) -> None:
    single, talking = "fan2023.pii_association", "fan2023.system_prompt_leakage"
    with FakeServer.start(models=["test-model"], replies=REFUSE) as server:
        out = tmp_path / "run"
        res = tg(["run", "-m", f"openai-compatible:test-model@{server.openai_base_url}", "--suite", "quick-privacy",
                  "-t", f"{single},{talking}", "-n", "4", *BATCH, "-o", str(out)], tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        by_task: dict[str, list[dict[str, Any]]] = {}
        for s in samples(out):
            by_task.setdefault(s["task"], []).append(s)
        assert set(by_task) == {single, talking}
        assert all(s["response"] for rows in by_task.values() for s in rows)
        assert all(s["turns"] for s in by_task[talking])
        [batch] = server.batches()
        assert batch["requests"] == len(by_task[single])  # only the single-turn requests
        assert direct_chats(server) >= len(by_task[talking])  # the conversations' turns, one call each


def test_anthropic_message_batches(tmp_path: Path) -> None:
    with FakeServer.start(models=["test-model"], replies=REFUSE, batch_expire=1) as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.anthropic_base_url}
        args = ["run", "-m", "anthropic:test-model", "--suite", "quick", "-t", TASK, "-n", "10"]
        res = tg([*args, *BATCH, "-o", str(tmp_path / "b")], tmp_path / "hb", **env)
        assert res.returncode == 0, res.stderr
        assert server.stats()["batch_creations"] == {"anthropic": 2}  # the first expired half done
        first, second = server.batches()
        assert (first["end"], first["ran"], second["requests"]) == ("expired", 5, 5)
        assert server.stats()["by_endpoint"].get("messages", 0) == 0
        res = tg([*args, "-o", str(tmp_path / "n")], tmp_path / "hn", **env)
        assert res.returncode == 0, res.stderr
        assert scores(tmp_path / "b") == scores(tmp_path / "n")
        # a normal run after the batch run: every response is a cache hit
        res = tg([*args, "-o", str(tmp_path / "b2")], tmp_path / "hb", **env)
        assert json.loads((tmp_path / "b2" / "run.json").read_text())["requests"]["cached"] == 10
        assert server.stats()["by_endpoint"]["messages"] == 10  # only the normal run's


def test_a_cancelled_batch_gives_what_finished_and_the_rest_is_resubmitted(tmp_path: Path, tg_home: Path) -> None:
    import openai

    with FakeServer.start(models=["test-model"], replies=REFUSE, batch_polls=4) as server:
        args = run_args(server, tmp_path / "run", *BATCH, n=8)
        proc = subprocess.Popen([sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(tg_home, OPENAI_API_KEY=KEY),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not (server.batches() and server.batches()[0]["polls"] >= 1):
                time.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        [batch] = server.batches()
        assert batch["end"] is None and 0 < batch["ran"] < 8
        # someone cancels it at the provider (the SDK, the provider's console)
        client = openai.OpenAI(api_key=KEY, base_url=server.openai_base_url, max_retries=0)
        assert client.batches.cancel(batch["id"]).status == "cancelling"
        res = tg(args, tg_home, OPENAI_API_KEY=KEY)
        assert res.returncode == 0, res.stderr
        first, second = server.batches()
        assert first["end"] == "cancelled" and second["requests"] == 8 - first["ran"]
        assert f"batch {first['id']}: cancelled with {second['requests']} requests not run" in res.stderr
        assert all(v == 1 for v in server.stats()["prompt_requests"].values())  # what ran is not paid again
        assert len(samples(tmp_path / "run")) == 8 and all(s["response"] for s in samples(tmp_path / "run"))


def test_anthropic_errored_results_are_failures_without_the_key(tmp_path: Path, tg_home: Path) -> None:
    with FakeServer.start(models=["test-model"], api_key=KEY, echo_credentials="both") as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.anthropic_base_url}
        out = tmp_path / "run"
        res = tg(["run", "-m", "anthropic:test-model", "--suite", "quick", "-t", TASK, "-n", "12", *BATCH,
                  "--max-error-rate", "1", "-o", str(out)], tg_home, **env)
        assert res.returncode == 0, res.stderr
        rows = samples(out)
        refused = [s for s in rows if echo_refuses("both", s["prompt"])]
        assert 0 < len(refused) < len(rows)
        assert all(s["error"].startswith("authentication_error: invalid x-api-key") for s in refused)
        assert all(s["response"] and s["error"] is None for s in rows if s not in refused)
        assert server.stats()["batch_creations"] == {"anthropic": 1}
        leaked = [p for p in [*out.rglob("*"), *tg_home.rglob("*")] if p.is_file() and KEY.encode() in p.read_bytes()]
        assert leaked == [] and KEY not in res.stdout + res.stderr


def test_fake_server_batches_have_real_state_through_the_sdks() -> None:
    """The test server itself, through the official SDKs: files are kept, a batch moves
    validating -> in_progress -> completed over ``batch_polls`` polls with its request counts,
    its lines are answered by the chat handler, invalid files fail validation."""
    import anthropic
    import openai

    def line(cid: str, prompt: str, model: str = "test-model") -> dict[str, Any]:
        return {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
                "body": {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": 5}}

    def jsonl(lines: list[dict[str, Any]]) -> bytes:
        return "".join(json.dumps(x) + "\n" for x in lines).encode()

    with FakeServer.start(models=["test-model"], replies=[["capital", "Paris."]], batch_polls=3) as server:
        client = openai.OpenAI(api_key="k", base_url=server.openai_base_url, max_retries=0)
        data = jsonl([line("a", "capital of France?"), line("b", "hello there"), line("c", "x")])
        f = client.files.create(file=("in.jsonl", data, "application/jsonl"), purpose="batch")
        assert client.files.content(f.id).content == data
        batch = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
        assert batch.status == "validating" and batch.request_counts.total == 3
        seen = [client.batches.retrieve(batch.id) for _ in range(3)]
        assert [b.status for b in seen] == ["in_progress", "in_progress", "completed"]
        assert [b.request_counts.completed for b in seen] == [1, 2, 3]
        out = [json.loads(x) for x in client.files.content(seen[-1].output_file_id).text.splitlines()]
        assert [o["custom_id"] for o in out] == ["a", "b", "c"]
        assert out[0]["response"]["body"]["choices"][0]["message"]["content"] == "Paris."
        assert seen[-1].error_file_id is None
        assert server.stats()["by_endpoint"]["batch:chat.completions"] == 3
        assert [b.id for b in client.batches.list(limit=5).data] == [batch.id]

        bad = jsonl([line("a", "one"), line("a", "two"), line("b", "three", model="other")])
        g = client.files.create(file=("bad.jsonl", bad, "application/jsonl"), purpose="batch")
        failed = client.batches.create(input_file_id=g.id, endpoint="/v1/chat/completions", completion_window="24h")
        polled = client.batches.retrieve(failed.id)
        assert polled.status == "failed" and polled.errors is not None
        assert {e.code for e in polled.errors.data} == {"duplicate_custom_id", "mismatched_model"}

        aclient = anthropic.Anthropic(api_key="k", base_url=server.anthropic_base_url, max_retries=0)
        params = {"model": "test-model", "max_tokens": 5, "messages": [{"role": "user", "content": "capital?"}]}
        mb = aclient.messages.batches.create(requests=[{"custom_id": "q1", "params": params}])  # type: ignore[list-item]
        assert mb.processing_status == "in_progress" and mb.request_counts.processing == 1
        states = [aclient.messages.batches.retrieve(mb.id).processing_status for _ in range(3)]
        assert states == ["in_progress", "in_progress", "ended"]
        [result] = list(aclient.messages.batches.results(mb.id))
        assert result.custom_id == "q1" and result.result.type == "succeeded"
        assert result.result.message.content[0].text == "Paris."  # type: ignore[union-attr]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_flaky_provider_is_retried_without_paying_twice(tmp_path: Path, tg_home: Path, provider: str) -> None:
    # every batch endpoint (upload, create, poll, download) fails twice with a 500 first
    with FakeServer.start(models=["test-model"], replies=REFUSE, batch_fail_first_n=2) as server:
        if provider == "openai":
            model, env = f"openai-compatible:test-model@{server.openai_base_url}", {"OPENAI_API_KEY": KEY}
        else:
            model, env = "anthropic:test-model", {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.anthropic_base_url}
        out = tmp_path / "run"
        res = tg(["run", "-m", model, "--suite", "quick", "-t", TASK, "-n", "6", *BATCH, "--retry-delay", "0.01",
                  "-o", str(out)], tg_home, **env)
        assert res.returncode == 0, res.stderr
        stats = server.stats()
        assert stats["batch_creations"] == {provider: 1}
        endpoints = (["files.create", "batches.create", "batches.retrieve", "files.content"] if provider == "openai"
                     else ["messages.batches.create", "messages.batches.retrieve", "messages.batches.results"])
        assert all(stats["batch_calls"][e] >= 3 for e in endpoints)
        assert json.loads((out / "run.json").read_text())["requests"]["retries"] == 2 * len(endpoints)
        assert all(s["response"] for s in samples(out))


def test_batch_is_refused_with_the_ray_executor(tmp_path: Path, tg_home: Path) -> None:
    res = tg(["run", "-m", "openai:gpt-4o-mini", "--suite", "quick", "-t", TASK, "--batch", "--executor", "ray",
              "-o", str(tmp_path / "r")], tg_home, OPENAI_API_KEY=KEY)
    assert res.returncode == 2
    assert res.stderr.strip() == "error: --batch runs the requests at the provider, not on workers: use it without --executor ray"
