"""A stand-in for the ``vllm`` package, shaped like vLLM 0.33's, so the ``vllm:`` backend's
code runs here, where there is no GPU and no vLLM (issue 19, item 5: "not built blind").

What is copied from vLLM 0.33 (read from its wheel, ``vllm-0.33.0-cp38-abi3``, Apache-2.0):

* the field lists of ``vllm.logprobs.Logprob`` (``logprob, rank=None, decoded_token=None``),
  ``vllm.outputs.CompletionOutput`` (``index, text, token_ids, cumulative_logprob, logprobs,
  routed_experts, finish_reason, stop_reason, lora_request, sampling_mask,
  spec_decode_metrics, weight_versions``), ``vllm.outputs.RequestOutput.__init__`` and
  ``vllm.sampling_params.StructuredOutputsParams``; ``SamplingParams`` accepts exactly the
  field names of vLLM's (:data:`SAMPLING_FIELDS`) and refuses others with a ``TypeError``, as a
  ``msgspec.Struct`` does;
* the rules that make the outputs: a position's logprobs are a ``dict[int, Logprob]`` with the
  sampled (or prompt) token first, at its true rank, then the ``k`` most likely at ranks
  ``1..k`` (``vllm/logprobs.py: append_logprobs_for_next_position``); ``prompt_logprobs``
  starts with ``None`` (``create_prompt_logprobs``); a sequence ended by the end token keeps it
  in ``token_ids`` with ``stop_reason`` ``None`` (``vllm/v1/core/sched/utils.py:
  check_stop``), a stop string ends it with ``stop_reason`` set to the string and the string
  cut from ``text``; ``finish_reason`` is ``"stop"`` or ``"length"``;
* the entry points: ``vllm.LLM(model, **kwargs)``, ``LLM.chat(messages, sampling_params,
  use_tqdm=...)``, ``LLM.generate(prompts, sampling_params, use_tqdm=...)`` (a prompt is a
  string or ``{"prompt_token_ids": [...]}``; one ``SamplingParams`` or one per prompt),
  ``LLM.get_tokenizer()``, ``LLM.model_config`` (``dtype``, ``max_model_len``,
  ``get_diff_sampling_param()``), ``LLM.llm_engine.engine_core.shutdown()`` and
  ``vllm.platforms.current_platform`` (``is_unspecified()``, ``get_device_name()``).

The "model" is a toy: its tokenizer splits words (each with the whitespace before it; BOS 1,
EOS 2), a token's log-probability is :func:`fake_server.fake_logprob`, it answers a chat with
:data:`REPLY` (or :data:`REFUSAL` when the prompt says "bomb"), and it records every call
(:attr:`FakeLLM.calls`, the thread each ran in, whether two calls overlapped).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import sys
import threading
import time
import types
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from fake_server import fake_logprob, fake_tokens

BOS, EOS = 1, 2
REPLY = "Paris is the capital of France."
REFUSAL = "I'm sorry, but I can't help with that."

#: every field of vLLM 0.33's ``SamplingParams`` (``vllm/sampling_params.py``) a caller may set
SAMPLING_FIELDS = frozenset(
    {
        "n", "presence_penalty", "frequency_penalty", "repetition_penalty", "temperature", "watermarking",
        "top_p", "top_k", "min_p", "seed", "stop", "stop_token_ids", "ignore_eos", "max_tokens", "min_tokens",
        "logprobs", "prompt_logprobs", "prompt_logprob_token_ids", "prompt_logprob_start", "logprob_token_ids",
        "flat_logprobs", "detokenize", "skip_special_tokens", "spaces_between_special_tokens",
        "include_stop_str_in_output", "output_kind", "stream_interval", "skip_clone", "structured_outputs",
        "logit_bias", "allowed_token_ids", "extra_args", "bad_words", "skip_reading_prefix_cache",
        "thinking_token_budget", "repetition_detection", "routed_experts_prompt_start", "trace_decode_token_ids",
    }
)


@dataclass
class Logprob:
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: list[dict[int, Logprob]] | None
    routed_experts: Any = None
    finish_reason: str | None = None
    stop_reason: int | str | None = None
    lora_request: Any = None
    sampling_mask: Any = None
    spec_decode_metrics: Any = None
    weight_versions: Any = None


class RequestOutput:
    def __init__(
        self,
        request_id: str,
        prompt: str | None,
        prompt_token_ids: list[int] | None,
        prompt_logprobs: list[dict[int, Logprob] | None] | None,
        outputs: list[CompletionOutput],
        finished: bool,
        metrics: Any = None,
        lora_request: Any = None,
        encoder_prompt: str | None = None,
        encoder_prompt_token_ids: list[int] | None = None,
        num_cached_tokens: int | None = None,
        num_cache_creation_tokens: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.request_id = request_id
        self.prompt = prompt
        self.prompt_token_ids = prompt_token_ids
        self.prompt_logprobs = prompt_logprobs
        self.outputs = outputs
        self.finished = finished
        self.metrics = metrics
        self.num_cached_tokens = num_cached_tokens


@dataclass
class StructuredOutputsParams:
    json: str | dict[str, Any] | None = None
    regex: str | None = None
    choice: list[str] | None = None
    grammar: str | None = None
    json_object: bool | None = None
    disable_any_whitespace: bool = False
    disable_additional_properties: bool = False
    whitespace_pattern: str | None = None
    structural_tag: str | None = None


class SamplingParams:
    """Keeps the fields it was given; an unknown field is a ``TypeError`` (msgspec's)."""

    def __init__(self, **kwargs: Any) -> None:
        unknown = set(kwargs) - SAMPLING_FIELDS
        if unknown:
            raise TypeError(f"Unexpected keyword argument {sorted(unknown)[0]!r}")
        self.fields = dict(kwargs)

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


def token_id(token: str) -> int:
    return 1000 + int(hashlib.sha256(token.encode("utf-8")).hexdigest()[:5], 16)


class ToyTokenizer:
    """Words with their leading whitespace; ``<s>`` = 1, ``</s>`` = 2."""

    bos_token_id = BOS
    eos_token_id = EOS
    chat_template = "{{ toy }}"

    def __init__(self) -> None:
        self.vocab: dict[int, str] = {BOS: "<s>", EOS: "</s>"}

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, list[int]]:
        ids = [BOS] if add_special_tokens else []
        for token in fake_tokens(text):
            self.vocab[token_id(token)] = token
            ids.append(token_id(token))
        return {"input_ids": ids}

    def decode(self, ids: list[int]) -> str:
        return "".join(self.vocab.get(i, "") for i in ids if i not in (BOS, EOS))


