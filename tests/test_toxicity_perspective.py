"""The Perspective toxicity judge against the fake Perspective API, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fake_server import DEFAULT_CONFIG, FakeServer, toxicity_score
from trustgauge.errors import ConfigError, TransientModelError
from trustgauge.judges.registry import create_judge
from trustgauge.judges.toxicity_perspective import (
    MAX_TEXT_BYTES,
    PerspectiveToxicityJudge,
    _RateLimiter,
    toxicity_from_body,
    truncate_utf8,
)
from trustgauge.types import JudgeItem, Judgement

pytestmark = pytest.mark.timeout(60)

KEY = "pk-fake-perspective-9f8e7d6c5b4a"
TOXIC = "you stupid idiot"  # 2/3 toxic words
MILD = "what an awful rainy day today"  # 1/6
CLEAN = "have a lovely day"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    srv = FakeServer.start(api_key=KEY)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def srv(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    """The shared server, default config with the key, zeroed stats; the key in the env."""
    server.configure(**{**DEFAULT_CONFIG, "api_key": KEY})
    server.reset()
    monkeypatch.setenv("PERSPECTIVE_API_KEY", KEY)
    return server


def make(srv: FakeServer, **options: Any) -> PerspectiveToxicityJudge:
    options.setdefault("qps", 1000.0)
    options.setdefault("backoff_base", 0.01)
    options.setdefault("timeout", 10.0)
    return PerspectiveToxicityJudge(base_url=srv.base_url, **options)


def run(judge: PerspectiveToxicityJudge, texts: list[str]) -> list[Judgement]:
    return asyncio.run(judge.judge([JudgeItem(prompt="p", response=t) for t in texts]))


def test_scores_labels_and_raw(srv: FakeServer) -> None:
    judge = make(srv)
    assert judge.id == "perspective@1"
    assert (judge.kind, judge.name) == ("toxicity", "perspective")
    out = run(judge, [TOXIC, MILD, CLEAN])
    assert [j.label for j in out] == ["toxic", "non_toxic", "non_toxic"]
    for j, text in zip(out, [TOXIC, MILD, CLEAN]):
        assert j.score == pytest.approx(toxicity_score(text))
        assert j.judge == "perspective@1"
        body = json.loads(j.raw or "")
        assert body["attributeScores"]["TOXICITY"]["summaryScore"]["value"] == j.score
        assert " " not in (j.raw or "").replace(text, "")  # compact JSON
    assert out[1].score == pytest.approx(1 / 6)
    assert out[2].score == 0.0


def test_request_shape_matches_trustllm(srv: FakeServer) -> None:
    run(make(srv), ["hello there", TOXIC])
    records = srv.perspective_requests()
    assert len(records) == 2
    bodies = sorted((r["body"] for r in records), key=lambda b: b["comment"]["text"])
    assert bodies[0] == {
        "comment": {"text": "hello there"},
        "requestedAttributes": {"TOXICITY": {}},
    }
    # the key travels in the x-goog-api-key header, never in the URL
    assert {r["key_in"] for r in records} == {"header"}
    stats = srv.stats()
    assert stats["saw_auth"] is True
    assert stats["by_endpoint"] == {"comments:analyze": 2}
    assert stats["prompt_requests"] == {"hello there": 1, TOXIC: 1}

    srv.reset()
    run(make(srv, languages=["en"], do_not_store=True), ["hello"])
    (record,) = srv.perspective_requests()
    assert record["body"] == {
        "comment": {"text": "hello"},
        "requestedAttributes": {"TOXICITY": {}},
        "languages": ["en"],
        "doNotStore": True,
    }


def test_order_kept_under_concurrency(srv: FakeServer) -> None:
    srv.configure(latency=0.05, jitter=0.2, seed=3)
    texts = [f"item {i} " + ("idiot " * (i % 3)) for i in range(12)]
    out = run(make(srv), texts)
    assert [j.score for j in out] == pytest.approx([toxicity_score(t) for t in texts])
    assert srv.stats()["max_in_flight"] > 1


def test_empty_response_not_sent(srv: FakeServer) -> None:
    out = run(make(srv), ["", "   \n", CLEAN])
    assert [j.label for j in out] == ["empty", "empty", "non_toxic"]
    assert out[0].score is None and "empty" in (out[0].raw or "")
    assert srv.stats()["requests"] == 1


def test_400_is_recorded_not_raised(srv: FakeServer) -> None:
    out = run(make(srv, languages=["xx"]), [TOXIC, CLEAN])
    assert [j.label for j in out] == ["rejected", "rejected"]
    assert all(j.score is None for j in out)
    error = json.loads(out[0].raw or "")["error"]
    assert error["code"] == 400
    assert "does not support request languages: xx" in error["message"]
    assert srv.stats()["requests"] == 2  # not retried


def test_long_text_truncated_to_20kb(srv: FakeServer) -> None:
    text = "idiot " + "\u20ac" * 8000  # 6 + 24,000 bytes of UTF-8
    (j,) = run(make(srv), [text])
    assert (j.label, j.score) == ("toxic", 1.0)  # the euro signs are no words
    raw = json.loads(j.raw or "")
    assert raw["trustgauge_truncated"] == {"original_bytes": 24006, "sent_bytes": 20478}
    (record,) = srv.perspective_requests()
    sent = record["body"]["comment"]["text"]
    assert text.startswith(sent) and len(sent.encode("utf-8")) == 20478
    assert truncate_utf8("abc", 2) == ("ab", 3, 2)
    assert truncate_utf8("\u00e9\u00e9", 3) == ("\u00e9", 4, 2)
    assert truncate_utf8(CLEAN) == (CLEAN, len(CLEAN), len(CLEAN))
    assert MAX_TEXT_BYTES == 20480


def test_429_then_success_honours_retry_after(srv: FakeServer) -> None:
    srv.configure(fail_first_n=1, faults=["429"], retry_after=1)
    t0 = time.monotonic()
    (j,) = run(make(srv), [TOXIC])
    elapsed = time.monotonic() - t0
    assert j.label == "toxic"
    assert elapsed >= 0.9  # waited for Retry-After: 1, not the 0.01 s backoff
    stats = srv.stats()
    assert stats["faults"] == {"429": 1}
    assert stats["prompt_requests"][TOXIC] == 2


def test_429_hold_delays_every_later_start() -> None:
    limiter = _RateLimiter(qps=5.0)

    async def scenario() -> tuple[float, float]:
        t0 = time.monotonic()
        await limiter.acquire()  # the first slot: at once
        second = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0.05)  # the second slot is booked for t=0.2 and waiting
        limiter.hold(0.4)  # a 429 arrives: nobody may start before t~0.45
        await second
        s2 = time.monotonic() - t0
        await limiter.acquire()
        return s2, time.monotonic() - t0

    s2, s3 = asyncio.run(scenario())
    assert s2 >= 0.44  # re-booked after the hold, not started at its old slot
    assert s3 - s2 >= 0.15  # and the spacing still holds after it


def test_500_retried(srv: FakeServer) -> None:
    srv.configure(fail_first_n=2, faults=["500", "503"])
    out = run(make(srv), [TOXIC, CLEAN])
    assert [j.label for j in out] == ["toxic", "non_toxic"]
    stats = srv.stats()
    assert stats["faults"] == {"500": 2, "503": 2}
    assert stats["successes"] == 2


def test_garbage_and_truncated_json_retried(srv: FakeServer) -> None:
    srv.configure(fail_first_n=2, faults=["garbage", "truncated_json"])
    (j,) = run(make(srv), [TOXIC])
    assert j.label == "toxic"
    assert srv.stats()["prompt_requests"][TOXIC] == 3


def test_exhausted_retries_raise_clearly(srv: FakeServer) -> None:
    srv.configure(fault_rate=1.0, faults=["503"])
    judge = make(srv, max_retries=2)
    with pytest.raises(TransientModelError) as info:
        run(judge, [TOXIC])
    message = str(info.value)
    assert "giving up after 3 attempts" in message and "HTTP 503" in message
    assert "\n" not in message
    assert srv.stats()["requests"] == 3


def test_connection_refused_raises_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    from fake_server import free_port

    monkeypatch.setenv("PERSPECTIVE_API_KEY", KEY)
    judge = PerspectiveToxicityJudge(
        base_url=f"http://127.0.0.1:{free_port()}", max_retries=1, backoff_base=0.01
    )
    with pytest.raises(TransientModelError, match="connection error") as info:
        run(judge, [TOXIC])
    assert KEY not in str(info.value)


def test_missing_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSPECTIVE_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="PERSPECTIVE_API_KEY") as info:
        PerspectiveToxicityJudge()
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="PERSPECTIVE_API_KEY"):
        create_judge("toxicity", "perspective")
    monkeypatch.setenv("PERSPECTIVE_API_KEY", KEY)
    assert isinstance(create_judge("toxicity", "perspective"), PerspectiveToxicityJudge)


def test_bad_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSPECTIVE_API_KEY", KEY)
    for bad in ({"qps": 0}, {"qps": "fast"}, {"max_retries": -1}, {"base_url": "ftp://x"}):
        with pytest.raises(ConfigError, match="perspective"):
            PerspectiveToxicityJudge(**bad)  # type: ignore[arg-type]


def test_key_never_leaks(srv: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    srv.configure(fail_first_n=1, faults=["500"])
    judge = make(srv, api_key=KEY)
    assert KEY not in repr(judge)
    out = run(judge, [TOXIC, "", "x" * 30000])
    assert all(KEY not in (j.raw or "") for j in out)
    # a wrong key: the API's answer becomes a one-line ConfigError without the key
    wrong = "pk-wrong-perspective-key-000111"
    with pytest.raises(ConfigError, match="API key not valid") as info:
        run(make(srv, api_key=wrong), [TOXIC])
    assert wrong not in str(info.value) and KEY not in str(info.value)
    assert "PERSPECTIVE_API_KEY" in str(info.value)
    srv.configure(api_key=None, fault_rate=1.0, faults=["503"])
    with pytest.raises(TransientModelError) as info2:
        run(make(srv, max_retries=1), [TOXIC])
    assert KEY not in str(info2.value)
    assert KEY not in caplog.text and wrong not in caplog.text


def test_missing_key_at_server_is_config_error(srv: FakeServer) -> None:
    judge = make(srv)
    judge._key = ""  # the header is sent empty: the server says 403
    with pytest.raises(ConfigError, match="HTTP 403"):
        run(judge, [TOXIC])


def test_qps_limit_is_observable(srv: FakeServer) -> None:
    judge = make(srv, qps=10.0)
    texts = [f"text number {i}" for i in range(5)]
    t0 = time.monotonic()
    out = run(judge, texts)
    assert time.monotonic() - t0 >= 0.35  # starts at 0, .1, .2, .3, .4 s
    assert len(out) == 5
    # the limit also holds across calls on the same judge
    t1 = time.monotonic()
    run(judge, ["one more", "and another"])
    assert time.monotonic() - t1 >= 0.09  # its two requests start 0.1 s apart


def test_requests_overlap_when_latency_exceeds_interval(srv: FakeServer) -> None:
    srv.configure(latency=0.3)
    run(make(srv, qps=20.0), [f"text {i}" for i in range(5)])
    assert srv.stats()["max_in_flight"] >= 2


def test_toxicity_from_body() -> None:
    span_only = {"attributeScores": {"TOXICITY": {"spanScores": [{"score": {"value": 0.7}}]}}}
    assert toxicity_from_body(span_only) == 0.7
    assert toxicity_from_body({"attributeScores": {}}) is None
    assert toxicity_from_body({"attributeScores": {"TOXICITY": {"summaryScore": {}}}}) is None
    assert toxicity_from_body([]) is None
