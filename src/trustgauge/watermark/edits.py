"""The text edits a watermark must survive (issue 18): word deletion, synonym substitution and
typos. Paraphrase and a translation round trip need a model: the watermark task asks the
``paraphraser`` / ``translator`` roles for them; they are not here.

Each edit is a pure, deterministic function ``edit(text, fraction, seed) -> EditResult``: the
same text, strength and seed give the same result on every machine (the random choices come
from ``random.Random(seed)`` alone, which seeds an int without ``PYTHONHASHSEED``). A caller
that edits many texts passes a different seed for each (e.g. derived from the sample id), or
every text of the same length loses the same word positions.

The edits follow MarkLLM's text editors (Pan et al. 2024, ``evaluation/tools/text_editor.py``
of THU-BPM/MarkLLM), with these differences, each chosen so a strength means one exact amount
of editing:

- **word deletion** (MarkLLM's ``WordDeletion``): MarkLLM drops each whitespace-separated word
  with probability ``ratio`` and joins the rest with single spaces; here exactly
  ``round(fraction * words)`` words are drawn without replacement, and the text keeps its line
  breaks and its sentence-final punctuation (:func:`delete_words`).
- **synonym substitution** (MarkLLM's ``SynonymSubstitution``, WordNet): MarkLLM replaces
  ``int(ratio * words)`` words (at most the replaceable ones) by a random lemma of a random
  synset of the word as NLTK's morphy finds it, multi-word lemmas included; here
  ``round(fraction * replaceable)`` of the replaceable words (those in the packaged WordNet 3.0
  table: one-word synonyms of the word itself, most frequent senses first, function words never
  replaced; ``scripts/build_wordnet_synonyms.py``) are replaced, each by one of its synonyms,
  keeping the case of its first letter (:func:`substitute_synonyms`).
- **typos** (MarkLLM has none; Mark My Words' HELM ``TypoAttack``, Piet et al. 2023, replaces
  each letter by a neighbouring key with probability 0.05 or 0.1): here
  ``round(fraction * eligible)`` words of 4+ letters each get one typo of Liu et al.'s typo
  study (:func:`misspell`, shared with ``liu2023.typo``): two neighbouring letters swapped, one
  dropped, one doubled or one hit on a neighbouring key, never the first letter (:func:`typos`).

Default strengths (:data:`EDITS`): word deletion 0.3 and synonym substitution 0.5, MarkLLM's
robustness settings (its README's example pipeline and the paper's "Word-D" / "Word-S"
attacks); typos 0.1, the stronger of Mark My Words' two typo rates, here per word rather than
per letter (a milder edit: one typo in a tenth of the longer words).

``round`` is half up (``0.5 -> 1``): ``floor(fraction * n + 0.5)``.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from trustgauge.errors import ConfigError, DataError

#: where the packaged synonym table lives, inside the trustgauge package
SYNONYMS_RESOURCE = ("data", "packaged", "wordnet", "synonyms.json.gz")
#: the table format this module reads (``FORMAT`` of ``scripts/build_wordnet_synonyms.py``)
SYNONYMS_FORMAT = 1

#: a word for deletion and for :func:`count_words`: a whitespace-separated token holding a
#: letter or a digit (a lone dash or ellipsis is punctuation, not a word)
_TOKEN_RE = re.compile(r"\S+")
_WORDLIKE_RE = re.compile(r"[^\W_]")
#: sentence-final punctuation a deleted word leaves behind (with closing quotes/brackets)
_FINAL_RE = re.compile(r"[.!?]+[\"'”’)\]]*$")
#: a word for synonym substitution: a run of ASCII letters not part of a longer token such as
#: ``don't``, ``well-known`` or ``abc123``
_LETTERS_RE = re.compile(r"(?<![\w'’-])[A-Za-z]+(?![\w'’-])")
#: a word that can carry a typo (Liu et al.'s generator: 4+ letters)
TYPO_WORD_RE = re.compile(r"[A-Za-z]{4,}")

#: QWERTY neighbours, for neighbouring-key typos
QWERTY_NEIGHBOURS: Mapping[str, str] = MappingProxyType({
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm",
    "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji",
    "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
})


@dataclass(frozen=True)
class EditResult:
    """An edited text and how much was edited.

    Attributes:
        text: The edited text.
        changed: Words deleted, replaced or misspelt.
        eligible: Words the edit could change (every word for deletion, the words with a
            synonym in the table, the words of 4+ letters for typos): ``fraction`` is a share
            of these.
        words: Words of the original text (:func:`count_words`).
    """

    text: str
    changed: int
    eligible: int
    words: int


def count_words(text: str) -> int:
    """Whitespace-separated tokens of ``text`` that hold a letter or a digit."""
    return sum(1 for token in _TOKEN_RE.findall(text) if _WORDLIKE_RE.search(token))


def _check_fraction(fraction: float) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, int | float):
        raise ConfigError(f"an edit's strength is a fraction between 0 and 1 (got {fraction!r})")
    if not 0.0 <= fraction <= 1.0:  # also refuses NaN
        raise ConfigError(f"an edit's strength is a fraction between 0 and 1 (got {fraction})")
    return float(fraction)


def _how_many(fraction: float, n: int) -> int:
    """``round(fraction * n)``, half up, never more than ``n``."""
    return min(n, math.floor(fraction * n + 0.5))


def _newlines_first(gaps: Sequence[str]) -> str:
    """The gap with the most line breaks (the first of those): what separates two words that
    were separated by the deleted words between them."""
    return max(gaps, key=lambda gap: gap.count("\n"))


def _end_sentence(kept: list[str], mark: str) -> None:
    """Put the sentence-final ``mark`` of a deleted word on the last kept word, replacing a
    comma, colon or semicolon there and never doubling a final mark."""
    last = kept[-1]
    if _FINAL_RE.search(last):
        return
    kept[-1] = (last[:-1] if last[-1] in ",;:" else last) + mark


def delete_words(text: str, fraction: float, seed: int) -> EditResult:
    """``text`` with ``round(fraction * words)`` of its words deleted (MarkLLM's
    ``WordDeletion``, an exact count instead of a coin per word).

    A word is a whitespace-separated token holding a letter or digit (punctuation-only tokens
    stay); the words to delete are ``random.Random(seed).sample`` of their positions. A deleted
    word takes its punctuation with it, except a sentence-final ``.``/``!``/``?`` that moves to
    the word before (``"on the mat."`` -> ``"on the."``), so sentences still end. Two kept
    words are separated by the gap between them that held the most line breaks, so paragraphs
    stay paragraphs; leading and trailing whitespace are kept.
    """
    fraction = _check_fraction(fraction)
    tokens = list(_TOKEN_RE.finditer(text))
    positions = [i for i, match in enumerate(tokens) if _WORDLIKE_RE.search(match.group())]
    chosen = set(random.Random(seed).sample(positions, _how_many(fraction, len(positions))))
    if not chosen:
        return EditResult(text, 0, len(positions), len(positions))
    kept: list[str] = []
    gaps: list[str] = []
    pieces: list[str] = [text[:tokens[0].start()]] if tokens else [text]
    for i, match in enumerate(tokens):
        if i:
            gaps.append(text[tokens[i - 1].end():match.start()])
        if i in chosen:
            final = _FINAL_RE.search(match.group())
            if final and kept:
                _end_sentence(kept, final.group())
            continue
        if kept:
            kept.append(_newlines_first(gaps))
        kept.append(match.group())
        gaps = []
    pieces += kept
    if tokens:
        pieces.append(text[tokens[-1].end():])
    return EditResult("".join(pieces), len(chosen), len(positions), len(positions))


@cache
def wordnet_synonyms() -> Mapping[str, tuple[str, ...]]:
    """The packaged WordNet 3.0 synonym table: lower-case word -> its one-word synonyms, most
    frequent sense first (read once)."""
    path = resources.files("trustgauge")
    for part in SYNONYMS_RESOURCE:
        path = path / part
    try:
        document = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the packaged WordNet synonyms ({'/'.join(SYNONYMS_RESOURCE)}): "
                        f"{exc}; reinstall trustgauge or run scripts/build_wordnet_synonyms.py") from exc
    if not isinstance(document, dict) or document.get("format") != SYNONYMS_FORMAT:
        raise DataError(f"the packaged WordNet synonyms are not format {SYNONYMS_FORMAT}: "
                        "run scripts/build_wordnet_synonyms.py")
    return MappingProxyType({word: tuple(synonyms) for word, synonyms in document["synonyms"].items()})


def _match_case(source: str, target: str) -> str:
    """``target`` with the case of ``source``'s first letter (all capitals when ``source`` is)."""
    if len(source) > 1 and source.isupper():
        return target.upper()
    if source[0].isupper():
        return target[0].upper() + target[1:]
    return target