def position(token: int, text: str, num: int) -> dict[int, Logprob]:
    """One position as vLLM builds it: the token at its true rank, then the ``num`` most likely
    (``<top>`` at -0.125, then ``<alt1>``...), a token that is one of them listed once."""
    lp = fake_logprob(text)
    rank = 1 if lp >= -1.0 else 2  # the token, or "<top>" (at -0.125) before it
    ranked = [(token, lp, text)] if rank == 1 else [(token_id("<top>"), -0.125, "<top>"), (token, lp, text)]
    ranked += [(token_id(f"<alt{i}>"), lp - 2.0 - i, f"<alt{i}>") for i in range(1, num + 1)]
    entry = {token: Logprob(logprob=lp, rank=rank, decoded_token=text)}
    for r, (tid, value, decoded) in enumerate(ranked[:num], start=1):
        entry[tid] = Logprob(logprob=value, rank=r, decoded_token=decoded)
    return entry


class ModelConfig:
    def __init__(self, dtype: str, max_model_len: int, generation: dict[str, Any]) -> None:
        self.dtype = dtype
        self.max_model_len = max_model_len
        self._generation = generation

    def get_diff_sampling_param(self) -> dict[str, Any]:
        return dict(self._generation)


class FakeLLM:
    #: the generation_config the next FakeLLM reads (as ModelConfig.get_diff_sampling_param)
    generation: ClassVar[dict[str, Any]] = {}
    #: every FakeLLM made, latest last
    made: ClassVar[list[FakeLLM]] = []

    def __init__(self, model: str, **kwargs: Any) -> None:
        self.model = model
        self.kwargs = kwargs
        dtype = str(kwargs.get("dtype", "auto"))
        self.model_config = ModelConfig(
            "torch.bfloat16" if dtype == "auto" else f"torch.{dtype}", int(kwargs.get("max_model_len", 64)),
            dict(type(self).generation),
        )
        self.tokenizer = ToyTokenizer()
        self.calls: list[dict[str, Any]] = []
        self.busy = threading.Lock()
        self.overlapped = False
        self.shut_down = False
        self.llm_engine = types.SimpleNamespace(engine_core=types.SimpleNamespace(shutdown=self._shutdown))
        type(self).made.append(self)

    def _shutdown(self) -> None:
        self.shut_down = True

    def get_tokenizer(self) -> ToyTokenizer:
        return self.tokenizer

    def _enter(self, kind: str, prompts: list[Any], params: Any) -> list[SamplingParams]:
        if not self.busy.acquire(blocking=False):
            self.overlapped = True
            self.busy.acquire()
        per = list(params) if isinstance(params, list | tuple) else [params] * len(prompts)
        assert len(per) == len(prompts), "one SamplingParams per prompt"
        self.calls.append({"kind": kind, "prompts": prompts, "params": per, "thread": threading.get_ident()})
        time.sleep(0.01)  # long enough for a second caller to overlap if nothing stops it
        return per

    def chat(self, messages: list[list[dict[str, str]]], sampling_params: Any = None, use_tqdm: bool = True,
             **kwargs: Any) -> list[RequestOutput]:
        try:
            per = self._enter("chat", messages, sampling_params)
            outputs = []
            for i, (conversation, sp) in enumerate(zip(messages, per, strict=True)):
                prompt = "".join(f"<|{m['role']}|>{m['content']}" for m in conversation) + "<|assistant|>"
                prompt_ids = self.tokenizer(prompt)["input_ids"]
                reply = REFUSAL if "bomb" in conversation[-1]["content"] else REPLY
                outputs.append(self._complete(str(i), prompt, prompt_ids, reply, sp))
            return outputs
        finally:
            self.busy.release()

    def generate(self, prompts: list[Any], sampling_params: Any = None, use_tqdm: bool = True,
                 **kwargs: Any) -> list[RequestOutput]:
        try:
            per = self._enter("generate", prompts, sampling_params)
            outputs = []
            for i, (prompt, sp) in enumerate(zip(prompts, per, strict=True)):
                if isinstance(prompt, dict):
                    ids = list(prompt["prompt_token_ids"])
                    text = None
                else:
                    text, ids = prompt, self.tokenizer(prompt)["input_ids"]
                if len(ids) > self.model_config.max_model_len:
                    raise ValueError(f"The decoder prompt (length {len(ids)}) is longer than the maximum "
                                     f"model length of {self.model_config.max_model_len}.")
                outputs.append(self._complete(str(i), text, ids, REPLY, sp))
            return outputs
        finally:
            self.busy.release()

    def _complete(self, request_id: str, prompt: str | None, prompt_ids: list[int], reply: str,
                  sp: SamplingParams) -> RequestOutput:
        words = fake_tokens(reply)
        max_tokens = int(sp.get("max_tokens", 16))
        stop = sp.get("stop") or []
        text, finish, stop_reason, generated = "", "length", None, []
        for word in words[:max_tokens]:
            generated.append(word)
            text += word
            hit = next((s for s in stop if s in text), None)
            if hit is not None:
                text, finish, stop_reason = text[: text.index(hit)], "stop", hit
                break
        ids = [token_id(w) for w in generated]
        for w in generated:
            self.tokenizer.vocab[token_id(w)] = w
        if finish == "length" and len(generated) == len(words) and len(generated) < max_tokens:
            ids.append(EOS)  # the end token: in token_ids, not in the text
            finish = "stop"
        num = sp.get("logprobs")
        logprobs = None
        if num is not None:
            logprobs = [position(t, self.tokenizer.vocab.get(t, "</s>"), num) for t in ids]
        prompt_logprobs = None
        if sp.get("prompt_logprobs") is not None:
            prompt_logprobs = [None] + [position(t, self.tokenizer.vocab.get(t, ""), sp.get("prompt_logprobs"))
                                        for t in prompt_ids[1:]]
        out = CompletionOutput(index=0, text=text, token_ids=ids, cumulative_logprob=None, logprobs=logprobs,
                               finish_reason=finish, stop_reason=stop_reason)
        return RequestOutput(request_id, prompt, prompt_ids, prompt_logprobs, [out], True)


