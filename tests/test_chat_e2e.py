"""Tasks that talk back, end to end (architecture step 12b): a toy three-turn probe and a toy
attacker loop (tests/chat_toy.py, registered by the test, never shipped) run through the CLI in
a subprocess against the OpenAI-compatible test server, killed with SIGKILL mid-run while
later turns hang, and run again: the server's log shows no call answered twice and no stored
call asked again, and the results equal those of an uninterrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import chat_toy
from conftest import REPO, cli_env
from fake_server import FakeServer
from store_probe import stored_responses

pytestmark = pytest.mark.slow

TOY = str(REPO / "tests" / "chat_toy.py")


def _env(home: Path) -> dict[str, str]:
    env = cli_env(home)
    env["PYTHONPATH"] = f"{REPO / 'src'}:{REPO / 'tests'}"
    return env


def _args(server: Any, task: str, data: Path, out: Path, concurrency: int) -> list[str]:
    base = server.openai_base_url
    args = ["run", "-m", f"openai-compatible:test-model@{base}", "-t", task, "--data-dir", str(data),
            "-o", str(out), "-c", str(concurrency), "--max-retries", "0"]
    if task == "toy.attack":
        args += ["--role", f"attacker=openai-compatible:attacker-model@{base}"]
    return args


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, TOY, *args], env=_env(home), capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def _stored(home: Path) -> int:
    return stored_responses(home)


def _samples(out: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    for row in rows:  # whether a call was replayed is the only thing a resumed run may differ in
        row.pop("cached")
        for turn in row["turns"]:
            turn.pop("cached")
    return rows


def _scores(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "scores.json").read_text()))


def _words(text: str) -> int:
    return len(text.split())


# task -> (concurrency, the substring that makes a call hang, calls of a whole run, calls
# hanging at the kill: the concurrency of the role whose calls hang)
CASES = {
    # 6 samples x 3 turns; every third turn hangs; all 4 slots end up holding a third turn
    "toy.probe": (4, "(turn 3)", 18, 4),
    # alpha stops in round 2, beta in 3, gamma and delta after 4 rounds: 13 attacker and 13
    # target calls; round 3's attacker calls hang, 2 at a time (beta, gamma, delta want it)
    "toy.attack": (2, "Round 3.", 26, 2),
}


@pytest.mark.parametrize("task", list(CASES))
def test_killed_conversations_resume_without_repeating_a_call(task: str, tmp_path: Path) -> None:
    concurrency, slow_marker, calls, hung = CASES[task]
    data = chat_toy.write_data(tmp_path / "data")
    with FakeServer.start(models=["test-model", "attacker-model"], replies=chat_toy.ATTACK_REPLIES) as server:
        # the reference: one uninterrupted run (its own store)
        whole_home, whole_out = tmp_path / "home-whole", tmp_path / "whole" / "run"
        res = _run(_args(server, task, data, whole_out, concurrency), whole_home)
        assert res.returncode == 0, res.stderr
        whole = dict(server.stats()["conversation_requests"])
        assert len(whole) == calls and set(whole.values()) == {1}
        assert _stored(whole_home) == calls

        # the same run, killed while later turns hang at the server
        server.reset()
        server.configure(slow=[[slow_marker, 120]])
        home, out = tmp_path / "home", tmp_path / "resumed" / "run"
        args = _args(server, task, data, out, concurrency)
        proc = subprocess.Popen([sys.executable, TOY, *args], env=_env(home), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            steady = 0
            while steady < 5 and time.monotonic() < deadline:  # every slot hangs: nothing moves
                time.sleep(0.1)
                steady = steady + 1 if server.stats()["in_flight"] == hung else 0
            assert steady == 5, server.stats()
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        stored = _stored(home)
        assert 0 < stored < calls, stored
        at_kill = server.stats()
        answered = dict(at_kill["conversation_successes"])
        assert len(answered) == stored and set(answered.values()) == {1}
        asked_at_kill = dict(at_kill["conversation_requests"])
        assert sum(asked_at_kill.values()) == stored + hung

        server.configure(slow=[])
        res = _run(args, home)
        assert res.returncode == 0, res.stderr
        after = server.stats()
        asked, done = after["conversation_requests"], after["conversation_successes"]
        # every call was answered exactly once over the two runs ...
        assert set(done) == set(whole) and set(done.values()) == {1}
        # ... no call answered before the kill was asked again, and only the calls hanging at
        # the kill (never answered, never stored) were asked twice
        assert all(asked[key] == 1 for key in answered)
        assert sorted(asked.values()).count(2) == hung
        assert set(asked) == set(whole)
        sent_again = sum(asked.values()) - sum(asked_at_kill.values())
        assert sent_again == calls - stored

        # the same results as the uninterrupted run
        assert _samples(out) == _samples(whole_out)
        assert _scores(out) == _scores(whole_out)
        run = json.loads((out / "run.json").read_text())
        roles = run["roles"]
        assert sum(r["requests"]["sent"] for r in roles.values()) == calls - stored
        assert sum(r["requests"]["cached"] for r in roles.values()) == stored


def test_attacker_loop_stops_adaptively_and_counts_tokens_per_role(tmp_path: Path) -> None:
    data = chat_toy.write_data(tmp_path / "data")
    with FakeServer.start(models=["test-model", "attacker-model"], replies=chat_toy.ATTACK_REPLIES) as server:
        out = tmp_path / "run"
        res = _run(_args(server, "toy.attack", data, out, 2), tmp_path / "home")
        assert res.returncode == 0, res.stderr
    rows = {r["sample_id"]: r for r in _samples(out)}
    rounds = {goal: len(r["turns"]) // 2 for goal, r in rows.items()}
    assert rounds == {"alpha": 2, "beta": 3, "gamma": 4, "delta": 4}
    assert {g: r["label"] for g, r in rows.items()} == {"alpha": "broken", "beta": "broken", "gamma": "held",
                                                        "delta": "held"}
    assert rows["alpha"]["response"] == f"Fine: {chat_toy.MARKER} granted."
    assert [t["role"] for t in rows["beta"]["turns"]] == ["attacker", "target"] * 3
    metrics = {m["metric"]: m["value"] for m in _scores(out)["tasks"][0]["metrics"]}
    assert metrics == {"attack_success": 0.5, "rounds": pytest.approx(13 / 4)}

    run = json.loads((out / "run.json").read_text())
    roles = run["roles"]
    assert roles["attacker"]["model_identity"]["model"] == "attacker-model"
    assert roles["target"]["requests"]["sent"] == roles["attacker"]["requests"]["sent"] == 13
    turns = [t for r in rows.values() for t in r["turns"]]
    attacker = [t for t in turns if t["role"] == "attacker"]
    target = [t for t in turns if t["role"] == "target"]
    # the fake server counts words: an attacker call is one message (its prompt)
    assert roles["attacker"]["usage"] == {
        "input_tokens": sum(_words(t["prompt"]) for t in attacker),
        "output_tokens": sum(_words(t["response"]) for t in attacker),
    }
    assert roles["target"]["usage"]["output_tokens"] == sum(_words(t["response"]) for t in target)
    # a target call carries the whole history: the k-th call of a conversation holds the
    # prompts of calls 1..k and the answers of calls 1..k-1
    expected_in = 0
    for r in rows.values():
        history = 0
        for t in (t for t in r["turns"] if t["role"] == "target"):
            history += _words(t["prompt"])
            expected_in += history
            history += _words(t["response"])
    assert roles["target"]["usage"]["input_tokens"] == expected_in
    assert run["usage"] == roles["target"]["usage"]  # the top-level usage stays the target's
    assert f"role attacker: 13 sent, 0 cached · tokens in/out {roles['attacker']['usage']['input_tokens']}/" in res.stdout
    # the summary says which count is which: samples (a conversation once) and the target's calls
    req = run["requests"]
    assert req["unique"] != req["total"]
    assert (f"requests: {req['total']}, a conversation counted once ({req['failed']} failed) · target calls: "
            f"{req['unique']} ({req['cached']} cached, {req['sent']} sent, {req['retries']} retries)") in res.stdout


def test_a_task_whose_role_is_missing_is_refused_before_any_call(tmp_path: Path) -> None:
    data = chat_toy.write_data(tmp_path / "data")
    with FakeServer.start(models=["test-model"]) as server:
        args = _args(server, "toy.attack", data, tmp_path / "run", 2)
        res = _run(args[: args.index("--role")], tmp_path / "home")
        assert res.returncode == 2
        assert "toy.attack talks to a model in role attacker: pass --role attacker=SPEC" in res.stderr
        assert server.stats()["requests"] == 0
        # a malformed --role never echoes its value (a spec's URL may carry a password)
        res = _run([*args[: args.index("--role")], "--role", "http://user:hunter2@host"], tmp_path / "home")
        assert res.returncode == 2 and "hunter2" not in res.stderr + res.stdout
