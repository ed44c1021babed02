"""Property-based tests (issue 20 item 1): the model-spec, config and option parsers.

Whatever text a user gives as ``--model`` (``openai-compatible:m@http://...``, ``gguf:``,
``hf:``, ``scripted:`` ...), as a model config file (YAML, TOML, JSON; any content, any keys and
value types), or as ``--watermark``, ``--task-param``, ``--task-data`` or an attack chain, the
parser returns what it parses to or raises one :class:`UsageError` (``ConfigError`` for specs
and configs) whose message is one line; never ``KeyError``, ``TypeError``, ``AttributeError``,
``IndexError``, ``ValueError`` or ``RecursionError``.

Crashes found (kept as ``@example`` cases): a config mapping with a key that is not a string
(YAML ``1: x``) raised ``TypeError``; messages quoting a spec, a config key or a file name
unquoted broke onto several lines; ``scripted:table=FILE`` with a JSON list raised
``AttributeError`` and one nested thousands deep ``RecursionError``; ``--task-data T=a<NUL>b``
raised ``ValueError`` (embedded null byte).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from property_settings import props
from secret_registry import kept_registry
from trustgauge.attacks.registry import parse_chain
from trustgauge.cli.run import _parse_task_data, _parse_task_params
from trustgauge.config import ModelConfig, load_model_config
from trustgauge.errors import ConfigError, UsageError
from trustgauge.models.registry import BACKENDS, load_model, parse_spec
from trustgauge.watermark.base import parse_watermark

PROPS = props(200, HealthCheck.function_scoped_fixture, HealthCheck.too_slow)


@pytest.fixture(autouse=True)
def _keep_the_secret_registry() -> Iterator[None]:
    """Configs register their URLs' and headers' credentials for redaction; thousands of random
    ones would slow every later test's redaction (and redact their text): restore it."""
    with kept_registry():
        yield


def _one_line(exc: BaseException) -> str:
    message = str(exc)
    assert message and "\n" not in message and "\r" not in message, repr(message)
    return message


_CHARS = st.characters(exclude_categories=("Cs",))
_NASTY = st.sampled_from(["\n", "\r", "\x00", "@", ":", "=", ",", "+", "/", "[", "]", "?", "#", " ", "\u202e", "%", "{"])
_TEXT = st.one_of(st.text(_CHARS, max_size=40), st.lists(st.one_of(_NASTY, st.text(max_size=4)), max_size=12).map("".join))
_URLS = st.one_of(
    _TEXT,
    st.builds(
        lambda scheme, user, host, port, path, query: f"{scheme}{user}{host}{port}{path}{query}",
        st.sampled_from(["http://", "https://", "ftp://", "", "http:/"]),
        st.sampled_from(["", "u:p@", "a@b@", "user:pa ss@"]),
        st.sampled_from(["127.0.0.1", "[::1", "[::1]", "", "host name", "h\n", "xn--", "example.org"]),
        st.sampled_from(["", ":8000", ":0", ":99999", ":abc", ":"]),
        st.sampled_from(["", "/v1", "/v1/", "/\x00"]),
        st.sampled_from(["", "?api_key=sk-abcdefabcdefabcdef", "?a=%zz", "#frag"]),
    ),
)
SPECS = st.one_of(
    _TEXT,
    st.builds(lambda b, n: f"{b}:{n}", st.sampled_from([*BACKENDS, "OpenAI", "", "nosuch"]), _TEXT),
    st.builds(lambda n, u: f"openai-compatible:{n}@{u}", _TEXT, _URLS),
    st.builds(lambda n: f"scripted:{n}", st.one_of(_TEXT, st.sampled_from(["echo", "refuse-all", "table", "oracle=", "table="]))),
)


@PROPS
@given(spec=SPECS)
@example(spec="nosuch:model\nsecond line")
@example(spec="openai-compatible:m@http://[::1")
def test_a_model_spec_parses_or_is_one_config_error(spec: str) -> None:
    try:
        backend, name = parse_spec(spec)
    except ConfigError as exc:
        _one_line(exc)
        return
    assert backend in BACKENDS and f"{backend}:{name}" == spec and name


