"""Secret redaction: registered keys (in every encoding), masked echoes of them, key-shaped
tokens, URL credentials; every credential registered by construction; the store redacts what
enters it and what older versions left in it."""

from __future__ import annotations

import base64
import html
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from secret_registry import kept_registry
from trustgauge import _secrets
from trustgauge._secrets import (
    public_url,
    redact,
    register_header,
    register_secret,
    register_url,
    split_query,
)


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    """Each test starts with no secret registered and leaves none behind."""
    with kept_registry(empty=True):
        yield


def test_redact_keys_masked_echoes_and_not_words() -> None:
    register_secret("sk-test-similarity")
    register_secret("zz-Ab3dE5gH7jK9")
    text = "key zz-Ab3dE5gH7jK9 or masked zz-Ab3dE****** / ...gH7jK9 in similarity_gap"
    out = redact(text)
    assert "Ab3dE5gH7jK9" not in out and "zz-Ab3dE*" not in out and "gH7jK9" not in out
    assert out.count("<redacted>") == 3
    # a registered key's fragments are removed only next to a mask, never inside words
    assert redact("similarity_gap is 0.2") == "similarity_gap is 0.2"
    assert redact("sk-proj-abcdefgh12345") == "<redacted>"  # key-shaped token


# --------------------------------------------------------------------------- by construction


def test_a_secret_is_redacted_in_every_encoding_a_file_could_hold() -> None:
    key = 'k3y.*+?[a]{2}"<&>\\ключ🔑'
    register_secret(key)
    for form in (key, json.dumps(key)[1:-1], json.dumps(key, ensure_ascii=False)[1:-1], html.escape(key),
                 quote(key, safe=""), quote_plus(key)):
        assert redact(f"echo: {form}!") == "echo: <redacted>!", form


def test_a_key_echoed_base64_encoded_is_redacted_at_any_offset() -> None:
    """A server that reflects what it received base64-encoded (``Authorization: Bearer KEY``,
    the key alone, the key after any prefix): the characters that encode the key are gone."""
    key = "MyPlainKey0123456789"
    register_secret(key)
    for prefix in ("", "Bearer ", "x", "ab", "Authorization: Bearer "):
        encoded = base64.b64encode(f"{prefix}{key} tail".encode()).decode()
        out = redact(encoded)
        assert "<redacted>" in out, prefix
        # what is left cannot be decoded back to the key
        assert len(out.replace("<redacted>", "")) < len(encoded) - 4 * len(key) // 3 + 4, (prefix, out)
    # a different key's encoding is left alone; short secrets get no base64 forms
    other = base64.b64encode(b"MyPlainKey012345678X").decode()
    assert redact(other) == other
    register_secret("hunter42")
    assert redact(base64.b64encode(b"hunter42").decode()) == base64.b64encode(b"hunter42").decode()


def test_a_short_secret_only_as_a_whole_token_and_placeholders_never() -> None:
    register_secret("hunter42")
    assert redact("hunter42, (hunter42) hunter420 xhunter42") == "<redacted>, (<redacted>) hunter420 xhunter42"
    for not_secret in ("EMPTY", "ollama", "abc12", "", None):
        register_secret(not_secret)
    assert redact("EMPTY ollama abc12") == "EMPTY ollama abc12"


def test_url_credentials_are_registered_but_not_names_or_plain_values() -> None:
    register_url("https://alice:p%C3%A4ss-w0rd@host:8443/v1?api_key=qk_Long%2BToken&api-version=2024-02-01&"
                 "sig=AbCdEf123456")
    basic = base64.b64encode("alice:päss-w0rd".encode()).decode()
    text = f"päss-w0rd p%C3%A4ss-w0rd {basic} qk_Long+Token qk_Long%2BToken AbCdEf123456 alice 2024-02-01"
    assert redact(text) == "<redacted> " * 6 + "alice 2024-02-01"
    register_url("https://ghp_TokenAsUserName0123@github.example/x")  # a token as the user name
    assert redact("ghp_TokenAsUserName0123") == "<redacted>"


