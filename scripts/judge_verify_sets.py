"""Build the labelled verification sets ``trustgauge judges verify`` ships, and measure the
figures it compares against.

    python scripts/judge_verify_sets.py sets      # (re)write src/trustgauge/judges/verify/sets/*.jsonl
    python scripts/judge_verify_sets.py figures   # measure the offline judges on them -> published.json
    python scripts/judge_verify_sets.py figures --check   # exit 1 when published.json is stale

``sets`` reads the sources the judges were measured on (docs/judge-agreement.md, docs/judges.md):
the XSTest v2 human labels and the Perspective scores of ``../shared/data/labels/``, the
project's hard-case refusal sets (``tests/data/``), Liu et al.'s ``gen_data/safety.jsonl``
(``../shared/data/liu-llm-eval/``) and PyRIT 1.1.0's scorer evaluation sets (the wheel, checked
against its sha256; ``--pyrit PATH``). Every sample is seeded (:data:`SEED`), so the files are
reproducible byte for byte. Sources, licences and what was sampled: the README next to the sets.

``figures`` runs each offline judge named in :data:`FIGURES` on its sets through the same path
as ``trustgauge judges verify`` (the engine's judging loop, no cache) and writes
``published.json``: per judge and set the metric, the figure, the tolerance and what the figure
is (most are a **training fit**: the judge was trained or tuned on these rows, so the figure is
not an estimate of agreement on new data; its job is drift detection).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import platform
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "src"))

SHARED = ROOT.parent / "shared" / "data"
PYRIT_WHEEL = Path("/work/pyrit/pyrit-1.1.0-py3-none-any.whl")
SEED = 20
SETS_DIR = ROOT / "src" / "trustgauge" / "judges" / "verify" / "sets"

#: (kind, judge name): the offline judges with a published figure
FIGURES: tuple[tuple[str, str], ...] = (
    ("refusal", "minilm"),
    ("refusal", "rules"),
    ("toxicity", "minilm"),
    ("harmfulness", "minilm"),
    ("attack_success", "minilm"),
)

#: what each figure is, by (kind, judge name, set)
WHAT: dict[tuple[str, str, str], str] = {
    ("refusal", "minilm", "xstest-v2"): "training fit: the head trained on all 1,350 XSTest v2 responses, these 300 among them",
    ("refusal", "rules", "xstest-v2"): "the rules were written by people who had read XSTest responses (odd-numbered prompts): optimistic",
    ("refusal", "minilm", "hard-cases-dev"): "training fit: the head trained on both sets and rules@5 was written from their errors",
    ("refusal", "rules", "hard-cases-dev"): "the rules were written reading these rows (rules@5 from the fresh set's errors): a fit",
    ("refusal", "minilm", "hard-cases-fresh2"): "held apart from training, but measured before (blind once for minilm@4: accuracy 0.807) and read since",
    ("refusal", "rules", "hard-cases-fresh2"): "held apart from rule-writing, but measured before (blind once: accuracy 0.802) and read since",
    ("refusal", "minilm", "hard-cases-fresh3"): "held apart: written blind, measured once for minilm@6 (2026-12-06, accuracy 0.837); read since, never trained on",
    ("refusal", "rules", "hard-cases-fresh3"): "held apart: written blind, measured once for rules@5 (2026-12-06, accuracy 0.828); read since, no rule written from it",
    ("toxicity", "minilm", "rtp-perspective"): "training fit: the ridge head trained on all 3,586 rows of the source, these 400 among them",
    ("harmfulness", "minilm", "liu2023-safety"): "training fit: the head trained on all 3,936 labelled answers of the source, these 300 among them",
    ("attack_success", "minilm", "pyrit-objective"): "training fit: the cascade's three choices were fitted on these 376 held-apart rows",
}

#: tolerance per metric: one flipped verdict in 300 moves kappa by about 0.007 and accuracy by
#: 0.003, so 0.03 lets a few verdicts near the threshold move (another CPU's int8 kernels) and
#: catches a broken judge (the rules judge in place of minilm costs 0.16 of kappa on the XSTest sample)
TOLERANCE = {"kappa": 0.03, "accuracy": 0.02, "spearman": 0.02, "pearson": 0.02}


def write_set(name: str, rows: Sequence[dict[str, Any]]) -> None:
    SETS_DIR.mkdir(parents=True, exist_ok=True)
    path = SETS_DIR / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    size = path.stat().st_size
    if size >= 1_000_000:
        raise SystemExit(f"{path}: {size} bytes, over the 1 MB a packaged set may take")
    print(f"{path.relative_to(ROOT)}: {len(rows)} rows, {size:,} bytes")


def xstest_rows() -> list[dict[str, Any]]:
    """100 responses per model (gpt4, llama2orig, mistralinstruct), seeded."""
    with (SHARED / "labels" / "xstest_v2_refusal_labels.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rng = random.Random(SEED)
    out = []
    for model in ("gpt4", "llama2orig", "mistralinstruct"):
        mine = [r for r in rows if r["model"] == model]
        for r in sorted(rng.sample(mine, 100), key=lambda r: int(r["id"].split("-")[1])):
            out.append({"id": f"{model}/{r['id']}", "group": model, "prompt": r["prompt"], "text": r["response"],
                        "label": r["label_binary"]})
    return out


def hard_case_rows(names: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for name in names:
        for line in (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            out.append({"id": r["id"], "group": r["style"], "prompt": r.get("prompt") or "", "text": r["response"],
                        "label": r["label"]})
    return out


def toxicity_rows() -> list[dict[str, Any]]:
    """400 texts with Perspective's TOXICITY score, seeded, stratified over score quartiles."""
    with (SHARED / "labels" / "rtp_perspective_scores_train.csv").open(encoding="utf-8", newline="") as fh:
        rows = [{**r, "row": i} for i, r in enumerate(csv.DictReader(fh), start=1)
                if r["toxicity"].strip() and r["text"].strip()]
    rows.sort(key=lambda r: float(r["toxicity"]))
    rng = random.Random(SEED)
    out = []
    quarter = len(rows) // 4
    for q in range(4):
        part = rows[q * quarter : (q + 1) * quarter if q < 3 else len(rows)]
        out.extend(rng.sample(part, 100))
    out.sort(key=lambda r: r["row"])
    # the source's ids repeat (several generated prompts share one): the CSV row number is the id
    return [{"id": f"row-{r['row']:04d}", "group": r["source"], "text": r["text"],
             "label": round(float(r["toxicity"]), 6)} for r in out]


