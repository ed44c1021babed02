r"""Byte-level BPE tokenisation by pre-token lookup: the same ids as the Rust tokenizer, faster.

A byte-level BPE tokenizer (GPT-2's scheme, which SmolLM2 uses; Llama 3's and Qwen's patterns
differ and are not recognised) first cuts a text into pre-tokens with one regular expression,
then runs BPE inside each pre-token; merges never cross a pre-token. So ``ids(text) == concat(ids(p) for p in pretokens(text))``, and a
dictionary from pre-token to ids answers nearly every pre-token of prose after a few thousand
texts (word frequencies are Zipfian). The Rust ``encode_batch_fast`` builds an ``Encoding`` per
text and runs the whole pipeline on every word; this path is a C-level
``re.findall`` and dictionary look-ups, ~4x less CPU for SmolLM2 on English prose
(``benchmarks/watermark_detection.py``). It is one Python thread.

Exactness, not an approximation:

- It is used only for tokenizers recognised exactly from their JSON (:func:`PretokenCache.for_backend`):
  no normalizer; pre-tokenizer ``ByteLevel(add_prefix_space=False, use_regex=True)``, alone or
  after ``Digits(individual_digits=True)``; model ``BPE`` without dropout; a post-processor
  that adds nothing without special tokens; no padding, no truncation. Anything else: ``None``,
  and the caller keeps the Rust path.
- The split is Python's ``re`` on ASCII text, where the GPT-2 pattern's ``\p{L}``, ``\p{N}`` and
  ``\s`` are exactly ``[A-Za-z]``, ``[0-9]`` and ``[\t\n\x0b\x0c\r ]`` (Unicode White_Space;
  not Python's ``\s``, which also takes ``\x1c``-``\x1f``), so it cuts where the tokenizer's
  Oniguruma pattern cuts.
- A non-ASCII character meets the pattern only through its classes (every literal of the
  pattern is ASCII), so it is replaced, one character for one, by an ASCII stand-in of the same
  classes, the text is cut as its stand-in text is, and the pieces are taken from the original.
  The stand-in is asked of the Rust pre-tokenizer itself (:data:`_PROBES`, once per character:
  no Unicode table of ours, so no Unicode-version disagreement); a character that no stand-in
  matches on every probe (and a lone surrogate) sends its text to the Rust call.
- A text containing an added token's text (added tokens are cut out before pre-tokenisation)
  goes to the Rust call.
- A missing pre-token is tokenised by the tokenizer's own BPE model (``model.tokenize`` on the
  byte-level characters of its UTF-8 bytes: the step the Rust pipeline runs on each pre-token),
  so the cache holds the model's answers, never a re-implementation of BPE.
- ``Digits(individual_digits=True)`` runs before the regex and makes every digit a pre-token of
  its own; the regex then runs on each digit-free stretch. One pattern does both: a digit is its
  own alternative, no other alternative matches a digit (so no match crosses a stretch's end),
  and the whitespace look-ahead ``(?!\S)`` that sees a stretch's end as end of text becomes
  ``(?![^\s0-9])`` (a digit ends the stretch, so it does not block).

``tests/test_watermark_tokenizer.py`` checks all of this against the Rust tokenizer on thousands of
texts, every ASCII character and ~15,000 other code points in several contexts, and every short
string over a small alphabet.
The GPT-2 pattern is the one in ``tokenizers`` (``pre_tokenizers/byte_level.rs``):
``'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from itertools import accumulate, chain
from typing import Any

__all__ = ["MAX_CHARACTERS", "MAX_ENTRIES", "PretokenCache", "byte_level_alphabet"]

#: pre-tokens kept (~180 bytes each, measured); when full the cache starts again (a bounded memory, and a
#: stream whose vocabulary drifts refills with its current words)
MAX_ENTRIES = 1 << 17
#: non-ASCII characters whose stand-in is kept (prose meets a few dozen; a text of every code
#: point would otherwise keep a million)
MAX_CHARACTERS = 1 << 16
_UNKNOWN = "\x00\x00"  # not a stand-in: the character was not asked about yet

_WS = r"\t\n\x0b\x0c\r "  # Unicode White_Space within ASCII: Oniguruma's \s on ASCII text
# ' ?[A-Za-z]+' is split into ' [A-Za-z]++|[A-Za-z]++' and moved first, and the contractions are
# grouped: no alternative it passes can match where it does (they start with ', a digit, other
# punctuation or whitespace), so the first match at each position is the same; possessive '++'
# only where nothing follows in the alternative (no backtracking could be asked of it)
_GPT2 = (rf" [A-Za-z]++|[A-Za-z]++|'(?:s|t|re|ve|m|ll|d)| ?[0-9]++| ?[^{_WS}A-Za-z0-9]++"
         rf"|[{_WS}]+(?![^{_WS}])|[{_WS}]++")
_GPT2_DIGITS = (rf" [A-Za-z]++|[A-Za-z]++|'(?:s|t|re|ve|m|ll|d)|[0-9]| ?[^{_WS}A-Za-z0-9]++"
                rf"|[{_WS}]+(?![^{_WS}0-9])|[{_WS}]++")

# A non-ASCII character meets the pattern only through its classes (\p{L}, \p{N}, \s and,
# with Digits, Rust's char::is_numeric): every literal of the pattern (' s t r e v m l d and the
# space) is ASCII. So a character may be replaced by an ASCII one of the same classes, one for
# one, and the pattern cuts at the same places. The stand-ins: a letter that is in no
# contraction, a digit, a non-space whitespace, a punctuation mark that is not the apostrophe.
# Which one is asked of the Rust pre-tokenizer itself on these probes, which tell every
# combination of classes apart (a letter joins 'a'; a number joins '1' unless Digits isolates
# it, and two of them join unless it does; whitespace stays apart from '!' and joins '\n';
# other joins '!'); a character no stand-in matches on every probe sends its texts to Rust.
_PROXIES = ("x", "0", "\t", "!")
_PROBES = ("{c}", "a{c}", "{c}a", "1{c}", "{c}1", "!{c}", "{c}!", " {c}", "{c} ", "{c}\n", "\n{c}",
           "{c}{c}", " {c}{c}", "'{c}", "{c}'s", "  {c}", "{c}  a", "x{c}y", "{c} 1", "1 {c}")
_SELF_TEST_ALPHABET = ("a", "Z", "1", "'", "s", "ll", " ", "\n", "\t", "!", "\u00e9", "\u00a0", "\u0661")


def _self_test_texts() -> list[str]:
    """Every string of 1-3 pieces of :data:`_SELF_TEST_ALPHABET` (2,379 strings)."""
    from itertools import product

    return ["".join(parts) for n in (1, 2, 3) for parts in product(_SELF_TEST_ALPHABET, repeat=n)]


_NON_ASCII = re.compile(r"[^\x00-\x7f]").findall

_BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}
_QUIET_POST = {None, "ByteLevel", "TemplateProcessing"}  # add nothing with add_special_tokens=False


def byte_level_alphabet() -> list[str]:
    """GPT-2's byte -> printable character table (``bytes_to_unicode``), the one ByteLevel uses."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def _is_byte_level(spec: Any) -> bool:
    return isinstance(spec, dict) and all(spec.get(k) == v for k, v in _BYTE_LEVEL.items())


