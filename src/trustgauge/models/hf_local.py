"""Local models with Hugging Face ``transformers``: ``hf:<repo-or-path>``.

Prompts go through the tokenizer's chat template; requests are generated in padded batches
(left padding, sorted by length, results returned in the caller's order). Greedy when
``temperature == 0``, otherwise sampling with ``temperature``/``top_p``.

``hf:gguf:<file.gguf>`` (or ``hf:gguf:smollm2``, or ``options: {gguf_file: ...}``) loads a GGUF
file: transformers de-quantizes it once (about 30 s for SmolLM2) into a safetensors copy under
``model_cache_dir()/<sha256 of the file>/``, which later loads in well under a second.

Options (``ModelConfig.options``): ``batch_size`` (default 8 on CPU, 16 on MPS, 32 on CUDA),
``device`` (``cuda``, ``cuda:1``, ``mps``, ``cpu``; default the best available), ``dtype``
(``float32``, ``bfloat16``, ``float16``; default float32 on CPU, bf16/fp16 on GPU), ``revision``
and ``trust_remote_code`` for hub models, ``gguf_file``, and ``observer``: another ``hf:`` model
(spec or path) sharing this one's tokenizer. With an observer, scoring also runs it over the same
tokens and gives each scored token the cross-entropy ``-sum_v p_obs(v) log p(v)`` between the
observer's next-token distribution and this model's (``TokenLogprob.cross_entropy``: Binoculars,
Hans et al. 2024, with this model as the performer); the observer is part of the model's identity.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import os
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError, PermanentModelError
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
from trustgauge.watermark.tokenizer import HFTokenizer, TextTokenizer

INSTALL_HINT = (
    "hf: backend needs: pip install 'trustgauge[local]' (CPU: pip install torch==2.13.0 first)"
)
_DTYPES = ("float32", "bfloat16", "float16")
_COMPLETE_MARKER = "trustgauge-conversion.json"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _import_torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return torch


def pick_device(requested: str | None = None) -> str:
    """``cuda`` if available, else ``mps``, else ``cpu``; an explicit choice is checked."""
    torch = _import_torch()
    if requested:
        device = str(requested).strip().lower()
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"hf: device {requested!r} requested but CUDA is not available")
        if device == "mps" and not _mps_available(torch):
            raise ConfigError("hf: device 'mps' requested but MPS is not available")
        if not (device == "cpu" or device == "mps" or device.startswith("cuda")):
            raise ConfigError(f"hf: unknown device {requested!r} (use cpu, cuda, cuda:N or mps)")
        return device
    if torch.cuda.is_available():
        return "cuda"
    if _mps_available(torch):
        return "mps"
    return "cpu"


def _mps_available(torch: Any) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_dtype(device: str, requested: str | None = None) -> str:
    """float32 on CPU; bfloat16 on CUDA when supported, else float16; float16 on MPS."""
    if requested and str(requested) != "auto":
        name = str(requested).removeprefix("torch.")
        aliases = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "half": "float16"}
        name = aliases.get(name, name)
        if name not in _DTYPES:
            raise ConfigError(f"hf: unknown dtype {requested!r} (use {', '.join(_DTYPES)} or auto)")
        return name
    if device == "cpu":
        return "float32"
    if device.startswith("cuda"):
        torch = _import_torch()
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "float16"


def default_batch_size(device: str) -> int:
    if device.startswith("cuda"):
        return 32
    if device == "mps":
        return 16
    return 8


def _dtype_kwarg() -> str:
    """transformers >= 4.56 takes ``dtype=``; older versions ``torch_dtype=``."""
    import transformers

    try:
        major, minor = (int(p) for p in transformers.__version__.split(".")[:2])
    except ValueError:
        return "dtype"
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


def convert_gguf(gguf_path: Path) -> tuple[Path, bool]:
    """De-quantize a GGUF file once into a transformers checkpoint (safetensors) in the cache.

    Returns ``(directory, converted_now)``. The directory is ``model_cache_dir()/<sha256>/`` and
    appears atomically (built in a temporary sibling, then renamed), so concurrent runs and
    interrupted conversions never leave a half-written model behind.
    """
    torch = _import_torch()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trustgauge._paths import model_cache_dir
    from trustgauge.models.gguf import file_sha256

    digest = file_sha256(gguf_path)
    target = model_cache_dir() / digest
    if (target / _COMPLETE_MARKER).is_file():
        return target, False
    tmp = target.with_name(f"{digest}.tmp-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    kwargs: dict[str, Any] = {"gguf_file": gguf_path.name}
    try:
        from transformers import GgufConfig  # transformers 5: keep weights dense, so saveable

        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    except ImportError:
        pass
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf_path.parent), **{_dtype_kwarg(): torch.float32}, **kwargs
        )
        quantizer = getattr(model, "hf_quantizer", None)
        if quantizer is not None:
            quantizer.remove_quantization_config(model)
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        del model
        import transformers

        marker = {
            "source": gguf_path.name,
            "sha256": digest,
            "transformers": transformers.__version__,
        }
        (tmp / _COMPLETE_MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
        if target.exists():  # an older, incomplete attempt, or a concurrent winner
            if (target / _COMPLETE_MARKER).is_file():
                shutil.rmtree(tmp, ignore_errors=True)
                return target, False
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / _COMPLETE_MARKER).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except ImportError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ConfigError(
            f"{INSTALL_HINT}; loading GGUF also needs gguf and accelerate ({_first_line(exc)})"
        ) from None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ConfigError(
            f"hf: cannot convert {gguf_path.name} with transformers: {_first_line(exc)}"
        ) from None
    return target, True


def cross_entropy(torch: Any, observer_logits: Any, logprobs: Any) -> Any:
    """Per position, ``-sum_v p_obs(v) log p(v)``: the observer's next-token distribution
    (softmax of ``observer_logits``) against this model's log-probabilities ``logprobs`` (both
    ``(positions, vocab)``; a larger padded vocabulary is cut to the smaller, as
    Fast-DetectGPT does). The same as Binoculars' ``metrics.entropy(observer_logits,
    performer_logits)`` before its mean over positions (ahans30/Binoculars)."""
    width = min(int(observer_logits.shape[-1]), int(logprobs.shape[-1]))
    observed = torch.softmax(observer_logits[..., :width].float(), dim=-1)
    return -(observed * torch.log_softmax(logprobs[..., :width], dim=-1)).sum(-1)


def _check_same_vocabulary(name: str, tokenizer: Any, observer: str, other: Any) -> None:
    """Refuse an observer whose tokenizer maps tokens to other ids (one clear line)."""
    if tokenizer.get_vocab() != other.get_vocab():
        raise ConfigError(
            f"hf: observer {observer} does not share {name}'s tokenizer (the vocabularies differ): "
            "Binoculars' cross-perplexity needs two models with one tokenizer"
        )


class HFLocalModel(Model):
    """A causal LM loaded with transformers, generating padded batches."""

    # log-probabilities come from the model's own logits (exact); the seed seeds torch
    # the logits processor hook: watermarks (GenerationParams.watermark, trustgauge.watermark)
    capabilities = frozenset(
        {
            Capability.CHAT,
            Capability.LOGPROBS,
            Capability.LOGLIKELIHOOD,
            Capability.LOGITS_PROCESSOR,
            Capability.SEED,
        }
    )
    max_top_logprobs = 20

    def __init__(self, name: str, config: ModelConfig) -> None:
        self.name = name
        self.config = config
        self.spec = f"hf:{name}"
        options = config.options
        self.gguf_path: Path | None = None
        self.gguf_repo_file: tuple[str, str] | None = None
        self.local_dir: Path | None = None
        gguf_file = options.get("gguf_file")
        if name.startswith("gguf:"):
            from trustgauge.models.gguf import resolve_gguf

            self.gguf_path = resolve_gguf(name.removeprefix("gguf:"))
        elif gguf_file:
            local = Path(name).expanduser() / str(gguf_file)
            if local.is_file():
                from trustgauge.models.gguf import resolve_gguf

                self.gguf_path = resolve_gguf(str(local))
            elif Path(str(gguf_file)).expanduser().is_file():
                from trustgauge.models.gguf import resolve_gguf

                self.gguf_path = resolve_gguf(str(gguf_file))
            else:
                self.gguf_repo_file = (name, str(gguf_file))
        elif Path(name).expanduser().is_dir():
            self.local_dir = Path(name).expanduser().resolve()
        _import_torch()
        self.device = pick_device(options.get("device"))
        self.dtype = pick_dtype(self.device, options.get("dtype"))
        batch_size = options.get("batch_size")
        if batch_size in (None, "auto"):
            self.batch_size = default_batch_size(self.device)
        elif isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size >= 1:
            self.batch_size = batch_size
        else:
            raise ConfigError(
                f"hf: option batch_size must be a whole number >= 1 or 'auto', got {batch_size!r}"
            )
        self.max_concurrency = 1  # one batch at a time; the batch is the parallelism
        self.revision: str | None = str(options["revision"]) if options.get("revision") else None
        self.trust_remote_code = bool(options.get("trust_remote_code", False))
        #: whether the last load converted a GGUF file (False: the cached copy was used)
        self.converted: bool | None = None
        #: seconds the last load took
        self.load_seconds: float | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._text_tokenizer: HFTokenizer | None = None
        self._resolved_revision: str | None = None
        self._lock = threading.RLock()
        #: the observer model of Binoculars' cross-perplexity (option ``observer``), same device/dtype
        self.observer: HFLocalModel | None = None
        observer = options.get("observer")
        if observer is not None:
            if not isinstance(observer, str) or not observer.strip():
                raise ConfigError(f"hf: option observer must be an hf: model spec or path, got {observer!r}")
            spec = observer.strip().removeprefix("hf:")
            self.observer = HFLocalModel(
                spec, ModelConfig(model=f"hf:{spec}", options={"device": self.device, "dtype": self.dtype,
                                                               "batch_size": self.batch_size}),
            )

    def __repr__(self) -> str:
        return f"HFLocalModel({self.name!r}, device={self.device!r}, dtype={self.dtype!r})"

    # -- identity ------------------------------------------------------------------------------

    def identity(self) -> dict[str, str]:
        from trustgauge.models.gguf import file_sha256

        if self.gguf_repo_file is not None and self.gguf_path is None:
            self._load_sync()  # downloads the GGUF file, whose hash is the revision
        if self.gguf_path is not None:
            model, revision = f"gguf:{self.gguf_path.name}", file_sha256(self.gguf_path)
        elif self.local_dir is not None:
            model, revision = self.name, directory_fingerprint(self.local_dir)
        else:
            model, revision = self.name, self._hub_revision()
        identity = {"backend": "hf", "model": model, "revision": revision, "dtype": self.dtype}
        if self.observer is not None:
            seen = self.observer.identity()
            identity["observer"] = f"{seen['model']}@{seen['revision']}"
        return identity

    def _hub_revision(self) -> str:
        if self._resolved_revision is None:
            with contextlib.suppress(Exception):
                from huggingface_hub import try_to_load_from_cache

                cached = try_to_load_from_cache(self.name, "config.json", revision=self.revision)
                if isinstance(cached, str):
                    self._resolved_revision = Path(cached).parent.name  # .../snapshots/<commit>/
        if self._resolved_revision is None:
            self._load_sync()
        return self._resolved_revision or self.revision or "unknown"

    # -- loading -------------------------------------------------------------------------------

    def _load_sync(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            torch = _import_torch()
            from transformers import AutoModelForCausalLM, AutoTokenizer

            t0 = time.perf_counter()
            source, kwargs = self._source()
            dtype = {_dtype_kwarg(): getattr(torch, self.dtype)}
            try:
                try:
                    tokenizer: Any = AutoTokenizer.from_pretrained(str(source), **kwargs)
                    model: Any = AutoModelForCausalLM.from_pretrained(
                        str(source), **dtype, **kwargs
                    )
                except OSError:
                    if not kwargs.pop("local_files_only", False):
                        raise
                    # partly cached: let the hub fill in the missing files
                    tokenizer = AutoTokenizer.from_pretrained(str(source), **kwargs)
                    model = AutoModelForCausalLM.from_pretrained(str(source), **dtype, **kwargs)
            except ImportError as exc:
                raise ConfigError(f"{INSTALL_HINT} ({_first_line(exc)})") from None
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigError(f"hf: cannot load {self.name}: {_first_line(exc)}") from None
            model.to(self.device)
            model.eval()
            tokenizer.padding_side = "left"
            if tokenizer.pad_token_id is None:
                tokenizer.pad_token = tokenizer.eos_token
            if self.gguf_path is None and self.local_dir is None:
                commit = getattr(model.config, "_commit_hash", None)
                if isinstance(commit, str) and commit:
                    self._resolved_revision = commit
            if self.observer is not None:
                self.observer._load_sync()
                _check_same_vocabulary(self.name, tokenizer, self.observer.name, self.observer._tokenizer)
            self._tokenizer, self._model = tokenizer, model
            self.load_seconds = time.perf_counter() - t0

    def _source(self) -> tuple[str | Path, dict[str, Any]]:
        """Where the tokenizer and weights load from, and ``from_pretrained``'s keywords (a GGUF
        file is downloaded and converted first, once)."""
        kwargs: dict[str, Any] = {}
        source: str | Path
        self.converted = False
        if self.gguf_repo_file is not None:
            self.gguf_path = self._download_gguf(*self.gguf_repo_file)
        if self.gguf_path is not None:
            from trustgauge.models.gguf import file_sha256

            source, self.converted = convert_gguf(self.gguf_path)
            self._resolved_revision = file_sha256(self.gguf_path)
        elif self.local_dir is not None:
            source = self.local_dir
        else:
            source = self.name
            kwargs = {"revision": self.revision, "trust_remote_code": self.trust_remote_code}
            if self._hub_cached():
                kwargs["local_files_only"] = True  # no network round trips (works offline)
        return source, kwargs

    def _tokenizer_alone(self) -> tuple[Any, int] | None:
        """The tokenizer and the logits width (``config.json``'s ``vocab_size``, the rows of the
        output layer) without the weights; ``None`` when the config does not say the width."""
        try:
            from transformers import AutoConfig, AutoTokenizer
        except ImportError as exc:
            raise ConfigError(f"{INSTALL_HINT} ({_first_line(exc)})") from None
        with self._lock:
            source, kwargs = self._source()
            try:
                try:
                    tokenizer: Any = AutoTokenizer.from_pretrained(str(source), **kwargs)
                    config: Any = AutoConfig.from_pretrained(str(source), **kwargs)
                except OSError:
                    if not kwargs.pop("local_files_only", False):
                        raise
                    tokenizer = AutoTokenizer.from_pretrained(str(source), **kwargs)
                    config = AutoConfig.from_pretrained(str(source), **kwargs)
            except ImportError as exc:
                raise ConfigError(f"{INSTALL_HINT} ({_first_line(exc)})") from None
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigError(f"hf: cannot load {self.name}: {_first_line(exc)}") from None
        width = getattr(config, "vocab_size", None)
        return (tokenizer, width) if isinstance(width, int) and width > 0 else None

    def _hub_cached(self) -> bool:
        with contextlib.suppress(Exception):
            from huggingface_hub import try_to_load_from_cache

            return isinstance(
                try_to_load_from_cache(self.name, "config.json", revision=self.revision), str
            )
        return False

    def _download_gguf(self, repo: str, filename: str) -> Path:
        try:
            from huggingface_hub import hf_hub_download
        except ImportError:
            raise ConfigError(INSTALL_HINT) from None
        from trustgauge.net.http import classify_exception
        from trustgauge.net.retry import RetryPolicy, retry_sync

        failures: list[Exception] = []

        def classify(exc: Exception) -> Any:
            failures[:] = [exc]
            return classify_exception(exc)

        # hub errors have no common base; a dropped connection or a 5xx is tried again (the
        # hub client resumes the partial file)
        fetched = retry_sync(
            lambda _n: Path(hf_hub_download(repo, filename, revision=self.revision)),
            classify,
            RetryPolicy(max_retries=2, base_delay=1.0, max_delay=30.0),
        )
        if fetched.value is None:
            raise ConfigError(
                f"hf: cannot fetch {filename} from {repo}: {_first_line(failures[0])}"
            ) from None
        return fetched.value

    async def check(self) -> None:
        """Load the model (converting a GGUF file on first use), so failures surface early."""
        await asyncio.to_thread(self._load_sync)

    # -- generation ----------------------------------------------------------------------------

    def _encode(self, request: Request) -> list[int]:
        tokenizer = self._tokenizer
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        else:
            ids = tokenizer(plain_prompt(messages), add_special_tokens=True)["input_ids"]
        return [int(t) for t in ids]

    def _eos_ids(self) -> set[int]:
        eos: Any = getattr(self._model.generation_config, "eos_token_id", None)
        if eos is None:
            eos = self._tokenizer.eos_token_id
        if eos is None:
            return set()
        return {int(e) for e in (eos if isinstance(eos, list | tuple) else [eos])}

    def _generate_sync(self, requests: Sequence[Request]) -> list[Response]:
        with self._lock:
            self._load_sync()
            encoded = [self._encode(r) for r in requests]
            # requests differing only in their seed share a batch: each row samples from its own
            # seeded generator (_RowSampler), so tasks that seed every sample apart still batch
            groups: dict[GenerationParams, list[int]] = {}
            for index, request in enumerate(requests):
                groups.setdefault(request.params.model_copy(update={"seed": None}), []).append(index)
            results: list[Response | None] = [None] * len(requests)
            for params, indices in groups.items():
                # longest first: similar lengths share a batch, so little padding is computed
                order = sorted(indices, key=lambda i: len(encoded[i]), reverse=True)
                for start in range(0, len(order), self.batch_size):
                    chunk = order[start : start + self.batch_size]
                    seeds = [requests[i].params.seed for i in chunk]
                    for i, response in zip(
                        chunk, self._run_batch([encoded[i] for i in chunk], params, seeds), strict=True
                    ):
                        results[i] = response
            return [r for r in results if r is not None]

    def _run_batch(
        self, sequences: list[list[int]], params: GenerationParams, seeds: list[int | None] | None = None
    ) -> list[Response]:
        import copy

        torch = _import_torch()
        tokenizer, model = self._tokenizer, self._model
        pad_id = int(tokenizer.pad_token_id)
        width = max(len(s) for s in sequences)
        input_ids = torch.tensor(
            [[pad_id] * (width - len(s)) + s for s in sequences], device=self.device
        )
        attention_mask = torch.tensor(
            [[0] * (width - len(s)) + [1] * len(s) for s in sequences], device=self.device
        )
        gen = copy.deepcopy(model.generation_config)
        gen.max_new_tokens = params.max_tokens
        gen.max_length = None
        gen.pad_token_id = pad_id
        gen.num_return_sequences = 1
        seeds = seeds if seeds is not None else [params.seed] * len(sequences)
        sampler: Any = None
        if params.temperature == 0 or any(seed is not None for seed in seeds):
            gen.do_sample = False
            gen.temperature = None
            gen.top_p = None
            gen.top_k = None
            if params.temperature > 0:  # seeded sampling, one generator a row (_RowSampler)
                drawn = [
                    seed if seed is not None else int(torch.randint(0, 2**62, (1,)).item()) for seed in seeds
                ]
                sampler = _row_sampler(torch, drawn, params.temperature, params.top_p)
        else:
            gen.do_sample = True
            gen.temperature = params.temperature
            gen.top_p = params.top_p if params.top_p is not None else 1.0
            gen.top_k = 0  # OpenAI-style sampling: no top-k cut
        extra: dict[str, Any] = {}
        processors: list[Any] = []
        if params.stop:
            gen.stop_strings = list(params.stop)
            extra["tokenizer"] = tokenizer
        if params.logprobs is not None:
            # the raw logits (before temperature/top-p and any watermark): the model's own distribution
            gen.output_logits = True
            gen.return_dict_in_generate = True
        if params.watermark is not None:
            from trustgauge.watermark import from_spec

            scheme = from_spec(params.watermark)
            processors.append(scheme.logits_processor(self._logits_width(), self.device))
        if sampler is not None:
            processors.append(sampler)  # after the watermark: it samples from the marked logits
        if processors:
            from transformers import LogitsProcessorList

            extra["logits_processor"] = LogitsProcessorList(processors)
        try:
            with torch.inference_mode():
                output = model.generate(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    generation_config=gen,
                    **extra,
                )
        except torch.cuda.OutOfMemoryError as exc:
            raise PermanentModelError(
                f"hf: out of GPU memory (lower batch_size): {_first_line(exc)}"
            ) from None
        step_logits: Any = None
        if params.logprobs is not None:
            step_logits = output.logits
            output = output.sequences
        eos_ids = self._eos_ids()
        responses = []
        for index, (row, prompt) in enumerate(
            zip(output[:, width:].tolist(), sequences, strict=True)
        ):
            cut = next((k for k, tok in enumerate(row) if tok in eos_ids), None)
            finish = "stop" if cut is not None else "length"
            # the end token counts (it was generated); the padding after it does not
            generated = row if cut is None else row[: cut + 1]
            text = tokenizer.decode(row if cut is None else row[:cut], skip_special_tokens=True)
            if params.stop:
                hits = [text.find(s) for s in params.stop if s and s in text]
                if hits:
                    text, finish = text[: min(hits)], "stop"
            tokens = None
            if step_logits is not None and params.logprobs is not None:
                # the text's tokens (the end token is not text, as in OpenAI's logprobs)
                kept = row if cut is None else row[:cut]
                tokens = tuple(
                    self._token_logprob(step_logits[k][index], tok, params.logprobs)
                    for k, tok in enumerate(kept)
                )
            responses.append(
                Response(
                    text=text,
                    finish_reason=finish,
                    usage=Usage(input_tokens=len(prompt), output_tokens=len(generated)),
                    model=self.name,
                    tokens=tokens,
                )
            )
        return responses

    def _logits_width(self) -> int:
        """How many logits the model gives per step (its output vocabulary; may exceed the
        tokenizer's length when the embedding matrix is padded)."""
        head = self._model.get_output_embeddings()
        if head is not None and getattr(head, "weight", None) is not None:
            return int(head.weight.shape[0])
        return int(self._model.config.vocab_size)

    def tokenizer(self) -> TextTokenizer:
        """The model's own tokenizer. The weights are not loaded for it unless they already are
        (``watermark detect`` needs the tokenizer alone: measured for SmolLM2 from its cached
        conversion, 4.9 -> 3.7 s a call and peak RSS 466 -> 389 MB; most of the rest is importing
        torch and transformers); a GGUF file is still converted once. One instance per model: its pre-token
        cache (``watermark/_pretoken_cache.py``) stays warm across calls and costs its set-up
        (~0.1 s for SmolLM2) once."""
        made = self._text_tokenizer
        if made is None:
            alone = None if self._model is not None else self._tokenizer_alone()
            if alone is None:
                self._load_sync()
                alone = (self._tokenizer, self._logits_width())
            made = self._text_tokenizer = HFTokenizer(alone[0], self.describe(), alone[1])
        return made

    def _token_logprob(self, logits: Any, token: int, top: int) -> TokenLogprob:
        """``token``'s log-probability under ``logits`` (one position), with ``top``
        alternatives."""
        torch = _import_torch()
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        alternatives: tuple[TokenLogprob, ...] = ()
        if top > 0:
            values, ids = torch.topk(logprobs, top)
            alternatives = tuple(
                TokenLogprob(token=self._tokenizer.decode([int(i)]), logprob=float(v), id=int(i))
                for v, i in zip(values.tolist(), ids.tolist(), strict=True)
            )
        return TokenLogprob(
            token=self._tokenizer.decode([token]),
            logprob=float(logprobs[token]),
            id=token,
            top=alternatives,
        )

    # -- scoring given text --------------------------------------------------------------------

    def _loglikelihood_ids(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Context and continuation tokenized apart (:func:`~trustgauge.models._local.scoring_ids`)."""
        return scoring_ids(self._tokenizer, context, continuation, "hf")

    def context_window(self) -> int | None:
        """The most tokens the loaded model reads at once (its ``max_position_embeddings``),
        ``None`` when its config does not say."""
        config = getattr(self._model, "config", None)
        window = getattr(config, "max_position_embeddings", None)
        own = int(window) if isinstance(window, int) and window > 0 else None
        if self.observer is not None:  # the observer reads the same tokens
            seen = self.observer.context_window()
            if seen is not None:
                return seen if own is None else min(own, seen)
        return own

    def _fit(self, ctx: list[int], cont: list[int]) -> tuple[list[int], list[int], int]:
        """Context and continuation cut to the context window (:func:`~trustgauge.models._local.fit_window`)."""
        return fit_window(ctx, cont, self.context_window())

    def _loglikelihood_sync(self, pairs: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
        torch = _import_torch()
        with self._lock:
            self._load_sync()
            encoded = [self._fit(*self._loglikelihood_ids(c, x)) for c, x in pairs]
            results: list[Loglikelihood | None] = [None] * len(pairs)
            # longest first, so each batch holds texts of about one length (little padding)
            order = sorted(range(len(pairs)), key=lambda i: -len(encoded[i][0]) - len(encoded[i][1]))
            pad_id = int(self._tokenizer.pad_token_id)
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                rows = [encoded[i][0] + encoded[i][1] for i in chunk]
                width = max(len(r) for r in rows)
                # right padding: positions count from each row's first token, and causal
                # attention never lets a real token see the padding after it
                input_ids = torch.tensor(
                    [r + [pad_id] * (width - len(r)) for r in rows], device=self.device
                )
                attention_mask = torch.tensor(
                    [[1] * len(r) + [0] * (width - len(r)) for r in rows], device=self.device
                )
                with torch.inference_mode():
                    logits = self._model(input_ids=input_ids, attention_mask=attention_mask).logits
                    seen = None
                    if self.observer is not None:
                        seen = self.observer._model(input_ids=input_ids, attention_mask=attention_mask).logits
                    for j, i in enumerate(chunk):
                        ctx, cont, cut = encoded[i]
                        span = slice(len(ctx) - 1, len(ctx) + len(cont) - 1)
                        results[i] = self._scored(
                            torch, logits[j, span], cont, cut, None if seen is None else seen[j, span]
                        )
            return [r for r in results if r is not None]

    def _scored(
        self, torch: Any, logits: Any, cont: list[int], truncated: int, observed: Any = None
    ) -> Loglikelihood:
        """One continuation's tokens from the logits predicting them (``(len(cont), vocab)``):
        each token's log-probability, its rank (1 + the tokens strictly more likely), whether it
        was the most likely, the mean and spread of the log-probability under the whole
        next-token distribution (Min-K%++, Fast-DetectGPT), and with the observer's logits at
        the same positions (``observed``) the cross-entropy ``-sum_v p_obs(v) log p(v)``
        (Binoculars)."""
        if not cont:
            return Loglikelihood(logprob=0.0, greedy=True, tokens=(), truncated=truncated)
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        ids = torch.tensor(cont, device=logprobs.device)
        chosen = logprobs.gather(-1, ids[:, None])[:, 0]
        ranks = (logprobs > chosen[:, None]).sum(-1) + 1
        probs = logprobs.exp()
        mean = (probs * logprobs).sum(-1)
        var = (probs * logprobs.square()).sum(-1) - mean.square()
        std = var.clamp_min(0.0).sqrt()
        greedy = bool((logprobs.argmax(-1) == ids).all())
        cross: list[float | None] = [None] * len(cont)
        if observed is not None:
            cross = cross_entropy(torch, observed, logprobs).tolist()
        texts = [self._tokenizer.decode([t]) for t in cont]
        tokens = tuple(
            TokenLogprob(token=text, logprob=lp, id=tok, dist_mean=mu, dist_std=sd, rank=rank, cross_entropy=ce)
            for text, tok, lp, mu, sd, rank, ce in zip(
                texts, cont, chosen.tolist(), mean.tolist(), std.tolist(), ranks.tolist(), cross, strict=True
            )
        )
        return Loglikelihood(
            logprob=math.fsum(t.logprob for t in tokens), greedy=greedy, tokens=tokens, truncated=truncated
        )

    async def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
        """Exact: one forward pass over ``context + continuation`` per pair (batched)."""
        if not pairs:
            return []
        return await asyncio.to_thread(self._loglikelihood_sync, pairs)

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        if not requests:
            return []
        self.refuse_unsupported(requests)
        return await asyncio.to_thread(self._generate_sync, requests)

    async def aclose(self) -> None:
        def release() -> None:
            with self._lock:
                self._model = None
                self._tokenizer = None
                self._text_tokenizer = None
                if self.observer is not None:
                    self.observer._model = None
                    self.observer._tokenizer = None
                gc.collect()
                with contextlib.suppress(Exception):
                    torch = _import_torch()
                    if self.device.startswith("cuda"):
                        torch.cuda.empty_cache()

        await asyncio.to_thread(release)


def _row_sampler(torch: Any, seeds: list[int], temperature: float, top_p: float | None) -> Any:
    """A logits processor that samples each row from its own seeded generator: temperature,
    then top-p (nucleus), then the Gumbel-max trick (``argmax(logits / T + Gumbel noise)`` is a
    draw from ``softmax(logits / T)``), so greedy decoding after it samples. A row's draws
    depend only on its seed and its own logits, not on what else shares the batch: a sample's
    answer is the same alone or batched with others, and requests seeded apart batch together."""
    from transformers import LogitsProcessor

    class RowSampler(LogitsProcessor):  # type: ignore[misc]
        def __init__(self) -> None:
            self.generators = [torch.Generator().manual_seed(int(seed) % (2**63)) for seed in seeds]

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            logits = scores.float() / temperature
            if top_p is not None and top_p < 1.0:
                ordered, index = torch.sort(logits, dim=-1, descending=True)
                mass = torch.softmax(ordered, dim=-1).cumsum(dim=-1)
                drop = (mass - torch.softmax(ordered, dim=-1)) >= top_p  # keeps at least the top token
                logits = logits.scatter(-1, index, ordered.masked_fill(drop, float("-inf")))
            width = logits.shape[-1]
            uniform = torch.stack([torch.rand(width, generator=g) for g in self.generators]).to(logits.device)
            gumbel = -torch.log(-torch.log(uniform.clamp(min=1e-12, max=1.0 - 1e-7)))
            return logits + gumbel

    return RowSampler()


@register_backend("hf", options=("batch_size", "device", "dtype", "revision", "trust_remote_code", "gguf_file", "observer"))
def create(name: str, config: ModelConfig) -> Model:
    """``hf:<repo-or-path>``, ``hf:gguf:<file.gguf>`` or ``hf:gguf:smollm2``."""
    return HFLocalModel(name, config)
