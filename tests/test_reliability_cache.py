"""Issue 12 item 4: the response cache key covers everything that changes an answer.

Against the fake OpenAI-compatible server (tests/fake_server.py), counting the requests it
receives: changing any answer-changing setting sends fresh requests; a credential header does
not; runs without the new settings keep their old cache keys (users' stores stay valid).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fake_server import FakeServer
from trustgauge.api import evaluate
from trustgauge.config import GenerationOverrides, ModelConfig
from trustgauge.models.anthropic import AnthropicModel
from trustgauge.models.openai_compat import OpenAICompatModel
from trustgauge.types import GenerationParams, Request

TASK = "truthfulness.hallucination"  # no judge: the fastest task to run in-process
N = 3


def _run(server: FakeServer, out: Path, data: Path, **config: Any) -> dict[str, Any]:
    mc = ModelConfig(model=f"openai-compatible:test-model@{server.openai_base_url}", **config)
    result = evaluate(mc, [TASK], limit=N, out=out, data_dir=data)
    return result.run.requests


# what every changed setting must not share with the baseline
VARIANTS: dict[str, dict[str, Any]] = {
    "extra_body": {"options": {"extra_body": {"top_k": 1}}},
    "extra_body value": {"options": {"extra_body": {"top_k": 20}}},
    "thinking off": {"options": {"extra_body": {"chat_template_kwargs": {"enable_thinking": False}}}},
    "header": {"headers": {"X-Reasoning": "off"}},
    "system prompt": {"system_prompt": "You are terse."},
    "seed": {"generation": GenerationOverrides(seed=7)},
    "temperature": {"generation": GenerationOverrides(temperature=0.5)},
    "max tokens": {"generation": GenerationOverrides(max_tokens=17)},
    "top_p": {"generation": GenerationOverrides(top_p=0.5)},
}


def test_each_answer_changing_setting_sends_fresh_requests(tmp_path: Path, trustllm_dir: Path) -> None:
    with FakeServer.start(models=["test-model"]) as server:
        first = _run(server, tmp_path / "base", trustllm_dir)
        assert first["sent"] == N and server.stats()["requests"] == N
        again = _run(server, tmp_path / "again", trustllm_dir)
        assert again["cached"] == N and server.stats()["requests"] == N  # the cache works
        expected = N
        for name, change in VARIANTS.items():
            req = _run(server, tmp_path / name.replace(" ", "_"), trustllm_dir, **change)
            expected += N
            assert req["sent"] == N and req["cached"] == 0, f"{name}: served from the cache"
            assert server.stats()["requests"] == expected, name
        # a credential header does not change an answer: a rotated key keeps the cache
        req = _run(server, tmp_path / "auth", trustllm_dir, headers={"Authorization": "Bearer other"})
        assert req["cached"] == N and server.stats()["requests"] == expected


def test_extra_body_and_header_reach_the_server_and_the_identity(tmp_path: Path, trustllm_dir: Path) -> None:
    """run.json's model_identity says what the cache key covered."""
    with FakeServer.start(models=["test-model"]) as server:
        mc = ModelConfig(
            model=f"openai-compatible:test-model@{server.openai_base_url}",
            options={"extra_body": {"top_k": 1}}, headers={"X-Mode": "a", "Authorization": "Bearer s3cr3t-key"},
        )
        result = evaluate(mc, [TASK], limit=1, out=tmp_path / "r", data_dir=trustllm_dir)
        ident = result.run.model_identity
        assert set(ident) == {"backend", "model", "base_url", "extra_body_sha256", "headers_sha256"}
        assert "s3cr3t" not in repr(ident)


