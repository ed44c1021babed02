"""The HTML report in headless Chromium (Debian's ``chromium``, driven by Playwright for Python;
never ``playwright install``): the charts and tables render, the example explorer filters,
searches and pages, a screenshot is kept, and an XSS payload planted in the model's output
runs nothing and loads nothing.

Skipped when Playwright or Chromium is missing, except under CI (``CI`` set), where
``.ci/run`` installs both and a missing browser is a failure. Screenshots go to the run's
directory under ``tmp_path``; under CI they are also copied to ``$TRUSTGAUGE_ARTIFACTS``
(``.ci/run``: ``$TRUSTGAUGE_HOME/artifacts``, not committed)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

import browser_fixtures
from browser_fixtures import Opened
from html_report_fixtures import XSS_MARK, XSS_RESPONSE, synthetic_run
from trustgauge.report.htmlreport import decode_samples
from trustgauge.report.writer import write_run
from trustgauge.results.outcomes import counts_against, sample_outcome, task_judged

pytestmark = pytest.mark.browser

#: read at import, before the tests' own TRUSTGAUGE_HOME replaces the CI one
_HOME = os.environ.get("TRUSTGAUGE_HOME")
ARTIFACTS = os.environ.get("TRUSTGAUGE_ARTIFACTS") or (
    str(Path(_HOME) / "artifacts") if os.environ.get("CI") and _HOME else None
)


#: the module-scope Chromium (a fixture: pytest finds it under this name)
browser = browser_fixtures.browser

_why = browser_fixtures.missing_browser()
if _why and os.environ.get("CI"):
    pytest.fail(f"browser tests cannot run under CI: {_why}", pytrace=False)
if _why:
    pytest.skip(f"browser tests skipped: {_why}", allow_module_level=True)


@pytest.fixture(autouse=True)
def _no_registered_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by other tests (a key like ``sk-test-similarity``) would redact their
    partial forms, e.g. ``larity`` inside ``similarity_gap``, from the pages these tests read."""
    import trustgauge._secrets as secrets

    monkeypatch.setattr(secrets, "_SECRETS", set())


def _shot(opened: Opened, path: Path, full: bool = True) -> Path:
    opened.page.screenshot(path=str(path), full_page=full)
    assert path.stat().st_size > 10_000
    if ARTIFACTS:
        dest = Path(ARTIFACTS)
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / path.name)
    return path


def _failing_indices(samples: list[Any], scores: Any) -> list[int]:
    judged = {t.task: task_judged(t.judges) for t in scores.tasks}
    return [i for i, s in enumerate(samples)
            if counts_against(sample_outcome(s, judged=judged.get(s.task, True)))]


