"""Local models through vLLM's offline engine: ``vllm:<repo-or-path>`` (issue 19, item 5).

One ``vllm.LLM`` per model, loaded in this process on this machine's GPUs (or with vLLM's CPU
build). The engine hands the backend up to ``batch_size`` requests at a time (default
:data:`DEFAULT_BATCH_SIZE`: vLLM schedules them itself, continuous batching over its KV cache)
and the backend answers them with **one** ``LLM.chat`` call, a ``SamplingParams`` per request
(vLLM's ``LLM.generate``/``LLM.chat`` take a list of prompts and an equally long list of
parameters: ``vllm/entrypoints/llm.py``), run in a worker thread so the event loop stays free;
one call at a time (a lock), as ``LLM`` is not made for concurrent callers. Scoring requests
(log-likelihoods) are one ``LLM.generate`` call over token ids with ``prompt_logprobs``.

When to use it rather than ``openai-compatible:`` against ``vllm serve``: docs/vllm.md (one
GPU machine and one model: offline saves the server; a cluster, several runs or models sharing
GPUs: the server).

Model options (``ModelConfig.options``, e.g. from ``--model-config``): every option but
``batch_size`` is passed to ``vllm.LLM(model=NAME, **options)`` (``vllm/entrypoints/llm.py``,
``LLM.__init__`` and ``EngineArgs``); those checked here before loading are
``tensor_parallel_size`` (GPUs per model), ``gpu_memory_utilization`` (share of each GPU's
memory vLLM takes, 0-1], ``dtype`` and ``max_model_len`` (context window, tokens). Options that
change answers (``dtype``, ``quantization``, ``revision``, ``max_model_len``, ...) are part of
the model's identity (its cache key); those that only place or speed it up
(:data:`RESOURCE_OPTIONS`) are not.

What it does, in vLLM's own terms (vLLM 0.33 source, ``vllm/sampling_params.py``,
``vllm/outputs.py``, ``vllm/logprobs.py``):

* **Sampling**: :func:`sampling_kwargs` maps :class:`~trustgauge.types.GenerationParams` to
  ``SamplingParams`` fields (``temperature`` 0 = greedy, ``top_p``, ``max_tokens``, ``seed``
  per request, ``stop``, ``logprobs``, and ``structured_outputs`` for a JSON schema). Fields a
  request leaves unset start from the model's ``generation_config`` as vLLM's OpenAI server
  does (``ModelConfig.get_diff_sampling_param``; the server's
  ``ChatCompletionRequest._DEFAULT_SAMPLING_PARAMS``), so ``vllm:`` and ``openai-compatible:``
  against ``vllm serve`` of the same model send the engine the same parameters.
* **Answers**: :func:`response_from_output` reads a ``RequestOutput`` (``prompt_token_ids``,
  ``outputs[0]``: a ``CompletionOutput`` with ``text``, ``token_ids``, ``logprobs``,
  ``finish_reason``, ``stop_reason``). vLLM keeps the end token in ``token_ids``
  (``vllm/v1/core/sched/utils.py: check_stop``): it counts as an output token, as in ``hf:``,
  but gets no log-probability entry (it is not text; OpenAI's logprobs and ``hf:`` leave it out).
* **Log-probabilities**: each generated position is a ``dict[int, Logprob]`` holding the sampled
  token (its true rank) and the ``logprobs`` most likely (ranks 1..k;
  ``append_logprobs_for_next_position``), from the model's raw logits (vLLM's default
  ``logprobs_mode``), like ``hf:``'s. At most 20 alternatives (vLLM's ``max_logprobs``).
* **Log-likelihood of given text**: context and continuation are tokenized apart with the
  model's tokenizer (:func:`trustgauge.models._local.scoring_ids`, the same as ``hf:``, as
  lm-evaluation-harness's vLLM backend does), joined and sent as token ids with
  ``prompt_logprobs=1``, one token generated and ignored; the continuation's entries are looked
  up by their token ids (:func:`loglikelihood_from_output`), so no text matching is needed. Each
  token has vLLM's rank (log-rank detection) but no next-token distribution (vLLM gives the top
  tokens only): Min-K%++, Fast-DetectGPT and Binoculars need ``hf:``. A pair longer than the
  context window is cut as ``hf:`` cuts it, to ``max_model_len - 1`` tokens (one is generated).
* **Not here**: watermarks (a logits processor inside vLLM's sampler: use ``hf:``); the engine
  refuses those requests with one line.

``import vllm`` happens only when the model loads (``check``), so trustgauge without vLLM never
imports it; without vLLM the spec is refused at once with the install command, and a machine
with neither a GPU nor vLLM's CPU build is refused with one line when it loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import importlib.util
import json
import math
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError, PermanentModelError, TransientModelError
from trustgauge.models._local import directory_fingerprint, fit_window, plain_prompt, scoring_ids
from trustgauge.models.base import Model
from trustgauge.models.registry import register_backend
from trustgauge.types import (
    Capability,
    GenerationParams,
    Loglikelihood,
    Request,
    Response,
    TokenLogprob,
    Usage,
)

INSTALL_HINT = "vllm: backend needs vLLM (on a GPU machine): pip install 'trustgauge[vllm]' (docs/vllm.md)"
NO_DEVICE = (
    "vllm: no GPU found: vLLM runs on CUDA, ROCm, XPU or TPU devices, or on the CPU with vLLM's CPU "
    "build; here use hf: (the same weights through transformers) or openai-compatible: against a "
    "vLLM server on a GPU machine (docs/vllm.md)"
)
#: requests per ``LLM.chat`` call: vLLM schedules them itself (continuous batching), so a batch
#: is as large as the engine will hand over; option ``batch_size``
DEFAULT_BATCH_SIZE = 256
#: model options trustgauge reads itself (not passed to ``vllm.LLM``)
OWN_OPTIONS = frozenset({"batch_size"})
#: ``vllm.LLM`` options that decide where and how fast the model runs, not what it answers:
#: left out of the identity (the cache key), as ``hf:`` leaves out its device and batch size
RESOURCE_OPTIONS = frozenset(
    {
        "tensor_parallel_size",
        "pipeline_parallel_size",
        "data_parallel_size",
        "distributed_executor_backend",
        "gpu_memory_utilization",
        "kv_cache_memory_bytes",
        "swap_space",
        "cpu_offload_gb",
        "max_num_seqs",
        "max_num_batched_tokens",
        "enforce_eager",
        "enable_prefix_caching",
        "download_dir",
        "disable_log_stats",
    }
)
_DTYPES = ("auto", "float16", "half", "bfloat16", "float32", "float")
#: the fields vLLM's OpenAI server takes from the model's generation_config when a request
#: leaves them unset (``_DEFAULT_SAMPLING_PARAMS`` of its chat request, and
#: ``skip_special_tokens``); ``temperature`` and ``max_tokens`` are always set by trustgauge
SERVER_DEFAULT_KEYS = (
    "repetition_penalty",
    "presence_penalty",
    "frequency_penalty",
    "top_p",
    "top_k",
    "min_p",
    "skip_special_tokens",
)
#: ``SamplingParams`` of a scoring request: one token generated (and ignored), the prompt
#: tokens' log-probabilities with the most likely token beside each (``prompt_logprobs=1``: 0
#: meant "off" in early vLLM engines)
SCORING_KWARGS: Mapping[str, Any] = {"temperature": 0.0, "max_tokens": 1, "prompt_logprobs": 1}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- pure parts: options, SamplingParams fields, RequestOutput -> Response/Loglikelihood ---------


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``vllm.LLM`` keyword arguments among ``options`` (all but :data:`OWN_OPTIONS`), with
    the four documented ones checked.

    Raises:
        ConfigError: one line naming the option and what it must be.
    """
    out = {k: v for k, v in options.items() if k not in OWN_OPTIONS}
    tp = out.get("tensor_parallel_size")
    if tp is not None and (isinstance(tp, bool) or not isinstance(tp, int) or tp < 1):
        raise ConfigError(f"vllm: option tensor_parallel_size must be a whole number >= 1 (GPUs per model), got {tp!r}")
    mem = out.get("gpu_memory_utilization")
    if mem is not None and (isinstance(mem, bool) or not isinstance(mem, int | float) or not 0 < mem <= 1):
        raise ConfigError(f"vllm: option gpu_memory_utilization must be a share in (0, 1], got {mem!r}")
    dtype = out.get("dtype")
    if dtype is not None and (not isinstance(dtype, str) or dtype.removeprefix("torch.") not in _DTYPES):
        raise ConfigError(f"vllm: option dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    window = out.get("max_model_len")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 2):
        raise ConfigError(f"vllm: option max_model_len must be a whole number of tokens >= 2, got {window!r}")
    return out


def batch_size_option(options: Mapping[str, Any]) -> int:
    """Option ``batch_size`` (requests per ``LLM.chat`` call), default :data:`DEFAULT_BATCH_SIZE`.

    Raises:
        ConfigError: not a whole number >= 1 (nor ``auto``).
    """
    value = options.get("batch_size")
    if value in (None, "auto"):
        return DEFAULT_BATCH_SIZE
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ConfigError(f"vllm: option batch_size must be a whole number >= 1 or 'auto', got {value!r}")


def sampling_kwargs(params: GenerationParams, defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``vllm.SamplingParams`` fields of one request.

    ``defaults`` is the model's ``generation_config`` as vLLM reads it
    (``LLM.model_config.get_diff_sampling_param()``): its :data:`SERVER_DEFAULT_KEYS` apply
    unless the request sets the field, as on vLLM's server. ``structured_outputs`` is given as
    the keyword arguments of ``vllm.sampling_params.StructuredOutputsParams`` (``{"json":
    schema}``); the caller builds the object."""
    kwargs: dict[str, Any] = {
        key: defaults[key] for key in SERVER_DEFAULT_KEYS if defaults and defaults.get(key) is not None
    }
    kwargs["temperature"] = params.temperature
    kwargs["max_tokens"] = params.max_tokens
    if params.top_p is not None:
        kwargs["top_p"] = params.top_p
    if params.seed is not None:
        kwargs["seed"] = params.seed
    if params.stop:
        kwargs["stop"] = list(params.stop)
    if params.logprobs is not None:
        kwargs["logprobs"] = params.logprobs
    if params.response_format is not None:
        kwargs["structured_outputs"] = {"json": params.response_format.schema_dict()}
    return kwargs


def _entry_get(entry: Any, token_id: int) -> Any:
    """The ``Logprob`` of ``token_id`` in one position's ``dict[int, Logprob]``."""
    if not isinstance(entry, Mapping):
        return None
    return entry.get(token_id)


def _rank(info: Any) -> int | None:
    rank = getattr(info, "rank", None)
    return rank if isinstance(rank, int) and not isinstance(rank, bool) and rank >= 1 else None


def _logprob(info: Any) -> float:
    value = getattr(info, "logprob", None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TransientModelError("vllm: malformed output: a token without its logprob")
    return float(value)


def token_logprob(entry: Any, token_id: int, top: int) -> TokenLogprob:
    """One generated token from its position's ``dict[int, Logprob]``: its own log-probability
    and rank, and the ``top`` most likely tokens (best first; the token itself among them when
    it is one)."""
    info = _entry_get(entry, token_id)
    if info is None:
        raise TransientModelError(f"vllm: malformed output: no logprob for generated token {token_id}")
    alternatives: tuple[TokenLogprob, ...] = ()
    if top > 0:
        ranked = sorted(
            ((int(k), v) for k, v in entry.items() if _rank(v) is not None),
            key=lambda kv: (_rank(kv[1]) or 0, kv[0] != token_id),
        )
        alternatives = tuple(
            TokenLogprob(token=str(v.decoded_token or ""), logprob=_logprob(v), id=k, rank=_rank(v))
            for k, v in ranked[:top]
        )
    return TokenLogprob(
        token=str(info.decoded_token or ""), logprob=_logprob(info), id=token_id, top=alternatives, rank=_rank(info)
    )


def response_from_output(output: Any, params: GenerationParams, model: str) -> Response:
    """A ``vllm.RequestOutput`` of one chat request as a :class:`Response`.

    Raises:
        TransientModelError: vLLM aborted the request or hit an internal error (``finish_reason``
            ``abort``/``error``), or the output lacks what was asked.
    """
    outputs = getattr(output, "outputs", None) or []
    if not outputs:
        raise TransientModelError("vllm: a request came back without output")
    out = outputs[0]
    finish = out.finish_reason
    if finish in ("abort", "error"):
        raise TransientModelError(f"vllm: the request ended with {finish}")
    token_ids = [int(t) for t in out.token_ids]
    # the end token (EOS, or a stop token id) is in token_ids but is not text; a stop *string*
    # leaves stop_reason set to that string and its tokens are text the output cut off
    ended_by_token = finish == "stop" and not isinstance(out.stop_reason, str) and bool(token_ids)
    text_ids = token_ids[:-1] if ended_by_token else token_ids
    tokens = None
    if params.logprobs is not None:
        positions = out.logprobs
        if positions is None or len(positions) < len(text_ids):
            raise TransientModelError("vllm: malformed output: fewer logprobs than generated tokens")
        tokens = tuple(token_logprob(positions[i], tid, params.logprobs) for i, tid in enumerate(text_ids))
    return Response(
        text=out.text,
        finish_reason=finish,
        usage=Usage(input_tokens=len(output.prompt_token_ids or ()), output_tokens=len(token_ids)),
        model=model,
        tokens=tokens,
    )


def loglikelihood_from_output(output: Any, start: int, truncated: int = 0) -> Loglikelihood:
    """The log-likelihood of the prompt's tokens from position ``start`` on (the continuation),
    from a ``RequestOutput`` asked with ``prompt_logprobs``: ``prompt_logprobs[i]`` is a
    ``dict[int, Logprob]`` for prompt token ``i`` given the ones before it (``None`` at 0), and
    the token is looked up by its id (``prompt_token_ids[i]``).

    Raises:
        TransientModelError: the output has no log-probability for a continuation token.
    """
    ids = [int(t) for t in (output.prompt_token_ids or ())]
    entries = output.prompt_logprobs
    if entries is None:
        raise TransientModelError("vllm: malformed output: no prompt_logprobs")
    if start < 1:
        raise ValueError("the first prompt token has no log-probability: start must be >= 1")
    tokens = []
    for position in range(start, len(ids)):
        info = _entry_get(entries[position], ids[position]) if position < len(entries) else None
        if info is None:
            raise TransientModelError(f"vllm: malformed output: no prompt logprob at position {position}")
        tokens.append(
            TokenLogprob(token=str(info.decoded_token or ""), logprob=_logprob(info), id=ids[position], rank=_rank(info))
        )
    return Loglikelihood(
        logprob=math.fsum(t.logprob for t in tokens),
        greedy=all(t.rank == 1 for t in tokens),
        tokens=tuple(tokens),
        truncated=truncated,
    )


def has_chat_template(tokenizer: Any) -> bool:
    """Whether ``LLM.chat`` can format a conversation for this tokenizer: a Hugging Face
    tokenizer with a ``chat_template``, or one of vLLM's own tokenizers (Mistral's), which
    template without that attribute. A Hugging Face tokenizer whose ``chat_template`` is empty
    gets the plain prompt ``hf:`` gives it (:func:`trustgauge.models._local.plain_prompt`)."""
    return not hasattr(tokenizer, "chat_template") or bool(tokenizer.chat_template)


def _digest(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# -- the backend ------------------------------------------------------------------------------


class VLLMModel(Model):
    """A model loaded with ``vllm.LLM``, answering each batch with one ``LLM.chat`` call."""

    capabilities = frozenset({Capability.CHAT, Capability.LOGPROBS, Capability.LOGLIKELIHOOD, Capability.SEED})
    max_top_logprobs = 20

    def __init__(self, name: str, config: ModelConfig) -> None:
        self.name = name
        self.config = config
        self.spec = f"vllm:{name}"
        self.llm_options = check_options(config.options)
        self.batch_size = batch_size_option(config.options)
        self.max_concurrency = 1  # one LLM call at a time; the batch is the parallelism
        path = Path(name).expanduser()
        self.local_dir: Path | None = path.resolve() if path.is_dir() else None
        #: seconds the last load took
        self.load_seconds: float | None = None
        #: the GPU (or CPU) the model was loaded on, as vLLM names it
        self.device_name: str | None = None
        self._llm: Any = None
        self._defaults: dict[str, Any] = {}
        self._identity: dict[str, str] | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"VLLMModel({self.name!r})"

    # -- identity ------------------------------------------------------------------------------

    def identity(self) -> dict[str, str]:
        """Backend, model, revision (the hub commit, or a local directory's fingerprint), the
        dtype vLLM resolved, and a digest of the options that change answers (if any). Loads the
        model when it was not loaded yet (the dtype and the hub commit are known then)."""
        if self._identity is None:
            self._load_sync()
            llm = self._llm
            dtype = str(getattr(getattr(llm, "model_config", None), "dtype", self.llm_options.get("dtype", "auto")))
            if self.local_dir is not None:
                revision = directory_fingerprint(self.local_dir)
            else:
                revision = self._hub_revision()
            identity = {"backend": "vllm", "model": self.name, "revision": revision, "dtype": dtype.removeprefix("torch.")}
            answering = {
                k: v for k, v in self.llm_options.items() if k not in RESOURCE_OPTIONS and k not in ("dtype", "revision")
            }
            if answering:
                identity["options_sha256"] = _digest(answering)
            self._identity = identity
        return dict(self._identity)

    def _hub_revision(self) -> str:
        asked = self.llm_options.get("revision")
        with contextlib.suppress(Exception):
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(
                self.name, "config.json", cache_dir=self.llm_options.get("download_dir"), revision=asked
            )
            if isinstance(cached, str):
                return Path(cached).parent.name  # .../snapshots/<commit>/config.json
        return str(asked) if asked else "unknown"

    # -- loading -------------------------------------------------------------------------------

    def _load_sync(self) -> Any:
        with self._lock:
            if self._llm is not None:
                return self._llm
            try:
                import vllm
                from vllm.platforms import current_platform
            except (ImportError, OSError, RuntimeError) as exc:  # missing, or its CUDA libraries
                raise ConfigError(f"{INSTALL_HINT} ({_first_line(exc)})") from None
            if current_platform.is_unspecified():
                raise ConfigError(NO_DEVICE)
            t0 = time.perf_counter()
            try:
                llm = vllm.LLM(model=self.name, **self.llm_options)
            except TypeError as exc:  # an option vllm.LLM does not take
                raise ConfigError(f"vllm: bad model option: {_first_line(exc)}") from None
            except (OSError, ValueError, RuntimeError) as exc:
                raise ConfigError(f"vllm: cannot load {self.name}: {_first_line(exc)}") from None
            with contextlib.suppress(Exception):
                self.device_name = str(current_platform.get_device_name())
            defaults: Any = {}
            with contextlib.suppress(Exception):
                defaults = llm.model_config.get_diff_sampling_param()
            self._defaults = dict(defaults) if isinstance(defaults, Mapping) else {}
            self._llm = llm
            self.load_seconds = time.perf_counter() - t0
            return llm

    async def check(self) -> None:
        """Load the model (vLLM allocates its KV cache now), so failures surface before a run."""
        await asyncio.to_thread(self._load_sync)

    def context_window(self) -> int | None:
        """The most tokens one sequence may hold (vLLM's resolved ``max_model_len``)."""
        window = getattr(getattr(self._llm, "model_config", None), "max_model_len", None)
        return int(window) if isinstance(window, int) and window > 0 else None

    # -- generation ----------------------------------------------------------------------------

    def _sampling_params(self, params: GenerationParams) -> Any:
        from vllm import SamplingParams

        kwargs = sampling_kwargs(params, self._defaults)
        structured = kwargs.pop("structured_outputs", None)
        if structured is not None:
            from vllm.sampling_params import StructuredOutputsParams

            kwargs["structured_outputs"] = StructuredOutputsParams(**structured)
        return SamplingParams(**kwargs)

    def _generate_sync(self, requests: Sequence[Request]) -> list[Response]:
        with self._lock:
            llm = self._load_sync()
            params = [self._sampling_params(r.params) for r in requests]
            conversations = [[{"role": m.role, "content": m.content} for m in r.messages] for r in requests]
            try:
                if has_chat_template(llm.get_tokenizer()):
                    outputs = llm.chat(conversations, params, use_tqdm=False)
                else:  # no chat template: the prompt hf: sends such a model
                    outputs = llm.generate([plain_prompt(c) for c in conversations], params, use_tqdm=False)
            except ValueError as exc:  # vLLM's validation errors (a prompt over max_model_len, ...)
                raise PermanentModelError(f"vllm: {_first_line(exc)}") from None
            except RuntimeError as exc:  # CUDA out of memory, a dead engine
                line = _first_line(exc)
                hint = " (lower the option batch_size or max_model_len)" if "out of memory" in line.lower() else ""
                raise PermanentModelError(f"vllm: {line}{hint}") from None
        if len(outputs) != len(requests):
            raise TransientModelError(f"vllm: {len(outputs)} outputs for {len(requests)} requests")
        return [response_from_output(o, r.params, self.name) for o, r in zip(outputs, requests, strict=True)]

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        if not requests:
            return []
        self.refuse_unsupported(requests)
        return await asyncio.to_thread(self._generate_sync, requests)

    # -- scoring given text --------------------------------------------------------------------

    def _loglikelihood_sync(self, pairs: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
        with self._lock:
            llm = self._load_sync()
            from vllm import SamplingParams

            tokenizer = llm.get_tokenizer()
            window = self.context_window()
            # one token is generated after the prompt, so the prompt keeps one place free
            fitted = [
                fit_window(*scoring_ids(tokenizer, c, x, "vllm"), None if window is None else window - 1) for c, x in pairs
            ]
            prompts = [{"prompt_token_ids": ctx + cont} for ctx, cont, _ in fitted]
            try:
                outputs = llm.generate(prompts, SamplingParams(**SCORING_KWARGS), use_tqdm=False)
            except ValueError as exc:
                raise PermanentModelError(f"vllm: {_first_line(exc)}") from None
        if len(outputs) != len(pairs):
            raise TransientModelError(f"vllm: {len(outputs)} outputs for {len(pairs)} texts")
        return [
            loglikelihood_from_output(o, len(ctx), cut) for o, (ctx, _, cut) in zip(outputs, fitted, strict=True)
        ]

    async def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
        """Through ``prompt_logprobs`` over the pairs' token ids, all in one ``LLM.generate``."""
        if not pairs:
            return []
        return await asyncio.to_thread(self._loglikelihood_sync, pairs)

    async def aclose(self) -> None:
        def release() -> None:
            with self._lock:
                llm, self._llm = self._llm, None
                if llm is None:
                    return
                with contextlib.suppress(Exception):
                    llm.llm_engine.engine_core.shutdown()
                del llm
                gc.collect()

        await asyncio.to_thread(release)


@register_backend("vllm")
def create(name: str, config: ModelConfig) -> Model:
    """``vllm:<repo-or-path>``: refused at once, with the install command, without vLLM."""
    try:
        found = importlib.util.find_spec("vllm") is not None
    except ValueError:  # imported already, without a spec
        found = True
    if not found:
        raise ConfigError(INSTALL_HINT)
    return VLLMModel(name, config)
