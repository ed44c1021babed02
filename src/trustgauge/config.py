"""Configuration as data: what model, with which parameters, on which tasks.

A model config file (YAML or TOML) looks like::

    model: openai-compatible:llama3@http://127.0.0.1:8000/v1
    api_key_env: MY_SERVER_KEY        # name of the env var holding the key (never the key)
    system_prompt: You are a helpful assistant.
    headers: {X-Team: evals}
    generation: {max_tokens: 256, top_p: 0.9}
    timeout: 120

Values given on the command line override the file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
)
from pydantic_core import PydanticCustomError

from trustgauge._secrets import register_headers, register_secret, register_url
from trustgauge.errors import ConfigError, not_utf8


class GenerationOverrides(BaseModel):
    """Generation parameters a user may set for a model; ``None`` keeps each task's default.

    TrustLLM fixes temperature per sub-task (0 for classification, 1 for generation); a value
    here overrides it for every task and is recorded in the run.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    #: watermark every generation: ``SCHEME`` or ``SCHEME:NAME=VALUE,...`` (``--watermark``;
    #: :mod:`trustgauge.watermark`); the key comes from ``TRUSTGAUGE_WATERMARK_KEY``, never
    #: from here, so a config or a run record never holds it
    watermark: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,31}(:.*)?$")

    @model_serializer(mode="wrap")
    def _omit_unset_watermark(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave ``watermark`` out of dumps when unset: run digests and records of unmarked runs
        stay what they were before the field existed."""
        data: dict[str, Any] = handler(self)
        if data.get("watermark") is None:
            data.pop("watermark", None)
        return data


class ModelConfig(BaseModel):
    """How to reach and call one model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(description="spec string, e.g. openai:gpt-4o-mini")
    api_key_env: str | None = Field(default=None, description="env var that holds the API key")
    api_key_file: Path | None = Field(default=None, description="file whose content is the key")
    base_url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    system_prompt: str | None = None
    generation: GenerationOverrides = GenerationOverrides()
    timeout: float = Field(default=120.0, gt=0)
    #: backend-specific options (e.g. ``batch_size``, ``device`` for hf:, ``n_ctx`` for gguf:)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _extra_body_is_a_mapping(cls, options: dict[str, Any]) -> dict[str, Any]:
        """``extra_body`` is merged into each request body: anything but a mapping was dropped
        without a word (and the run went on without the fields the user asked for)."""
        extra = options.get("extra_body")
        if extra is not None and not isinstance(extra, dict):
            raise PydanticCustomError(
                "extra_body",
                "extra_body must be a mapping of request body fields (e.g. {top_k: 20}), not {kind}",
                {"kind": type(extra).__name__},
            )
        return options

    def model_post_init(self, context: Any, /) -> None:
        """Register every credential the config carries or names (header values, a URL's
        user:password and credential query parameters, the ``api_key_env`` variable's value)
        for redaction, the moment the config exists: before any request can echo one."""
        register_headers(self.headers)
        register_url(self.base_url)
        _, at, url = self.model.partition("@")
        if at:
            register_url(url)
        if self.api_key_env:
            register_secret(os.environ.get(self.api_key_env))

    def resolve_api_key(self, default_env: str | None, *, required: bool) -> str | None:
        """Read the API key from the configured file or environment variable.

        Keys never come from the command line, so they never land in shell history or logs.
        """
        if self.api_key_file is not None:
            try:
                key = self.api_key_file.expanduser().read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read api_key_file {self.api_key_file}: {exc.strerror}") from None
            if not key:
                raise ConfigError(f"api_key_file {self.api_key_file} is empty")
            register_secret(key)
            return key
        env_name = self.api_key_env or default_env
        env_key = (os.environ.get(env_name) or "").strip() if env_name else ""
        if env_key:  # a variable holding only white space is no key (it was sent as one)
            register_secret(env_key)
            return env_key
        if required:
            where = f"set {env_name}" if env_name else "set api_key_env in a model config"
            model = " ".join(self.model.split())  # one line, whatever the spec holds
            raise ConfigError(f"missing API key for {model}: {where} (or api_key_file in a --model-config)")
        return None


def _read_mapping(path: Path) -> dict[str, Any]:
    data = read_config_data(path)
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of keys to values")
    return data


def read_config_data(path: Path) -> Any:
    """The parsed content of a YAML (any other suffix), TOML (``.toml``) or JSON (``.json``)
    file; a :class:`ConfigError` in one line when it cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read config {path}: {not_utf8(exc.object, exc.start)}; save it as UTF-8") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            data: Any = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text, object_pairs_hook=_json_object_without_duplicates)
        else:
            data = _safe_yaml_without_duplicates(text)
    except Exception as exc:  # yaml/toml/json parse errors have no common base
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"cannot parse config {path}: {first_line}") from None
    _check_shape(data, path)
    return data


def _json_object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (``json`` would keep the last one silently, so a
    config that says ``"model"`` twice would run a model its author may not have meant)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}: give each setting once")
        out[key] = value
    return out


def _safe_yaml_without_duplicates(text: str) -> Any:
    """``yaml.safe_load``, but a mapping that gives a key twice is an error naming the key and both
    lines (PyYAML keeps the last silently). Keys merged in with ``<<`` may be overridden, as YAML
    allows. The loader is PyYAML's ``SafeLoader`` (so no Python tags) with this one check added."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark)
                except TypeError:  # an unhashable key: SafeLoader's own error says so
                    continue
                if first is not key_node.start_mark:
                    raise yaml.YAMLError(
                        f"duplicate key {key!r} at line {key_node.start_mark.line + 1} (first at line "
                        f"{first.line + 1}): give each setting once"
                    )
            return super().construct_mapping(node, deep=deep)

    loader = UniqueKeyLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


#: a config nested deeper, or holding more values once YAML aliases are expanded, is refused
MAX_CONFIG_DEPTH = 64
MAX_CONFIG_VALUES = 1_000_000


def _check_shape(data: Any, path: Path) -> None:
    """Refuse a parsed config that refers to itself (a YAML alias inside its own anchor), is
    nested more than :data:`MAX_CONFIG_DEPTH` deep, or expands to more than
    :data:`MAX_CONFIG_VALUES` values (a "billion laughs" of nested aliases: PyYAML shares the
    aliased object, but validating, hashing or writing the config would expand it).

    Iterative, memoised by object identity: a shared subtree is walked once."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        children = (
            list(node.values()) if isinstance(node, dict)
            else list(node) if isinstance(node, (list, tuple)) else None
        )
        if children is None:
            continue
        key = id(node)
        if done:
            on_path.discard(key)
            kids = [c for c in children if isinstance(c, (dict, list, tuple))]
            size[key] = 1 + len(children) + sum(size[id(c)] for c in kids)
            depth[key] = 1 + max((depth[id(c)] for c in kids), default=0)
            if depth[key] > MAX_CONFIG_DEPTH:
                raise ConfigError(
                    f"config {path} is nested more than {MAX_CONFIG_DEPTH} levels deep"
                )
            if size[key] > MAX_CONFIG_VALUES:
                raise ConfigError(
                    f"config {path} holds more than {MAX_CONFIG_VALUES} values once its "
                    f"aliases are expanded"
                )
            continue
        if key in size:
            continue
        if key in on_path:
            raise ConfigError(f"config {path} refers to itself (a YAML alias inside its anchor)")
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            if isinstance(child, (dict, list, tuple)):
                if id(child) in on_path:
                    raise ConfigError(
                        f"config {path} refers to itself (a YAML alias inside its anchor)"
                    )
                stack.append((child, False))


def load_model_config(path: Path | None, *, spec: str | None = None, role: str | None = None) -> ModelConfig:
    """Build a :class:`ModelConfig` from an optional file and an optional ``--model`` spec;
    ``role``: the file is the model of ``--role ROLE=FILE`` (no ``--model`` to fall back on)."""
    data: dict[str, Any] = _read_mapping(path) if path is not None else {}
    if spec:
        data["model"] = spec
    for key in data:
        if not isinstance(key, str):  # YAML "1: x": ModelConfig(**data) would raise TypeError
            raise ConfigError(f"invalid model config{f' in {path}' if path else ''}: {key!r} is not a field name")
    if not data.get("model"):
        if role is not None:
            raise ConfigError(f"--role {role}={path}: the file has no 'model:' (the role's model spec)")
        raise ConfigError("no model given: pass --model (e.g. --model gguf:smollm2) or 'model:' in --model-config")
    try:
        return ModelConfig(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        where = f" in {path}" if path else ""
        # one line, whatever the keys hold (a YAML key may hold a line break)
        message = " ".join(f"{loc}: {err['msg']}".split())
        raise ConfigError(f"invalid model config{where}: {message}") from None
