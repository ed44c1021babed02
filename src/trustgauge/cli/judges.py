"""``trustgauge judges`` (the catalogue) and ``trustgauge judge`` (judge a JSONL file)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trustgauge.cli._common import (
    _judge_option,
    _raise_keyboard_interrupt,
    _run_async,
)
from trustgauge.cli._errors import (
    EXIT_FAILED_REQUESTS,
    exit_code,
    fail_on,
    interrupted,
)
from trustgauge.cli._errors import fail as _fail
from trustgauge.cli.app import app
from trustgauge.errors import UsageError

if TYPE_CHECKING:
    from trustgauge.engine.judging import JudgeStats
    from trustgauge.engine.progress import Progress
    from trustgauge.judges.base import Judge
    from trustgauge.judges.verify.run import JudgeChoice, VerifyResult
    from trustgauge.types import JudgeItem, Judgement


judges_app = typer.Typer(no_args_is_help=False)
app.add_typer(judges_app, name="judges")


@judges_app.callback(invoke_without_command=True)
def judges_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {kind, name, default, offline, "
        "needs, summary, needs_reference}.")] = False,
) -> None:
    """List every judge: its kind, whether it is the kind's default, whether it runs offline,
    what it needs (an extra, an environment variable, --judge-model) and what it does.

    Pick one with 'trustgauge run --judge KIND=NAME' or 'trustgauge judge KIND=NAME'; check one
    against labelled data with 'trustgauge judges verify'."""
    if ctx.invoked_subcommand is not None:
        return
    from trustgauge.judges.registry import describe_judges

    rows = describe_judges()
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in rows], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="trustgauge judges", caption="* = the kind's default", caption_justify="left")
    for col in ("kind", "name", "default", "offline"):
        table.add_column(col, no_wrap=True)
    table.add_column("needs", overflow="fold", max_width=26)
    table.add_column("summary", overflow="fold", ratio=1)
    previous = ""
    for r in rows:
        table.add_row(
            r.kind if r.kind != previous else "", r.name, "*" if r.default else "",
            "yes" if r.offline else "no", r.needs or "-", r.summary,
        )
        previous = r.kind
    Console().print(table)


#: fields a judged row gains (an input field of the same name is replaced)
_JUDGED_FIELDS = ("label", "score", "judge", "judge_version", "judge_id", "judge_raw")


def _read_judge_input(
    source: str, needs_reference: bool, judge_desc: str
) -> tuple[list[dict[str, Any]], list[JudgeItem]]:
    """The rows of a JSONL file (``-``: stdin) and their judge items; one-line DataError on
    the first bad line."""
    from trustgauge.data.records import iter_jsonl_objects
    from trustgauge.errors import DataError
    from trustgauge.types import JudgeItem

    name = "<stdin>" if source == "-" else source
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {name}: {exc.strerror or exc}") from None
    rows: list[dict[str, Any]] = []
    items: list[JudgeItem] = []
    for lineno, row in iter_jsonl_objects(data, name):
        response = row.get("response")
        if "response" not in row:
            raise DataError(f"{name}:{lineno}: missing field 'response'")
        if not isinstance(response, str):
            raise DataError(f"{name}:{lineno}: field 'response' must be a string, got {type(response).__name__}")
        prompt = row.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise DataError(f"{name}:{lineno}: field 'prompt' must be a string, got {type(prompt).__name__}")
        reference = row.get("reference")
        if needs_reference and reference is None:
            raise DataError(
                f"{name}:{lineno}: the {judge_desc} judge compares with a gold answer: field 'reference' is missing"
            )
        rows.append(row)
        items.append(JudgeItem(prompt=prompt or "", response=response, reference=reference))
    if not rows:  # nothing judged is not a success: most likely the wrong file
        raise DataError(f"{name} holds no rows (one JSON object a line with a 'response' field)")
    return rows, items


def _write_jsonl(target: str, rows: list[dict[str, Any]]) -> None:
    """Write all rows, or nothing: a temporary file next to ``target``, renamed at the end."""
    from trustgauge.errors import DataError

    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in rows]
    if target == "-":
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
        return
    from trustgauge.net.atomic import atomic_write_text

    try:
        atomic_write_text(Path(target), "".join(lines))
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror or exc}") from None


@app.command("judge")
def judge_cmd(
    judge: Annotated[str, typer.Argument(metavar="JUDGE", help="The judge: a kind (its default judge, or "
        "llm with --judge-model) or KIND=NAME, e.g. refusal, refusal=rules, toxicity=perspective, "
        "correctness=squad, similarity. Options may follow: refusal=longformer,model=DIR.")],
    input_path: Annotated[str, typer.Option("--input", "-i", metavar="FILE", help="JSONL, one object per line: "
        "response (required), prompt, reference (the gold answer, needed by correctness and similarity "
        "judges); other fields are passed through. '-' reads stdin.")],
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="JSONL: each input row plus "
        "label, score, judge, judge_version, judge_id, judge_raw, in input order. '-' writes stdout.")],
    judge_model: Annotated[str | None, typer.Option("--judge-model", help="Model spec of an llm judge, "
        "e.g. openai:gpt-4o or gguf:smollm2 (a bare KIND then means KIND=llm).")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", metavar="OPTION=VALUE", help="A judge option "
        "(repeatable), e.g. --option qps=0.5 --option model=/path/to/dir.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Items per judge call.")] = 256,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Judge every row again (stored judgements are "
        "not read; the new ones replace them).")] = False,
    max_error_rate: Annotated[float, typer.Option("--max-error-rate", min=0.0, max=1.0, help="Exit 1 when more "
        "than this share of rows could not be judged (label error).")] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")] = False,
) -> None:
    """Judge a JSONL file of responses with one judge, outside any run.

    Judgements are kept in the store (like a run's), so judging the same rows again costs
    nothing; rows the judge could not judge (label error) are judged again next time.

    Examples:

      trustgauge judge refusal=rules -i responses.jsonl -o judged.jsonl

      trustgauge judge refusal --judge-model openai:gpt-4o -i responses.jsonl -o judged.jsonl

      cat answers.jsonl | trustgauge judge correctness=squad -i - -o - > judged.jsonl
    """
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        _judge_file(judge, input_path, output, judge_model, option, batch_size, no_cache, max_error_rate, quiet)
    except KeyboardInterrupt:
        interrupted(
            f"\ninterrupted: nothing was written to {output}; the judgements made so far are saved, "
            "so the same command again judges only the rest."
        )
    finally:
        signal.signal(signal.SIGTERM, previous)


def _judge_file(
    spec: str, input_path: str, output: str, judge_model: str | None, option: list[str] | None,
    batch_size: int, no_cache: bool, max_error_rate: float, quiet: bool,
) -> None:
    from collections import Counter

    from trustgauge.engine.judging import ERROR_LABEL, JudgeFailedError
    from trustgauge.errors import ModelError
    from trustgauge.judges.registry import JUDGES, check_judge_choice

    head, *opt_items = [x.strip() for x in spec.split(",")]
    kind, _, impl = (x.strip() for x in head.partition("="))
    options: dict[str, Any] = dict(_judge_option(x, "judge option") for x in opt_items if x)
    for item in option or []:
        key, value = _judge_option(item, "--option")
        options[key] = value
    judge_model = judge_model.strip() if judge_model else None
    try:
        impl = check_judge_choice(kind, impl or None, judge_model=judge_model, options=options)
        desc = f"{kind}={impl}"
        rows, items = _read_judge_input(input_path, JUDGES[kind][impl].needs_reference, desc)
    except UsageError as exc:
        _fail(str(exc))
    if output != "-" and not Path(output).expanduser().resolve().parent.is_dir():
        _fail(f"cannot write {output}: its folder does not exist")

    from trustgauge.engine.progress import make_progress

    progress = make_progress(enabled=not quiet)
    try:
        judge, verdicts, stats = _run_async(
            _judge_rows(kind, impl, judge_model, options, items, batch_size, not no_cache, progress)
        )
    except JudgeFailedError as exc:
        fail_on(exc, f" (the judgements made so far are saved; nothing was written to {output})")
    except ModelError as exc:
        _fail(f"the {desc} judge failed: {exc} (nothing was written to {output})", exit_code(exc))
    except UsageError as exc:
        fail_on(exc)
    except ValueError as exc:  # an item the judge rejects (e.g. a malformed reference)
        _fail(f"the {desc} judge rejected an item of {input_path}: {exc}")
    finally:
        progress.close()

    out_rows = [
        {**row, "label": v.label, "score": v.score, "judge": judge.name, "judge_version": judge.version,
         "judge_id": judge.id, "judge_raw": v.raw}
        for row, v in zip(rows, verdicts)
    ]
    try:
        _write_jsonl(output, out_rows)
    except UsageError as exc:
        _fail(str(exc))
    counts = Counter(v.label for v in verdicts)
    colliding = sorted({f for r in rows for f in _JUDGED_FIELDS if f in r})
    if colliding and not quiet:
        typer.echo(f"note: the input field(s) {', '.join(colliding)} were replaced by the judge's", err=True)
    if not quiet:
        labels = ", ".join(f"{label} {n}" for label, n in counts.most_common()) or "no rows"
        typer.echo(
            f"{len(rows)} rows judged by {desc} ({judge.id}): {labels} · {stats.cached} cached, "
            f"{stats.judged} judged -> {'<stdout>' if output == '-' else output}",
            err=True,
        )
    errors = counts.get(ERROR_LABEL, 0)
    if errors and errors / len(rows) > max_error_rate:
        _fail(
            f"{errors} of {len(rows)} rows could not be judged (label {ERROR_LABEL!r}, reason in judge_raw; "
            f"> --max-error-rate {max_error_rate:.1%}); run the same command again to judge only those",
            EXIT_FAILED_REQUESTS,
        )


async def _judge_rows(
    kind: str, impl: str, judge_model: str | None, options: dict[str, Any], items: list[JudgeItem],
    batch_size: int, use_cache: bool, progress: Progress,
) -> tuple[Judge, list[Judgement], JudgeStats]:
    from trustgauge import _paths
    from trustgauge.engine.judging import check_judges, judge_items
    from trustgauge.engine.store import Store
    from trustgauge.judges.registry import create_judge
    from trustgauge.pipeline.run import close_judges

    judge = create_judge(kind, impl, judge_model=judge_model, **options)
    try:
        await check_judges([judge])
        with Store(_paths.store_path()) as store:
            verdicts, stats = await judge_items(
                judge, items, store, use_cache=use_cache, progress=progress, batch_size=batch_size,
                description=f"judging ({kind}={impl}: {judge.id})",
            )
    finally:
        await close_judges([judge])
    return judge, verdicts, stats




# ---------------------------------------------------------------------------------------------
# trustgauge judges verify
# ---------------------------------------------------------------------------------------------

def _judge_spec(spec: str) -> tuple[str, str | None, dict[str, Any]]:
    """``KIND[=NAME][,OPTION=VALUE...]`` -> kind, name (``None``: the default), options."""
    head, *opt_items = [x.strip() for x in spec.split(",")]
    kind, _, impl = (x.strip() for x in head.partition("="))
    if not kind:
        _fail(f"bad judge {spec!r}: expected KIND[=NAME][,OPTION=VALUE...], e.g. refusal=rules")
    return kind, impl or None, dict(_judge_option(x, "judge option") for x in opt_items if x)


def _verify(
    choices: list[JudgeChoice], *, baseline: Path | None, save_baseline: Path | None, tolerance: float | None,
    use_cache: bool, quiet: bool, hint: str = "",
) -> list[VerifyResult]:
    """Verify ``choices`` (exit 2 on bad input, 1 when a judge failed to judge), save the
    baseline if asked; the verdicts are the caller's to report."""
    from trustgauge import _paths
    from trustgauge.engine.judging import JudgeFailedError
    from trustgauge.engine.progress import make_progress
    from trustgauge.errors import ModelError
    from trustgauge.judges.verify.figures import BASELINE_FORMAT, published_figures, read_figures
    from trustgauge.judges.verify.run import verify_judges

    try:
        recorded = read_figures(baseline, BASELINE_FORMAT) if baseline is not None else []
        published = published_figures()
    except UsageError as exc:
        _fail(str(exc))
    if save_baseline is not None:  # checked before anything is measured (an llm judge's requests cost)
        if not save_baseline.expanduser().resolve().parent.is_dir():
            _fail(f"cannot write {save_baseline}: its folder does not exist")
        if save_baseline.expanduser().is_dir():
            _fail(f"cannot write {save_baseline}: it is a folder; give a file name, e.g. {save_baseline / 'judges.json'}")
    progress = make_progress(enabled=not quiet)
    try:
        results = _run_async(verify_judges(
            choices, store_path=_paths.store_path(), use_cache=use_cache, progress=progress, published=published,
            baseline=recorded, baseline_path=baseline, tolerance=tolerance,
        ))
    except (JudgeFailedError, ModelError) as exc:
        fail_on(exc, f" (the judgements made so far are saved{hint})")
    except UsageError as exc:
        fail_on(exc)
    except KeyboardInterrupt:
        interrupted(f"\ninterrupted: the judgements made so far are saved{hint}")
    finally:
        progress.close()
    if save_baseline is not None:
        _save_baseline(save_baseline, results)
    return results


def _save_baseline(path: Path, results: list[VerifyResult]) -> None:
    """Write (merge into) a baseline file: the measured figures by kind and set."""
    from datetime import datetime, timezone

    from trustgauge._secrets import redact
    from trustgauge._version import __version__
    from trustgauge.judges.verify.figures import BASELINE_FORMAT, baseline_record, read_figures
    from trustgauge.net.atomic import atomic_write_text

    keep = []
    if path.exists():
        try:
            keep = read_figures(path, BASELINE_FORMAT)
        except UsageError as exc:
            _fail(f"{exc} (not overwritten)")
    record = baseline_record(
        [r.figure() for r in results if r.measurement.value(r.metric) is not None], keep=keep,
        meta={"trustgauge": __version__, "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds")},
    )
    try:
        atomic_write_text(path, redact(json.dumps(record, indent=1, ensure_ascii=False)) + "\n")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")


