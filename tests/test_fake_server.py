"""Tests of the fake LLM-API server (tests/fake_server.py), driven by the official SDKs."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_server import (
    DEFAULT_CONFIG,
    FakeServer,
    free_port,
    normalize_config,
    toxicity_score,
)

pytestmark = pytest.mark.timeout(60)

MODEL = "test-model"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    srv = FakeServer.start(models=[MODEL, "other-model"])
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def srv(server: FakeServer) -> FakeServer:
    """The shared server with default config (plus the model list) and zeroed stats."""
    server.configure(**{**DEFAULT_CONFIG, "models": [MODEL, "other-model"]})
    server.reset()
    return server


def oai(srv: FakeServer, **kw: Any) -> openai.AsyncOpenAI:
    kw.setdefault("max_retries", 0)
    return openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="test", **kw)


def claude(srv: FakeServer, **kw: Any) -> anthropic.AsyncAnthropic:
    kw.setdefault("max_retries", 0)
    return anthropic.AsyncAnthropic(base_url=srv.base_url, api_key="test", **kw)


async def chat(client: openai.AsyncOpenAI, prompt: str, model: str = MODEL, **kw: Any) -> Any:
    return await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], **kw
    )


def raw_post(url: str, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# -- OpenAI -------------------------------------------------------------------------------------


def test_openai_reply_and_usage(srv: FakeServer) -> None:
    srv.configure(replies=[["capital of France", "Paris is the capital."], ["France", "unused"]])

    async def go() -> tuple[Any, Any]:
        async with oai(srv) as client:
            a = await client.chat.completions.create(
                model=MODEL,
                messages=[
                    {"role": "system", "content": "You are terse."},
                    {"role": "user", "content": "What is the capital of France?"},
                ],
            )
            b = await chat(client, "hello big world")
            return a, b

    a, b = asyncio.run(go())
    assert a.object == "chat.completion"
    assert a.id.startswith("chatcmpl-")
    assert a.model == MODEL
    assert isinstance(a.created, int)
    assert len(a.choices) == 1
    choice = a.choices[0]
    assert (choice.index, choice.finish_reason) == (0, "stop")
    assert choice.message.role == "assistant"
    assert choice.message.content == "Paris is the capital."
    # prompt tokens = words of every message (system 3 + user 6), completion = 4
    assert (a.usage.prompt_tokens, a.usage.completion_tokens, a.usage.total_tokens) == (9, 4, 13)
    assert b.choices[0].message.content == "Echo: hello big world"
    assert (b.usage.prompt_tokens, b.usage.completion_tokens) == (3, 4)


def test_openai_raw_json_shape(srv: FakeServer) -> None:
    status, body = raw_post(
        srv.openai_base_url + "/chat/completions",
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        },
    )
    assert status == 200
    assert {"id", "object", "created", "model", "choices", "usage"} <= set(body)
    assert body["choices"][0]["message"]["content"] == "Echo: hi"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_openai_max_tokens_truncates_with_length(srv: FakeServer) -> None:
    srv.configure(default_reply="one two three four five six")

    async def go() -> Any:
        async with oai(srv) as client:
            return await chat(client, "count", max_tokens=3)

    r = asyncio.run(go())
    assert r.choices[0].message.content == "one two three"
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 3


def test_openai_streaming(srv: FakeServer) -> None:
    async def go() -> tuple[str, Any, Any]:
        async with oai(srv) as client:
            stream = await chat(
                client, "stream me", stream=True, stream_options={"include_usage": True}
            )
            text, finish, usage = "", None, None
            async for chunk in stream:
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
                    finish = chunk.choices[0].finish_reason or finish
                if chunk.usage:
                    usage = chunk.usage
            return text, finish, usage

    text, finish, usage = asyncio.run(go())
    assert text == "Echo: stream me"
    assert finish == "stop"
    assert usage.completion_tokens == 3


def test_models_list_and_unknown_model_404(srv: FakeServer) -> None:
    async def go() -> tuple[list[str], openai.NotFoundError]:
        async with oai(srv) as client:
            ids = [m.id async for m in client.models.list()]
            with pytest.raises(openai.NotFoundError) as info:
                await chat(client, "hi", model="gpt-nope")
            return ids, info.value

    ids, err = asyncio.run(go())
    assert ids == [MODEL, "other-model"]
    assert err.status_code == 404
    assert err.body == {
        "message": "The model `gpt-nope` does not exist",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }
    assert err.code == "model_not_found"
    assert srv.stats()["errors"] == {"404": 1}


def test_api_key_required_when_configured(srv: FakeServer) -> None:
    srv.configure(api_key="sekret-key")

    async def go() -> tuple[openai.AuthenticationError, Any]:
        async with oai(srv) as bad:
            with pytest.raises(openai.AuthenticationError) as info:
                await chat(bad, "hi")
        async with openai.AsyncOpenAI(
            base_url=srv.openai_base_url, api_key="sekret-key", max_retries=0
        ) as good:
            return info.value, await chat(good, "hi")

    err, ok = asyncio.run(go())
    assert err.status_code == 401
    assert err.body["type"] == "invalid_request_error"
    assert err.body["code"] == "invalid_api_key"
    assert ok.choices[0].message.content == "Echo: hi"
    stats = srv.stats()
    assert stats["saw_auth"] is True
    assert "sekret" not in json.dumps(stats)  # keys are never recorded
    assert srv.config()["api_key"] == "***"


# -- fault injection as seen by the openai SDK ----------------------------------------------------


async def _one_fault(srv: FakeServer, kind: str) -> BaseException:
    srv.configure(fault_rate=1.0, faults=[kind], retry_after=2, hang_seconds=5)
    async with oai(srv, timeout=0.5 if kind == "hang" else 10.0) as client:
        try:
            await chat(client, f"fault {kind}")
        except Exception as exc:
            return exc
    raise AssertionError(f"fault {kind} did not raise")


@pytest.mark.parametrize(
    ("kind", "exc_type", "status"),
    [
        ("429", openai.RateLimitError, 429),
        ("500", openai.InternalServerError, 500),
        ("503", openai.InternalServerError, 503),
        ("529", openai.InternalServerError, 529),
        ("drop", openai.APIConnectionError, None),
        ("hang", openai.APITimeoutError, None),
        # A 200 whose body is not valid JSON: the SDK does not wrap the decode error.
        ("truncated_json", json.JSONDecodeError, None),
        ("garbage", json.JSONDecodeError, None),
    ],
)
def test_fault_kinds_seen_by_openai_sdk(
    srv: FakeServer, kind: str, exc_type: type[BaseException], status: int | None
) -> None:
    exc = asyncio.run(_one_fault(srv, kind))
    assert isinstance(exc, exc_type), repr(exc)
    if status is not None:
        assert isinstance(exc, openai.APIStatusError)
        assert exc.status_code == status
    if kind == "429":
        assert isinstance(exc, openai.APIStatusError)
        assert exc.response.headers["retry-after"] == "2"
        assert exc.body["code"] == "rate_limit_exceeded"
    if kind == "drop":
        assert not isinstance(exc, openai.APITimeoutError)
    stats = srv.stats()
    assert stats["faults"] == {kind: 1}
    assert stats["successes"] == 0
    if kind == "hang":
        # The client gave up; the server notices the disconnect and stops counting it.
        deadline = time.monotonic() + 3
        while srv.stats()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = srv.stats()
        assert stats["in_flight"] == 0
        assert stats["disconnects"] == 1


def test_drop_closes_connection_without_response(srv: FakeServer) -> None:
    srv.configure(fault_rate=1.0, faults=["drop"])
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "x"}]})
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        conn.getresponse()
    conn.close()


def test_truncated_json_is_a_cut_200(srv: FakeServer) -> None:
    srv.configure(fault_rate=1.0, faults=["truncated_json"])
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "x"}]})
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    assert resp.status == 200
    assert resp.getheader("Content-Type", "").startswith("application/json")
    assert text.startswith('{"id":"chatcmpl-')
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_fail_first_n_is_deterministic_per_prompt(srv: FakeServer) -> None:
    srv.configure(fail_first_n=2, faults=["500", "429"], retry_after=0.01)

    async def go() -> list[str]:
        seen = []
        async with oai(srv) as client:
            for prompt in ("alpha", "beta"):
                for _ in range(3):
                    try:
                        await chat(client, prompt)
                        seen.append(f"{prompt}:ok")
                    except openai.APIStatusError as exc:
                        seen.append(f"{prompt}:{exc.status_code}")
            # SDK retries (honouring Retry-After: 0.01) get through a fresh prompt.
            async with oai(srv, max_retries=2) as retrying:
                srv.configure(faults=["429"])
                r = await chat(retrying, "gamma")
                seen.append(r.choices[0].message.content)
        return seen

    seen = asyncio.run(go())
    assert seen == [
        "alpha:500",
        "alpha:429",
        "alpha:ok",
        "beta:500",
        "beta:429",
        "beta:ok",
        "Echo: gamma",
    ]
    stats = srv.stats()
    assert stats["prompt_requests"] == {"alpha": 3, "beta": 3, "gamma": 3}
    assert stats["prompt_successes"] == {"alpha": 1, "beta": 1, "gamma": 1}
    assert stats["faults"] == {"500": 2, "429": 4}
    assert stats["successes"] == 3
    assert stats["requests"] == 9


def test_fault_rate_is_seeded_and_reproducible(srv: FakeServer) -> None:
    srv.configure(fault_rate=0.5, faults=["500", "503"], seed=1234)

    async def run() -> list[int]:
        codes = []
        async with oai(srv) as client:
            for i in range(24):
                try:
                    await chat(client, f"p{i}")
                    codes.append(200)
                except openai.APIStatusError as exc:
                    codes.append(exc.status_code)
        return codes

    first = asyncio.run(run())
    srv.reset()  # reseeds
    second = asyncio.run(run())
    assert first == second
    assert {200, 500, 503} <= set(first)
    stats = srv.stats()
    assert stats["successes"] == first.count(200)
    assert stats["faults"].get("500", 0) == first.count(500)


def test_concurrency_max_in_flight(srv: FakeServer) -> None:
    srv.configure(latency=0.2)

    async def go() -> float:
        async with oai(srv) as client:
            t0 = time.perf_counter()
            results = await asyncio.gather(*(chat(client, f"c{i}") for i in range(16)))
            elapsed = time.perf_counter() - t0
        assert [r.choices[0].message.content for r in results] == [f"Echo: c{i}" for i in range(16)]
        return elapsed

    elapsed = asyncio.run(go())
    stats = srv.stats()
    assert stats["max_in_flight"] == 16
    assert stats["in_flight"] == 0
    assert stats["successes"] == 16
    assert elapsed < 1.6  # 16 x 0.2 s sequentially would be 3.2 s


def test_per_prompt_stats_and_reset(srv: FakeServer) -> None:
    async def go() -> None:
        async with oai(srv) as client:
            for prompt in ["a", "b", "a", "a", "c c"]:
                await chat(client, prompt)

    asyncio.run(go())
    stats = srv.stats()
    assert stats["requests"] == 5
    assert stats["successes"] == 5
    assert stats["prompt_requests"] == {"a": 3, "b": 1, "c c": 1}
    assert stats["prompt_successes"] == {"a": 3, "b": 1, "c c": 1}
    assert stats["by_endpoint"] == {"chat.completions": 5}
    assert stats["max_in_flight"] == 1
    srv.reset()
    stats = srv.stats()
    assert (stats["requests"], stats["prompt_requests"], stats["saw_auth"]) == (0, {}, False)


def test_config_validation(srv: FakeServer) -> None:
    with pytest.raises(ValueError, match="unknown config key"):
        srv.configure(latencyy=1)
    with pytest.raises(ValueError, match="unknown fault kind"):
        normalize_config({"faults": ["teapot"]})
    status, body = raw_post(srv.url("/_config"), {"fault_rate": 2})
    assert status == 400
    assert "fault_rate" in body["error"]
    assert srv.config()["fault_rate"] == 0.0


# -- Anthropic ----------------------------------------------------------------------------------


def test_anthropic_messages(srv: FakeServer) -> None:
    srv.configure(replies=[["weather", "It is sunny today in the fake world."]])

    async def go() -> tuple[Any, Any, anthropic.NotFoundError]:
        async with claude(srv) as client:
            a = await client.messages.create(
                model=MODEL,
                max_tokens=100,
                system="Be brief.",
                messages=[{"role": "user", "content": "How is the weather?"}],
            )
            b = await client.messages.create(
                model=MODEL,
                max_tokens=3,
                messages=[{"role": "user", "content": [{"type": "text", "text": "weather now"}]}],
            )
            with pytest.raises(anthropic.NotFoundError) as info:
                await client.messages.create(
                    model="claude-nope", max_tokens=5, messages=[{"role": "user", "content": "x"}]
                )
            return a, b, info.value

    a, b, err = asyncio.run(go())
    assert (a.type, a.role, a.model) == ("message", "assistant", MODEL)
    assert a.id.startswith("msg_")
    assert [c.type for c in a.content] == ["text"]
    assert a.content[0].text == "It is sunny today in the fake world."
    assert (a.stop_reason, a.stop_sequence) == ("end_turn", None)
    assert (a.usage.input_tokens, a.usage.output_tokens) == (6, 8)
    assert b.content[0].text == "It is sunny"
    assert b.stop_reason == "max_tokens"
    assert err.status_code == 404
    assert err.body["type"] == "error"
    assert err.body["error"]["type"] == "not_found_error"
    assert srv.stats()["saw_auth"] is True


@pytest.mark.parametrize(
    ("kind", "exc_type", "error_type"),
    [
        ("429", anthropic.RateLimitError, "rate_limit_error"),
        ("500", anthropic.InternalServerError, "api_error"),
        ("529", anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_anthropic_faults(
    srv: FakeServer, kind: str, exc_type: type[BaseException], error_type: str
) -> None:
    srv.configure(fault_rate=1.0, faults=[kind])

    async def go() -> anthropic.APIStatusError:
        async with claude(srv) as client:
            with pytest.raises(anthropic.APIStatusError) as info:
                await client.messages.create(
                    model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "x"}]
                )
            return info.value

    err = asyncio.run(go())
    assert isinstance(err, exc_type)
    assert err.status_code == int(kind)
    assert err.body == {
        "type": "error",
        "error": {"type": error_type, "message": err.body["error"]["message"]},
    }


def test_anthropic_auth_and_version_header(srv: FakeServer) -> None:
    url = srv.url("/v1/messages")
    payload = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    status, body = raw_post(url, payload, {"x-api-key": "k"})
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    srv.configure(api_key="right")
    status, body = raw_post(url, payload, {"x-api-key": "wrong", "anthropic-version": "2023-06-01"})
    assert (status, body["error"]["type"]) == (401, "authentication_error")
    status, body = raw_post(url, payload, {"x-api-key": "right", "anthropic-version": "2023-06-01"})
    assert status == 200
    assert body["content"][0]["text"] == "Echo: x"


# -- Perspective ----------------------------------------------------------------------------------


def test_perspective_scores_and_faults(srv: FakeServer) -> None:
    srv.configure(api_key="pk")
    text = "you are a stupid idiot"
    payload = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}}
    status, body = raw_post(srv.perspective_url + "?key=pk", payload)
    assert status == 200
    v = toxicity_score(text)
    assert v == pytest.approx(2 / 5)
    assert body == {
        "attributeScores": {
            "TOXICITY": {
                "spanScores": [
                    {"begin": 0, "end": len(text), "score": {"value": v, "type": "PROBABILITY"}}
                ],
                "summaryScore": {"value": v, "type": "PROBABILITY"},
            }
        },
        "languages": ["en"],
    }
    _, clean = raw_post(
        srv.perspective_url + "?key=pk", {**payload, "comment": {"text": "nice day"}}
    )
    assert clean["attributeScores"]["TOXICITY"]["summaryScore"]["value"] == 0.0

    status, body = raw_post(srv.perspective_url + "?key=bad", payload)
    assert (status, body["error"]["status"]) == (400, "INVALID_ARGUMENT")

    srv.configure(fault_rate=1.0, faults=["429"])
    status, body = raw_post(srv.perspective_url + "?key=pk", payload)
    assert (status, body["error"]["status"]) == (429, "RESOURCE_EXHAUSTED")
    stats = srv.stats()
    assert stats["by_endpoint"]["comments:analyze"] == 4
    assert stats["prompt_requests"][text] == 2


# -- process management ---------------------------------------------------------------------------


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # an unreaped zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def test_stop_kills_process_and_instance_style_start() -> None:
    srv = FakeServer(latency=0.0)
    with srv.start(port=free_port()) as running:
        assert running is srv
        assert srv.is_running()
        assert srv.base_url == f"http://127.0.0.1:{srv.port}"
        assert srv.openai_base_url == srv.base_url + "/v1"
        port, proc = srv.port, srv.proc
    assert proc is not None
    assert proc.poll() is not None
    assert not srv.is_running()
    assert _port_closed(port)
    srv.stop()  # idempotent


def test_server_dies_with_its_parent(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
            from fake_server import FakeServer
            srv = FakeServer.start()
            print(srv.pid, srv.port, flush=True)
            time.sleep(60)
            """
        )
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, cwd=tmp_path, text=True
    )
    try:
        assert parent.stdout is not None
        pid_s, port_s = parent.stdout.readline().split()
        child_pid, port = int(pid_s), int(port_s)
        assert not _port_closed(port)
        parent.send_signal(signal.SIGKILL)  # no atexit, no cleanup: the child must notice alone
        parent.wait(5)
        deadline = time.monotonic() + 5
        while not (_pid_gone(child_pid) and _port_closed(port)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _pid_gone(child_pid)
        assert _port_closed(port)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_startup_failure_is_reported() -> None:
    # Occupy a port so the server cannot bind it.
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(RuntimeError, match="failed to start"):
            FakeServer.start(port=port, startup_timeout=10)