def _pattern_for(pre_tokenizer: Any) -> str | None:
    """The splitting pattern equal to this pre-tokenizer on ASCII text, or None."""
    if _is_byte_level(pre_tokenizer):
        return _GPT2
    if isinstance(pre_tokenizer, dict) and pre_tokenizer.get("type") == "Sequence":
        steps = pre_tokenizer.get("pretokenizers") or []
        if (len(steps) == 2 and steps[0] == {"type": "Digits", "individual_digits": True}
                and _is_byte_level(steps[1])):
            return _GPT2_DIGITS
    return None


class PretokenCache:
    """Pre-token split + cached per-pre-token ids; texts it cannot prove equal: the Rust batch call."""

    def __init__(self, pattern: str, model: Any, added: Sequence[str], pre_tokenizer: Any = None) -> None:
        self._findall = re.compile(pattern).findall
        self._model = model
        #: the Rust pre-tokenizer, asked once per new non-ASCII character which ASCII character
        #: it splits like (None: ASCII texts only)
        self._pre_tokenizer = pre_tokenizer
        self._proxies: dict[str, str | None] = {}
        self.fallbacks = 0
        self._cache: dict[str, tuple[int, ...]] = {}
        self._added = tuple(a for a in added if a)
        self._added_first = frozenset(a[0] for a in self._added)
        alphabet = byte_level_alphabet()
        self._ascii_to_bytelevel = {b: alphabet[b] for b in range(128)}
        self._alphabet = alphabet
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_backend(cls, backend: Any) -> PretokenCache | None:
        """A cache for this Rust tokenizer if it is one whose pipeline is recognised exactly
        (see the module docstring), else None."""
        try:
            spec = json.loads(backend.to_str())
        except Exception:  # any backend we cannot read is simply not recognised
            return None
        model = spec.get("model") or {}
        post = spec.get("post_processor")
        if (spec.get("normalizer") is not None or spec.get("padding") is not None
                or spec.get("truncation") is not None
                or model.get("type") != "BPE" or model.get("dropout") is not None
                or (post.get("type") if isinstance(post, dict) else post) not in _QUIET_POST):
            return None
        pattern = _pattern_for(spec.get("pre_tokenizer"))
        if pattern is None:
            return None
        added = [str(token.get("content", "")) for token in spec.get("added_tokens") or []]
        cache = cls(pattern, backend.model, added, backend.pre_tokenizer)
        # a guard against a tokenizers release whose pattern or pipeline differs from what this
        # module knows: the short strings below meet every alternative of the pattern, and any
        # difference from the Rust call switches the cache off (~40 ms, once per tokenizer)
        def rust(texts: list[str]) -> list[list[int]]:
            return [encoding.ids for encoding in backend.encode_batch_fast(texts, add_special_tokens=False)]

        texts = _self_test_texts()
        if cache.encode_batch(texts, rust) != rust(texts):
            return None
        cache.hits = cache.misses = cache.fallbacks = 0
        return cache

    def _has_added_token(self, text: str) -> bool:
        # an added token is matched on the raw text (no normalizer): if its text does not occur,
        # it cannot be cut out, whatever its lstrip/rstrip/single_word flags
        if not any(first in text for first in self._added_first):
            return False
        return any(token in text for token in self._added)

    def _split(self, text: str, proxy: str) -> list[str]:
        """``text`` cut where the pattern cuts ``proxy`` (same length, ASCII stand-ins)."""
        pieces = self._findall(proxy)
        if proxy is text:
            return pieces
        ends = list(accumulate(map(len, pieces)))
        return [text[start:end] for start, end in zip([0, *ends], ends)]  # [0, *ends] is one longer

    def _proxy_of(self, char: str) -> str | None:
        """The ASCII character that ``char`` splits exactly like, asked of the Rust pre-tokenizer
        on :data:`_PROBES` (None: none does, or no pre-tokenizer to ask; its texts go to Rust)."""
        known = self._proxies.get(char, _UNKNOWN)
        if known is not _UNKNOWN:
            return known
        found = None
        if self._pre_tokenizer is not None and not 0xD800 <= ord(char) <= 0xDFFF:  # no surrogates
            alphabet = self._alphabet
            for proxy in _PROXIES:
                for probe in _PROBES:
                    text = probe.format(c=char)
                    ours = ["".join(alphabet[b] for b in piece.encode("utf-8"))
                            for piece in self._split(text, probe.format(c=proxy))]
                    if ours != [piece for piece, _ in self._pre_tokenizer.pre_tokenize_str(text)]:
                        break
                else:
                    found = proxy
                    break
        if len(self._proxies) >= MAX_CHARACTERS:
            self._proxies.clear()
        self._proxies[char] = found
        return found

    def _proxy_text(self, text: str) -> str | None:
        """An ASCII text that the pattern cuts exactly where the pre-tokenizer cuts ``text``."""
        proxy = text
        for char in set(_NON_ASCII(text)):
            stand_in = self._proxies.get(char, _UNKNOWN)
            if stand_in is _UNKNOWN:
                stand_in = self._proxy_of(char)
            if stand_in is None:
                return None
            proxy = proxy.replace(char, stand_in)
        return proxy

    def _ids(self, piece: str) -> tuple[int, ...]:
        """A pre-token's ids from the tokenizer's own BPE model (a cache miss)."""
        if piece.isascii():
            chars = piece.translate(self._ascii_to_bytelevel)
        else:
            chars = "".join(self._alphabet[b] for b in piece.encode("utf-8"))
        ids = tuple(token.id for token in self._model.tokenize(chars))
        if len(self._cache) >= MAX_ENTRIES:
            self._cache.clear()
        self._cache[piece] = ids
        return ids

    def encode_batch(self, texts: Sequence[str],
                     fallback: Callable[[list[str]], list[list[int]]]) -> list[list[int]]:
        """Ids of every text; the texts this path cannot prove equal go to ``fallback`` (the
        Rust batch call), in one call."""
        out: list[list[int]] = []
        rest: list[int] = []
        get = self._cache.get
        findall = self._findall
        check_added = bool(self._added)
        hits = misses = 0
        for i, text in enumerate(texts):
            proxy: str | None = text if text.isascii() else self._proxy_text(text)
            if proxy is None or (check_added and self._has_added_token(text)):
                rest.append(i)
                out.append([])
                continue
            pieces = findall(text) if proxy is text else self._split(text, proxy)
            found = list(map(get, pieces))
            if None in found:
                for j, ids in enumerate(found):
                    if ids is None:
                        ids = get(pieces[j])  # a piece met twice in this text: filled above
                        if ids is None:
                            ids = self._ids(pieces[j])
                            misses += 1
                        found[j] = ids
            hits += len(pieces)
            out.append(list(chain.from_iterable(found)))  # type: ignore[arg-type]
        self.hits += hits - misses
        self.misses += misses
        self.fallbacks += len(rest)
        if rest:
            for i, rust_ids in zip(rest, fallback([texts[i] for i in rest]), strict=True):
                out[i] = rust_ids
        return out
