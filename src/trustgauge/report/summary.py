"""A plain summary of one run as Markdown (report.md); the HTML report is
:mod:`trustgauge.report.htmlreport`."""

from __future__ import annotations

from collections.abc import Sequence

from trustgauge.report._markdown import md_code, md_text
from trustgauge.report.health import markdown as health_markdown
from trustgauge.report.responsibility import markdown_lines as responsibility_markdown
from trustgauge.report.responsibility import responsibility_section
from trustgauge.report.security import markdown_lines as security_markdown
from trustgauge.report.security import security_section
from trustgauge.results.outcomes import (
    counts_against,
    metric_directions,
    sample_outcome,
    task_judged,
)
from trustgauge.results.schema import RunInfo, SampleRecord, ScoresFile
from trustgauge.taxonomy.legacy import tags_for_run
from trustgauge.types import MetricValue

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


def failing_examples(
    scores_task: str, samples: Sequence[SampleRecord], *, judged: bool = True
) -> list[SampleRecord]:
    """The first samples of a task that count against the model: failed, invalid, or failing
    by the task's per-sample rule (:mod:`trustgauge.results.outcomes`). ``judged`` false: the
    task lacked a judge, so its unscored samples say nothing about the model."""
    directions = metric_directions(scores_task)
    bad = []
    for s in samples:
        if s.task == scores_task and counts_against(sample_outcome(s, directions, judged=judged)):
            bad.append(s)
            if len(bad) >= MAX_EXAMPLES:
                break
    return bad


def _clip(text: str | None, n: int = 300) -> str:
    if text is None:
        return ""
    text = text.strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def dimension_lines(scores: ScoresFile) -> list[str]:
    """The dimension summary as Markdown: per dimension its score, then per sub-task its task
    score and how an undefined headline was counted (with the metric's reason)."""
    from trustgauge.results.dimensions import dimension_scores, task_summaries

    summaries = {s.task: s for s in task_summaries(scores.tasks)}
    lines = [
        "## Dimension scores (trustgauge's 0-1 summary, not a TrustLLM number)",
        "",
        "| dimension | score | sub-tasks scored | undefined, counted as 0 |",
        "|---|---|---|---|",
    ]
    dims = dimension_scores(scores.tasks)
    for d in dims:
        value = f"{d.score:.3f}" if d.score is not None else "n/a"
        lines.append(
            f"| {d.dimension} | {value} | {len(d.scored)} / {len(d.tasks)} | {', '.join(d.failed) or '-'} |"
        )
    lines += ["", "| sub-task | task score | how it was counted |", "|---|---|---|"]
    for t in scores.tasks:
        s = summaries[t.task]
        value = f"{s.score:.3f}" if s.score is not None else "n/a"
        if s.undefined_as == "failure":
            how = f"undefined by the responses ({s.reason}): counted as a failure, 0"
        elif s.undefined_as == "not_scored":
            how = f"not scored, left out ({s.reason})"
        elif s.undefined_as == "nothing_to_score":
            kept = "left out" if s.score is None else "its declared score"
            how = f"nothing to score ({s.reason}): {kept}"
        else:
            how = s.note or "headline metric, oriented"
        lines.append(f"| {md_text(t.task)} | {value} | {md_text(how)} |")
    lines.append("")
    return lines


def render_markdown(run: RunInfo, scores: ScoresFile, samples: Sequence[SampleRecord]) -> str:
    """report.md. Every text that did not come from trustgauge itself (model output, prompts,
    errors, names, reasons) is escaped (:mod:`trustgauge.report._markdown`): a viewer renders
    it as the literal text, never as HTML, a link, an image or a broken table."""
    t_ = md_text
    lines = [
        f"# trustgauge run {t_(run.run_id)}",
        "",
        f"- model: {md_code(str(run.model.get('model')))}",
        f"- trustgauge {t_(run.trustgauge_version)}; status: {t_(run.status)}; wall time {run.wall_time_s:.1f}s",
        f"- requests: {t_(str(run.requests))}",
        f"- judges: {t_(', '.join(f'{k}={v}' for k, v in run.judges.items()) or 'none')}",
    ]
    for task, values in (run.task_params or {}).items():  # only the tasks not at their defaults
        lines.append(f"- {t_(task)} parameters: {t_(', '.join(f'{k}={v}' for k, v in values.items()))}")
    lines += [
        "",
        "| task | metric | value [95% CI] | n | invalid |",
        "|---|---|---|---|---|",
    ]
    for t in scores.tasks:
        for m in t.metrics:
            lines.append(
                f"| {t_(t.task)} | {t_(m.metric)} {arrow(m)} | {t_(format_value(m))} | {m.n} | {m.n_invalid} |"
            )
    lines.append("")
    lines += health_markdown(run.health)
    lines += dimension_lines(scores)
    tags, _ = tags_for_run(run.taxonomy, (t.task for t in scores.tasks))
    lines += security_markdown(security_section(scores, samples, tags))
    lines += responsibility_markdown(responsibility_section(scores, samples, tags))
    for t in scores.tasks:
        examples = failing_examples(t.task, samples, judged=task_judged(t.judges))
        if not examples:
            continue
        lines += [f"## {t_(t.task)}: examples that count against the model", ""]
        for ex in examples:
            quoted_prompt = t_(_clip(ex.prompt))
            quoted_resp = t_(_clip(ex.response if ex.response is not None else f"(error: {ex.error})"))
            lines += [f"- **{t_(ex.sample_id)}** prompt: {quoted_prompt}", f"  - response: {quoted_resp}",
                      f"  - label: {t_(str(ex.label))}"]
        lines.append("")
    return "\n".join(lines) + "\n"