@PROPS
@given(spec=SPECS)
@example(spec="openai-compatible:m\n@http://127.0.0.1:8000/v1")
@example(spec="openai-compatible:a\nb")  # crash found: the message quoted the name on two lines
@example(spec="scripted:nosuch\nmodel")
@example(spec="openai:\n")  # found: "missing API key for openai:" broke its line
@example(spec="openai-compatible:m@http://127.0.0.1:99999/v1")
def test_an_api_or_scripted_model_is_created_or_one_config_error(spec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """openai-compatible and scripted models are created without a request (the server is not
    contacted until the run); local backends (gguf, hf, vllm) load weights and are left out."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    try:
        config = load_model_config(None, spec=spec)
        if config.model.partition(":")[0] in ("openai", "openai-compatible", "scripted", "anthropic"):
            load_model(config)
    except ConfigError as exc:
        _one_line(exc)
    except ImportError:  # anthropic's extra is not installed here: not what this tests
        pass


_KEYS = st.one_of(
    st.sampled_from(["model", "api_key_env", "api_key_file", "base_url", "headers", "system_prompt", "generation",
                     "timeout", "options", "temperature", "max_tokens"]),
    st.text(max_size=6),
    st.integers(),
    st.booleans(),
)
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _TEXT, st.sampled_from(["openai:gpt-4o-mini", "scripted:echo"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.one_of(_TEXT, st.integers()), inner, max_size=3)),
    max_leaves=8,
)


@PROPS
@given(data=st.dictionaries(_KEYS, _VALUES, max_size=6), spec=st.one_of(st.none(), st.just("scripted:echo")))
@example(data={1: "x", "model": "scripted:echo"}, spec=None)  # crash found: TypeError (a key that is not a string)
@example(data={"headers": {"a\nb": 1}, "model": "scripted:echo"}, spec=None)  # found: the message broke its line
@example(data={"model": "openai:m", "generation": {"watermark": "kgw\n"}}, spec=None)
def test_a_yaml_model_config_is_read_or_one_config_error(tmp_path: Path, data: dict[Any, Any], spec: str | None) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        config = load_model_config(path, spec=spec)
    except ConfigError as exc:
        _one_line(exc)
        return
    assert isinstance(config, ModelConfig)


@PROPS
@given(text=st.one_of(st.text(_CHARS, max_size=120), st.binary(max_size=80).map(lambda b: b.decode("latin-1"))),
       suffix=st.sampled_from([".yaml", ".toml", ".json", ".yml"]))
@example(text="[" * 3000, suffix=".json")
@example(text="a: " + "[" * 3000, suffix=".yaml")
@example(text="model = 'scripted:echo'\n1 = 2\n", suffix=".toml")
@example(text='{"model": "scripted:echo", "1\\n2": 3}', suffix=".json")
def test_any_config_file_text_is_read_or_one_config_error(tmp_path: Path, text: str, suffix: str) -> None:
    path = tmp_path / f"model{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        load_model_config(path)
    except ConfigError as exc:
        _one_line(exc)


@PROPS
@given(table=_VALUES)
@example(table=[1, 2])  # crash found: AttributeError ('list' object has no attribute 'get')
@example(table="a string")
def test_a_scripted_table_file_is_read_or_one_config_error(tmp_path: Path, table: Any) -> None:
    path = tmp_path / "table.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    try:
        load_model(ModelConfig(model=f"scripted:table={path}"))
    except ConfigError as exc:
        _one_line(exc)


def test_a_scripted_table_nested_thousands_deep_is_one_config_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(ConfigError, match="scripted:table cannot read"):
        load_model(ModelConfig(model=f"scripted:table={path}"))


@PROPS
@given(text=_TEXT)
@example(text="kgw:gamma")
@example(text="a+\n+b")
def test_watermark_and_attack_chain_specs(text: str) -> None:
    for parse in (parse_watermark, parse_chain):
        try:
            parse(text)
        except ConfigError as exc:
            _one_line(exc)


@PROPS
@given(values=st.lists(_TEXT, max_size=4))
@example(values=["t=a\x00b"])  # crash found: ValueError (embedded null byte)
@example(values=["t\n:n=1", "t\n:n=2"])  # found: "given twice" on two lines
@example(values=["t\n=a", "t\n=b"])
def test_task_param_and_task_data_options(values: list[str]) -> None:
    for parse in (_parse_task_params, _parse_task_data):
        try:
            parse(values)
        except UsageError as exc:
            _one_line(exc)
