"""The report's CSP and escaping hold for every field the second wave added (issue 20 item 5 c):
attack transcripts (PAIR/TAP/crescendo conversations, every call's prompt and response), attack
and category names of the security heat map, ROC curves of membership inference (attack
names), taxonomy tags, watermark schemes and edits, detector names, the liu2023 reliability
diagram (options), and the many-models leaderboard (model names, a failed model's reason).

One run carries a payload in every such field (a run directory is untrusted input too: it may
come from someone else, and every string of ``scores.json`` and ``samples.jsonl`` reaches a
section). Headless Chromium opens its ``report.html``, opens every section and transcript, and
checks that nothing of the payload ran, loaded or became an element; ``report.md`` rendered by
a CommonMark viewer with raw HTML on holds no tag or link of the payload's."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

import browser_fixtures
from browser_fixtures import Opened
from html_report_fixtures import synthetic_run
from security_report_fixtures import PAIR, attack_sample, injection_samples, security_run
from test_report_responsibility import (
    DET,
    UT,
    WM,
    detection_scores,
    utility_scores,
    watermark_scores,
)
from trustgauge.report.leaderboard import FailedRun, write_leaderboards
from trustgauge.report.writer import write_run
from trustgauge.results.schema import RunInfo, SampleRecord, ScoresFile, TaskScores
from trustgauge.types import MetricValue

#: free text: everything a page or a Markdown viewer could run, load, link or template
TEXT = (
    "</script><script>window.__pwned=1;alert(1)</script>"
    "<img src=x onerror=\"window.__pwned=2;alert(2)\">"
    "<a href=\"javascript:window.__pwned=3\">click</a>"
    "[link](javascript:alert(4)) ![im](https://example.invalid/t.png) <https://example.invalid/auto>"
    "{{ 7*7 }}{% if 1 %}tpl{% endif %}${7*7}"
    "\u2028\u2029 nul:\x00 end"
)
#: a name (attack, category, scheme, detector, option, tag, model): inside metric names like
#: ``z[kgw]`` and ``auroc[detector/len:short]``, so no ``[``, ``]`` or ``/``
NAME = "<img src=x onerror=\"window.__pwned=5;alert(5)\">{{ 7*7 }}\u2028<svg onload=alert(6)>"


#: the module-scope Chromium (a fixture: pytest finds it under this name)
browser = browser_fixtures.browser


def name(base: str) -> str:
    return f"{base}{NAME}"


@pytest.fixture(autouse=True)
def _no_registered_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    import trustgauge._secrets as secrets

    monkeypatch.setattr(secrets, "_SECRETS", set())


def mv(metric: str, value: float | None, direction: str = "higher", n: int = 10) -> MetricValue:
    return MetricValue(metric=metric, value=value, direction=direction, n=n,  # type: ignore[arg-type]
                       ci=None if value is None else (max(0.0, value - 0.1), min(1.0, value + 0.1)))


# --------------------------------------------------------------------------- the hostile run


def _turns(n: int) -> list[dict[str, Any]]:
    roles = ["attacker", "target", "judge"]
    return [{"role": roles[i % 3], "prompt": f"{i}:{TEXT}", "response": f"{i}:{TEXT}",
             "finish_reason": "stop" if i % 2 else TEXT, "cached": bool(i % 2)} for i in range(n)]


def _security() -> list[SampleRecord]:
    cat, attack = name("cyber"), name("aim@1")
    cost = {"calls_target": 2.0, "tokens_target": 300.0, "calls_attacker": 2.0, "tokens_attacker": 900.0,
            "calls_judge": 2.0, "tokens_judge": 150.0}
    out = []
    # PAIR, TAP and crescendo conversations, each a successful attack with a hostile transcript
    for task, attack_id in ((PAIR, "pair@1"), ("fan2023.jailbreak_tap", "tap@1"),
                            ("fan2023.jailbreak_crescendo", "crescendo@1")):
        out.append(attack_sample(task, name("b1"), name(attack_id), cat, True, success=1.0, kw=0.0,
                                 cost=cost, turns=_turns(6), family="iterative"))
        out.append(attack_sample(task, name("b2"), name(attack_id), name("illegal"), True, success=0.0,
                                 kw=1.0, cost=cost, turns=_turns(3), family="iterative"))
    jb = "fan2023.jailbreak"
    out += [attack_sample(jb, name("b1"), attack, cat, True, success=1.0, kw=0.0, cost={"calls_target": 1.0}),
            attack_sample(jb, name("b2"), "none", cat, True, success=0.0, kw=1.0, cost={"calls_target": 1.0},
                          family="none"),
            attack_sample(jb, name("t1"), attack, cat, False, refused=1.0, kw=1.0, cost={"calls_target": 1.0})]
    return [s.model_copy(update={"prompt": TEXT, "response": TEXT, "label": TEXT,
                                 "metadata": {**s.metadata, "goal": TEXT}}) for s in out]


def _membership() -> tuple[TaskScores, list[SampleRecord]]:
    attacks = [name("loss"), name("zlib")]
    task = TaskScores(task="fan2023.membership_inference", dimension="fan2023", title=TEXT,
                      aggregator="fan2023.membership@1", aggregator_params={"attacks": attacks},
                      metrics=[mv(f"auroc[{a}]", 0.75) for a in attacks] + [mv("shift_auroc", 0.5, "lower")],
                      n_samples=6)
    samples = [SampleRecord(task=task.task, sample_id=f"m{i}{NAME}", prompt=TEXT, response=TEXT, target=i % 2 == 0,
                            score={attacks[0]: float(i), attacks[1]: float(6 - i)}, metadata={"source": TEXT},
                            label=TEXT, outcome="none")
               for i in range(6)]
    return task, samples


def _responsibility() -> tuple[list[TaskScores], list[SampleRecord]]:
    schemes, edits, dets = (name("kgw"), name("synthid")), (name("typos"),), (name("fastdetect"),)
    tasks = [watermark_scores(schemes, edits), utility_scores(schemes), detection_scores(dets)]
    samples = [SampleRecord(task=WM, sample_id=f"w{i}{NAME}", prompt=TEXT, response=TEXT, outcome="none",
                            score={f"z[none/{schemes[0]}]": float(i) - 1, f"z[{schemes[0]}]": 5.0 + i,
                                   f"z[none/{schemes[1]}]": 0.1 * i, f"z[{schemes[1]}]": 6.0 + i})
               for i in range(4)]
    samples += [SampleRecord(task=DET, sample_id=f"d{i}{NAME}", prompt=TEXT, response=TEXT, target=i < 3,
                             score={dets[0]: 3.0 - i}, outcome="none", metadata={"source": TEXT})
                for i in range(6)]
    samples.append(SampleRecord(task=UT, sample_id=f"u{NAME}", prompt=TEXT, response=TEXT, outcome="none"))
    return tasks, samples


def _calibration() -> tuple[TaskScores, list[SampleRecord]]:
    options = [name("A"), name("B")]
    task = TaskScores(task="liu2023.miscalibration", dimension="liu2023", title=TEXT,
                      aggregator="liu2023.calibration@1", aggregator_params={"bins": 5, "min_draws": 3},
                      metrics=[mv("ece", 0.2, "lower")], n_samples=6)
    samples = [SampleRecord(task=task.task, sample_id=f"c{i}{NAME}", prompt=TEXT, response=TEXT,
                            group=f"q{i // 3}{NAME}", label=options[i % 2], valid=True,
                            score={f"stated_{options[0]}": 0.8, f"stated_{options[1]}": 0.2,
                                   f"token_{options[0]}": 0.7, f"token_{options[1]}": 0.3},
                            metadata={"options": options}, outcome="none")
               for i in range(6)]
    return task, samples


def hostile_run(model: str = f"openai:{NAME}") -> tuple[RunInfo, ScoresFile, list[SampleRecord]]:
    sec = _security()
    run, scores, samples = security_run([*sec, *injection_samples()])
    membership, m_samples = _membership()
    r_tasks, r_samples = _responsibility()
    calibration, c_samples = _calibration()
    extra = [membership, *r_tasks, calibration]
    tags = {
        "fan2023.jailbreak": ["fan2023:security/jailbreak"], PAIR: ["fan2023:security/jailbreak"],
        "fan2023.jailbreak_tap": ["fan2023:security/jailbreak"],
        "fan2023.jailbreak_crescendo": ["fan2023:security/jailbreak"],
        "fan2023.injection_direct": ["fan2023:security/prompt-injection"],
        "fan2023.membership_inference": ["fan2023:privacy/membership-inference"],
        WM: ["fan2023:responsibility/content-detection"], UT: ["fan2023:responsibility/content-detection"],
        DET: ["fan2023:responsibility/content-detection"],
    }
    # a hostile tag next to every real one (a run directory's run.json is untrusted too)
    tags = {t: [*v, name("custom:label"), TEXT] for t, v in tags.items()}
    tags["safety.exaggerated"] = [name("x"), TEXT]
    scores = scores.model_copy(update={
        "model": model,
        "tasks": [t.model_copy(update={"title": TEXT}) for t in [*scores.tasks, *extra]],
    })
    run = run.model_copy(update={
        "tasks": [*run.tasks, *(t.task for t in extra)], "taxonomy": tags, "run_id": f"run{NAME}",
        "model": {**run.model, "model": model, "system_prompt": TEXT},
        "command": ["run", "-m", model, "--suite", TEXT],
    })
    return run, scores, [*samples, *m_samples, *r_samples, *c_samples]


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import trustgauge._secrets as secrets

    saved = set(secrets._SECRETS)
    secrets._SECRETS.clear()
    try:
        out = tmp_path_factory.mktemp("hostile") / "run"
        write_run(out, *hostile_run())
    finally:
        secrets._SECRETS.update(saved)
    return out


# --------------------------------------------------------------------------- the sections exist


def _tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(page)
    return found


def test_every_new_section_is_in_the_hostile_report(hostile_dir: Path) -> None:
    """Guard against a vacuous pass: each section the payload targets is really rendered, with
    the payload in it (escaped)."""
    page = (hostile_dir / "report.html").read_text(encoding="utf-8")
    for marker in ('id="security"', 'class="asr-heatmap', 'id="responsibility"', 'class="z-hist',
                   'tpr-heatmap"', 'class="reliability-plot"', 'detection-roc"', 'id="taxonomy"'):
        assert marker in page, marker
    assert "\x00" not in page  # a NUL is written as U+FFFD
    assert page.count("polyline") >= 4  # membership ROC (2 attacks), detection ROC, reliability
    assert "&lt;img src=x onerror=" in page and "&lt;svg onload=alert(6)&gt;" in page
    # no attribute of the payload's is live anywhere in the markup: every '<' from data is escaped
    assert not re.findall(r"<(img|iframe|object|embed|link|form)\b", page)
    assert {h for h in re.findall(r"<a\b[^>]*href=\"([^\"]*)\"", page)} <= {
        "#overview", "#taxonomy", "#tasks", "#tradeoff", "#security", "#responsibility", "#examples", "#run"}
    # parsed as a browser would: no event handler attribute, no element of the payload's kinds
    tags = _tags(page)
    assert [(t, a) for t, attrs in tags for a, _ in attrs if a.startswith("on")] == []
    assert not {t for t, _ in tags} & {"img", "iframe", "object", "embed", "link", "form", "foreignobject"}
    assert [t for t, _ in tags].count("script") == 3
    assert [v for _, attrs in tags for _, v in attrs if v and v.strip().lower().startswith("javascript")] == []


# --------------------------------------------------------------------------- Markdown


def test_report_md_has_no_live_html_or_link(hostile_dir: Path) -> None:
    from markdown_it import MarkdownIt

    md = (hostile_dir / "report.md").read_text(encoding="utf-8")
    assert "\x00" not in md and "nul:\ufffd" in md.replace(" ", "")
    for section in ("Security", "Responsibility"):
        assert section in md
    # raw markup appears only inside code spans (the model spec), where a viewer shows it as code
    assert "<img" not in re.sub(r"(`+).*?\1", "", md) and "<script" not in re.sub(r"(`+).*?\1", "", md)
    rendered = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(md)
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", rendered))
    allowed = {"h1", "h2", "h3", "h4", "ul", "ol", "li", "p", "strong", "em", "code", "table", "thead",
               "tbody", "tr", "th", "td", "br", "hr", "pre", "blockquote"}
    assert tags <= allowed, tags - allowed
    assert "javascript:" not in " ".join(re.findall(r"href=\"[^\"]*\"", rendered))
    assert "<a " not in rendered  # no link at all: not the payload's, not an autolink
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert "<img src=x onerror=" in text  # shown, as text
    # every table keeps its header's cell count on every row, whatever the names hold
    for table in re.findall(r"<table>(.*?)</table>", rendered, re.DOTALL):
        widths = [len(re.findall(r"<t[hd][ >]", row)) for row in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)]
        assert len(set(widths)) == 1, (widths, table[:300])


# --------------------------------------------------------------------------- Chromium


def _nothing_ran(o: Opened) -> None:
    page = o.page
    assert o.dialogs == []
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert o.errors == []
    assert page.locator("script").count() == 3
    assert page.locator("img, iframe, link, object, embed, video, audio, form, input[type=image]").count() == 0
    assert page.locator("a[href^='javascript'], [onerror], [onload], [onmouseover], [onclick]").count() == 0
    assert page.locator("svg[onload], svg > script, foreignObject").count() == 0
    assert o.requests == [o.url], o.requests
    # no attempt was blocked by the policy either: the payload never became an element
    assert not [m for m in o.console if "Content Security Policy" in m], o.console


@pytest.mark.browser
def test_no_payload_runs_in_any_new_section(browser: Any, hostile_dir: Path) -> None:
    o = Opened(browser, hostile_dir / "report.html")
    try:
        page = o.page
        _nothing_ran(o)
        # the sections render the hostile names as text
        body = page.inner_text("body")
        assert "<img src=x onerror=\"window.__pwned=5;alert(5)\">" in body
        assert "{{ 7*7 }}" in body  # template syntax in data is never evaluated
        assert page.locator("svg.asr-heatmap g.hmcell").count() > 0
        assert page.locator("svg.detection-roc polyline.roc").count() == 1
        # every transcript of every successful conversation, every call's text shown as text
        for details in page.locator("details").all():
            if details.is_visible():
                details.locator("summary").first.click()
        conversations = ("fan2023.jailbreak_pair", "fan2023.jailbreak_tap", "fan2023.jailbreak_crescendo")
        buttons = page.locator("button.show-sample")
        shown = set()
        for i in range(buttons.count()):
            button = buttons.nth(i)
            task = button.get_attribute("data-task")
            button.scroll_into_view_if_needed()
            button.click()
            o.wait_matches(1)
            if task not in conversations:
                page.click("#pick-clear")
                continue
            shown.add(task)
            turns = page.locator("#ex-list li.ex ol.turns li.turn")
            assert turns.count() == 6
            texts = turns.nth(1).locator("pre").all_text_contents()
            assert texts[0].startswith("1:</script><script>window.__pwned=1")
            assert "\u2028" in texts[0] and "{{ 7*7 }}" in texts[0]
            for j in range(turns.count()):
                turns.nth(j).hover()
            page.click("#pick-clear")
        assert shown == set(conversations)
        for button in page.locator("button.show-success").all():
            button.scroll_into_view_if_needed()
            button.click()
            page.click("#pick-clear")
        # the explorer over every sample: ids, labels, metadata with the payload
        page.select_option("#f-show", "all")
        page.select_option("#pg-size", "100")
        for selector in ("#ex-list pre", "#ex-list .label", "#ex-list .ex-meta div", "svg title", "svg text"):
            loc = page.locator(selector)
            for k in range(min(loc.count(), 8)):
                with_box = loc.nth(k)
                if with_box.is_visible():
                    with_box.hover()
        page.mouse.move(5, 5)
        page.wait_for_timeout(300)
        _nothing_ran(o)
    finally:
        o.close()


@pytest.mark.browser
def test_many_models_leaderboard_with_hostile_names(browser: Any, tmp_path: Path) -> None:
    """A many-models command's leaderboard: hostile model names and a failed model's (server)
    message are text in leaderboard.html and leaderboard.md."""
    dirs = []
    for k, suffix in enumerate(("a", "b")):
        run, scores, samples = synthetic_run(12, seed=k, model=f"openai:{suffix}{NAME}",
                                             task_ids=["safety.exaggerated", "safety.misuse"])
        run = run.model_copy(update={"run_id": f"r{suffix}{NAME}"})
        scores = scores.model_copy(update={"run_id": run.run_id})
        out = tmp_path / suffix
        write_run(out, run, scores, samples)
        dirs.append(out)
    failed = [FailedRun(label=f"openai:c{NAME}", run_id=f"rc{NAME}", reason=TEXT)]
    board_dir = tmp_path / "board"
    write_leaderboards(board_dir, dirs, failed)
    md = (board_dir / "leaderboard.md").read_text(encoding="utf-8")
    assert "\x00" not in md and "\x00" not in (board_dir / "leaderboard.html").read_text(encoding="utf-8")
    assert "<img" not in md and "<script" not in md and "<svg" not in md
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": True}).enable(["table"]).render(md)
    assert not {"img", "script", "svg", "a", "iframe"} & set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", rendered))
    path = board_dir / "leaderboard.html"
    page_text = path.read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=" in page_text
    pg = browser.new_page()
    dialogs: list[str] = []
    requests: list[str] = []
    errors: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.on("request", lambda r: requests.append(r.url))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(path.resolve().as_uri())
        pg.wait_for_timeout(300)
        assert "<img src=x onerror=" in pg.inner_text("body")
        for cell in pg.locator("td, th").all()[:40]:
            cell.hover()
        assert dialogs == [] and errors == []
        assert pg.evaluate("typeof window.__pwned") == "undefined"
        assert pg.locator("img, iframe, script[src], a[href^='javascript'], [onerror], [onload]").count() == 0
        assert requests == [path.resolve().as_uri()], requests
    finally:
        pg.close()
