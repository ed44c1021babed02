"""Spec strings -> backends. Backends are imported only when used, so ``import trustgauge``
and ``trustgauge --help`` stay fast.

Backends register themselves: a module decorates its factory with :func:`register_backend`
(``create(name: str, config: ModelConfig) -> Model``). The built-in backends are listed in
:data:`BUILTIN_BACKENDS` by module name only (their modules, and so torch, transformers or
xllamacpp, are imported when a spec names them); outside packages add backends through the
entry-point group :data:`ENTRY_POINT_GROUP`, loaded on the first spec read. A plugin that fails to
import, clashes with a registered prefix or registers nothing is rolled back and named in one
``error:`` line (as the task registry and the judge catalogue do)."""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

from trustgauge._plugins import load_plugin
from trustgauge.errors import ConfigError

if TYPE_CHECKING:
    from trustgauge.config import ModelConfig
    from trustgauge.models.base import Model
    from trustgauge.models.scripted import OracleProvider

__all__ = [
    "BACKENDS",
    "BUILTIN_BACKENDS",
    "ENTRY_POINT_GROUP",
    "BackendInfo",
    "load_model",
    "parse_spec",
    "plugin_errors",
    "register_backend",
]

log = logging.getLogger(__name__)

#: the entry-point group outside packages register their backend modules under
ENTRY_POINT_GROUP = "trustgauge.backends"


class BackendInfo(NamedTuple):
    module: str
    example: str
    help: str
    extra: str | None  # pip extra that provides its dependencies


#: the built-in backends: prefix -> the module that registers it (imported only when a spec
#: names the prefix) and how it is listed
BUILTIN_BACKENDS: dict[str, BackendInfo] = {
    "openai": BackendInfo(
        "trustgauge.models.openai_compat", "openai:gpt-4o-mini", "OpenAI API (OPENAI_API_KEY)", None
    ),
    "openai-compatible": BackendInfo(
        "trustgauge.models.openai_compat",
        "openai-compatible:llama3@http://127.0.0.1:8000/v1",
        "any OpenAI-compatible server: vLLM, Ollama, llama.cpp, TGI, LM Studio",
        None,
    ),
    "anthropic": BackendInfo(
        "trustgauge.models.anthropic", "anthropic:claude-sonnet-4-5", "Anthropic API (ANTHROPIC_API_KEY)", "anthropic"
    ),
    "hf": BackendInfo(
        "trustgauge.models.hf_local", "hf:Qwen/Qwen2.5-0.5B-Instruct", "local transformers model", "local"
    ),
    "gguf": BackendInfo(
        "trustgauge.models.gguf", "gguf:smollm2", "local GGUF model via llama.cpp (xllamacpp)", "gguf"
    ),
    "scripted": BackendInfo(
        "trustgauge.models.scripted", "scripted:refuse-all", "deterministic built-in models for tests", None
    ),
    "vllm": BackendInfo(
        "trustgauge.models.vllm", "vllm:Qwen/Qwen2.5-0.5B-Instruct", "local model on GPUs via vLLM's offline engine", "vllm"
    ),
}

#: prefix -> backend: the built-ins, then the plugins' (after the first spec read)
BACKENDS: dict[str, BackendInfo] = dict(BUILTIN_BACKENDS)


class _Factory(Protocol):
    def __call__(self, name: str, config: ModelConfig) -> Model: ...


_F = TypeVar("_F", bound=Callable[..., "Model"])
_PREFIX = re.compile(r"[a-z][a-z0-9_-]*")

#: prefix -> the registered factory (a built-in's once its module was imported)
_factories: dict[str, Callable[..., Model]] = {}
#: prefixes whose factory takes ``oracle=`` (``scripted:oracle``'s answer table)
_takes_oracle: set[str] = set()
#: per backend prefix, the model options it reads (absent: it takes any)
_options: dict[str, frozenset[str]] = {}
#: options every backend accepts: `--batch-size` (and a models file's shared settings) set it for
#: every model of a run, local or not; backends that do not batch ignore it
ANY_BACKEND_OPTIONS = frozenset({"batch_size"})
_plugin_errors: list[str] = []
_loaded = False
_lock = threading.RLock()


def register_backend(
    prefix: str, *, example: str = "", help: str = "", extra: str | None = None, oracle: bool = False,
    options: Iterable[str] | None = None,
) -> Callable[[_F], _F]:
    """Register the decorated factory ``create(name, config) -> Model`` for specs
    ``<prefix>:<name>``.

    ``example``/``help``/``extra`` describe an outside backend (a built-in's come from
    :data:`BUILTIN_BACKENDS`); ``oracle``: the factory also takes ``oracle=`` (see
    :func:`load_model`); ``options``: the names of ``ModelConfig.options`` the backend reads, so
    that a misspelt one is an error instead of a setting silently ignored (``None``: any, for a
    backend that passes its options on, as ``vllm:`` does to ``vllm.LLM``).

    Raises:
        ValueError: a bad prefix, or one registered already by another module.
    """
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"bad backend prefix {prefix!r}: lower-case letters, digits, '-' and '_'")

    def decorate(factory: _F) -> _F:
        module = factory.__module__
        with _lock:
            known = BACKENDS.get(prefix)
            if known is not None and known.module != module:
                raise ValueError(f"backend {prefix!r} is registered already (by {known.module})")
            BACKENDS[prefix] = known or BackendInfo(module, example or f"{prefix}:NAME", help, extra)
            _factories[prefix] = factory
            if oracle:
                _takes_oracle.add(prefix)
            if options is not None:
                _options[prefix] = frozenset(options)
        return factory

    return decorate


