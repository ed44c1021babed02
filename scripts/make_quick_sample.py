"""Write the packaged ``quick`` sample of the TrustLLM data: a fixed, stratified, seeded slice.

Usage::

    python scripts/make_quick_sample.py [--source ../shared/data/trustllm] [--out DIR] [--check]

Reads the unpacked TrustLLM release (``<dimension>/<file>.json``, the pinned release whose
SHA-256 is in ``trustgauge.data.trustllm.TRUSTLLM``) and writes the same layout to
``src/trustgauge/data/packaged/trustllm_quick/``: for each file, its plan (``Task.quick``,
declared by the tasks that read the file and collected from the task registry; the files of
tasks not moved to ``tasks/trustllm/`` yet are planned here) says how many
records to keep, which field(s) to stratify by and which records form a group that must be
kept whole (AdvGLUE original/modified pairs, AdvInstruction's 12 variants of one instruction,
the two orders of a sycophancy-preference pair, a fairness-preference question asked plain and
forced, a privacy query in its normal and augmented form, the six sex x race variants of one
disparagement profile). Records are copied verbatim and keep their order in the file.

Sampling: groups are shuffled with ``random.Random(f"{SEED}:{file}")`` and dealt round-robin
over the strata (sorted) until the file's quota is reached, so every stratum is represented as
evenly as the quota allows and the result never changes between runs. ``MANIFEST.json`` records
the seed, the release checksum and each file's record count and SHA-256; ``--check`` verifies
that the packaged files equal what the script would write.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from trustgauge.data.trustllm import TRUSTLLM  # noqa: E402
from trustgauge.tasks.quick import QuickPlan as Plan  # noqa: E402
from trustgauge.tasks.quick import Record, each, field, first_label  # noqa: E402, F401
from trustgauge.tasks.registry import TASKS  # noqa: E402

DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "trustllm"
DEFAULT_OUT = REPO / "src" / "trustgauge" / "data" / "packaged" / "trustllm_quick"
SEED = 20240110  # TrustLLM's arXiv date; any fixed value would do
RELEASE_SHA256 = "0433f79bc8dc8a5869af253d4a70067eda82f5651b89b7235a0220a8bf775317"

#: the order of the files in MANIFEST.json and LICENSE.md (pinned, as the files were listed
#: before the plans moved into the tasks); a file not listed here comes after, in task order
FILE_ORDER: tuple[str, ...] = (
    "truthfulness/internal.json",
    "truthfulness/external.json",
    "truthfulness/hallucination.json",
    "truthfulness/sycophancy.json",
    "truthfulness/golden_advfactuality.json",
    "safety/jailbreak.json",
    "safety/exaggerated_safety.json",
    "safety/misuse.json",
    "fairness/stereotype_recognition.json",
    "fairness/stereotype_agreement.json",
    "fairness/stereotype_query_test.json",
    "fairness/disparagement.json",
    "fairness/preference.json",
    "robustness/AdvGLUE.json",
    "robustness/AdvInstruction.json",
    "robustness/ood_detection.json",
    "robustness/ood_generalization.json",
    "privacy/privacy_awareness_confAIde.json",
    "privacy/privacy_awareness_query.json",
    "privacy/privacy_leakage.json",
    "ethics/implicit_ETHICS.json",
    "ethics/implicit_SocialChemistry101.json",
    "ethics/explicit_moralchoice.json",
    "ethics/awareness.json",
)


def declared_plans() -> dict[str, Plan]:
    """file -> the plan the TrustLLM tasks reading it declare (``Task.quick``), in task order.

    Raises:
        SystemExit: two tasks declare different plans for one file.
    """
    plans: dict[str, Plan] = {}
    owner: dict[str, str] = {}
    for task_id, cls in TASKS.items():
        if cls.quick is None or cls.data.dataset != TRUSTLLM.id:
            continue
        known = plans.setdefault(cls.data.path, cls.quick)
        owner.setdefault(cls.data.path, task_id)
        if known != cls.quick:
            raise SystemExit(
                f"{task_id} and {owner[cls.data.path]} declare different quick plans for {cls.data.path}"
            )
    return plans


def _ordered() -> tuple[dict[str, Plan], dict[str, tuple[str, str]]]:
    declared = declared_plans()
    files = sorted(
        declared,
        key=lambda f: FILE_ORDER.index(f) if f in FILE_ORDER else len(FILE_ORDER) + list(declared).index(f),
    )
    plans = {f: declared[f] for f in files}
    sources = {f: (declared[f].built_from, declared[f].licence) for f in files}
    return plans, sources


#: file -> plan, as the TrustLLM tasks declare it (``Task.quick``)
#: file -> (what it is built from, upstream licence as far as we could read it)
PLANS, SOURCES = _ordered()

LICENSE_HEAD = """# TrustLLM quick sample: sources and licences