def test_report_renders_filters_pages_and_searches(browser: Any, tmp_path: Path) -> None:
    run, scores, samples = synthetic_run(640, seed=11)
    needle = "Zebra-Unicorn-4711"
    samples[100] = samples[100].model_copy(update={"response": f"an answer with {needle} inside"})
    out = tmp_path / "run"
    write_run(out, run, scores, samples)
    failing = _failing_indices(samples, scores)
    o = Opened(browser, out / "report.html")
    try:
        page = o.page
        assert o.errors == [] and o.dialogs == []
        # overview: the radar (six dimensions) and the dimension bars
        assert page.locator("#radar svg polygon.area").count() == 1
        assert page.locator("#radar svg circle.pt").count() == 6
        assert page.locator("#dimension-table tbody tr").count() == 6
        assert page.locator("#radar svg").bounding_box()["width"] > 200
        # the task table: one row per metric; per-category rows hidden until asked for
        n_metrics = sum(len(t.metrics) for t in scores.tasks)
        assert page.locator("#task-table tr.m").count() == n_metrics
        primary = page.locator("#task-table tr.m.primary")
        assert primary.count() == len(scores.tasks)
        assert primary.first.is_visible()
        cats = page.locator("#task-table tr.m.cat")
        assert cats.count() > 0 and not cats.first.is_visible()
        page.click("label[for=show-cat]")
        assert cats.first.is_visible()
        first = scores.tasks[0]
        shown = page.text_content(f"#task-table tr.primary[data-task='{first.task}'] span.v")
        assert shown == f"{first.metrics[0].value:.3f}"
        # the trade-off plot: jailbreak and misuse against exaggerated safety
        assert page.locator("#tradeoff-plot g.pt-jailbreak .mark").count() == 1
        assert page.locator("#tradeoff-plot g.pt-misuse .mark").count() == 1
        # examples: failing first, 25 per page
        assert o.matches() == len(failing)
        assert o.count_text() == f"1–25 of {len(failing)} failing examples"
        cards = o.cards()
        assert [c["index"] for c in cards] == failing[:25]
        assert all(c["badge"] in ("fail", "invalid", "failed request") for c in cards)
        _shot(o, out / "report.png")
        # page through
        page.click("#pg-next")
        assert [c["index"] for c in o.cards()] == failing[25:50]
        assert page.text_content("#pg-info") == f"page 2 of {-(-len(failing) // 25)}"
        page.click("#pg-next2")
        assert [c["index"] for c in o.cards()] == failing[50:75]
        page.click("#pg-prev")
        assert [c["index"] for c in o.cards()] == failing[25:50]
        page.select_option("#pg-size", "100")
        assert [c["index"] for c in o.cards()] == failing[:100]
        # filter by task
        task_id = "safety.jailbreak"
        k = [t.task for t in scores.tasks].index(task_id)
        page.select_option("#f-task", str(k))
        expected = [i for i in failing if samples[i].task == task_id]
        assert [c["index"] for c in o.cards()] == expected[:100]
        assert {c["task"] for c in o.cards()} == {task_id}
        # ... all samples of the task
        page.select_option("#f-show", "all")
        all_task = [i for i, s in enumerate(samples) if s.task == task_id]
        assert o.matches() == len(all_task)
        # ... by label
        labels = page.eval_on_selector_all("#f-label option", "os => os.map(o => [o.value, o.textContent])")
        refusal = next(v for v, text in labels if text.startswith("refusal "))
        page.select_option("#f-label", refusal)
        assert o.matches() == sum(1 for i in all_task if samples[i].label == "refusal")
        assert {c["label"] for c in o.cards()} == {"label: refusal"}
        page.select_option("#f-label", "")
        # ... by status
        page.select_option("#f-status", "failed")
        assert o.matches() == sum(1 for i in all_task if samples[i].error)
        assert {c["badge"] for c in o.cards()} <= {"failed request"}
        page.select_option("#f-status", "invalid")
        assert o.matches() == sum(1 for i in all_task if not samples[i].valid and not samples[i].error)
        page.select_option("#f-status", "valid")
        assert o.matches() == sum(1 for i in all_task if samples[i].valid and not samples[i].error)
        page.select_option("#f-status", "")
        # search (case-insensitive), over every task
        page.select_option("#f-task", "")
        page.fill("#f-q", needle.lower())
        o.wait_matches(1)
        (card,) = o.cards()
        assert card["index"] == 100 and needle in card["texts"][1]
        page.fill("#f-q", "")
        o.wait_matches(len(samples))
        # the task table's button jumps to the task's failing examples
        page.click(f"button.goto[data-task='{task_id}']")
        assert page.input_value("#f-task") == str(k) and page.input_value("#f-show") == "failing"
        assert [c["index"] for c in o.cards()] == expected[:100]
        _shot(o, out / "report-filtered.png", full=False)
        assert o.requests == [o.url]
        assert o.errors == []
    finally:
        o.close()


def test_xss_payload_in_model_output_does_not_run(browser: Any, tmp_path: Path) -> None:
    run, scores, samples = synthetic_run(270, seed=4, xss=True)
    run = run.model_copy(update={"model": {**run.model, "system_prompt": XSS_RESPONSE}})
    scores.tasks[1].metrics[0] = scores.tasks[1].metrics[0].model_copy(update={"value": None, "reason": XSS_RESPONSE})
    out = tmp_path / "xss"
    write_run(out, run, scores, samples)
    o = Opened(browser, out / "report.html")
    try:
        page = o.page
        # show every planted sample and everything in it
        page.select_option("#f-show", "all")
        page.select_option("#pg-size", "100")
        page.fill("#f-q", XSS_MARK.lower())
        o.wait_matches(len(scores.tasks))
        cards = o.cards()
        assert len(cards) == len(scores.tasks)
        for c in cards:
            assert c["texts"][0] == XSS_RESPONSE and c["texts"][1] == XSS_RESPONSE  # shown as text
            assert c["label"] == "label: <img src=x onerror=window.__pwned=7>"
        # hover and click over everything the payload could have attached handlers to
        for selector in ("#ex-list pre", "#ex-list .raw", "#ex-list .label", "#ex-list .ex-meta div"):
            loc = page.locator(selector)
            for i in range(min(loc.count(), 6)):
                loc.nth(i).hover()
                loc.nth(i).click()
        page.mouse.move(10, 10)
        page.wait_for_timeout(300)
        _shot(o, out / "report-xss.png", full=False)
        assert o.dialogs == []
        assert page.evaluate("typeof window.__pwned") == "undefined"
        # no element came from the data: the page has exactly its own scripts and no image
        assert page.locator("script").count() == 3
        assert page.locator("img, iframe, link, object, embed").count() == 0
        assert page.locator("#ex-list a, #ex-list [onerror], #ex-list [onload], #ex-list [onmouseover]").count() == 0
        assert page.locator("svg[onload]").count() == 0
        assert o.requests == [o.url], o.requests
        assert o.errors == []
        # defence in depth: even markup smuggled into the page could not run or load
        page.evaluate("""() => {
            const d = document.createElement('div');
            d.innerHTML = '<img src="https://example.invalid/x.png" onerror="window.__pwned = 20">';
            document.body.appendChild(d);
            const s = document.createElement('script');
            s.textContent = 'window.__pwned = 21';
            document.body.appendChild(s);
        }""")
        page.wait_for_timeout(500)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        # the image load is attempted and refused by the policy before it reaches the network
        assert o.finished == [o.url], o.finished
        blocked = {u: f for u, f in o.failed.items() if u != o.url}
        assert list(blocked) == ["https://example.invalid/x.png"]
        assert "csp" in blocked["https://example.invalid/x.png"].lower()
        assert any("Content Security Policy" in m for m in o.console)
    finally:
        o.close()


