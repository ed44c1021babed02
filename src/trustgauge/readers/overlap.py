"""How much of one text another repeats: pure functions on strings, below tasks and judges, so
that the studies that measure verbatim repetition (Liu et al.'s copyright leakage, Fan et al.'s
system-prompt leakage) share one definition.

- :func:`longest_common_substring`: the longest run of characters both texts contain.
- :func:`rouge_l_recall`: ROUGE-L recall (Lin 2004) on words: the longest common *subsequence*
  of the two word sequences over the reference's length, i.e. the share of the reference's
  words that come out in the reference's order (gaps allowed). Written here as a plain dynamic
  programme so that no scorer package is needed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

_WORD = re.compile(r"\w+")


def longest_common_substring(a: str, b: str) -> int:
    """Length of the longest common substring of ``a`` and ``b`` (characters)."""
    if not a or not b:
        return 0
    match = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return int(match.size)


def words(text: str) -> list[str]:
    """The lower-cased word tokens (``\\w+`` runs) of ``text``: ROUGE's usual tokenisation
    without stemming."""
    return [w.lower() for w in _WORD.findall(text)]


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences (O(len(a)·len(b)))."""
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l_recall(candidate: str, reference: str) -> float:
    """ROUGE-L recall of ``candidate`` against ``reference`` on words: LCS / words of the
    reference (0 for an empty reference)."""
    ref = words(reference)
    if not ref:
        return 0.0
    return lcs_length(words(candidate), ref) / len(ref)