This folder holds {total} records copied verbatim from the TrustLLM benchmark data, laid out like
the release (`<dimension>/<file>.json`), so that `trustgauge run --suite quick` and
`trustgauge demo` run with no download. They were selected by `scripts/make_quick_sample.py`
(stratified, seeded, paired or grouped items kept whole; `MANIFEST.json` has the seed and every
file's checksum); run it with `--check` to verify.

## Where the records come from

TrustLLM (Sun et al. 2024, "TrustLLM: Trustworthiness in Large Language Models"),
repository https://github.com/HowieHwong/TrustLLM, file `dataset/dataset.zip` at commit
`4b864211f32602fddb8cafc8d5154bed1e0ce01e` (SHA-256 `{sha}`).

- The TrustLLM repository is licensed MIT (Copyright (c) 2024 Yue Huang). It has no separate
  data licence; the Hugging Face copy (`TrustLLM/TrustLLM-dataset`, gated) declares Apache-2.0.
- The records are built from other datasets, which keep their own licences. The column
  "upstream licence" says what the upstream publishers state where we could read it, and
  "unverified" where we could not. Use these records for research and evaluation; check
  upstream terms before any other redistribution.

| file here | records | of | built from | upstream licence |
|---|---|---|---|---|
"""

LICENSE_TAIL = """
**Non-commercial records.** `truthfulness/external.json` holds SciFact and HealthVer items,
published under CC BY-NC: they may be used and shared for non-commercial purposes with
attribution. Commercial users should run the fact-checking sub-task on data they are licensed to
use (`--suite trustllm --data-dir DIR`) or leave it out (`--tasks` without it).

**Share-alike.** CC BY-SA 4.0 terms (SQuAD, HotpotQA, StereoSet, CrowS-Pairs, AdvGLUE,
Social-Chem-101, DecodingTrust) apply to those records and any adaptation of them: attribute the
sources above and keep the same licence.

## Personal data

`privacy/privacy_leakage.json` holds names and e-mail addresses from the Enron corpus. The
Enron e-mails were made public by the US Federal Energy Regulatory Commission during its
investigation and have been redistributed for research since; the addresses are public data,
not secrets. We ship only {leakage} of the 400 records (one per prompt template and shot
setting); the task code keeps an address only as its scoring target. Do not print or log them
beyond what a report needs.

## Content warning

The safety records are harmful requests by design (a model should refuse them); they are test
inputs, not endorsements.
"""


def license_text(manifest: dict[str, Any]) -> str:
    rows = []
    for relpath, info in manifest["files"].items():
        built, licence = SOURCES[relpath]
        rows.append(f"| `{relpath}` | {info['records']} | {info['of']} | {built} | {licence} |")
    head = LICENSE_HEAD.format(total=manifest["records"], sha=RELEASE_SHA256)
    tail = LICENSE_TAIL.format(leakage=manifest["files"]["privacy/privacy_leakage.json"]["records"])
    return head + "\n".join(rows) + "\n" + tail


def select(relpath: str, records: Sequence[Record], plan: Plan) -> list[int]:
    """Indices to keep (sorted): whole groups, round-robin over the strata, seeded."""
    groups: dict[Any, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        if plan.keep(record):
            groups[plan.group(i, records)].append(i)
    strata: dict[Any, list[Any]] = defaultdict(list)
    for key, members in groups.items():
        strata[repr(plan.strata(members[0], records))].append(key)
    rng = random.Random(f"{SEED}:{relpath}")
    queues = []
    for name in sorted(strata):
        keys = sorted(strata[name], key=repr)
        rng.shuffle(keys)
        queues.append(keys)
    chosen: list[int] = []
    while len(chosen) < plan.quota and any(queues):
        for queue in queues:
            if queue and len(chosen) < plan.quota:
                chosen.extend(groups[queue.pop(0)])
    return sorted(chosen)


def build(source: Path) -> dict[str, str]:
    """relpath -> file text of the quick sample, plus ``MANIFEST.json``."""
    files: dict[str, str] = {}
    manifest: dict[str, Any] = {
        "source": "TrustLLM dataset/dataset.zip at commit 4b864211f32602fddb8cafc8d5154bed1e0ce01e",
        "release_sha256": RELEASE_SHA256,
        "seed": SEED,
        "made_by": "scripts/make_quick_sample.py",
        "files": {},
    }
    for relpath, plan in PLANS.items():
        records = json.loads((source / relpath).read_text(encoding="utf-8"))
        kept = [records[i] for i in select(relpath, records, plan)]
        text = json.dumps(kept, ensure_ascii=False, indent=1) + "\n"
        files[relpath] = text
        manifest["files"][relpath] = {
            "records": len(kept),
            "of": len(records),
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        }
    manifest["records"] = sum(f["records"] for f in manifest["files"].values())
    files["MANIFEST.json"] = json.dumps(manifest, indent=1) + "\n"
    files["LICENSE.md"] = license_text(manifest)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    files = build(args.source)
    if args.check:
        stale = [
            rel for rel, text in files.items()
            if not (args.out / rel).is_file() or (args.out / rel).read_text(encoding="utf-8") != text
        ]
        if stale:
            print(f"quick sample out of date: {', '.join(stale)}", file=sys.stderr)
            return 1
        print(f"quick sample is current ({len(PLANS)} files)")
        return 0
    for rel, text in files.items():
        path = args.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    total = json.loads(files["MANIFEST.json"])["records"]
    print(f"wrote {len(PLANS)} files, {total} records, to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