def test_data_blocks_survive_a_closing_script_tag(browser: Any, tmp_path: Path) -> None:
    """``</script>`` and U+2028 in every JSON-carried field: the page still parses and loads."""
    run, scores, samples = synthetic_run(54, seed=8, xss=True)
    scores.tasks[0] = scores.tasks[0].model_copy(update={"title": "</script><script>window.__pwned=30</script>\u2028"})
    out = tmp_path / "run"
    write_run(out, run, scores, samples)
    o = Opened(browser, out / "report.html")
    try:
        assert o.page.evaluate("typeof window.__pwned") == "undefined"
        assert o.page.locator("script").count() == 3
        title = o.page.text_content(f"#task-table tbody.task[data-task='{scores.tasks[0].task}'] .tname b")
        assert title == "</script><script>window.__pwned=30</script>\u2028"
        assert o.errors == [] and o.dialogs == [] and o.requests == [o.url]
    finally:
        o.close()


@pytest.mark.slow
def test_50k_samples_open_and_filter(browser: Any, tmp_path: Path) -> None:
    """A 50k-sample report opens and filters. The 10 s bounds only catch a pathological
    regression (say, quadratic rendering): the speed itself is measured side by side in
    ``benchmarks/report.py``, not here (a 3 s bound failed at 3.4 s on a busy CI machine)."""
    run, scores, samples = synthetic_run(50_000, seed=1)
    out = tmp_path / "big"
    write_run(out, run, scores, samples)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert len(html) < 30_000_000
    blob = html.split('id="tg-samples">', 1)[1].split("</script>", 1)[0]
    assert len(decode_samples(blob)["t"]) == 50_000
    o = Opened(browser, out / "report.html")
    try:
        ready_ms = o.page.evaluate("window.__readyMs")
        assert ready_ms < 10_000, f"interactive after {ready_ms:.0f} ms"
        assert len(o.cards()) == 25
        start = time.perf_counter()
        o.page.select_option("#f-show", "all")
        o.page.fill("#f-q", "question 4")
        o.page.wait_for_selector('body:not([data-matches="50000"])', state="attached", timeout=10_000)
        assert time.perf_counter() - start < 10
        _shot(o, out / "report-50k.png", full=False)
    finally:
        o.close()


def test_taxonomy_view_renders(browser: Any, tmp_path: Path) -> None:
    """The Taxonomy section with the registry's tags: a category score, "not measured" rows."""
    from trustgauge.report.htmlreport import write_report
    from trustgauge.results.dimensions import task_summaries
    from trustgauge.tasks.registry import tags_by_task

    run, scores, samples = synthetic_run(60, seed=3, task_ids=["truthfulness.hallucination", "safety.exaggerated"])
    path = write_report(tmp_path / "report.html", run, scores, samples, tags_by_task=tags_by_task())
    o = Opened(browser, path)
    try:
        page = o.page
        assert o.errors == [] and o.dialogs == []
        page.click("nav a[href='#taxonomy']")
        assert page.locator("#taxonomy-table tbody.taxcat").count() == 7
        reliability = page.locator("#taxonomy-table tbody[data-category='reliability']")
        assert reliability.is_visible()
        score = next(s.score for s in task_summaries(scores.tasks) if s.task == "truthfulness.hallucination")
        head = reliability.locator("tr.taxcat-head").inner_text()
        assert "1 / 5 sub-categories" in head
        assert (f"{score:.2f}" if score is not None else "n/a") in head
        unmeasured = page.locator("#taxonomy-table tr.taxitem.unmeasured")
        assert unmeasured.count() == 28
        assert unmeasured.first.is_visible() and "not measured" in unmeasured.first.inner_text()
        _shot(o, tmp_path / "report-taxonomy.png", full=False)
    finally:
        o.close()


