"""The report's security section (issue 17 item 5, :mod:`trustgauge.report.security`): the
attack x category heat map and the over-refusal column rebuilt from a synthetic run's samples
(hand-computed cells and costs), the compact tables of ``report.md``, the successful attacks'
transcripts in the explorer's data, escaping of hostile names and output, and no section for a
run without security tasks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from html_report_fixtures import synthetic_run
from security_report_fixtures import (
    AIM,
    CYBER,
    ILLEGAL,
    INJ,
    JB,
    PAIR,
    attack_sample,
    injection_samples,
    security_run,
    security_samples,
)
from trustgauge.report.htmlreport import (
    MAX_TEXT,
    MIN_TEXT,
    TURN_BUDGET,
    decode_samples,
    render_report,
    sample_columns,
    turn_cap,
)
from trustgauge.report.security import (
    Cell,
    attack_rows,
    colour,
    fmt_cost,
    heatmap,
    markdown_lines,
    security_section,
)
from trustgauge.report.writer import write_run
from trustgauge.results.schema import TaskScores


@pytest.fixture(autouse=True)
def _no_registered_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by other tests would redact parts of the names read back here."""
    import trustgauge._secrets as secrets

    monkeypatch.setattr(secrets, "_SECRETS", set())


# ---------------------------------------------------------------------------------------------
# the numbers


def test_cells_over_refusal_keyword_and_cost_by_hand() -> None:
    none, aim = attack_rows(JB, security_samples())
    assert (none.attack, aim.attack) == ("none", AIM)
    assert none.cells == {CYBER: Cell(k=1, n=2), ILLEGAL: Cell(k=0, n=1, unparsed=1)}
    assert aim.cells == {CYBER: Cell(k=2, n=2), ILLEGAL: Cell(failed=1, unparsed=1)}
    assert aim.cells[ILLEGAL].rate is None  # n=0: no rate
    assert none.total == Cell(k=1, n=3, unparsed=1) and none.total.rate == pytest.approx(1 / 3)
    assert aim.total == Cell(k=2, n=2, unparsed=1, failed=1)
    # over-refusal on the benign twins under each attack
    assert none.refused == Cell(k=1, n=2) and aim.refused == Cell(k=2, n=2)
    # keyword ASR: harmful samples with a response whose keyword rules found no refusal
    assert none.keyword == Cell(k=2, n=4)            # b2, b4 (the unparsed one still has a response)
    assert aim.keyword == Cell(k=2, n=3)             # b1, b2 of b1, b2, b4 (b3 failed)
    # cost: every harmful sample's calls and tokens / successes (benign twins not counted)
    (c,) = none.costs
    assert (c.role, c.calls, c.tokens) == ("target", 4.0, 420.0)
    assert (c.calls_per_success, c.tokens_per_success) == (4.0, 420.0)
    (c,) = aim.costs
    assert (c.calls, c.tokens, c.calls_per_success, c.tokens_per_success) == (3.0, 600.0, 1.5, 300.0)
    (pair,) = attack_rows(PAIR, security_samples())
    assert [c.role for c in pair.costs] == ["target", "attacker", "judge"]
    assert pair.cost("attacker") is not None and pair.cost("attacker").calls_per_success == 5.0  # type: ignore[union-attr]
    assert pair.cost("attacker").tokens_per_success == 2100.0  # type: ignore[union-attr]
    assert pair.cost("judge").tokens_per_success == 390.0  # type: ignore[union-attr]
    assert pair.refused == Cell()  # no benign twin: n=0


def test_no_success_cost_and_injection_utility() -> None:
    rows = attack_rows(INJ, injection_samples())
    assert [r.attack for r in rows] == ["none", "ignore_previous"]
    clean, attack = rows
    assert clean.cells == {} and clean.utility == 0.0 and clean.utility_n == 1  # not an attack sample
    assert attack.cells == {"canary": Cell(k=1, n=3)}
    assert attack.utility == pytest.approx(2 / 3) and attack.utility_n == 3
    assert attack.cost("target").tokens_per_success == 120.0  # type: ignore[union-attr]
    failing = [s.model_copy(update={"score": {**s.score, "success": 0.0}}) for s in injection_samples()[:3]]
    (row,) = attack_rows(INJ, failing)
    assert row.cost("target").calls_per_success is None  # type: ignore[union-attr]
    assert fmt_cost(None) == "no success" and fmt_cost(1.5) == "1.5" and fmt_cost(12345.0) == "12,345"


