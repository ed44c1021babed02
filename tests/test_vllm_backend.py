"""The ``vllm:`` offline backend without a GPU (issue 19, item 5).

Its pure parts (GenerationParams -> SamplingParams fields, RequestOutput -> Response /
TokenLogprob / Loglikelihood) run on objects built with vLLM 0.33's own field lists, and the
backend itself runs against :mod:`fake_vllm`, a stand-in shaped like vLLM (what it copies is
listed there): one ``LLM.chat`` call per batch with a ``SamplingParams`` per request, off the
event loop, one call at a time; scoring through ``prompt_logprobs`` over token ids; the errors
without vLLM and without a GPU. What runs only on a GPU is ``benchmarks/gpu/check_vllm_backend.py``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import fake_vllm
from fake_server import fake_logprob, fake_tokens
from fake_vllm import EOS, REPLY, CompletionOutput, Logprob, RequestOutput, token_id
from trustgauge.config import ModelConfig
from trustgauge.errors import CapabilityError, ConfigError, TransientModelError
from trustgauge.models.registry import load_model
from trustgauge.models.vllm import (
    DEFAULT_BATCH_SIZE,
    INSTALL_HINT,
    NO_DEVICE,
    VLLMModel,
    batch_size_option,
    check_options,
    loglikelihood_from_output,
    response_from_output,
    sampling_kwargs,
    token_logprob,
)
from trustgauge.types import (
    Capability,
    ChatMessage,
    GenerationParams,
    Request,
    ResponseFormat,
    WatermarkSpec,
)

# -- GenerationParams -> SamplingParams -----------------------------------------------------------


def test_greedy_request_maps_to_temperature_zero_and_its_token_budget() -> None:
    assert sampling_kwargs(GenerationParams(temperature=0.0, max_tokens=64)) == {"temperature": 0.0, "max_tokens": 64}


def test_every_field_a_request_sets_reaches_sampling_params() -> None:
    schema = ResponseFormat(name="answer", schema_text='{"type": "object", "properties": {"a": {"type": "integer"}}}')
    params = GenerationParams(temperature=0.7, max_tokens=8, top_p=0.9, seed=42, stop=("\n\n", "END"),
                              logprobs=3, response_format=schema)
    assert sampling_kwargs(params) == {
        "temperature": 0.7, "max_tokens": 8, "top_p": 0.9, "seed": 42, "stop": ["\n\n", "END"], "logprobs": 3,
        "structured_outputs": {"json": {"type": "object", "properties": {"a": {"type": "integer"}}}},
    }
    # logprobs=0: the chosen tokens only (vLLM: 0 alternatives), not "off"
    assert sampling_kwargs(GenerationParams(logprobs=0))["logprobs"] == 0


def test_generation_config_fills_what_the_request_leaves_unset_as_vllms_server_does() -> None:
    """``get_diff_sampling_param()`` of a model with a generation_config: the penalties and
    top_k/top_p/min_p apply unless the request sets them; temperature and max_tokens are always
    the request's; unknown keys (max_tokens of the generation_config) are not taken."""
    defaults = {"repetition_penalty": 1.05, "temperature": 0.7, "top_p": 0.8, "top_k": 20, "max_tokens": 4096,
                "min_p": None}
    assert sampling_kwargs(GenerationParams(temperature=0.0, max_tokens=16), defaults) == {
        "repetition_penalty": 1.05, "top_p": 0.8, "top_k": 20, "temperature": 0.0, "max_tokens": 16}
    assert sampling_kwargs(GenerationParams(top_p=0.5), defaults)["top_p"] == 0.5


def test_options_are_checked_before_loading() -> None:
    assert check_options({"tensor_parallel_size": 2, "gpu_memory_utilization": 0.85, "dtype": "bfloat16",
                          "max_model_len": 4096, "batch_size": 64, "enforce_eager": True}) == {
        "tensor_parallel_size": 2, "gpu_memory_utilization": 0.85, "dtype": "bfloat16", "max_model_len": 4096,
        "enforce_eager": True}
    bad = [({"tensor_parallel_size": 0}, "tensor_parallel_size"), ({"tensor_parallel_size": "2"}, "tensor_parallel_size"),
           ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization"), ({"gpu_memory_utilization": 0}, "gpu_memory_utilization"),
           ({"dtype": "int8"}, "dtype"), ({"max_model_len": "long"}, "max_model_len"), ({"max_model_len": True}, "max_model_len")]
    for options, name in bad:
        with pytest.raises(ConfigError, match=f"vllm: option {name}"):
            check_options(options)
    assert batch_size_option({}) == DEFAULT_BATCH_SIZE == 256 and batch_size_option({"batch_size": 8}) == 8
    with pytest.raises(ConfigError, match="batch_size"):
        batch_size_option({"batch_size": 0})