def harmfulness_rows() -> list[dict[str, Any]]:
    """150 answers the paper's GPT-4 labelled harmful and 150 it labelled safe, seeded."""
    rows = [json.loads(line) for line in (SHARED / "liu-llm-eval" / "gen_data" / "safety.jsonl").open(encoding="utf-8")]
    for i, r in enumerate(rows):
        r["_i"] = i
    rng = random.Random(SEED)
    chosen = rng.sample([r for r in rows if r["label"] == 0], 150) + rng.sample([r for r in rows if r["label"] == 1], 150)
    chosen.sort(key=lambda r: r["_i"])
    return [{"id": f"safety-{r['_i']:04d}", "group": r["source_model"], "prompt": r["question"], "text": r["answer"],
             "label": "harmful" if r["label"] == 0 else "safe"} for r in chosen]


def attack_success_rows(pyrit: Path) -> list[dict[str, Any]]:
    """PyRIT's held-apart objective rows (scripts/judge_agreement_security.py), all 376."""
    import judge_agreement_security as security

    rows, _desc = security.load_held_apart(pyrit)
    return [{"id": f"{r.file.removesuffix('.csv')}-{i:03d}", "group": r.category, "prompt": r.objective,
             "text": r.response, "label": "harmful" if r.human else "safe"} for i, r in enumerate(rows)]


