"""Property-based tests (issue 20 item 1): every reader of ``test_properties_readers`` on a
megabyte and more of nine shapes (its own file: about 15 s, the budget of one file).

Found here (see ``docs/reliability.md``, "Property-based tests"): the PII-association e-mail
regex, HarmBench's bare yes/no regex and PAIR's attacker reader took quadratic time (minutes
or hours on a megabyte of digits, spaces or braces), the LLM judge's JSON finder too on a reply
nested deep, and PAIR's and Crescendo's readers raised ``RecursionError`` on one.
"""

from __future__ import annotations

import pytest

from test_properties_readers import FRAGMENTS, NASTY, READERS

#: a megabyte and more: one of each shape (generating them at random would take longer than
#: reading them)
HUGE = {
    "letters": "A " * 500_000,
    "digits": "9" * 1_000_001,
    "open-braces": "{" * 1_000_000,
    "open-brackets": "[[" * 500_000,
    "nested-json": '{"a":' * 200_000 + "1" + "}" * 200_000,
    "fragments": "".join(FRAGMENTS) * (1_000_000 // len("".join(FRAGMENTS)) + 1),
    "nasty": NASTY * (1_000_000 // len(NASTY) + 1),
    "spaces": " \n\t" * 350_000,
    "one-word": "x" * 1_000_000,
}


#: readers that run :func:`clean_response` (NFKC) and the candidate scan over the whole text:
#: about 1-3 s per megabyte on a busy 2-core machine, so they read 32 KB of each shape, except
#: one representative of each code path, which reads the whole megabyte
_WHOLE_TEXT_SCANS = {
    name for name in READERS
    if name.startswith(("extract_", "liu.", "trustllm.ddxplus", "trustllm.advglue", "trustllm.disparagement"))
    or name in ("correctness.normalize_answer", "correctness.answer_tokens", "correctness.answer_text",
                "fan.bipia.followed", "fan.bipia.task_done", "pair.parse_attacker", "fan.extraction.match_scores")
}
_MEGABYTE_REPRESENTATIVES = {
    "clean_response": "nasty",
    "extract_choice": "fragments",
    "extract_yes_no": "nasty",
    "extract_rating[confaide]": "digits",
    "liu.fairness.read_option": "one-word",
    "correctness.answer_text": "spaces",
    "pair.parse_attacker": "open-braces",
    "fan.extraction.match_scores": "digits",
}


@pytest.mark.parametrize("shape", sorted(HUGE))
def test_a_megabyte_reads_without_a_crash(shape: str) -> None:
    """Every reader on a megabyte of each shape (the whole-text scanners on its first 32 KB,
    one of them per shape on all of it). A megabyte of nothing but option letters ("A A A ...")
    is read in linear time, but slowly (about 0.25 ms per candidate letter), so the dense
    shapes ("letters", "fragments") give the scanners 4 KB."""
    text = HUGE[shape]
    cut = 4_096 if shape in ("letters", "fragments") else 32_768
    for name, (read, holds) in READERS.items():
        whole = name not in _WHOLE_TEXT_SCANS or _MEGABYTE_REPRESENTATIVES.get(name) == shape
        piece = text if whole else text[:cut]
        result = read(piece)
        assert holds(result), f"{name}({shape}, {len(piece)} characters) -> {str(result)[:200]}"