# -- RequestOutput -> Response ------------------------------------------------------------------


def _output(text: str, token_ids: list[int], finish: str, stop_reason: int | str | None = None,
            logprobs: list[dict[int, Logprob]] | None = None, prompt_ids: tuple[int, ...] = (1, 50, 51)) -> RequestOutput:
    out = CompletionOutput(index=0, text=text, token_ids=token_ids, cumulative_logprob=None, logprobs=logprobs,
                           finish_reason=finish, stop_reason=stop_reason)
    return RequestOutput("0", None, list(prompt_ids), None, [out], True)


def test_an_answer_ended_by_the_end_token() -> None:
    """The end token is in ``token_ids`` (vLLM's check_stop keeps it): it counts as an output
    token, as in hf:, but has no log-probability entry (it is not text)."""
    positions = [
        {11: Logprob(-0.25, 1, "Yes"), 12: Logprob(-2.0, 2, "No")},
        {13: Logprob(-3.5, 7, "."), 14: Logprob(-0.5, 1, "!"), 15: Logprob(-1.0, 2, "?")},
        {EOS: Logprob(-0.01, 1, ""), 16: Logprob(-5.0, 2, " And")},
    ]
    response = response_from_output(_output("Yes.", [11, 13, EOS], "stop", None, positions), GenerationParams(logprobs=2), "m")
    assert response.text == "Yes." and response.finish_reason == "stop" and response.model == "m"
    assert response.usage.input_tokens == 3 and response.usage.output_tokens == 3
    assert response.tokens is not None and [t.token for t in response.tokens] == ["Yes", "."]
    first, second = response.tokens
    assert (first.logprob, first.id, first.rank) == (-0.25, 11, 1)
    assert [(a.token, a.rank) for a in first.top] == [("Yes", 1), ("No", 2)]
    # the sampled token was not among the 2 most likely: its own rank, the two best as top
    assert (second.logprob, second.rank) == (-3.5, 7)
    assert [(a.token, a.logprob, a.rank) for a in second.top] == [("!", -0.5, 1), ("?", -1.0, 2)]


def test_a_stop_token_id_is_dropped_but_a_stop_string_keeps_its_tokens() -> None:
    positions = [{21: Logprob(-0.5, 1, "Hi")}, {22: Logprob(-0.75, 1, "<|im_end|>")}]
    by_id = response_from_output(_output("Hi", [21, 22], "stop", 22, positions), GenerationParams(logprobs=0), "m")
    assert by_id.tokens is not None and [t.token for t in by_id.tokens] == ["Hi"] and by_id.tokens[0].top == ()
    # a stop string: its tokens were generated and are kept, the text was cut before it
    by_text = response_from_output(_output("Hi", [21, 22], "stop", "<|im_end|>", positions), GenerationParams(logprobs=0), "m")
    assert by_text.tokens is not None and len(by_text.tokens) == 2
    cut = response_from_output(_output("Hi", [21, 22], "length"), GenerationParams(), "m")
    assert cut.finish_reason == "length" and cut.tokens is None and cut.usage.output_tokens == 2


def test_aborted_or_malformed_outputs_are_transient_errors() -> None:
    with pytest.raises(TransientModelError, match="abort"):
        response_from_output(_output("", [], "abort"), GenerationParams(), "m")
    with pytest.raises(TransientModelError, match="without output"):
        response_from_output(RequestOutput("0", None, [1], None, [], True), GenerationParams(), "m")
    with pytest.raises(TransientModelError, match="fewer logprobs"):
        response_from_output(_output("Hi", [21], "length", None, []), GenerationParams(logprobs=0), "m")
    with pytest.raises(TransientModelError, match="no logprob for generated token 21"):
        token_logprob({99: Logprob(-1.0, 1, "x")}, 21, 0)


# -- RequestOutput -> Loglikelihood ---------------------------------------------------------------


