"""Model output is untrusted: report.md renders it as literal text (no HTML, links, images,
code spans or table cells of its own); the text escapers are exact."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from html_report_fixtures import XSS_RESPONSE, synthetic_run
from trustgauge.report._markdown import md_code, md_text
from trustgauge.report.summary import render_markdown

#: what a model may answer to break out of Markdown
PAYLOAD = (
    "<img src=x onerror=alert(1)> [click](https://evil.example/phish) ![t](https://evil.example/t.png) "
    "`code` ``two`` | a | b |\n# Heading\n<script>alert(2)</script>\n- item **bold** ~~gone~~ &lt;b&gt; \\"
)


def _viewer() -> MarkdownIt:
    """A CommonMark viewer with raw HTML on and GFM tables and strikethrough, like GitHub's."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _report(response: str, model: str = "openai:gpt-4o-mini") -> str:
    run, scores, samples = synthetic_run(40, xss=True, model=model, task_ids=["safety.exaggerated", "safety.misuse"])
    samples = [s.model_copy(update={"response": response, "prompt": response}) if s.sample_id.startswith("XSS") else s
               for s in samples]
    reason = "not scored: a | pipe <b>and</b> `tick`\nnext"
    scores.tasks[0].metrics[0] = scores.tasks[0].metrics[0].model_copy(update={"value": None, "reason": reason})
    return render_markdown(run, scores, samples)


@pytest.mark.parametrize("response", [PAYLOAD, XSS_RESPONSE])
def test_report_md_renders_model_output_as_text(response: str) -> None:
    md = _report(response)
    page = _viewer().render(md)
    # no tag of the model's survives: only the viewer's own markup
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", page))
    assert tags <= {"h1", "h2", "ul", "li", "p", "strong", "code", "table", "thead", "tbody", "tr", "th", "td"}, tags
    assert "<img" not in page and "<script" not in page and "<a " not in page and "<del" not in page
    assert page.count("<h1>") == 1 and "<h1>Heading" not in page
    # the text itself is all there, literally
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    first = response.split("\n")[0][:60]
    assert first in text
    # every table keeps its header's cell count on every row, whatever the reason text holds
    # (the metrics table has five columns; dimension, sub-task and health tables their own)
    tables = re.findall(r"<table>(.*?)</table>", page, re.DOTALL)
    assert tables
    for table in tables:
        widths = [len(re.findall(r"<t[hd][ >]", row)) for row in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)]
        assert len(set(widths)) == 1, (widths, table[:500])
    assert any(
        len(re.findall(r"<th[ >]", t.split("</tr>")[0])) == 5 and "reason" not in t.split("</tr>")[0] for t in tables
    )
    assert "a | pipe <b>and</b> `tick` next" in text


def test_report_md_on_todays_payload_has_no_live_img() -> None:
    """The issue's reproduction: a model answering an <img onerror> tag."""
    md = _report("<img src=x onerror=alert(document.domain)>")
    assert "<img" not in md and "&lt;img src=x onerror=alert(document.domain)&gt;" in md


def test_model_spec_in_a_code_span_keeps_its_backticks() -> None:
    md = _report("fine", model="openai-compatible:we`ird``name<b>@http://127.0.0.1:8000/v1")
    page = _viewer().render(md)
    assert "<code>openai-compatible:we`ird``name&lt;b&gt;@http://127.0.0.1:8000/v1</code>" in page


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain text, 0.5 [0.4, 0.6]", "plain text, 0.5 \\[0.4, 0.6\\]"),
        ("<img src=x>", "&lt;img src=x&gt;"),
        ("a & b", "a &amp; b"),
        ("x|y", "x\\|y"),
        ("`c` *e* _u_ ~s~", "\\`c\\` \\*e\\* \\_u\\_ \\~s\\~"),
        ("![i](u)", "!\\[i\\](u)"),
        ("back\\slash", "back\\\\slash"),
        ("one\ntwo\r\nthree\rfour", "one two three four"),
        ("no specials", "no specials"),
    ],
)
def test_md_text(text: str, escaped: str) -> None:
    assert md_text(text) == escaped


@pytest.mark.parametrize(
    ("text", "span"),
    [("m", "`m`"), ("a`b", "``a`b``"), ("``x``", "``` ``x`` ```"), ("<b>\nx", "`<b> x`")],
)
def test_md_code(text: str, span: str) -> None:
    assert md_code(text) == span
    rendered = _viewer().render(f"- {span}")
    assert f"<code>{html.escape(text.replace(chr(10), ' '), quote=False)}</code>" in rendered


def test_csv_export_never_hands_a_spreadsheet_a_formula(tmp_path: Path) -> None:
    from trustgauge.report.export import to_csv, to_json
    from trustgauge.report.writer import write_run
    from trustgauge.results.results import Results

    formula = '=HYPERLINK("https://evil.example","click")'
    run, scores, samples = synthetic_run(12, task_ids=["safety.misuse"])
    samples = [s.model_copy(update={"response": formula if i == 0 else f"-{s.response}"}) for i, s in enumerate(samples)]
    write_run(tmp_path / "run", run, scores, samples)
    res = Results.load(tmp_path / "run")
    rows = list(csv.DictReader(io.StringIO(to_csv(res, "samples"))))
    assert rows[0]["response"] == "'" + formula
    assert all(r["response"].startswith("'-") for r in rows[1:] if r["response"])
    assert json.loads(to_json(res, "samples"))[0]["response"] == formula  # JSON keeps the exact text
    numbers = list(csv.DictReader(io.StringIO(to_csv(res, "tasks"))))
    assert all(not r["value"].startswith("'") for r in numbers)


def test_server_messages_reach_the_terminal_without_control_characters() -> None:
    from trustgauge.models._http import short

    assert short("bad\x1b]8;;https://evil\x07link\x1b[2J \x9b") == "bad\ufffd]8;;https://evil\ufffdlink\ufffd[2J \ufffd"