def test_header_credentials_are_registered() -> None:
    register_header("Authorization", "Bearer tok-1234567")
    register_header("Authorization", "Basic " + base64.b64encode(b"bob:pw-123456").decode())
    register_header("X-Api-Key", "secret-abc")
    register_header("X-Team", "evals")  # not a credential
    register_header("X-Trace", "a1b2c3d4e5f6g7h8i9")  # token-like
    out = redact("tok-1234567 pw-123456 secret-abc evals a1b2c3d4e5f6g7h8i9")
    assert out == "<redacted> <redacted> <redacted> evals <redacted>"


def test_urls_are_shown_without_credentials_and_queries_become_parameters() -> None:
    assert public_url("http://u:pw@[::1]:8000/v1?api_key=k&v=2") == "http://[::1]:8000/v1?api_key=<redacted>&v=<redacted>"
    assert split_query("http://u:pw@h/v1?api_key=k%2B1&v=2") == ("http://u:pw@h/v1", {"api_key": "k+1", "v": "2"})
    # URL credentials nobody registered are still scrubbed from any text
    assert redact("GET https://bob:hunter2@h/x?token=t0k&page=2 failed") == (
        "GET https://<redacted>@h/x?token=<redacted>&page=2 failed"
    )


def test_spec_urls_split_at_the_first_at_http() -> None:
    from trustgauge.models._http import public_spec, split_spec

    assert split_spec("m@http://u:p@ss@h:1/v1") == ("m", "http://u:p@ss@h:1/v1")
    assert split_spec("m") == ("m", "")
    assert public_spec("openai-compatible:m@http://u:pw@h:1/v1/?key=k") == "openai-compatible:m@http://h:1/v1"


def test_a_model_config_registers_its_credentials_when_created(monkeypatch: pytest.MonkeyPatch) -> None:
    from trustgauge.config import ModelConfig

    monkeypatch.setenv("MY_KEY_VAR", "env-key-123456")
    ModelConfig(model="openai-compatible:m@http://u:spec-pw-123@h/v1", api_key_env="MY_KEY_VAR",
                base_url="http://h/v1?api_key=cfg-query-123", headers={"X-Api-Key": "hdr-key-123"})
    assert redact("env-key-123456 spec-pw-123 cfg-query-123 hdr-key-123") == " ".join(["<redacted>"] * 4)


def test_openai_compatible_registers_openai_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12 item 1: OPENAI_API_KEY used by openai-compatible: was never registered."""
    from trustgauge.config import ModelConfig
    from trustgauge.models.registry import load_model

    monkeypatch.setenv("OPENAI_API_KEY", "plainkey-0123456789")  # not key-shaped: only registration finds it
    model = load_model(ModelConfig(model="openai-compatible:m@http://127.0.0.1:9/v1?api_key=q-12345678"))
    assert redact("Incorrect API key provided: plainkey-0123456789") == "Incorrect API key provided: <redacted>"
    assert model.spec == "openai-compatible:m@http://127.0.0.1:9/v1"
    assert model.base_url == "http://127.0.0.1:9/v1" and model._query == {"api_key": "q-12345678"}  # type: ignore[attr-defined]


def test_openai_api_key_with_a_trailing_newline_is_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key pasted with its newline is not a valid header value: the request failed as
    "cannot reach the server". ``openai:`` and ``api_key_env`` strip it; the fallback did not."""
    from trustgauge.config import ModelConfig
    from trustgauge.models.registry import load_model

    monkeypatch.setenv("OPENAI_API_KEY", "  sk-NewlineKey0123456789abc\n")
    model = load_model(ModelConfig(model="openai-compatible:m@http://127.0.0.1:9/v1"))
    assert model._api_key == "sk-NewlineKey0123456789abc"  # type: ignore[attr-defined]
    monkeypatch.setenv("OPENAI_API_KEY", " \n")
    model = load_model(ModelConfig(model="openai-compatible:m@http://127.0.0.1:9/v1"))
    assert model._api_key == "EMPTY"  # type: ignore[attr-defined]  # no key: the placeholder