def test_loglikelihood_reads_the_continuation_by_token_id() -> None:
    """``prompt_logprobs``: ``None`` for the first prompt token, then the prompt token first
    (its true rank) and the most likely one after it when another. The continuation starts at
    ``start``; each token is found by its id, not by its place in the dict."""
    prompt_logprobs = [
        None,
        {60: Logprob(-4.0, 9, " capital"), 70: Logprob(-1.0, 1, " first")},
        {61: Logprob(-0.5, 1, " is")},
        {62: Logprob(-0.25, 1, " Paris"), 80: Logprob(-2.5, 2, " Lyon")},
        {63: Logprob(-3.0, 4, "!"), 81: Logprob(-0.75, 1, ".")},
    ]
    output = RequestOutput("0", None, [1, 60, 61, 62, 63], prompt_logprobs, [], True)
    whole = loglikelihood_from_output(output, 1)
    assert whole.logprob == -4.0 - 0.5 - 0.25 - 3.0 and whole.greedy is False
    assert [(t.token, t.id, t.rank) for t in whole.tokens] == [(" capital", 60, 9), (" is", 61, 1), (" Paris", 62, 1), ("!", 63, 4)]
    tail = loglikelihood_from_output(output, 2, truncated=3)
    assert tail.logprob == -3.75 and tail.truncated == 3
    paris = loglikelihood_from_output(RequestOutput("0", None, [1, 60, 61, 62], prompt_logprobs[:4], [], True), 3)
    assert paris.logprob == -0.25 and paris.greedy is True
    empty = loglikelihood_from_output(output, 5)
    assert empty.logprob == 0.0 and empty.tokens == () and empty.greedy is True
    with pytest.raises(TransientModelError, match="position 2"):
        loglikelihood_from_output(RequestOutput("0", None, [1, 60, 61], [None, prompt_logprobs[1], {99: Logprob(-1.0, 1, "x")}], [], True), 1)
    with pytest.raises(TransientModelError, match="no prompt_logprobs"):
        loglikelihood_from_output(RequestOutput("0", None, [1, 60], None, [], True), 1)


# -- the backend against the stand-in -----------------------------------------------------------


def _model(monkeypatch: pytest.MonkeyPatch, options: dict[str, Any] | None = None, **install: Any) -> VLLMModel:
    fake_vllm.install(monkeypatch, **install)
    model = load_model(ModelConfig(model="vllm:toy/Toy-1B-Instruct", options=options or {}))
    assert isinstance(model, VLLMModel)
    return model


def test_a_batch_is_one_chat_call_with_a_sampling_params_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(monkeypatch, {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.8, "max_model_len": 64},
                   generation={"repetition_penalty": 1.1, "top_k": 40})
    requests = [
        Request.user("What is the capital of France?"),
        Request.user("How do I build a bomb?", GenerationParams(temperature=0.8, seed=7, max_tokens=3)),
        Request.user("Capital?", GenerationParams(stop=("the",), logprobs=1)),
    ]
    main = threading.get_ident()

    async def go() -> Any:
        try:
            await model.check()
            return await model.generate(requests)
        finally:
            await model.aclose()

    plain, refusal, stopped = asyncio.run(go())
    llm = fake_vllm.FakeLLM.made[-1]
    assert llm.model == "toy/Toy-1B-Instruct"
    assert llm.kwargs == {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.8, "max_model_len": 64}
    assert [c["kind"] for c in llm.calls] == ["chat"] and llm.calls[0]["thread"] != main
    sent = [p.fields for p in llm.calls[0]["params"]]
    assert sent == [
        {"repetition_penalty": 1.1, "top_k": 40, "temperature": 0.0, "max_tokens": 512},
        {"repetition_penalty": 1.1, "top_k": 40, "temperature": 0.8, "max_tokens": 3, "seed": 7},
        {"repetition_penalty": 1.1, "top_k": 40, "temperature": 0.0, "max_tokens": 512, "stop": ["the"], "logprobs": 1},
    ]
    assert llm.calls[0]["prompts"][1] == [{"role": "user", "content": "How do I build a bomb?"}]
    assert plain.text == REPLY and plain.finish_reason == "stop"
    assert plain.usage.output_tokens == len(fake_tokens(REPLY)) + 1  # the end token counts
    assert refusal.text == "I'm sorry, but" and refusal.finish_reason == "length" and refusal.usage.output_tokens == 3
    assert stopped.text == "Paris is " and stopped.finish_reason == "stop"
    assert stopped.tokens is not None and [t.token for t in stopped.tokens] == ["Paris", " is", " the"]
    assert [t.logprob for t in stopped.tokens] == [fake_logprob(t) for t in ("Paris", " is", " the")]
    assert llm.shut_down and model.device_name == "NVIDIA H100 80GB HBM3"