# Cache keys computed by the code before item 4 (commit 2047a67): a run without extra_body and
# with credential headers only must keep them, or every user's store would be thrown away.
OLD_KEYS = {
    "openai-compatible": "acc098aca1646a51a782f6eb1e89e2afea7b58f61259e69969398c9177e4562d",
    "anthropic": "10e4659be7b1822cd6b7b07b3d349905079514e8acaf3e1788cb4352823a7dbf",
}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk-x", "X-Api-Key": "k"}])
def test_cache_keys_of_plain_runs_are_unchanged(headers: dict[str, str]) -> None:
    req = Request.user("hello", GenerationParams(temperature=1.0, max_tokens=64, seed=3))
    cfg = ModelConfig(model="openai-compatible:m@http://127.0.0.1:9/v1", headers=headers, options={"extra_body": {}})
    oai = OpenAICompatModel("m", "http://127.0.0.1:9/v1", None, cfg)
    assert req.cache_key(oai.identity()) == OLD_KEYS["openai-compatible"]
    ant = AnthropicModel("claude-x", "https://api.anthropic.com", "k", ModelConfig(model="anthropic:claude-x", headers=headers))
    assert req.cache_key(ant.identity()) == OLD_KEYS["anthropic"]


def test_header_name_case_does_not_matter_but_values_do() -> None:
    def key(headers: dict[str, str]) -> str:
        cfg = ModelConfig(model="openai-compatible:m@http://h/v1", headers=headers)
        return Request.user("q").cache_key(OpenAICompatModel("m", "http://h/v1", None, cfg).identity())

    assert key({"X-Mode": "a"}) == key({"x-mode": "a"})
    assert key({"X-Mode": "a"}) != key({"X-Mode": "b"})
    assert key({"X-Mode": "a"}) != key({})


@pytest.mark.parametrize("headers", [
    {"X-Signature": "sig1AAAAAAAAAAAA"},  # a credential by name, as the redaction registry knows it
    {"X-Goog-Iap-Jwt-Assertion": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"},
    {"X-Upstream": "Bearer up1-AAAAAAAAAAAAAAAA"},  # an auth scheme under another name
    {"X-Forward": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"},  # a JWT under any name
])
def test_a_credential_header_under_any_name_leaves_the_cache_key_alone(headers: dict[str, str]) -> None:
    """A rotated credential keeps the cache, and no hash of it is stored: the identity leaves
    out every header the redaction registry takes for a credential, not only those named
    Authorization or like a key."""
    from trustgauge._secrets import redact

    cfg = ModelConfig(model="openai-compatible:m@http://h/v1", headers=headers)
    ident = OpenAICompatModel("m", "http://h/v1", None, cfg).identity()
    assert "headers_sha256" not in ident, ident
    value = next(iter(headers.values()))
    secret = value.partition(" ")[2] or value
    assert secret not in redact(f"echo {value}")  # and it is redacted
    # an answer-changing header beside it still counts
    mixed = ModelConfig(model="openai-compatible:m@http://h/v1", headers={**headers, "X-Mode": "a"})
    alone = ModelConfig(model="openai-compatible:m@http://h/v1", headers={"X-Mode": "a"})
    assert (OpenAICompatModel("m", "http://h/v1", None, mixed).identity()
            == OpenAICompatModel("m", "http://h/v1", None, alone).identity())


def test_the_base_urls_query_is_in_the_cache_key_but_not_its_credentials(tmp_path: Path, trustllm_dir: Path) -> None:
    """``?api-version=`` picks what answers (an Azure-style API version or deployment): changing
    it sends fresh requests; adding or rotating ``api_key=`` beside it keeps the cache."""
    with FakeServer.start(models=["test-model"]) as server:
        def run(name: str, query: str) -> dict[str, Any]:
            mc = ModelConfig(model=f"openai-compatible:test-model@{server.openai_base_url}{query}")
            return evaluate(mc, [TASK], limit=N, out=tmp_path / name, data_dir=trustllm_dir).run.requests

        assert run("a", "?api-version=2024-02-01")["sent"] == N
        assert run("b", "?api-version=2025-01-01")["sent"] == N  # was served from the cache
        assert run("c", "?api-version=2025-01-01&api_key=k1-AAAAAAAAAAAAAAAA")["cached"] == N
        assert run("d", "?api_key=k2-BBBBBBBBBBBBBBBB&api-version=2025-01-01")["cached"] == N
        assert server.stats()["requests"] == 2 * N
    # a URL without a query keeps the key earlier versions computed
    cfg = ModelConfig(model="openai-compatible:m@http://127.0.0.1:9/v1?api_key=k-123456789")
    ident = OpenAICompatModel("m", "http://127.0.0.1:9/v1?api_key=k-123456789", None, cfg).identity()
    assert "query_sha256" not in ident