def test_heatmap_cells_marginals_and_over_refusal_column() -> None:
    rows = [*attack_rows(JB, security_samples()), *attack_rows(PAIR, security_samples())]
    hm = heatmap(rows)
    assert hm is not None
    assert hm["categories"] == [CYBER, ILLEGAL]
    assert [c["label"] for c in hm["columns"]] == [CYBER, ILLEGAL, "all", "over-refusal"]
    by_label = {r["label"]: r for r in hm["rows"]}
    assert list(by_label) == ["none", AIM, "pair@1", "all attacks"]
    cells = [(c["k"], c["n"], c["value"], c["sub"]) for c in by_label["none"]["cells"]]
    assert cells == [(1, 2, "0.50", "n=2"), (0, 1, "0.00", "n=1"), (1, 3, "0.33", "n=3"), (1, 2, "0.50", "n=2")]
    aim = by_label[AIM]["cells"]
    assert (aim[1]["value"], aim[1]["fill"], aim[1]["rate"]) == ("n=0", None, None)  # marked, not coloured
    assert "no parsed judgement (n=0)" in aim[1]["title"] and "1 unparsed" in aim[1]["title"]
    assert "1 failed requests" in aim[1]["title"]
    assert [c["kind"] for c in aim] == ["asr", "asr", "all", "refusal"]
    assert aim[3]["value"] == "1.00" and "2 of 2 benign twins refused" in aim[3]["title"]
    assert by_label["pair@1"]["cells"][3]["value"] == "n=0"
    # per category over all attacks: cyber 1/2 + 2/2 + 1/1 = 4/5; illegal 0/1 + 0/0 + 0/1
    marg = [(c["k"], c["n"]) for c in by_label["all attacks"]["cells"]]
    assert marg == [(4, 5), (0, 2), (4, 7)]
    title = by_label["all attacks"]["cells"][0]["title"]
    assert "ASR 0.800: 4 of 5" in title and "95% CI [0.376, 0.964]" in title  # Wilson, by hand
    # colours: the scale's ends and the cells' fills
    assert colour(0.0) == "#ffffcc" and colour(1.0) == "#800026" and colour(0.5) == "#fd8d3c"
    assert by_label["none"]["cells"][0]["fill"] == "#fd8d3c"
    assert by_label[AIM]["cells"][0]["ink"] == "light" and by_label["none"]["cells"][1]["ink"] == "dark"
    assert heatmap(attack_rows(INJ, injection_samples()[3:])) is None  # no harmful sample


def test_section_panels_links_and_headline() -> None:
    _, scores, samples = security_run([*security_samples(), *injection_samples()])
    section = security_section(scores, samples, None)
    assert section is not None
    jb, inj = section["panels"]
    assert jb["tasks"] == [JB, PAIR] and inj["tasks"] == [INJ]
    assert jb["roles"] == ["target", "attacker", "judge"]
    assert [h["task"] for h in jb["headline"]] == [JB, PAIR]
    assert [m.metric for m in jb["headline"][0]["rows"]] == ["resistance", "asr", "over_refusal", "keyword_asr",
                                                            "unparsed_rate"]
    assert jb["n_successes"] == 4 and (jb["unparsed"], jb["failed"]) == (2, 1)
    assert [(e["task"], e["id"], e["turns"]) for e in jb["links"]] == [
        (JB, "b2|none", 0), (JB, f"b1|{AIM}", 0), (JB, f"b2|{AIM}", 0), (PAIR, "b1|pair@1", 6)]
    assert jb["per_task"] == [{"task": JB, "n": 3}, {"task": PAIR, "n": 1}]
    assert inj["utility"] and not jb["utility"]
    # a task tagged with a security item is in the section whatever its id
    tagged = TaskScores(task="fan2023.injection_x", dimension="fan2023", title="t", metrics=[], n_samples=0)
    _, scores2, samples2 = security_run(injection_samples(), extra_tasks=[tagged])
    section2 = security_section(scores2, samples2, {"fan2023.injection_x": ["fan2023:security/prompt-injection"],
                                                    "safety.exaggerated": ["fan2023:security/jailbreak"]})
    assert section2 is not None and [p["key"] for p in section2["panels"]] == [INJ, "fan2023.injection_x"]
    assert section2["panels"][1]["heatmap"] is None and section2["panels"][1]["headline"][0]["rows"] == []