@dataclass
class Platform:
    unspecified: bool = False
    name: str = "NVIDIA H100 80GB HBM3"

    def is_unspecified(self) -> bool:
        return self.unspecified

    def get_device_name(self, device_id: int = 0) -> str:
        return self.name


def install(monkeypatch: pytest.MonkeyPatch, *, gpu: bool = True, generation: dict[str, Any] | None = None) -> types.ModuleType:
    """Put the fake ``vllm`` (and ``vllm.platforms``, ``vllm.sampling_params``) in
    ``sys.modules`` for one test; ``gpu=False``: a machine vLLM finds no device on."""
    FakeLLM.made = []
    FakeLLM.generation = dict(generation or {})
    vllm = types.ModuleType("vllm")
    vllm.__spec__ = importlib.machinery.ModuleSpec("vllm", None)  # importlib.util.find_spec reads it
    vllm.LLM = FakeLLM  # type: ignore[attr-defined]
    vllm.SamplingParams = SamplingParams  # type: ignore[attr-defined]
    vllm.RequestOutput = RequestOutput  # type: ignore[attr-defined]
    vllm.CompletionOutput = CompletionOutput  # type: ignore[attr-defined]
    platforms = types.ModuleType("vllm.platforms")
    platforms.current_platform = Platform(unspecified=not gpu)  # type: ignore[attr-defined]
    sampling = types.ModuleType("vllm.sampling_params")
    sampling.SamplingParams = SamplingParams  # type: ignore[attr-defined]
    sampling.StructuredOutputsParams = StructuredOutputsParams  # type: ignore[attr-defined]
    vllm.platforms = platforms  # type: ignore[attr-defined]
    vllm.sampling_params = sampling  # type: ignore[attr-defined]
    for name, module in (("vllm", vllm), ("vllm.platforms", platforms), ("vllm.sampling_params", sampling)):
        monkeypatch.setitem(sys.modules, name, module)
    return vllm
