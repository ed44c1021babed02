"""Every network caller on the one retry mechanism (issue 13 step 7), against real HTTP servers
on 127.0.0.1: downloads (503 twice then 200, a connection dropped mid-file, Retry-After, a
permanent 404), Perspective (429 with Retry-After, its delay sequence, the engine's Limiter),
the hub probe (a timeout, then an answer), the OpenAI embeddings judge, and retry_sync itself.

Hand-computed waits use ``random.Random(0)``'s first draws (0.8444218515250481,
0.7579544029403025, 0.420571580830845)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from local_http import serving
from trustgauge.data import download as download_mod
from trustgauge.data.cache import DataCache
from trustgauge.data.sources import PinnedFile
from trustgauge.errors import DataError, PermanentModelError
from trustgauge.net import http as net_http
from trustgauge.net.retry import Permanent, RetryPolicy, Transient, retry_sync
from trustgauge.types import JudgeItem

pytestmark = pytest.mark.timeout(120)

R0 = (0.8444218515250481, 0.7579544029403025, 0.420571580830845)
FAST = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=5.0, timeout=10.0)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: send the full Content-Length but only half the body, then close
    drop: bool = False


@dataclass
class Scripted:
    """Answers requests with ``replies`` in order (the last one repeats); counts them."""

    replies: list[Reply]
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def next(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    state = Scripted([Reply()])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            state.requests.append(f"{self.command} {self.path}")
            reply = state.next()
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            if reply.drop:
                self.send_header("Connection", "close")
            self.end_headers()
            if reply.drop:
                self.wfile.write(reply.body[: len(reply.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(reply.body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as url:
        state.url = url
        yield state


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataCache:
    monkeypatch.setenv("TRUSTGAUGE_HOME", str(tmp_path / "home"))
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(download_mod, "DOWNLOAD_POLICY", FAST)
    return DataCache(tmp_path / "cache")


BODY = json.dumps([{"q": i, "pad": "x" * 200} for i in range(40)]).encode()


def _source(url: str) -> PinnedFile:
    return PinnedFile(
        id="toyfile", url=f"{url}/files/items.json", sha256=hashlib.sha256(BODY).hexdigest(),
        size_bytes=len(BODY), files={"items.json": 40},
    )


def _installed(cache: DataCache) -> list[Path]:
    return [p for p in cache.root.rglob("*") if p.is_file()] if cache.root.exists() else []


# --------------------------------------------------------------------------- downloads


def test_download_503_twice_then_succeeds(scripted: Scripted, cache: DataCache) -> None:
    scripted.replies = [Reply(503, b"busy"), Reply(503, b"busy"), Reply(200, BODY)]
    path = _source(scripted.url).fetch(cache, progress=False)
    assert (path / "items.json").read_bytes() == BODY
    assert scripted.requests == ["GET /files/items.json"] * 3


def test_download_dropped_mid_file_restarts_from_the_first_byte(
    scripted: Scripted, cache: DataCache
) -> None:
    # the first answer stops half-way: the retry rewrites the file (not appends to it) and
    # the SHA-256 of the whole is checked again
    scripted.replies = [Reply(200, BODY, drop=True), Reply(200, BODY)]
    path = _source(scripted.url).fetch(cache, progress=False)
    assert (path / "items.json").read_bytes() == BODY
    assert len(scripted.requests) == 2


def test_download_honours_retry_after(scripted: Scripted, cache: DataCache) -> None:
    scripted.replies = [Reply(503, b"", {"Retry-After": "1"}), Reply(200, BODY)]
    t0 = time.monotonic()
    _source(scripted.url).fetch(cache, progress=False)
    assert time.monotonic() - t0 >= 0.9  # the server's 1 s, not the policy's 0.01 s
    assert len(scripted.requests) == 2


def test_download_gives_up_with_one_line(scripted: Scripted, cache: DataCache) -> None:
    scripted.replies = [Reply(503, b"busy")]
    with pytest.raises(DataError) as info:
        _source(scripted.url).fetch(cache, progress=False)
    message = str(info.value)
    assert "(HTTP 503 Service Unavailable (gave up after 3 attempts));" in message
    assert "\n" not in message and len(scripted.requests) == 3
    assert _installed(cache) == []  # no half file, no staging left


def test_download_404_is_one_attempt_one_line(scripted: Scripted, cache: DataCache) -> None:
    scripted.replies = [Reply(404, b"not found")]
    with pytest.raises(DataError) as info:
        _source(scripted.url).fetch(cache, progress=False)
    message = str(info.value)
    assert f"from {scripted.url}/files/items.json (HTTP 404 Not Found);" in message
    assert "gave up" not in message and "\n" not in message
    assert scripted.requests == ["GET /files/items.json"]
    assert _installed(cache) == []


def test_cli_download_404_is_one_attempt_one_line(scripted: Scripted, tmp_path: Path) -> None:
    from conftest import cli_env

    scripted.replies = [Reply(404, b"not found")]
    url = f"{scripted.url}/dataset.zip"
    env = cli_env(tmp_path / "home", TRUSTGAUGE_TRUSTLLM_URL=url)
    res = subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", "data", "fetch", "trustllm"],
        env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "HTTP 404" in lines[0]
    assert scripted.requests == ["GET /dataset.zip"]


# --------------------------------------------------------------------------- Perspective

KEY = "pk-fake-perspective-0a1b2c3d4e5f"
SCORE = {"attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.8}}}}


def _perspective(url: str, monkeypatch: pytest.MonkeyPatch, **options: object) -> object:
    from trustgauge.judges.toxicity_perspective import PerspectiveToxicityJudge

    monkeypatch.setenv("PERSPECTIVE_API_KEY", KEY)
    options = {"qps": 1000.0, "backoff_base": 0.01, "timeout": 10.0, **options}
    return PerspectiveToxicityJudge(base_url=url, **options)  # type: ignore[arg-type]


def _judge(judge: object, texts: list[str]) -> list[object]:
    return asyncio.run(judge.judge([JudgeItem(prompt="p", response=t) for t in texts]))  # type: ignore[attr-defined]


def test_perspective_429_waits_for_retry_after(
    scripted: Scripted, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted.replies = [
        Reply(429, b'{"error": {"message": "quota"}}', {"Retry-After": "0.5"}),
        Reply(200, json.dumps(SCORE).encode()),
    ]
    t0 = time.monotonic()
    (j,) = _judge(_perspective(scripted.url, monkeypatch), ["you idiot"])
    elapsed = time.monotonic() - t0
    assert (j.label, j.score) == ("toxic", 0.8)  # type: ignore[attr-defined]
    assert 0.45 <= elapsed < 5
    assert scripted.requests == ["POST /v1alpha1/comments:analyze"] * 2


def test_perspective_retry_after_is_capped_by_max_backoff(
    scripted: Scripted, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted.replies = [Reply(429, b"{}", {"Retry-After": "3600"}), Reply(200, json.dumps(SCORE).encode())]
    t0 = time.monotonic()
    _judge(_perspective(scripted.url, monkeypatch, max_backoff=0.3), ["x"])
    assert 0.25 <= time.monotonic() - t0 < 5


def test_perspective_delay_sequence_is_the_old_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """backoff_base * 2**(n-1) * (0.5 + 0.5 r), capped; Retry-After capped, no jitter."""
    judge = _perspective("http://127.0.0.1:9", monkeypatch, backoff_base=1.0, max_backoff=3.0)
    policy = judge._policy  # type: ignore[attr-defined]
    rng = random.Random(0)
    got = [policy.delay(n, None, rng) for n in (1, 2, 3)]
    expected = [1 * (0.5 + 0.5 * R0[0]), 2 * (0.5 + 0.5 * R0[1]), 3 * (0.5 + 0.5 * R0[2])]
    assert got == pytest.approx(expected, abs=1e-12)
    assert got == pytest.approx([0.9222109257625241, 1.7579544029403025, 2.1308573712462675])
    assert policy.delay(1, 100.0, rng) == 3.0 and policy.delay(1, 0.25, rng) == 0.25


def test_perspective_concurrency_is_the_engines_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    from fake_server import FakeServer
    from trustgauge.engine import limiter as limiter_mod

    made: list[limiter_mod.Limiter] = []

    class Spy(limiter_mod.Limiter):
        def __init__(self, limit: int) -> None:
            super().__init__(limit)
            made.append(self)

    from trustgauge.judges import toxicity_perspective

    monkeypatch.setattr(toxicity_perspective, "Limiter", Spy)
    srv = FakeServer.start(api_key=KEY)
    try:
        srv.configure(latency=0.1)
        judge = _perspective(srv.base_url, monkeypatch, max_concurrency=2)
        _judge(judge, [f"text {i}" for i in range(6)])
        assert srv.stats()["max_in_flight"] <= 2
    finally:
        srv.stop()
    assert len(made) == 1 and made[0].max_in_flight == 2 and made[0].in_flight == 0


# --------------------------------------------------------------------------- hub probe


@dataclass
class Hub:
    """A hub that never answers its first ``silent`` connections, then answers 200."""

    silent: int
    url: str = ""
    connections: int = 0
    held: list[socket.socket] = field(default_factory=list)


@pytest.fixture
def hub() -> Iterator[Hub]:
    state = Hub(silent=1)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            state.connections += 1
            if state.connections <= state.silent:
                state.held.append(conn)  # accepted, never answered
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.getsockname()[1]}"
    try:
        yield state
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
        for conn in state.held:
            conn.close()


def test_probe_times_out_then_answers(hub: Hub) -> None:
    t0 = time.monotonic()
    assert net_http.probe(f"{hub.url}/api/models/x", name=hub.url, timeout=0.5) is None
    assert hub.connections == 2
    assert 0.5 <= time.monotonic() - t0 < 5  # one timeout, a short wait, an answer


def test_probe_that_never_answers_says_so(hub: Hub) -> None:
    hub.silent = 10
    reason = net_http.probe(f"{hub.url}/api/models/x", name="THE-HUB", timeout=0.3)
    assert reason == "no answer from THE-HUB within 0.3 s (gave up after 2 attempts)"
    assert hub.connections == 2


def test_longformer_probe_times_out_then_answers(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    from trustgauge.judges import refusal_longformer

    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(refusal_longformer, "PROBE_TIMEOUT", 0.5)
    assert refusal_longformer._probe_hub("LibrAI/longformer-harmful-ro") is None
    assert hub.connections == 2


# --------------------------------------------------------------------------- OpenAI embeddings


def _embeddings(vectors: list[list[float]]) -> bytes:
    return json.dumps({
        "object": "list", "model": "m",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }).encode()


def test_openai_embeddings_retry_429_then_answer(
    scripted: Scripted, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trustgauge.judges.similarity import OpenAISimilarityJudge

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-embeddings-000")
    scripted.replies = [
        Reply(429, b'{"error": {"message": "slow down"}}', {"Retry-After": "0.3", "Content-Type": "application/json"}),
        Reply(200, _embeddings([[1.0, 0.0], [0.0, 1.0]]), {"Content-Type": "application/json"}),
    ]
    judge = OpenAISimilarityJudge(base_url=f"{scripted.url}/v1")
    t0 = time.monotonic()
    out = asyncio.run(judge.embed(["a", "b"]))
    assert time.monotonic() - t0 >= 0.25
    assert out.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert scripted.requests == ["POST /v1/embeddings"] * 2


def test_openai_embeddings_400_is_one_attempt(
    scripted: Scripted, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trustgauge.judges.similarity import OpenAISimilarityJudge

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-embeddings-000")
    scripted.replies = [Reply(400, b'{"error": {"message": "bad input"}}', {"Content-Type": "application/json"})]
    judge = OpenAISimilarityJudge(base_url=f"{scripted.url}/v1")
    with pytest.raises(PermanentModelError, match="embeddings request failed"):
        asyncio.run(judge.embed(["a"]))
    assert len(scripted.requests) == 1


# --------------------------------------------------------------------------- retry_sync


def test_retry_sync_waits_like_retry_and_gives_up_the_same_way() -> None:
    sleeps: list[float] = []
    retried: list[int] = []

    def attempt(n: int) -> str:
        raise ConnectionError(f"down {n}")

    def classify(exc: Exception) -> Transient | Permanent:
        return Transient(str(exc))

    policy = RetryPolicy(max_retries=2, base_delay=1.0, max_delay=60.0)
    out = retry_sync(attempt, classify, policy, rng=random.Random(0),
                     on_retry=lambda n, _f: retried.append(n), sleep=sleeps.append)
    # base * 2**(n-1) * uniform(0.5, 1.5)
    assert sleeps == pytest.approx([1 * (0.5 + R0[0]), 2 * (0.5 + R0[1])])
    assert retried == [1, 2]
    assert (out.ok, out.error, out.attempts) == (False, "down 3 (gave up after 3 attempts)", 3)

    calls: list[int] = []

    def permanent(n: int) -> str:
        calls.append(n)
        raise ValueError("no")

    out = retry_sync(permanent, lambda e: Permanent(f"bad: {e}"), policy, sleep=sleeps.append)
    assert (out.error, out.attempts, calls) == ("bad: no", 1, [1])
    assert retry_sync(lambda n: n * 10, classify, policy).value == 10


def test_classify_exception_by_status_then_transport() -> None:
    class Response:
        def __init__(self, status: int, headers: dict[str, str]) -> None:
            self.status_code, self.headers = status, headers

    class HubError(Exception):
        def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
            super().__init__(f"status {status}")
            self.response = Response(status, headers or {})

    class ReadTimeout(Exception):
        pass

    busy = net_http.classify_exception(HubError(503, {"retry-after": "7"}))
    assert busy == Transient("HubError", retry_after=7.0, overload=True)
    assert net_http.classify_exception(HubError(404)) == Permanent("HubError")
    assert net_http.classify_exception(HubError(500), "why") == Transient("why")
    assert net_http.classify_exception(ReadTimeout()) == Transient("ReadTimeout")
    assert net_http.classify_exception(ConnectionResetError()) == Transient("ConnectionResetError")
    assert net_http.classify_exception(ValueError("x")) == Permanent("ValueError")