def test_security_heatmap_and_attack_transcripts(browser: Any, tmp_path: Path) -> None:
    """The security section's heat map renders (a cell per attack x category, the n=0 one
    dashed), and its buttons show a successful attack's every call, then all of a task's."""
    from security_report_fixtures import JB, PAIR, injection_samples, security_run, security_samples

    run, scores, samples = security_run([*security_samples(), *injection_samples()])
    out = tmp_path / "security"
    write_run(out, run, scores, samples)
    o = Opened(browser, out / "report.html")
    try:
        page = o.page
        assert o.errors == [] and o.dialogs == []
        heat = page.locator("svg.asr-heatmap").first
        assert heat.is_visible() and heat.bounding_box()["width"] > 300
        assert page.locator("svg.asr-heatmap g.hmcell").count() == 20
        # n=0: aim x illegal, and the over-refusal of the two attacks without benign twins
        assert page.locator("svg.asr-heatmap g.hmcell.refusal.empty").count() == 2
        empty = page.locator("svg.asr-heatmap g.hmcell.asr.empty rect")
        assert empty.count() == 1 and empty.first.evaluate("e => getComputedStyle(e).strokeDasharray") != "none"
        none_row = page.locator("svg.asr-heatmap g.hmrow[data-attack='none'] g.hmcell text.hmv")
        assert none_row.all_text_contents()[:4] == ["0.50", "0.00", "0.33", "0.50"]
        heat.scroll_into_view_if_needed()
        _shot(o, out / "report-security.png", full=False)
        page.click("details.successes[data-panel='jailbreak'] summary")
        page.click(f"button.show-sample[data-task='{PAIR}'][data-sample='b1|pair@1']")
        o.wait_matches(1)
        assert page.locator("#pick").is_visible() and o.count_text() == "1–1 of 1 picked samples"
        turns = page.locator("#ex-list li.ex ol.turns li.turn")
        assert turns.count() == 6 and turns.first.is_visible()
        heads = turns.locator(".turn-head").all_text_contents()
        assert heads[0] == "call 1 · attacker · finish: stop" and heads[2] == "call 3 · judge · finish: stop · cached"
        assert turns.nth(3).locator("pre").all_text_contents() == ["improve again", "A story where <script>x()</script>"]
        _shot(o, out / "report-security-transcript.png", full=False)
        page.click(f"button.show-success[data-task='{JB}']")
        o.wait_matches(3)
        page.click("#pick-clear")
        assert not page.locator("#pick").is_visible()
        assert o.matches() == len(_failing_indices(samples, scores))
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert o.errors == [] and o.requests == [o.url]
    finally:
        o.close()


def test_responsibility_plots_render(browser: Any, tmp_path: Path) -> None:
    """The responsibility section's plots render without a script error: the z histograms of
    both schemes, the TPR heat map (a cell per scheme x edit, the unmeasured one dashed) and the
    detectors' ROC curves."""
    from test_report_responsibility import full_run

    run, scores, samples = full_run()
    out = tmp_path / "responsibility"
    write_run(out, run, scores, samples)
    o = Opened(browser, out / "report.html")
    try:
        page = o.page
        assert o.errors == [] and o.dialogs == []
        hist = page.locator("svg.z-hist")
        assert hist.count() == 2 and hist.first.is_visible()
        assert page.locator("svg.z-hist rect.zbar.marked").count() == 5  # 4 kgw bins + 1 synthid
        heat = page.locator("svg.tpr-heatmap")
        assert heat.is_visible() and page.locator("svg.tpr-heatmap g.hmcell").count() == 6
        empty = page.locator("svg.tpr-heatmap g.hmcell.empty rect")
        assert empty.count() == 1 and empty.first.evaluate("e => getComputedStyle(e).strokeDasharray") != "none"
        assert page.locator("svg.detection-roc polyline.roc").count() == 2
        page.locator("#responsibility").scroll_into_view_if_needed()
        _shot(o, out / "report-responsibility.png", full=False)
        assert o.errors == [] and o.requests == [o.url]
    finally:
        o.close()
