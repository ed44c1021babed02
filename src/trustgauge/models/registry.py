"""Spec strings -> backends. Backends are imported only when used, so ``import trustgauge``
and ``trustgauge --help`` stay fast."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple, Protocol

from trustgauge.errors import ConfigError

if TYPE_CHECKING:
    from trustgauge.config import ModelConfig
    from trustgauge.models.base import Model
    from trustgauge.models.scripted import OracleProvider


class BackendInfo(NamedTuple):
    module: str
    example: str
    help: str
    extra: str | None  # pip extra that provides its dependencies


#: prefix -> backend; each module has ``create(name: str, config: ModelConfig) -> Model``
BACKENDS: dict[str, BackendInfo] = {
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
}


class _Factory(Protocol):
    def __call__(self, name: str, config: ModelConfig) -> Model: ...


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``backend:name`` and check the backend exists."""
    backend, sep, name = spec.partition(":")
    if not sep or not name:
        raise ConfigError(
            f"bad model spec {spec!r}: expected BACKEND:NAME, e.g. {BACKENDS['openai'].example} "
            f"(backends: {', '.join(BACKENDS)})"
        )
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r} in {spec!r}; known: {', '.join(BACKENDS)}")
    return backend, name


def load_model(config: ModelConfig, *, oracle: OracleProvider | None = None) -> Model:
    """Create the backend named by ``config.model``.

    ``oracle`` builds the answer table of ``scripted:oracle`` from the tasks
    (:func:`trustgauge.tasks.oracle.oracle_table`; models do not import tasks, so the caller
    passes it in). Other backends ignore it."""
    backend, name = parse_spec(config.model)
    info = BACKENDS[backend]
    try:
        module = importlib.import_module(info.module)
    except ImportError as exc:
        hint = f"pip install 'trustgauge[{info.extra}]'" if info.extra else "reinstall trustgauge"
        raise ConfigError(f"backend {backend!r} needs a missing package ({exc.name}): {hint}") from None
    from trustgauge.models._http import public_spec

    if backend == "scripted":
        from trustgauge.models.scripted import create as create_scripted

        model = create_scripted(name, config, oracle=oracle)
    else:
        factory: _Factory = module.create
        model = factory(name, config)
    # shown in progress lines and reports: never a URL's user:password or query
    model.spec = public_spec(config.model)
    return model