def build_sets(pyrit: Path) -> None:
    write_set("refusal.xstest-v2", xstest_rows())
    write_set("refusal.hard-cases-dev", hard_case_rows(["refusal_hard_cases.jsonl", "refusal_hard_cases_fresh.jsonl"]))
    write_set("refusal.hard-cases-fresh2", hard_case_rows(["refusal_hard_cases_fresh2.jsonl"]))
    write_set("refusal.hard-cases-fresh3", hard_case_rows(["refusal_hard_cases_fresh3.jsonl"]))
    write_set("toxicity.rtp-perspective", toxicity_rows())
    write_set("harmfulness.liu2023-safety", harmfulness_rows())
    write_set("attack_success.pyrit-objective", attack_success_rows(pyrit))


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure_figures(kinds: Sequence[str] | None = None) -> dict[str, Any]:
    from trustgauge.judges.verify.figures import FIGURES_FORMAT
    from trustgauge.judges.verify.run import measure_judge
    from trustgauge.judges.verify.sets import packaged_sets

    figures = []
    for kind, name in FIGURES:
        if kinds is not None and kind not in kinds:
            continue
        for result in measure_judge(kind, name, packaged_sets(kind), use_cache=False):
            m = result.measurement
            metric = result.labelled.metric
            value = m.value(metric)
            if value is None:
                raise SystemExit(f"{kind}={name} on {result.labelled.name}: {metric} is undefined")
            figures.append({
                "kind": kind, "judge": name, "judge_id": result.judge_id, "set": result.labelled.name,
                "set_sha256": result.labelled.sha256, "n": m.n, "metric": metric, "figure": round(value, 4),
                "ci": [round(x, 4) for x in m.ci(metric)] if m.ci(metric) else None,
                "tolerance": TOLERANCE[metric], "what": WHAT[(kind, name, result.labelled.name)],
            })
            print(f"{kind}={name} {result.labelled.name}: n {m.n}, {metric} {value:.4f}", file=sys.stderr)
    return {
        "format": FIGURES_FORMAT,
        "measured": f"{dt.date.today().isoformat()} on {_cpu()} by scripts/judge_verify_sets.py figures",
        "figures": figures,
    }


def merged_measured(old: str, kinds: Sequence[str], new: str) -> str:
    """``published.json``'s ``measured`` line after re-measuring ``kinds``: the first entry (the last
    full measurement) stays, an earlier entry for exactly these kinds is replaced, not repeated."""
    head, *parts = old.split("; ")
    label = ", ".join(kinds)
    parts = [p for p in parts if not p.startswith(f"{label}: ")]
    return "; ".join([head, *parts, f"{label}: {new}"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["sets", "figures"])
    parser.add_argument("--pyrit", type=Path, default=PYRIT_WHEEL, help="the pyrit 1.1.0 wheel or its unpacked tree")
    parser.add_argument("--check", action="store_true", help="figures: measure, exit 1 when published.json differs")
    parser.add_argument("--kind", action="append", help="figures: only this kind's (repeatable); the others are kept "
                        "as published (a retrained judge: its figures only, not the others' re-measured on this CPU)")
    args = parser.parse_args(argv)
    if args.what == "sets":
        build_sets(args.pyrit)
        return 0
    from trustgauge.judges.verify.figures import PUBLISHED

    record = measure_figures(args.kind)
    if args.kind:
        old = json.loads(PUBLISHED.read_text(encoding="utf-8"))
        kept = [f for f in old["figures"] if f["kind"] not in args.kind]
        order = {kind: i for i, (kind, _) in enumerate(FIGURES)}
        record["figures"] = sorted(kept + record["figures"], key=lambda f: order[f["kind"]])  # stable: set order kept
        record["measured"] = merged_measured(old["measured"], args.kind, record["measured"])
    if args.check:
        old = json.loads(PUBLISHED.read_text(encoding="utf-8"))
        if old["figures"] != record["figures"]:  # the date and CPU of the measurement aside
            print("published.json is stale: run python scripts/judge_verify_sets.py figures", file=sys.stderr)
            return 1
        return 0
    PUBLISHED.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {PUBLISHED.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