def test_a_key_variable_holding_only_white_space_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """``OPENAI_API_KEY=" "`` was taken as the key "" (sent as the placeholder, a 401 after
    the run started) instead of the one-line "missing API key"."""
    from trustgauge.config import ModelConfig
    from trustgauge.errors import ConfigError
    from trustgauge.models.registry import load_model

    monkeypatch.setenv("OPENAI_API_KEY", " \n")
    with pytest.raises(ConfigError, match="missing API key"):
        load_model(ModelConfig(model="openai:gpt-4o-mini"))
    monkeypatch.setenv("MY_KEY", "  ")
    with pytest.raises(ConfigError, match="missing API key"):
        ModelConfig(model="openai:gpt-4o-mini", api_key_env="MY_KEY").resolve_api_key(None, required=True)


def test_environment_credentials_are_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "ant-key-123456")
    monkeypatch.setenv("TRUSTGAUGE_TRUSTLLM_URL", "https://carol:data-pw-123@h/d.zip?token=data-tok-123")
    _secrets.secrets_in_environment()
    assert redact("ant-key-123456 data-pw-123 data-tok-123") == "<redacted> <redacted> <redacted>"


def test_the_store_redacts_what_enters_and_what_older_versions_left(tmp_path: Path) -> None:
    """Issue 12 item 2: a key echoed into the store reached later runs through the cache."""
    from trustgauge.engine.store import Store
    from trustgauge.types import Judgement, Request, Response

    key = "plainkey-0123456789"
    ident = {"backend": "test", "model": "m"}
    register_secret(key)
    with Store(tmp_path / "s.db") as store:
        req = Request.user("p")
        stored = store.put_response("k1", ident, req, Response(text=f"echo {key}", model=key))
        assert stored.text == "echo <redacted>" and stored.model == "<redacted>"
        store.put_judgements([("j1", Judgement(label="x", raw=f"judge saw {key}", judge="llm@1"))])
    raw = (tmp_path / "s.db").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("s.db-*"))
    assert key.encode() not in raw
    # a row an older version stored unredacted is redacted when read
    db = sqlite3.connect(tmp_path / "s.db")
    db.execute("INSERT INTO responses VALUES ('old', '{}', '{}', ?, 0)", (Response(text=f"old {key}").model_dump_json(),))
    db.execute("INSERT INTO judgements VALUES ('jold', 'llm@1', ?, 0)",
               (Judgement(label="x", raw=f"old {key}", judge="llm@1").model_dump_json(),))
    db.commit()
    db.close()
    with Store(tmp_path / "s.db") as store:
        assert store.get_responses(["old"])["old"].text == "old <redacted>"
        assert store.get_judgements(["jold"])["jold"].raw == "old <redacted>"


def test_judge_output_is_redacted_for_the_caller_and_the_store(tmp_path: Path) -> None:
    """A judge model that echoes its key: neither the verdicts a run writes nor the store hold it."""
    import asyncio
    from collections.abc import Sequence

    from trustgauge.engine.judging import judge_items
    from trustgauge.engine.store import Store
    from trustgauge.judges.base import Judge
    from trustgauge.types import JudgeItem, Judgement

    key = "judgekey-0123456789"
    register_secret(key)

    class Echo(Judge):
        kind, name, version = "refusal", "echo", "1"

        async def judge(self, items: Sequence[JudgeItem]) -> list[Judgement]:
            return [Judgement(label="refusal", raw=f"my key is {key}", judge=self.id) for _ in items]

    with Store(tmp_path / "s.db") as store:
        verdicts, _ = asyncio.run(judge_items(Echo(), [JudgeItem(response="r")], store))
        assert verdicts[0].raw == "my key is <redacted>"
        assert next(iter(store.get_judgements([JudgeItem(response="r").cache_key("refusal/echo@1")]).values())).raw == (
            "my key is <redacted>"
        )


def test_the_hub_token_is_registered_before_a_hub_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    from trustgauge.data import hub

    monkeypatch.setenv("HF_TOKEN", "hf-login-token-0123")  # not hf_-shaped: only registration finds it
    monkeypatch.setenv("HF_ENDPOINT", "https://u:mirror-pw-123@hub.example")
    hub._register_token()
    assert redact("hf-login-token-0123 mirror-pw-123") == "<redacted> <redacted>"
