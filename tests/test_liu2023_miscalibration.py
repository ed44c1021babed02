"""liu2023.miscalibration: the confidence parser, the calibration metrics on hand-computed
examples, the letter probabilities, k draws as k requests, and the logprob part degrading to
"not scored" on a model without log-probabilities while the rest is scored."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from fake_server import FakeServer, fake_logprob
from trustgauge.data import load_records, packaged_path
from trustgauge.stats import calibration
from trustgauge.stats.aggregators import aggregate
from trustgauge.stats.aggregators.liu2023_calibration import NO_LOGPROBS
from trustgauge.tasks.liu2023.miscalibration import (
    Miscalibration,
    Stated,
    letter_probabilities,
    parse_confidence,
)
from trustgauge.types import GenerationParams, Response, Sample, SampleScore, TokenLogprob

ROOT = Path(__file__).resolve().parents[1]

# -- the parser ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ANS: A, A: 80%, B: 10%, C: 10%", Stated("A", {"A": 0.8, "B": 0.1, "C": 0.1})),
        ("ANS: [C], A: 0%, B: 0%, C: 100%", Stated("C", {"A": 0.0, "B": 0.0, "C": 1.0})),
        ("ans - (b)\nA = 12.5 %\nB: 87.5%\nC:0%", Stated("B", {"A": 0.125, "B": 0.875, "C": 0.0})),
        ("Sure! ANS:C, A: 5%, B: 5%, C: 90%. I refuse.", Stated("C", {"A": 0.05, "B": 0.05, "C": 0.9})),
        # the first value of a letter counts; percentages are not renormalised
        ("ANS: A, A: 60%, B: 30%, C: 30%, A: 10%", Stated("A", {"A": 0.6, "B": 0.3, "C": 0.3})),
    ],
)
def test_parser_reads_the_asked_format(text: str, expected: Stated) -> None:
    assert parse_confidence(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no 'ANS: <letter>'"),
        ("I cannot answer that.", "no 'ANS: <letter>'"),
        ("ANS: [A/B/C], A: x%, B: y%, C: z%", "no 'ANS: <letter>'"),  # the template echoed
        ("ANS: D, A: 10%, B: 10%, C: 80%", "no 'ANS: <letter>'"),
        ("ANSWER: A", "no 'ANS: <letter>'"),
        ("ANS: A, A: 80%, B: 20%", "no confidence for C"),
        ("ANS: A", "no confidence for A, B, C"),
        ("ANS: A, A: 0.8, B: 0.1, C: 0.1", "no confidence for A, B, C"),  # no % sign
        ("ANS: A, A: 180%, B: 10%, C: 10%", "confidence 180% for A is above 100%"),
        ("ANS: A, A: 50%, B: 50%, C: 0% ... ANS: B", "several answers: A, B"),
    ],
)
def test_parser_refuses_malformed_answers_with_a_reason(text: str, reason: str) -> None:
    assert parse_confidence(text) == reason


def test_parser_on_two_option_questions() -> None:
    assert parse_confidence("ANS: B, A: 30%, B: 70%", ["A", "B"]) == Stated("B", {"A": 0.3, "B": 0.7})
    # C stated on a two-option question is ignored; C chosen is not an option
    assert parse_confidence("ANS: A, A: 90%, B: 10%, C: 0%", ["A", "B"]) == Stated("A", {"A": 0.9, "B": 0.1})
    assert parse_confidence("ANS: C, A: 0%, B: 0%, C: 100%", ["A", "B"]) == "answer C is not an option (A/B)"


# -- the metrics, by hand -------------------------------------------------------------------------


def test_gap_metrics_by_hand() -> None:
    pairs = [(0.9, 1.0), (0.1, 0.0), (0.0, 0.0), (0.5, 0.2)]
    # |gaps| 0.1, 0.1, 0, 0.3 -> mean 0.125; above 0.05: 3 of 4
    assert calibration.mean_abs_gap(pairs) == pytest.approx(0.125)
    assert calibration.gap_share(pairs) == 0.75
    assert calibration.gap_share(pairs, threshold=0.2) == 0.25
    assert calibration.mean_abs_gap([]) is None and calibration.gap_share([]) is None


def test_wasserstein_by_hand() -> None:
    # equal sizes: mean |sorted(a) - sorted(b)|
    assert calibration.wasserstein([0.0, 1.0], [0.5, 0.5]) == pytest.approx(0.5)
    assert calibration.wasserstein([0.9, 0.1, 0.0], [1.0, 0.0, 0.0]) == pytest.approx((0.0 + 0.1 + 0.1) / 3)
    # different sizes: area between the CDFs. a={0}, b={0,1}: |1 - 1/2| over [0, 1] = 0.5
    assert calibration.wasserstein([0.0], [0.0, 1.0]) == pytest.approx(0.5)
    assert calibration.wasserstein([0.3, 0.3], [0.3]) == 0.0
    assert calibration.wasserstein([], [1.0]) is None


def test_ece_and_bins_by_hand() -> None:
    pairs = [(0.95, 1.0), (1.0, 0.0), (0.15, 0.0), (0.12, 1.0), (0.5, 0.5)]
    bins = calibration.reliability_bins(pairs, 10)
    assert [b.n for b in bins] == [0, 2, 0, 0, 0, 1, 0, 0, 0, 2]  # 1.0 falls in the top bin
    top = bins[9]
    assert top.stated == pytest.approx(0.975) and top.observed == pytest.approx(0.5)
    assert bins[0].stated is None
    # bin 1: mean stated 0.135, observed 0.5 -> 0.365; bin 5: 0; bin 9: 0.475
    expected = 2 / 5 * 0.365 + 1 / 5 * 0.0 + 2 / 5 * 0.475
    assert calibration.ece(pairs, 10) == pytest.approx(expected)
    assert calibration.ece(pairs, 1) == pytest.approx(abs((0.95 + 1 + 0.15 + 0.12 + 0.5) / 5 - 2.5 / 5))
    assert calibration.ece([], 10) is None
    with pytest.raises(ValueError):
        calibration.reliability_bins(pairs, 0)


def _draw(q: str, letter: str | None, stated: dict[str, float] | None, token: dict[str, float] | None = None,
          options: tuple[str, ...] = ("A", "B", "C")) -> tuple[Sample, SampleScore]:
    sample = Sample(id=f"{q}#{id(stated)}", prompt=q, group=q, metadata={"options": list(options)})
    if letter is None:
        return sample, SampleScore(valid=False, note="unreadable")
    values: dict[str, float | None] = {f"stated_{o}": v for o, v in (stated or {}).items()}
    values.update({f"token_{o}": (token or {}).get(o) for o in options})
    return sample, SampleScore(label=letter, values=values)


def test_aggregator_by_hand() -> None:
    # q1: 4 draws A, A, A, B stating A 80%, B 20%, C 0% each -> f = (0.75, 0.25, 0); s = (0.8, 0.2, 0)
    # q2 (two options): 3 draws, all B at B 60%, A 40% -> f = (0, 1), s = (0.4, 0.6)
    # q3: 2 valid draws only (< 3): left out; one unreadable draw of q1 counts as invalid
    q1 = [_draw("q1", x, {"A": 0.8, "B": 0.2, "C": 0.0}) for x in "AAAB"] + [_draw("q1", None, None)]
    q2 = [_draw("q2", "B", {"A": 0.4, "B": 0.6}, options=("A", "B")) for _ in range(3)]
    q3 = [_draw("q3", "A", {"A": 1.0, "B": 0.0, "C": 0.0}) for _ in range(2)]
    metrics = {m.metric: m for m in aggregate("liu2023.calibration@1", q1 + q2 + q3, {"min_draws": 3})}
    gaps = [0.05, 0.05, 0.0, 0.4, 0.4]
    assert metrics["mean_abs_gap"].value == pytest.approx(sum(gaps) / 5)
    assert metrics["mean_abs_gap"].n == 2 and metrics["mean_abs_gap"].n_invalid == 1
    assert metrics["gap_share"].value == pytest.approx(2 / 5)  # 0.05 is not above 0.05
    stated, observed = [0.8, 0.2, 0.0, 0.4, 0.6], [0.75, 0.25, 0.0, 0.0, 1.0]
    assert metrics["wasserstein"].value == pytest.approx(
        sum(abs(a - b) for a, b in zip(sorted(stated), sorted(observed))) / 5
    )
    assert metrics["ece"].value == pytest.approx(calibration.ece(list(zip(stated, observed)), 10))
    assert metrics["invalid_rate"].value == pytest.approx(1 / 10)
    for name in ("token_gap", "token_ece", "verbal_token_gap"):
        assert metrics[name].value is None and metrics[name].reason == NO_LOGPROBS
    assert [m.metric for m in aggregate("liu2023.calibration@1", q1, {})] == [m for m, _ in Miscalibration.metrics]


def test_aggregator_token_part_by_hand() -> None:
    token = {"A": 0.5, "B": 0.3, "C": 0.1}
    draws = [_draw("q", "A", {"A": 0.9, "B": 0.1, "C": 0.0}, token) for _ in range(3)]
    metrics = {m.metric: m for m in aggregate("liu2023.calibration@1", draws, {})}
    # f = (1, 0, 0); t = (0.5, 0.3, 0.1); s = (0.9, 0.1, 0)
    assert metrics["token_gap"].value == pytest.approx((0.5 + 0.3 + 0.1) / 3)
    assert metrics["verbal_token_gap"].value == pytest.approx((0.4 + 0.2 + 0.1) / 3)
    # bins: 0.5 -> bin 5 (obs 1), 0.3 -> bin 3 (obs 0), 0.1 -> bin 1 (obs 0)
    assert metrics["token_ece"].value == pytest.approx((0.5 + 0.3 + 0.1) / 3)


# -- letter probabilities -------------------------------------------------------------------------


def _tok(text: str, lp: float, *alts: tuple[str, float]) -> TokenLogprob:
    return TokenLogprob(token=text, logprob=lp, top=tuple(TokenLogprob(token=t, logprob=p) for t, p in alts))


def test_letter_probabilities_as_the_authors_read_them() -> None:
    tokens = [
        _tok("ANS", -0.1), _tok(":", -0.1),
        _tok(" A", math.log(0.6), (" A", math.log(0.6)), (" B", math.log(0.3)), ("a", math.log(0.05)), (" [C", math.log(0.01))),
    ]
    probs = letter_probabilities(tokens)
    assert probs == pytest.approx({"A": 0.65, "B": 0.3, "C": 0.01})
    # "ANS:" in one token, the letter with a comma, no alternatives
    assert letter_probabilities([_tok("ANS:", 0.0), _tok(" B,", math.log(0.25))]) == pytest.approx(
        {"A": 0.0, "B": 0.25, "C": 0.0}
    )
    # the colon and the letter in one token
    assert letter_probabilities([_tok("ANS", 0.0), _tok(": C", math.log(0.5))]) == pytest.approx(
        {"A": 0.0, "B": 0.0, "C": 0.5}
    )
    assert letter_probabilities([_tok("A", 0.0), _tok(":", 0.0)]) is None  # no ANS
    assert letter_probabilities([_tok("ANS", 0.0), _tok(" A", 0.0)]) is None  # no colon


def test_score_response_adds_token_probabilities() -> None:
    task = Miscalibration()
    sample = Sample(id="q#0", prompt="p", target="C", group="q", metadata={"options": ["A", "B", "C"], "draw": 0})
    text = "ANS: C, A: 0%, B: 0%, C: 100%"
    plain = task.score_response(sample, Response(text=text), {})
    assert plain.values == {"stated_A": 0.0, "stated_B": 0.0, "stated_C": 1.0,
                            "token_A": None, "token_B": None, "token_C": None}
    tokens = (_tok("ANS:", 0.0), _tok(" C", math.log(0.75), (" C", math.log(0.75)), (" A", math.log(0.25))))
    with_tokens = task.score_response(sample, Response(text=text, tokens=tokens), {})
    assert with_tokens.label == "C"
    assert with_tokens.values["token_C"] == pytest.approx(0.75) and with_tokens.values["token_A"] == pytest.approx(0.25)
    assert not task.score_response(sample, Response(text="no idea"), {}).valid


# -- the data and the requests --------------------------------------------------------------------


def test_packaged_questions_are_what_the_script_builds(shared_data: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import liu2023_miscalibration_data as script
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    built = script.render(script.build(shared_data))
    assert (packaged_path("liu2023/miscalibration") / "questions.json").read_text(encoding="utf-8") == built


def test_each_draw_is_a_distinct_request() -> None:
    task = Miscalibration()
    records, _ = load_records(packaged_path("liu2023/miscalibration"), "questions.json")
    samples = task.samples(records)
    assert len(samples) == task.size == len(records) * 20
    first = [s for s in samples if s.group == samples[0].group]
    assert len(first) == 20 and len({s.prompt for s in first}) == 1
    requests = [task.build_request(s) for s in first]
    assert len({r.cache_key({"m": "x"}) for r in requests}) == 20
    assert [r.params.seed for r in requests] == list(range(20))
    assert requests[0].params.temperature == 1.0 and requests[0].params.logprobs == 5
    # the user's seed and temperature are applied, the draws still differ
    user = [task.build_request(s, {"seed": 100, "temperature": 0.0}) for s in first]
    assert [r.params.seed for r in user] == list(range(100, 120)) and user[0].params.temperature == 0.0


def test_k_is_a_class_attribute_a_subclass_changes() -> None:
    class FiveDraws(Miscalibration):
        draws = 5

    records, _ = load_records(packaged_path("liu2023/miscalibration"), "questions.json")
    samples = FiveDraws().samples(records[:2])
    assert [s.id for s in samples[:6]] == [f"{records[0]['id']}#{j}" for j in range(5)] + [f"{records[1]['id']}#0"]
    assert [FiveDraws().build_request(s).params.seed for s in samples] == [0, 1, 2, 3, 4] * 2


# -- through the CLI: k requests sent, logprobs scored or degraded --------------------------------


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trustgauge", *args], env=cli_env(home), capture_output=True, text=True,
        timeout=300, stdin=subprocess.DEVNULL,
    )


def _metrics(out: Path) -> dict[str, Any]:
    tasks = json.loads((out / "scores.json").read_text())["tasks"]
    return {m["metric"]: m for m in tasks[0]["metrics"]}


REPLY = "ANS: A, A: 70%, B: 20%, C: 10%"


def _plot(report: Path) -> str:
    html = report.read_text(encoding="utf-8")
    start = html.index('<section id="reliability">')
    return html[start : html.index("</section>", start)]


def test_k_draws_are_k_requests_and_logprobs_are_scored(tmp_path: Path, tg_home: Path) -> None:
    with FakeServer.start(models=["test-model"], replies=[["Question:", REPLY]]) as server:
        spec = f"openai-compatible:test-model@{server.openai_base_url}"
        res = _run(["run", "-m", spec, "-t", "liu2023.miscalibration", "--limit", "20", "-o", str(tmp_path / "a")], tg_home)
        assert res.returncode == 0, res.stderr
        stats = server.stats()
    assert stats["by_endpoint"]["chat.completions"] == 20  # one question, 20 distinct draws
    samples = [json.loads(line) for line in (tmp_path / "a" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 20 and len({s["group"] for s in samples}) == 1
    options = samples[0]["metadata"]["options"]
    metrics = _metrics(tmp_path / "a")
    # every draw says A: f_A = 1; stated A 0.7, B 0.2 (C 0.1 on a three-option question)
    gaps = [0.3, 0.2, 0.1] if options == ["A", "B", "C"] else [0.3, 0.2]
    assert metrics["mean_abs_gap"]["value"] == pytest.approx(sum(gaps) / len(gaps))
    assert metrics["invalid_rate"]["value"] == 0.0
    # the fake server's token " A," is the only alternative naming a letter: its probability
    p_a = math.exp(fake_logprob(" A,"))
    token_gaps = [1 - p_a, 0.0, 0.0][: len(options)]
    assert metrics["token_gap"]["value"] == pytest.approx(sum(token_gaps) / len(options))
    assert all(s["score"]["token_A"] == pytest.approx(p_a) for s in samples)
    plot = _plot(tmp_path / "a" / "report.html")
    assert "<rect class=\"mark\"" in plot and "token probability" in plot  # both series


def test_a_model_without_logprobs_degrades_the_token_part_only(tmp_path: Path, tg_home: Path) -> None:
    # a scripted model (no logprobs capability) that always answers A, certain of it: calibrated
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"Question:": "ANS: A, A: 100%, B: 0%, C: 0%"}))
    spec = f"scripted:table={table}"
    res = _run(["run", "-m", spec, "-t", "liu2023.miscalibration", "--limit", "40", "-o", str(tmp_path / "b")], tg_home)
    assert res.returncode == 0, res.stderr
    metrics = _metrics(tmp_path / "b")
    assert metrics["mean_abs_gap"]["value"] == 0.0 and metrics["ece"]["value"] == 0.0
    assert metrics["invalid_rate"]["value"] == 0.0 and metrics["mean_abs_gap"]["n"] == 2
    for name in ("token_gap", "token_ece", "verbal_token_gap"):
        assert metrics[name]["value"] is None and metrics[name]["reason"] == NO_LOGPROBS
    # the report's reliability diagram: the pairs sit at (0, 0) and (1, 1), two bins,
    # verbalised only (circles, no token squares)
    plot = _plot(tmp_path / "b" / "report.html")
    assert plot.count("<circle") == 2 and "<rect class=\"mark\"" not in plot
    assert "stated 1.00, observed 1.00" in plot and "stated 0.00, observed 0.00" in plot
    run = json.loads((tmp_path / "b" / "run.json").read_text())
    assert "logprobs" not in run["generation"]["liu2023.miscalibration"]  # not asked of scripted:
    assert run["requests"]["sent"] == 40


def test_params_dump_without_logprobs_is_the_plain_one() -> None:
    assert "logprobs" not in GenerationParams(temperature=1.0).model_dump()


def test_only_logprobs_can_be_used_without_being_required() -> None:
    from trustgauge.tasks.registry import register_task

    class Toy(Miscalibration):
        id = "liu2023.toy_uses"
        uses = ("loglikelihood",)

    with pytest.raises(ValueError, match=r"uses \['loglikelihood'\] - only 'logprobs'"):
        register_task(Toy)


def test_reliability_section_carries_no_model_text() -> None:
    """Markup planted in the labels, ids and metadata of a synthetic run never reaches the
    diagram: only numbers and the task id (escaped) do."""
    from html_report_fixtures import XSS_RESPONSE, synthetic_run
    from trustgauge.report.htmlreport import render_report

    run, scores, samples = synthetic_run(120, seed=3, xss=True, task_ids=["liu2023.miscalibration"])
    task = scores.tasks[0].model_copy(update={"aggregator": "liu2023.calibration@1", "aggregator_params": {}})
    scores = scores.model_copy(update={"tasks": [task]})
    # draws of four questions, choosing A or B, stating 60% for A; labels and metadata keep
    # the planted markup where the fixture put it
    grouped = [
        s.model_copy(update={
            "group": f"q{i % 4}", "label": s.label if i == 0 else "AB"[i % 2],
            "score": {"stated_A": 0.6, "stated_B": 0.4, "stated_C": 0.0},
        })
        for i, s in enumerate(samples)
    ]
    html = render_report(run, scores, grouped)
    start = html.index('<section id="reliability">')
    section = html[start : html.index("</section>", start)]
    assert "reliability-plot" in section and "<circle" in section
    assert XSS_RESPONSE not in section and "<script" not in section.lower() and "onerror" not in section
