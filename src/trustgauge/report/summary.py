"""A plain summary of one run, as Markdown and as self-contained HTML (the full report comes
with the reports work). Model output is untrusted: HTML is autoescaped."""

from __future__ import annotations

from collections.abc import Sequence

from trustgauge.report.schema import RunInfo, SampleRecord, ScoresFile
from trustgauge.tasks.base import MetricValue

MAX_EXAMPLES = 3


def format_value(m: MetricValue) -> str:
    if m.value is None:
        return f"n/a ({m.reason})" if m.reason else "n/a"
    text = f"{m.value:.3f}"
    if m.ci is not None:
        text += f" [{m.ci[0]:.3f}, {m.ci[1]:.3f}]"
    return text


def arrow(m: MetricValue) -> str:
    return "↑" if m.direction == "higher" else "↓"


def failing_examples(scores_task: str, samples: Sequence[SampleRecord]) -> list[SampleRecord]:
    """Samples of a task that count against the model: invalid, failed, or scored 0 on the
    task's primary per-sample value."""
    bad = []
    for s in samples:
        if s.task != scores_task:
            continue
        if s.error or not s.valid:
            bad.append(s)
            continue
        primary = next(iter(s.score.values()), None) if s.score else None
        if primary is not None and primary == 0:
            bad.append(s)
    return bad[:MAX_EXAMPLES]


def _clip(text: str | None, n: int = 300) -> str:
    if text is None:
        return ""
    text = text.strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def render_markdown(run: RunInfo, scores: ScoresFile, samples: Sequence[SampleRecord]) -> str:
    lines = [
        f"# trustgauge run {run.run_id}",
        "",
        f"- model: `{run.model.get('model')}`",
        f"- trustgauge {run.trustgauge_version}; status: {run.status}; wall time {run.wall_time_s:.1f}s",
        f"- requests: {run.requests}",
        f"- judges: {', '.join(f'{k}={v}' for k, v in run.judges.items()) or 'none'}",
        "",
        "| task | metric | value [95% CI] | n | invalid |",
        "|---|---|---|---|---|",
    ]
    for t in scores.tasks:
        for m in t.metrics:
            lines.append(f"| {t.task} | {m.metric} {arrow(m)} | {format_value(m)} | {m.n} | {m.n_invalid} |")
    lines.append("")
    for t in scores.tasks:
        examples = failing_examples(t.task, samples)
        if not examples:
            continue
        lines += [f"## {t.task}: examples that count against the model", ""]
        for ex in examples:
            quoted_prompt = _clip(ex.prompt).replace("\n", " ")
            quoted_resp = _clip(ex.response if ex.response is not None else f"(error: {ex.error})").replace("\n", " ")
            lines += [f"- **{ex.sample_id}** prompt: {quoted_prompt}", f"  - response: {quoted_resp}", f"  - label: {ex.label}"]
        lines.append("")
    return "\n".join(lines) + "\n"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trustgauge — {{ run.run_id }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.muted{color:#666}pre{white-space:pre-wrap;background:#f8f8f8;padding:.5rem;margin:0}
</style></head><body>
<h1>trustgauge run {{ run.run_id }}</h1>
<p class="muted">model <code>{{ run.model.model }}</code> · trustgauge {{ run.trustgauge_version }} · status {{ run.status }} ·
{{ "%.1f"|format(run.wall_time_s) }} s · judges {% for k, v in run.judges.items() %}{{ k }}={{ v }} {% endfor %}</p>
<table><thead><tr><th>task</th><th>metric</th><th>value [95% CI]</th><th>n</th><th>invalid</th></tr></thead><tbody>
{% for t in scores.tasks %}{% for m in t.metrics %}<tr><td>{{ t.task }}</td><td>{{ m.metric }} {{ arrow(m) }}</td>
<td>{{ format_value(m) }}</td><td>{{ m.n }}</td><td>{{ m.n_invalid }}</td></tr>
{% endfor %}{% endfor %}</tbody></table>
{% for t in scores.tasks %}{% set ex = failing_examples(t.task, samples) %}{% if ex %}
<h2>{{ t.task }}: examples that count against the model</h2>
{% for s in ex %}<h3>{{ s.sample_id }} <span class="muted">label: {{ s.label }}</span></h3>
<p>prompt</p><pre>{{ s.prompt }}</pre><p>response</p><pre>{{ s.response if s.response is not none else "(error: " ~ s.error ~ ")" }}</pre>
{% endfor %}{% endif %}{% endfor %}
</body></html>
"""


def render_html(run: RunInfo, scores: ScoresFile, samples: Sequence[SampleRecord]) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_HTML)
    return template.render(
        run=run, scores=scores, samples=samples,
        format_value=format_value, arrow=arrow, failing_examples=failing_examples,
    )