def substitute_synonyms(text: str, fraction: float, seed: int, *,
                        synonyms: Mapping[str, Sequence[str]] | None = None) -> EditResult:
    """``text`` with ``round(fraction * replaceable)`` of its replaceable words replaced by a
    WordNet synonym (MarkLLM's ``SynonymSubstitution``).

    A word is a run of ASCII letters that is not part of a longer token (``don't``,
    ``well-known``); it is replaceable when its lower-case form is in ``synonyms`` (default:
    :func:`wordnet_synonyms`, which leaves out function words and words without a one-word
    synonym). With ``rng = random.Random(seed)``: ``rng.sample`` of the replaceable words' order
    numbers picks the words, then, in text order, ``rng.choice`` of its synonyms replaces each,
    with the case of the word's first letter (all capitals when the word is). ``changed`` is how
    many were replaced.
    """
    fraction = _check_fraction(fraction)
    table = wordnet_synonyms() if synonyms is None else synonyms
    words = list(_LETTERS_RE.finditer(text))
    replaceable = [match for match in words if table.get(match.group().lower())]
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(replaceable)), _how_many(fraction, len(replaceable))))
    pieces: list[str] = []
    last = 0
    for index in chosen:
        match = replaceable[index]
        word = match.group()
        pieces += [text[last:match.start()], _match_case(word, rng.choice(table[word.lower()]))]
        last = match.end()
    pieces.append(text[last:])
    return EditResult("".join(pieces), len(chosen), len(replaceable), count_words(text))