def _agreement(r: VerifyResult) -> str:
    def one(label: str, key: str) -> str:
        value, ci = r.measurement.value(key), r.measurement.ci(key)
        if value is None:
            return f"{label} -"
        return f"{label} {value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")

    if r.labelled.scored:
        return f"{one('spearman', 'spearman')} · {one('pearson', 'pearson')}"
    return f"{one('accuracy', 'accuracy')} · {one('kappa', 'kappa')}"


def _reference(r: VerifyResult) -> str:
    if r.reference is None:
        return "-"
    f = r.reference.figure
    tol = r.tolerance if r.tolerance is not None else f.tolerance
    return f"{f.metric} {f.figure:.3f} − {tol:.3f} ({r.reference.source})"


def _failure_line(r: VerifyResult) -> str:
    return f"{r.kind}={r.name} ({r.judge_id}) on {r.labelled.name}: {r.reason}"


@judges_app.command("verify")
def verify_cmd(
    judges: Annotated[list[str] | None, typer.Argument(metavar="KIND[=NAME,...]", help="The "
        "judges to verify: a kind (its default judge, or llm with --judge-model) or KIND=NAME, as 'trustgauge "
        "judge' takes them. Default: the default judge of every kind a labelled set ships for (refusal, "
        "toxicity, harmfulness, attack_success).", show_default=False)] = None,
    labels: Annotated[Path | None, typer.Option("--labels", metavar="FILE", help="Your own labelled set instead "
        "of the shipped ones (one judge): JSONL rows with text, label (the judge's label, true/false or 1/0; a "
        "number for toxicity) and optional prompt, reference.")] = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model", help="Model spec of an llm judge, "
        "e.g. openai:gpt-4o (a bare KIND then means KIND=llm).")] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", metavar="FILE", help="Compare with the figures "
        "recorded in FILE (by --save-baseline) instead of the published ones: the guard for swapping the judge "
        "model.")] = None,
    save_baseline: Annotated[Path | None, typer.Option("--save-baseline", metavar="FILE", help="Record the "
        "measured figures in FILE (merged by kind and set) for a later --baseline FILE.")] = None,
    tolerance: Annotated[float | None, typer.Option("--tolerance", min=0.0, help="Allowed drop below the "
        "reference figure (default: the figure's own, 0.03 for kappa, 0.02 for Spearman).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Judge every row again (stored judgements are "
        "not read).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Re-measure judges against human-labelled sets (shipped with trustgauge, or --labels FILE)
    and compare with the published figure (or a --baseline): per judge and set, n, accuracy and
    Cohen's kappa (labelled kinds) or Spearman and Pearson (toxicity) with bootstrap 95%
    intervals, the reference figure and the verdict.

    Exit 0 every judge passed; 1 a judge agrees less than the reference figure minus the
    tolerance (or failed to judge); 2 bad input (unknown judge, an llm judge without
    --judge-model, a malformed labels or baseline file). Judgements are cached in the store.

    Examples:

      trustgauge judges verify

      trustgauge judges verify refusal=llm --judge-model openai:gpt-4o --save-baseline judges.json

      trustgauge judges verify refusal=llm --judge-model openai:gpt-4.1 --baseline judges.json

      trustgauge judges verify refusal=rules --labels my_refusals.jsonl
    """
    from trustgauge.judges.registry import JUDGES, check_judge_choice
    from trustgauge.judges.verify.run import JudgeChoice
    from trustgauge.judges.verify.sets import (
        check_kind_has_sets,
        kinds_with_sets,
        packaged_sets,
        read_labels,
    )

    specs = [_judge_spec(s) for s in judges or []] or [(k, None, {}) for k in kinds_with_sets()]
    if labels is not None and len(specs) != 1:
        _fail("--labels FILE holds one kind's labels: name exactly one judge, e.g. "
              "'trustgauge judges verify refusal=rules --labels FILE'")
    judge_model = judge_model.strip() if judge_model else None
    choices: list[JudgeChoice] = []
    try:
        for kind, name, options in specs:
            impl = check_judge_choice(kind, name, judge_model=judge_model, options=options)
            if labels is not None:
                sets = [read_labels(labels.expanduser(), kind, name=labels.name,
                                    needs_reference=JUDGES[kind][impl].needs_reference)]
            else:
                check_kind_has_sets(kind)
                sets = packaged_sets(kind)
            choices.append(JudgeChoice(kind, impl, tuple(sets), options, judge_model))
    except UsageError as exc:
        _fail(str(exc))
    results = _verify(choices, baseline=baseline, save_baseline=save_baseline, tolerance=tolerance,
                      use_cache=not no_cache, quiet=quiet)
    failed = [r for r in results if r.verdict == "fail"]
    if as_json:
        from trustgauge._secrets import redact

        typer.echo(redact(json.dumps({"passed": not failed, "results": [r.as_dict() for r in results]}, indent=2,
                                     ensure_ascii=False)))
    else:
        _print_results(results)
    for r in failed[:-1]:
        typer.echo(f"error: {_failure_line(r)}", err=True)
    if failed:
        _fail(_failure_line(failed[-1]) + (f" ({len(failed)} judge checks failed)" if len(failed) > 1 else ""),
              EXIT_FAILED_REQUESTS)
    unchecked = [r for r in results if r.verdict == "unchecked"]
    if unchecked and save_baseline is None:  # a check that checked nothing is not a pass
        r = unchecked[0]
        _fail(f"nothing to check: no figure to compare {r.kind}={r.name} with on {r.labelled.name}; record one "
              "with --save-baseline FILE, or compare with --baseline FILE")


def _print_results(results: list[VerifyResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="trustgauge judges verify", caption_justify="left", caption=(
        "agreement: accuracy and Cohen's kappa, or Spearman and Pearson, with bootstrap 95% intervals. "
        "published: measured by this package on the shipped set, mostly a training fit (what each is: --json, "
        "docs/judges.md): a drift check, not an estimate of agreement on new data."))
    for col in ("judge", "set", "n"):
        table.add_column(col, no_wrap=True)
    table.add_column("agreement [95% CI]", overflow="fold", ratio=2)
    table.add_column("reference: figure − tolerance", overflow="fold", ratio=2)
    table.add_column("verdict", no_wrap=True)
    for r in results:
        unjudged = f" ({r.measurement.unjudged} unjudged)" if r.measurement.unjudged else ""
        table.add_row(f"{r.kind}={r.name}\n{r.judge_id}", r.labelled.name, f"{r.measurement.n}{unjudged}",
                      _agreement(r), _reference(r), {"fail": "FAIL"}.get(r.verdict, r.verdict))
    Console().print(table)


def verify_run_judges(config: Any, baseline: Path | None, *, quiet: bool) -> None:
    """``trustgauge run --verify-judges``: verify the judges ``config`` (a RunConfig) will use on
    the shipped sets before anything is sent; one line and exit 1 when one fails (2 for bad
    input). Kinds no set ships for are named on stderr, not verified."""
    from trustgauge.judges.verify.run import JudgeChoice
    from trustgauge.judges.verify.sets import packaged_sets
    from trustgauge.pipeline.run import run_judges

    try:
        chosen = run_judges(config)
    except UsageError as exc:
        _fail(str(exc))
    choices = []
    for kind, (name, options) in chosen.items():
        sets = packaged_sets(kind)
        if sets:
            choices.append(JudgeChoice(kind, name, tuple(sets), options, config.judge_model))
        elif not quiet:
            typer.echo(f"note: {kind}={name} is not verified: no labelled set ships for {kind}", err=True)
    hint = "; the run was not started, nothing was sent to the model"
    if not choices:  # a check that checked nothing is not a pass
        used = ", ".join(f"{k}={n}" for k, (n, _) in chosen.items()) or "none"
        _fail(f"--verify-judges: none of the judges this run uses ({used}) has a labelled set to verify it on{hint}")
    results = _verify(choices, baseline=baseline, save_baseline=None, tolerance=None, use_cache=True, quiet=quiet,
                      hint=hint)
    failed = [r for r in results if r.verdict == "fail"]
    for r in failed[:-1]:
        typer.echo(f"error: judge verification failed: {_failure_line(r)}", err=True)
    if failed:
        _fail(f"judge verification failed: {_failure_line(failed[-1])}{hint}", EXIT_FAILED_REQUESTS)
    if not quiet:
        for r in results:
            typer.echo(f"judge verified: {r.kind}={r.name} ({r.judge_id}) on {r.labelled.name}: {r.reason}", err=True)