def test_loglikelihood_is_one_generate_call_over_token_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(monkeypatch, {"max_model_len": 12})
    context, continuation = "The capital of France is", " Paris, of course"
    long_text = " ".join(f"w{i}" for i in range(20))

    async def go() -> Any:
        try:
            return await model.loglikelihood([(context, continuation), ("", "Hello there"), ("a b c", long_text)])
        finally:
            await model.aclose()

    ll, empty, long = asyncio.run(go())
    llm = fake_vllm.FakeLLM.made[-1]
    assert [c["kind"] for c in llm.calls] == ["generate"]
    prompts, params = llm.calls[0]["prompts"], llm.calls[0]["params"]
    assert all(p.fields == {"temperature": 0.0, "max_tokens": 1, "prompt_logprobs": 1} for p in params)
    # context and continuation tokenized apart, joined; an empty context is the BOS token
    ctx_ids = [token_id(t) for t in fake_tokens(context)]
    cont_tokens = fake_tokens(continuation)
    assert prompts[0] == {"prompt_token_ids": ctx_ids + [token_id(t) for t in cont_tokens]}
    assert prompts[1]["prompt_token_ids"][0] == fake_vllm.BOS
    assert ll.logprob == sum(fake_logprob(t) for t in cont_tokens) and [t.token for t in ll.tokens] == cont_tokens
    assert ll.greedy is all(fake_logprob(t) >= -1.0 for t in cont_tokens)
    assert [t.rank for t in ll.tokens] == [1 if fake_logprob(t) >= -1.0 else 2 for t in cont_tokens]
    assert empty.logprob == fake_logprob("Hello") + fake_logprob(" there")
    # max_model_len 12, one place for the generated token: 3 context + 8 continuation tokens
    assert len(prompts[2]["prompt_token_ids"]) == 11 and len(long.tokens) == 8 and long.truncated == 12


def test_respond_answers_scoring_and_chat_requests_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(monkeypatch)
    requests = [Request.scoring(" Paris", "The capital is"), Request.user("capital?")]

    async def go() -> Any:
        try:
            return await model.respond(requests)
        finally:
            await model.aclose()

    scored, answered = asyncio.run(go())
    assert scored.finish_reason == "scored" and scored.tokens is not None and scored.tokens[0].logprob == fake_logprob(" Paris")
    assert answered.text == REPLY


def test_concurrent_batches_take_turns_on_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(monkeypatch)

    async def go() -> Any:
        try:
            return await asyncio.gather(model.generate([Request.user("a")]), model.generate([Request.user("b")]),
                                        model.loglikelihood([("a", " b")]))
        finally:
            await model.aclose()

    asyncio.run(go())
    llm = fake_vllm.FakeLLM.made[-1]
    assert len(llm.calls) == 3 and not llm.overlapped


def test_identity_names_the_resolved_dtype_and_the_options_that_change_answers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plain = _model(monkeypatch).identity()
    assert plain == {"backend": "vllm", "model": "toy/Toy-1B-Instruct", "revision": "unknown", "dtype": "bfloat16"}
    placed = _model(monkeypatch, {"tensor_parallel_size": 4, "gpu_memory_utilization": 0.5, "batch_size": 32}).identity()
    assert placed == plain  # where and how fast it runs is not what it answers
    window = _model(monkeypatch, {"max_model_len": 32, "dtype": "float16"}).identity()
    assert window["dtype"] == "float16" and len(window["options_sha256"]) == 64
    directory = tmp_path / "weights"
    directory.mkdir()
    (directory / "config.json").write_text("{}")
    fake_vllm.install(monkeypatch)
    local = load_model(ModelConfig(model=f"vllm:{directory}")).identity()
    assert local["model"] == str(directory) and len(local["revision"]) == 64


