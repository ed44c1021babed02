"""Model capabilities and log-probabilities (issue 13, step 12a), without real models:
the types (cache keys unchanged), the OpenAI-compatible test server's logprobs and vLLM-style
``prompt_logprobs``, backends that cannot give them, and a task whose requirement the model
lacks reported "not scored" through the CLI. Real backends: tests/test_capabilities_real.py."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from fake_server import FakeServer, fake_logprob, fake_rank, fake_tokens
from trustgauge.config import ModelConfig
from trustgauge.errors import CapabilityError
from trustgauge.models.openai_compat import parse_prompt_logprobs
from trustgauge.models.registry import load_model
from trustgauge.types import Capability, GenerationParams, Request, Response, TokenLogprob


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- types: new fields leave old cache keys and stored responses byte-identical ----------------


def test_cache_key_of_a_plain_request_is_unchanged() -> None:
    # recorded on main at e086328, before the logprobs field existed
    request = Request.user("hi")
    assert request.cache_key({"a": "b"}) == (
        "00827be7f1b2e34319b56f1f947cb3018e68f3adf252bf33fef4cd32d1fa5b4f"
    )
    assert "logprobs" not in request.model_dump_json()
    asked = Request.user("hi", GenerationParams(logprobs=0))
    assert asked.model_dump()["params"]["logprobs"] == 0  # 0 (chosen tokens only) is kept
    assert asked.cache_key({"a": "b"}) != request.cache_key({"a": "b"})


def test_response_tokens_omitted_when_unset_and_round_trip() -> None:
    assert Response(text="x").model_dump_json() == (
        '{"text":"x","finish_reason":null,"usage":{"input_tokens":0,"output_tokens":0},"model":null}'
    )
    token = TokenLogprob(token=" Paris", logprob=-0.25, id=7, top=(TokenLogprob(token=" Paris", logprob=-0.25),))
    response = Response(text=" Paris", tokens=(token,))
    assert Response.model_validate_json(response.model_dump_json()) == response


def test_logprobs_limits() -> None:
    with pytest.raises(ValueError):
        GenerationParams(logprobs=21)
    with pytest.raises(ValueError):
        GenerationParams(logprobs=-1)


def test_capability_names_of_task_requirements() -> None:
    assert Capability.parse("text") is Capability.CHAT
    assert Capability.parse("logprobs") is Capability.LOGPROBS
    assert Capability.parse("Logits-Processor") is Capability.LOGITS_PROCESSOR
    assert Capability.parse("open weights") is None


# -- parsing vLLM's prompt_logprobs -------------------------------------------------------------


def test_prompt_logprobs_continuation_found_from_the_end() -> None:
    entries = [
        None,
        {"11": {"logprob": -1.5, "rank": 3, "decoded_token": " capital"}, "5": {"logprob": -0.5, "rank": 1, "decoded_token": " city"}},
        {"12": {"logprob": -0.25, "rank": 1, "decoded_token": " is"}},
        {"13": {"logprob": -0.75, "rank": 1, "decoded_token": " Par"}},
        {"14": {"logprob": -0.5, "rank": 1, "decoded_token": "is"}},
    ]
    # " Paris" = " Par" + "is": -0.75 + -0.5, both most likely
    ll = parse_prompt_logprobs(entries, " Paris")
    assert ll.logprob == -1.25 and ll.greedy is True
    assert [(t.token, t.id) for t in ll.tokens] == [(" Par", 13), ("is", 14)]
    # the prompt token is the entry not ranked first, even when listed second
    whole = parse_prompt_logprobs(entries, " capital is Paris")
    assert whole.logprob == -1.5 - 0.25 - 0.75 - 0.5 and whole.greedy is False
    # a token straddling the boundary (" Par" for "ar" + "is") counts with the continuation
    assert parse_prompt_logprobs(entries, "aris").logprob == -1.25


# -- the OpenAI-compatible test server ----------------------------------------------------------


def _compat(server: FakeServer) -> Any:
    return load_model(ModelConfig(model=f"openai-compatible:test-model@{server.openai_base_url}"))


def test_chat_logprobs_through_the_test_server() -> None:
    with FakeServer.start(models=["test-model"], default_reply="Paris is big") as server:
        model = _compat(server)

        async def go() -> tuple[Response, Response]:
            try:
                plain = (await model.generate([Request.user("capital?")]))[0]
                asked = (await model.generate([Request.user("capital?", GenerationParams(logprobs=2))]))[0]
                return plain, asked
            finally:
                await model.aclose()

        plain, asked = _run(go())
    assert plain.tokens is None
    assert asked.tokens is not None
    assert [t.token for t in asked.tokens] == ["Paris", " is", " big"] == fake_tokens("Paris is big")
    assert [t.logprob for t in asked.tokens] == [fake_logprob(t) for t in ("Paris", " is", " big")]
    first = asked.tokens[0]
    assert [a.token for a in first.top] == ["Paris", "<alt1>"]
    assert first.top[1].logprob == first.logprob - 1.0


def test_loglikelihood_through_vllm_style_prompt_logprobs() -> None:
    context, continuation = "The capital of France is", " Paris, of course"
    cont_tokens = fake_tokens(context + continuation)[-3:]
    assert cont_tokens == [" Paris,", " of", " course"]
    expected = sum(fake_logprob(t) for t in cont_tokens)
    with FakeServer.start(models=["test-model"]) as server:
        model = _compat(server)

        async def go() -> Any:
            try:
                caps = await model.supported()
                return caps, await model.loglikelihood([(context, continuation), ("Hi", " there")])
            finally:
                await model.aclose()

        caps, (ll, short) = _run(go())
        assert server.stats()["by_endpoint"]["completions"] == 3  # one probe, one per pair
    assert Capability.LOGLIKELIHOOD in caps
    assert ll.logprob == expected and ll.logprob % 0.25 == 0
    assert ll.greedy is all(fake_rank(t) == 1 for t in cont_tokens)
    assert [t.token for t in ll.tokens] == cont_tokens
    assert short.logprob == fake_logprob(" there")


def test_server_without_prompt_logprobs_cannot_give_loglikelihood() -> None:
    with FakeServer.start(models=["test-model"], prompt_logprobs=False) as server:
        model = _compat(server)

        async def go() -> Any:
            try:
                caps = await model.supported()
                with pytest.raises(CapabilityError, match="cannot give loglikelihood"):
                    await model.loglikelihood([("a", " b")])
                return caps
            finally:
                await model.aclose()

        caps = _run(go())
    assert Capability.LOGLIKELIHOOD not in caps and Capability.LOGPROBS in caps


def test_openai_itself_never_offers_loglikelihood() -> None:
    model = load_model(ModelConfig(model="openai:gpt-4o-mini", api_key_env="TG_TEST_KEY"))  # no request sent
    assert _run(model.supported()) == frozenset({Capability.CHAT, Capability.LOGPROBS})
    with pytest.raises(CapabilityError):
        _run(model.loglikelihood([("a", "b")]))


@pytest.fixture(autouse=True)
def _fake_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TG_TEST_KEY", "sk-test")


# -- backends that cannot give them -------------------------------------------------------------


@pytest.mark.parametrize("spec", ["scripted:refuse-all", "anthropic:claude-test"])
def test_backends_without_logprobs_refuse_clearly(spec: str) -> None:
    pytest.importorskip("anthropic") if spec.startswith("anthropic") else None
    model = load_model(ModelConfig(model=spec, api_key_env="TG_TEST_KEY"))
    assert model.capabilities == frozenset({Capability.CHAT})
    with pytest.raises(CapabilityError, match="cannot give logprobs"):
        _run(model.generate([Request.user("hi", GenerationParams(logprobs=1))]))
    with pytest.raises(CapabilityError, match="cannot give loglikelihood"):
        _run(model.loglikelihood([("a", "b")]))


def test_top_logprobs_beyond_the_backend_limit_is_refused() -> None:
    model = load_model(ModelConfig(model="openai:gpt-4o-mini", api_key_env="TG_TEST_KEY"))
    model.max_top_logprobs = 5
    with pytest.raises(CapabilityError, match="6 top logprobs"):
        model.refuse_unsupported([Request.user("hi", GenerationParams(logprobs=6))])


# -- a task needing what the model lacks: "not scored", through the CLI -------------------------

_TOY = textwrap.dedent(
    """
    import sys
    from trustgauge.tasks.registry import register_task
    from trustgauge.tasks.trustllm.safety.exaggerated import ExaggeratedSafety

    class NeedsLogprobs(ExaggeratedSafety):
        id = "safety.toy_logprobs"
        title = "toy task that needs token log-probabilities"
        extra = True
        requires = ("text", "logprobs")

    class NeedsLoglikelihood(ExaggeratedSafety):
        id = "safety.toy_loglikelihood"
        title = "toy task that needs the log-likelihood of given text"
        extra = True
        requires = ("text", "loglikelihood")

    register_task(NeedsLogprobs)
    register_task(NeedsLoglikelihood)
    from trustgauge.cli import main
    sys.argv = ["trustgauge", *sys.argv[1:]]
    main()
    """
)


def _tg_with_toys(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _TOY, *args], env=cli_env(home), capture_output=True, text=True,
        timeout=300, stdin=subprocess.DEVNULL,
    )


def _scores(out: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((out / "scores.json").read_text())
    return {t["task"]: t for t in data["tasks"]}


def test_task_needing_logprobs_on_a_model_without_them_is_not_scored(
    tmp_path: Path, tg_home: Path, trustllm_dir: Path
) -> None:
    base = ["run", "-m", "scripted:refuse-all", "--data-dir", str(trustllm_dir), "--limit", "4"]
    plain = _tg_with_toys([*base, "-t", "safety.exaggerated", "-o", str(tmp_path / "a")], tg_home)
    assert plain.returncode == 0, plain.stderr
    res = _tg_with_toys(
        [*base, "-t", "safety.exaggerated,safety.toy_logprobs", "-o", str(tmp_path / "b")], tg_home
    )
    assert res.returncode == plain.returncode == 0, res.stderr
    tasks = _scores(tmp_path / "b")
    assert list(tasks) == ["safety.exaggerated", "safety.toy_logprobs"]  # never dropped
    toy = tasks["safety.toy_logprobs"]
    # every declared metric (the per-group ones exist only when scored, as with _not_scored)
    assert [m["metric"] for m in toy["metrics"]] == ["rta", "compliance_rate"]
    assert toy["n_samples"] == 0 and toy["n_failed"] == 0
    for metric in toy["metrics"]:
        assert metric["value"] is None
        assert metric["reason"] == "not scored: needs log-probabilities (scripted:refuse-all cannot give logprobs)"
    # the other task is untouched, and the toy sent nothing
    assert tasks["safety.exaggerated"] == _scores(tmp_path / "a")["safety.exaggerated"]
    samples = (tmp_path / "b" / "samples.jsonl").read_text().splitlines()
    assert {json.loads(line)["task"] for line in samples} == {"safety.exaggerated"}
    report = (tmp_path / "b" / "report.md").read_text()
    assert "cannot give logprobs" in report


def test_loglikelihood_requirement_is_asked_of_the_server(
    tmp_path: Path, tg_home: Path, trustllm_dir: Path
) -> None:
    """An openai-compatible server is probed once for prompt_logprobs: a vLLM-like server runs
    the task, another gets it reported not scored."""
    task = "safety.toy_loglikelihood"
    results = {}
    for vllm in (True, False):
        with FakeServer.start(models=["test-model"], prompt_logprobs=vllm) as server:
            out = tmp_path / f"run-{vllm}"
            spec = f"openai-compatible:test-model@{server.openai_base_url}"
            res = _tg_with_toys(
                ["run", "-m", spec, "-t", task, "--data-dir", str(trustllm_dir), "--limit", "3",
                 "-o", str(out)], tg_home,
            )
            assert res.returncode == 0, res.stderr
            stats = server.stats()
        results[vllm] = (_scores(out)[task], stats)
    scored, stats = results[True]
    assert scored["metrics"][0]["value"] is not None and scored["n_samples"] == 3
    assert stats["by_endpoint"]["completions"] == 1 and stats["by_endpoint"]["chat.completions"] == 3
    unscored, stats = results[False]
    assert stats["by_endpoint"]["completions"] == 1 and "chat.completions" not in stats["by_endpoint"]
    for metric in unscored["metrics"]:
        assert metric["value"] is None
        assert metric["reason"].startswith("not scored: needs log-likelihoods (openai-compatible:test-model@http://127.0.0.1:")
        assert metric["reason"].endswith(" cannot give loglikelihood)")