def misspell(word: str, rng: random.Random) -> str:
    """One typo in ``word`` (4+ letters), never in its first letter: swap two neighbouring
    letters, drop one, double one, or hit a neighbouring key (QWERTY). The result always
    differs from ``word``. Liu et al.'s typo study's generator (``liu2023.typo``)."""
    kind = rng.choice(("swap", "drop", "double", "neighbour"))
    i = rng.randrange(1, len(word) - 1) if kind == "swap" else rng.randrange(1, len(word))
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "neighbour":
        lower = word[i].lower()
        key = rng.choice(QWERTY_NEIGHBOURS[lower])
        return word[:i] + (key.upper() if word[i].isupper() else key) + word[i + 1:]
    return word[:i] + word[i] + word[i:]  # double (also a swap of two equal letters)


def typos(text: str, fraction: float, seed: int) -> EditResult:
    """``text`` with one typo (:func:`misspell`) in each of ``round(fraction * eligible)`` of its
    words of 4+ ASCII letters. With ``rng = random.Random(seed)``: ``rng.sample`` of the
    eligible words' order numbers picks the words, then :func:`misspell` with the same ``rng``
    types each, in text order."""
    fraction = _check_fraction(fraction)
    eligible = list(TYPO_WORD_RE.finditer(text))
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(eligible)), _how_many(fraction, len(eligible))))
    pieces: list[str] = []
    last = 0
    for index in chosen:
        match = eligible[index]
        pieces += [text[last:match.start()], misspell(match.group(), rng)]
        last = match.end()
    pieces.append(text[last:])
    return EditResult("".join(pieces), len(chosen), len(eligible), count_words(text))


@dataclass(frozen=True)
class Edit:
    """A named edit with its default strength: ``edit(text, seed=...)`` applies it.

    Attributes:
        name: Registry key (``word_deletion``, ``synonym_substitution``, ``typos``).
        function: ``function(text, fraction, seed) -> EditResult``.
        default_strength: The fraction used when none is given, with :attr:`source` for it.
        description: One line: what the edit does.
        source: Where the edit and its default strength come from.
    """

    name: str
    function: Callable[[str, float, int], EditResult]
    default_strength: float
    description: str
    source: str

    def __call__(self, text: str, strength: float | None = None, *, seed: int) -> EditResult:
        """Edit ``text`` at ``strength`` (default :attr:`default_strength`) with ``seed``."""
        return self.function(text, self.default_strength if strength is None else strength, seed)


EDITS: Mapping[str, Edit] = MappingProxyType({
    edit.name: edit for edit in (
        Edit("word_deletion", delete_words, 0.3,
             "delete a fraction of the words",
             "MarkLLM WordDeletion (Pan et al. 2024); ratio 0.3 as MarkLLM's Word-D"),
        Edit("synonym_substitution", substitute_synonyms, 0.5,
             "replace a fraction of the replaceable words by a WordNet 3.0 synonym",
             "MarkLLM SynonymSubstitution (Pan et al. 2024); ratio 0.5 as MarkLLM's Word-S"),
        Edit("typos", typos, 0.1,
             "one typo (swap, drop, double, neighbouring key) in a fraction of the 4+-letter words",
             "Liu et al. 2023's typo generator; 0.1 as Mark My Words' TypoAttack (Piet et al. 2023)"),
    )
})


def get_edit(name: str) -> Edit:
    """The edit called ``name``; a :class:`~trustgauge.errors.ConfigError` naming the known
    ones otherwise."""
    try:
        return EDITS[name]
    except KeyError:
        raise ConfigError(f"unknown text edit {name!r}: choose one of {', '.join(EDITS)}") from None