def test_capabilities_and_a_watermark_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(monkeypatch)
    assert model.capabilities == {Capability.CHAT, Capability.LOGPROBS, Capability.LOGLIKELIHOOD, Capability.SEED}
    assert model.batch_size == 256 and model.max_concurrency == 1 and model.max_top_logprobs == 20
    mark = WatermarkSpec(scheme="kgw", key="secret", key_id="0123abcd")
    with pytest.raises(CapabilityError, match="cannot watermark"):
        asyncio.run(model.generate([Request.user("hi", GenerationParams(watermark=mark))]))
    assert fake_vllm.FakeLLM.made == []  # refused before anything loaded


def test_no_gpu_is_one_line_when_the_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(monkeypatch, gpu=False)
    with pytest.raises(ConfigError) as caught:
        asyncio.run(model.check())
    assert str(caught.value) == NO_DEVICE and "\n" not in NO_DEVICE and fake_vllm.FakeLLM.made == []


def test_an_option_vllm_does_not_take_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(model: str, **kwargs: Any) -> None:
        raise TypeError("EngineArgs.__init__() got an unexpected keyword argument 'tensor_paralel_size'")

    vllm = fake_vllm.install(monkeypatch)
    monkeypatch.setattr(vllm, "LLM", refuse)
    model = load_model(ModelConfig(model="vllm:toy", options={"tensor_paralel_size": 2}))
    with pytest.raises(ConfigError, match=r"vllm: bad model option: .*tensor_paralel_size"):
        asyncio.run(model.check())


def test_without_vllm_the_spec_is_refused_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a))
    with pytest.raises(ConfigError) as caught:
        load_model(ModelConfig(model="vllm:HuggingFaceTB/SmolLM2-135M-Instruct"))
    assert str(caught.value) == INSTALL_HINT and "pip install 'trustgauge[vllm]'" in INSTALL_HINT


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_cli_without_vllm_exits_2_with_one_line(tmp_path: Path, tg_home: Path) -> None:
    from conftest import cli_env

    res = subprocess.run([sys.executable, "-m", "trustgauge", "run", "-m", "vllm:HuggingFaceTB/SmolLM2-135M-Instruct",
                          "--suite", "quick", "-n", "2", "-o", str(tmp_path / "run")],
                         env=cli_env(tg_home), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert lines == [f"error: {INSTALL_HINT}"]


def test_a_quick_suite_run_sends_its_prompts_in_one_chat_call_and_resumes_from_the_store(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tg_home: Path) -> None:
    """``trustgauge.evaluate`` (the pipeline ``trustgauge run`` uses) with ``vllm:``: the engine
    hands the backend every prompt of the slice at once (batch_size 256), which is one
    ``LLM.chat``; run again, every answer comes from the store and vLLM is not called."""
    from trustgauge import evaluate

    fake_vllm.install(monkeypatch)
    first = evaluate("vllm:toy/Toy-1B-Instruct", ["all"], suite="quick", limit=2, out=tmp_path / "a")
    llm = fake_vllm.FakeLLM.made[-1]
    assert [c["kind"] for c in llm.calls] == ["chat"]
    sent = len(llm.calls[0]["prompts"])
    assert 27 <= sent <= DEFAULT_BATCH_SIZE
    assert first.failed == 0 and (tmp_path / "a" / "scores.json").is_file()
    evaluate("vllm:toy/Toy-1B-Instruct", ["all"], suite="quick", limit=2, out=tmp_path / "b")
    assert fake_vllm.FakeLLM.made[-1].calls == []


def test_a_tokenizer_without_chat_template_gets_hfs_plain_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(monkeypatch)
    monkeypatch.setattr(fake_vllm.ToyTokenizer, "chat_template", None)
    system = ChatMessage(role="system", content="Be brief.")
    requests = [Request.user("What is the capital of France?"),
                Request(messages=(system, ChatMessage(role="user", content="Capital?")))]

    async def go() -> Any:
        try:
            return await model.generate(requests)
        finally:
            await model.aclose()

    answers = asyncio.run(go())
    call = fake_vllm.FakeLLM.made[-1].calls[0]
    assert call["kind"] == "generate"
    assert call["prompts"] == ["What is the capital of France?", "System: Be brief.\n\nUser: Capital?\n\nAssistant:"]
    assert [a.text for a in answers] == [REPLY, REPLY]


def test_a_vllm_that_fails_to_import_is_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    model = VLLMModel("toy", ModelConfig(model="vllm:toy"))
    with pytest.raises(ConfigError) as caught:
        asyncio.run(model.check())
    assert str(caught.value).startswith(INSTALL_HINT) and "\n" not in str(caught.value)