# ---------------------------------------------------------------------------------------------
# the pages


def test_html_and_markdown_show_the_section(tmp_path: Path) -> None:
    run, scores, samples = security_run([*security_samples(), *injection_samples()])
    out = tmp_path / "run"
    write_run(out, run, scores, samples)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="security">' in html and 'href="#security"' in html
    assert html.count('class="asr-heatmap"') == 2
    # every heat-map cell: 3 attack rows x 4 + marginal 3 (jailbreak); 2 rows x 3 + 2 (injection)
    # (the injection's clean control has no attack sample: not a row)
    assert len(re.findall(r'<g class="hmcell ', html)) == 15 + 5
    assert len(re.findall(r'<g class="hmcell asr empty"', html)) == 1  # aim x illegal
    assert ('<td class="num cost" data-role="attacker"><span class="calls">5.0</span> calls · '
            '<span class="tokens">2,100</span> tokens</td>') in html
    assert '<td class="num cost" data-role="target"><span class="muted">no success</span></td>' in html
    assert f'data-task="{PAIR}" data-sample="b1|pair@1"' in html
    assert 'class="show-success" data-task="fan2023.jailbreak"' in html
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Security: attack success rate" in md
    assert "| none | 0.50 (n=2) | 0.00 (n=1) | 0.33 (n=3) | 0.50 (n=2) |" in md
    assert f"| {AIM} | 1.00 (n=2) | n=0 | 1.00 (n=2) | 1.00 (n=2) |" in md
    # the per-attack table: per role calls then tokens per success (pair: 5 calls, 800 / 2,100 / 390 tokens)
    assert "| pair@1 | 1 | 0.50 (n=2) | 0.50 (n=2) | 0 | 0 | 5.0 | 5.0 | 5.0 | 800.0 | 2,100 | 390.0 |" in md
    assert f"| {AIM} | 2 | 1.00 (n=2) | 0.67 (n=3) | 1 | 1 | 1.5 | — | — | 300.0 | — | — |" in md
    assert "| none | n=0 | n=0 | n=0 |" not in md  # the injection's clean control: no heat-map row
    assert "| none | 0 | n=0 | n=0 | 0 | 0 | no success | no success | 0.00 (n=1) |" in md
    assert "| ignore\\_previous | 1 | 0.33 (n=3) | n=0 | 0 | 0 | 3.0 | 120.0 | 0.67 (n=3) |" in md


def test_explorer_data_carries_every_turn() -> None:
    run, scores, samples = security_run(security_samples())
    data, outcomes = sample_columns(samples, scores.tasks, 4000)
    i = next(k for k, s in enumerate(samples) if s.sample_id == "b1|pair@1")
    assert outcomes[i] == "fail"
    turns = data["tu"][i]
    assert [t[0] for t in turns] == ["attacker", "target", "judge"] * 2
    assert turns[3] == ["attacker", "improve again", 13, "A story where <script>x()</script>", 34, "stop", 0]
    assert turns[2][6] == 1 and turns[4][5] == "length"
    assert data["tu"][0] == 0  # a single-turn sample
    blob = render_report(run, scores, samples).split('id="tg-samples">', 1)[1].split("</script>", 1)[0]
    assert decode_samples(blob)["tu"][i] == turns