def _ensure_loaded() -> None:
    """Load the plugins of :data:`ENTRY_POINT_GROUP`, once (the built-ins stay lazy)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        _loaded = True
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            _load_plugin(ep)


def _load_plugin(ep: importlib.metadata.EntryPoint) -> None:
    def snapshot() -> tuple[dict[str, BackendInfo], dict[str, Callable[..., Model]], set[str]]:
        return dict(BACKENDS), dict(_factories), set(_takes_oracle)

    def check(state: tuple[dict[str, BackendInfo], dict[str, Callable[..., Model]], set[str]]) -> str | None:
        return None if state[0] != BACKENDS or _registered_from(ep.module) else (
            "it registered no backend (decorate its factory with @register_backend)"
        )

    def restore(state: tuple[dict[str, BackendInfo], dict[str, Callable[..., Model]], set[str]]) -> None:
        BACKENDS.clear()
        BACKENDS.update(state[0])
        _factories.clear()
        _factories.update(state[1])
        _takes_oracle.clear()
        _takes_oracle.update(state[2])

    load_plugin(ep, kind="backend", lock=_lock, snapshot=snapshot, restore=restore, check=check,
                errors=_plugin_errors, log=log)


def _registered_from(module: str) -> bool:
    """Some backend is in ``module`` or below (it was imported before the plugin was loaded)."""
    return any(info.module == module or info.module.startswith(f"{module}.") for info in BACKENDS.values())


def plugin_errors() -> list[str]:
    """One line per backend plugin that could not be loaded."""
    _ensure_loaded()
    return list(_plugin_errors)


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``backend:name`` and check the backend exists."""
    _ensure_loaded()
    backend, sep, name = spec.partition(":")
    if not sep or not name:
        raise ConfigError(
            f"bad model spec {spec!r}: expected BACKEND:NAME, e.g. {BACKENDS['openai'].example} "
            f"(backends: {', '.join(BACKENDS)})"
        )
    if backend not in BACKENDS:
        hint = "".join(f"; {e}" for e in _plugin_errors)
        raise ConfigError(f"unknown backend {backend!r} in {spec!r}; known: {', '.join(BACKENDS)}{hint}")
    return backend, name


def load_model(config: ModelConfig, *, oracle: OracleProvider | None = None) -> Model:
    """Create the backend named by ``config.model``.

    ``oracle`` builds the answer table of ``scripted:oracle`` from the tasks
    (:func:`trustgauge.tasks.oracle.oracle_table`; models do not import tasks, so the caller
    passes it in); only factories registered with ``oracle=True`` get it."""
    backend, name = parse_spec(config.model)
    factory = _factory(backend)
    from trustgauge.models._http import public_spec

    _check_options(backend, config)
    model: Model = factory(name, config, oracle=oracle) if backend in _takes_oracle else factory(name, config)
    # shown in progress lines and reports: never a URL's user:password or query
    model.spec = public_spec(config.model)
    return model


def _factory(backend: str) -> Callable[..., Model]:
    """The registered factory of ``backend`` (a built-in's module is imported now)."""
    info = BACKENDS[backend]
    try:
        importlib.import_module(info.module)  # a built-in registers its factory now
    except ImportError as exc:
        hint = f"pip install 'trustgauge[{info.extra}]'" if info.extra else "reinstall trustgauge"
        raise ConfigError(f"backend {backend!r} needs a missing package ({exc.name}): {hint}") from None
    factory = _factories.get(backend)
    if factory is None:
        raise RuntimeError(f"{info.module} does not register backend {backend!r} (@register_backend)")
    return factory


def check_model_options(config: ModelConfig) -> None:
    """Before a run loads judges or downloads data: the backend reads every option ``config``
    sets (ConfigError otherwise), without creating the model. A backend whose package is not
    installed here is left to the place that creates the model (a Ray driver need not have the
    workers' vLLM)."""
    backend, _name = parse_spec(config.model)
    try:
        _factory(backend)
    except ConfigError:
        return
    _check_options(backend, config)


def _check_options(backend: str, config: ModelConfig) -> None:
    """A model option the backend does not read is a ConfigError naming the ones it does (a typo
    such as ``nctx`` for ``n_ctx`` silently ran with llama.cpp's 2,048-token context)."""
    import difflib

    known = _options.get(backend)
    if known is None:
        return
    unknown = sorted(set(config.options) - known - ANY_BACKEND_OPTIONS)
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    reads = ", ".join(sorted(known)) or "none"
    raise ConfigError(
        f"{backend}: unknown model option{'s' * (len(unknown) > 1)} {', '.join(repr(u) for u in unknown)}{hint}; "
        f"{backend}: models read {reads}"
    )
