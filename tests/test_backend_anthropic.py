"""The anthropic: backend against real local HTTP servers speaking the Messages protocol."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anthropic")

from fake_server import FakeServer, free_port
from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError, PermanentModelError, TransientModelError
from trustgauge.models.registry import load_model
from trustgauge.types import ChatMessage, GenerationParams, Request

SECRET = "sk-ant-test-SECRET-0123456789"


def _model(
    base_url: str, monkeypatch: pytest.MonkeyPatch, name: str = "claude-test", **cfg: Any
) -> Any:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    return load_model(ModelConfig(model=f"anthropic:{name}", base_url=base_url, **cfg))


def _run(model: Any, *requests: Request) -> Any:
    async def go() -> Any:
        try:
            return await model.generate(list(requests))
        finally:
            await model.aclose()

    return asyncio.run(go())


def _check(model: Any) -> None:
    async def go() -> None:
        try:
            await model.check()
        finally:
            await model.aclose()

    asyncio.run(go())


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    srv = FakeServer.start(
        models=["claude-test"], replies=[["capital of France", "Paris is the capital."]]
    )
    try:
        yield srv
    finally:
        srv.stop()


class _Recorder:
    """A stdlib HTTP server that records request bodies and answers like the Messages API;
    ``models_status`` sets the status of ``GET /v1/models/{id}``."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.models_status = 200
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                recorder.headers.append(dict(self.headers))
                status = recorder.models_status
                if status == 200:
                    self._send(
                        200,
                        {
                            "type": "model",
                            "id": self.path.rsplit("/", 1)[-1],
                            "display_name": "x",
                            "created_at": "2024-01-01T00:00:00Z",
                        },
                    )
                else:
                    kind = {401: "authentication_error", 404: "not_found_error"}.get(
                        status, "api_error"
                    )
                    self._send(
                        status, {"type": "error", "error": {"type": kind, "message": "nope"}}
                    )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                recorder.bodies.append(body)
                recorder.headers.append(dict(self.headers))
                self._send(
                    200,
                    {
                        "id": "msg_1",
                        "type": "message",
                        "role": "assistant",
                        "model": body["model"],
                        "content": [
                            {"type": "text", "text": "Hello"},
                            {"type": "text", "text": " there"},
                        ],
                        "stop_reason": "end_turn",
                        "stop_sequence": None,
                        "usage": {"input_tokens": 11, "output_tokens": 2},
                    },
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    rec = _Recorder()
    try:
        yield rec
    finally:
        rec.stop()


def test_reply_parsed_with_usage(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(fake.anthropic_base_url, monkeypatch)
    [resp] = _run(model, Request.user("What is the capital of France?"))
    assert resp.text == "Paris is the capital."
    assert resp.finish_reason == "end_turn"
    assert resp.usage.input_tokens == 6  # the fake server counts words
    assert resp.usage.output_tokens == 4
    assert resp.model == "claude-test"
    assert fake.stats()["by_endpoint"].get("messages") == 1
    assert fake.stats()["saw_auth"] is True


def test_system_and_params_go_where_anthropic_wants_them(
    recorder: _Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model(recorder.base_url, monkeypatch, headers={"X-Team": "evals"})
    request = Request(
        messages=(
            ChatMessage(role="system", content="Be terse."),
            ChatMessage(role="user", content="Hi"),
        ),
        params=GenerationParams(temperature=0.7, max_tokens=33, top_p=0.9, stop=("END",)),
    )
    [resp] = _run(model, request)
    assert resp.text == "Hello there"
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (11, 2)
    [body] = recorder.bodies
    assert body["system"] == "Be terse."
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    assert body["temperature"] == 0.7
    assert body["top_p"] == 0.9
    assert body["max_tokens"] == 33
    assert body["stop_sequences"] == ["END"]
    headers = {k.lower(): v for k, v in recorder.headers[0].items()}
    # the key travels as x-api-key (classic SDKs) or as a bearer token (recent SDKs)
    assert SECRET in (
        headers.get("x-api-key"),
        headers.get("authorization", "").removeprefix("Bearer "),
    )
    assert headers["x-team"] == "evals"
    assert headers["x-stainless-retry-count"] == "0"


def test_no_system_param_without_system_message(
    recorder: _Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(_model(recorder.base_url, monkeypatch), Request.user("Hi"))
    assert "system" not in recorder.bodies[0]
    assert "top_p" not in recorder.bodies[0]
    assert recorder.bodies[0]["temperature"] == 0.0


def test_429_is_transient_with_retry_after(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.configure(fail_first_n=1, faults=["429"], retry_after=7)
    model = _model(fake.anthropic_base_url, monkeypatch)
    with pytest.raises(TransientModelError) as info:
        _run(model, Request.user("hello"))
    assert info.value.retry_after == 7.0
    assert info.value.overload is True
    assert fake.stats()["requests"] == 1  # the SDK did not retry by itself


@pytest.mark.parametrize(("fault", "overload"), [("529", True), ("503", True), ("500", False)])
def test_5xx_transient(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch, fault: str, overload: bool
) -> None:
    fake.configure(fail_first_n=1, faults=[fault])
    with pytest.raises(TransientModelError) as info:
        _run(_model(fake.anthropic_base_url, monkeypatch), Request.user("hello"))
    assert info.value.overload is overload
    assert fault in str(info.value)


@pytest.mark.parametrize("fault", ["truncated_json", "garbage", "drop"])
def test_malformed_and_dropped_are_transient(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    fake.configure(fail_first_n=1, faults=[fault])
    with pytest.raises(TransientModelError):
        _run(_model(fake.anthropic_base_url, monkeypatch), Request.user("hello"))


def test_timeout_is_transient(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.configure(fail_first_n=1, faults=["hang"], hang_seconds=5)
    with pytest.raises(TransientModelError, match="timeout"):
        _run(_model(fake.anthropic_base_url, monkeypatch, timeout=0.5), Request.user("hello"))


def test_client_errors_are_permanent(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PermanentModelError, match="404"):  # unknown model
        _run(_model(fake.anthropic_base_url, monkeypatch, name="claude-nope"), Request.user("hi"))
    fake.configure(api_key="another-key")
    with pytest.raises(PermanentModelError, match="401"):
        _run(_model(fake.anthropic_base_url, monkeypatch), Request.user("hi"))


def test_missing_key_is_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        load_model(ModelConfig(model="anthropic:claude-test"))


def test_key_file_and_base_url_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeServer
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.anthropic_base_url)
    key_file = tmp_path / "key"
    key_file.write_text(SECRET + "\n")
    fake.configure(api_key=SECRET)
    model = load_model(ModelConfig(model="anthropic:claude-test", api_key_file=key_file))
    assert model.identity()["base_url"] == fake.anthropic_base_url
    [resp] = _run(model, Request.user("capital of France"))
    assert resp.text == "Paris is the capital."


def test_key_never_in_repr_or_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(f"https://user:{SECRET}@api.example.com/?key={SECRET}", monkeypatch)
    identity = model.identity()
    assert identity == {
        "backend": "anthropic",
        "model": "claude-test",
        "base_url": "https://api.example.com",
    }
    for text in (repr(model), json.dumps(identity), model.describe()):
        assert SECRET not in text


def test_check_maps_failures_to_config_errors(
    recorder: _Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(_model(recorder.base_url, monkeypatch))  # 200: fine
    recorder.models_status = 401
    with pytest.raises(ConfigError, match="rejected the API key") as info:
        _check(_model(recorder.base_url, monkeypatch))
    assert SECRET not in str(info.value)
    recorder.models_status = 404
    with pytest.raises(ConfigError, match="unknown model 'claude-test'"):
        _check(_model(recorder.base_url, monkeypatch))
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConfigError, match="cannot reach") as info:
        _check(_model(closed, monkeypatch))
    assert closed in str(info.value)
    assert "\n" not in str(info.value)


def test_check_passes_when_server_has_no_model_endpoint(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(_model(fake.anthropic_base_url, monkeypatch))  # the fake server has no /v1/models/{id}