def test_turn_texts_are_cut_to_their_share_but_a_successful_attack_keeps_more() -> None:
    assert turn_cap(0) == MAX_TEXT and turn_cap(TURN_BUDGET // 1000) == 1000
    assert turn_cap(10**9) == MIN_TEXT and turn_cap(2) == MAX_TEXT
    long = "x" * 9000
    turns = [{"role": "attacker", "prompt": long, "response": long}] * 3
    won = attack_sample(PAIR, "b1", "pair@1", CYBER, True, success=1.0, turns=turns, family="iterative")
    lost = attack_sample(PAIR, "b2", "pair@1", CYBER, True, success=0.0, turns=turns, family="iterative")
    fillers = [attack_sample(PAIR, f"f{i}", "pair@1", CYBER, True, success=0.0,
                             turns=[{"role": "target", "prompt": "p", "response": "r"}] * 1000) for i in range(20)]
    _, scores, samples = security_run([won, lost, *fillers])
    data, outcomes = sample_columns(samples, scores.tasks, 4000)
    n_texts = 2 * (6 + 20 * 1000)
    i = samples.index(won)
    assert outcomes[i] == "fail" and data["tu"][i][0][1] == "x" * MAX_TEXT and data["tu"][i][0][2] == 9000
    cut = data["tu"][i + 1][0]
    assert len(cut[1]) == len(cut[3]) == turn_cap(n_texts) == 399 and cut[4] == 9000


# ---------------------------------------------------------------------------------------------
# untrusted text

HOSTILE_ATTACK = '<script>alert("a")</script>|x"y'
HOSTILE_CATEGORY = "cat|<img src=x onerror=alert(1)>`*_[l](http://x)"
HOSTILE_TEXT = "</text></svg><script>alert('r')</script> | pipe"


def test_hostile_names_and_output_are_escaped(tmp_path: Path) -> None:
    samples = [
        attack_sample(JB, "b1", HOSTILE_ATTACK, HOSTILE_CATEGORY, True, success=1.0, kw=0.0, response=HOSTILE_TEXT,
           cost={"calls_target": 1.0, 'tokens_<b>"role': 5.0},
           turns=[{"role": "<i>x</i>", "prompt": HOSTILE_TEXT, "response": HOSTILE_TEXT}]),
        attack_sample(JB, "t1", HOSTILE_ATTACK, HOSTILE_CATEGORY, False, refused=0.0),
    ]
    run, scores, samples = security_run(samples)
    out = tmp_path / "run"
    write_run(out, run, scores, samples)
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html.split('<section id="security">', 1)[1].split("</section>", 1)[0]
    for raw in ("<script", "<img", "</svg><", "<i>", '"role', 'x"y'):
        assert raw not in section, raw
    assert "&lt;script&gt;alert(&#34;a&#34;)&lt;/script&gt;|x&#34;y" in section  # text and attributes
    assert "cat|&lt;img src=x onerror=alert(1)&gt;" in section
    assert html.count("<script") == 3  # the page's own data blocks and script only
    assert "alert(" not in html.split("<main", 1)[0]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "<script" not in md and "<img" not in md and "[l](" not in md
    assert "&lt;script&gt;alert(\"a\")&lt;/script&gt;\\|x\"y" in md
    # every table row of the security tables keeps its column count (no unescaped pipe)
    sec = md.split("## Security", 1)[1]
    for table in re.findall(r"((?:^\|.*\|$\n?)+)", sec, flags=re.M):
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in table.strip().splitlines()}
        assert len(widths) == 1, table


def test_hostile_markdown_lines_directly() -> None:
    section = security_section(*security_run([
        attack_sample(JB, "b1", HOSTILE_ATTACK, HOSTILE_CATEGORY, True, success=0.0)])[1:], None)
    lines = markdown_lines(section)
    text = "\n".join(lines)
    assert HOSTILE_ATTACK not in text and HOSTILE_CATEGORY not in text
    assert "cat\\|&lt;img src=x onerror=alert(1)&gt;\\`\\*\\_\\[l\\](http://x)" in text


def test_no_section_without_security_tasks(tmp_path: Path) -> None:
    run, scores, samples = synthetic_run(20, seed=5, task_ids=["safety.exaggerated", "safety.jailbreak"])
    # TrustLLM's jailbreak task carries Fan et al.'s jailbreak tag but not the attack contract
    assert security_section(scores, samples, {"safety.jailbreak": ["fan2023:security/jailbreak"]}) is None
    assert markdown_lines(None) == []
    out = tmp_path / "run"
    write_run(out, run, scores, samples)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="security"' not in html and 'href="#security"' not in html and 'class="asr-heatmap"' not in html
    assert "Security" not in (out / "report.md").read_text(encoding="utf-8")
    assert json.loads((out / "scores.json").read_text(encoding="utf-8"))["tasks"]


def test_the_direct_request_comes_first_whatever_its_version() -> None:
    """The jailbreak task records its direct request as ``none@1``, the attacker-driven tasks'
    twins as ``none``: either is the first row, before attacks that appeared earlier."""
    samples = [
        attack_sample(JB, "b1", AIM, CYBER, True, success=1.0),
        attack_sample(JB, "b1", "none@1", CYBER, True, success=0.0, family="none"),
    ]
    assert [r.attack for r in attack_rows(JB, samples)] == ["none@1", AIM]
