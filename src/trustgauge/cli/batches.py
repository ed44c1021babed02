"""``trustgauge batches``: the provider batches ``trustgauge run --batch`` submitted (recorded in
the store), and cancelling them at the provider (docs/batch.md)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from trustgauge.cli._common import _run_async
from trustgauge.cli._errors import fail
from trustgauge.cli.app import app
from trustgauge.errors import ModelError, UsageError

batches_app = typer.Typer(
    help=(
        "Provider batches submitted by 'trustgauge run --batch' (OpenAI's Batch API, Anthropic's "
        "Message Batches): list them, cancel them.\n\n"
        "A batch keeps running at the provider when its run stops (Ctrl-C, a crash): the same run "
        "command resumes polling it. Cancelling stops it at the provider; the next run downloads "
        "what it finished and submits the rest again.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  trustgauge batches list\n"
        "  trustgauge batches cancel -m openai:gpt-4o-mini            # every open batch of the model\n"
        "  trustgauge batches cancel -m openai:gpt-4o-mini batch_abc  # one batch"
    ),
    no_args_is_help=True,
)
app.add_typer(batches_app, name="batches")


@batches_app.command("list")
def list_cmd(
    every: Annotated[bool, typer.Option("--all", help="Also the batches already downloaded (done), failed or lost.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """The batches recorded in the store (TRUSTGAUGE_HOME): open ones by default (submitted, not
    yet downloaded). Asks no provider."""
    from trustgauge import _paths
    from trustgauge.engine.store import Store

    path = _paths.store_path()
    rows = []
    if path.exists():
        with Store(path) as store:
            for b in store.batches(state=None if every else "open"):
                ident = b.model_identity or {}
                rows.append({
                    "batch_id": b.batch_id, "provider": b.provider, "state": b.state, "requests": len(b.items),
                    "model": f"{ident.get('backend', '?')}:{ident.get('model', '?')}",
                    "created_at": datetime.fromtimestamp(b.created_at).isoformat(timespec="seconds"),
                })
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no open batches" if not every else "no batches")
        return
    for r in rows:
        typer.echo(f"{r['batch_id']}  {r['provider']}  {r['model']}  {r['state']}  {r['requests']} requests  {r['created_at']}")


@batches_app.command("cancel")
def cancel_cmd(
    batch_ids: Annotated[list[str] | None, typer.Argument(help="Batch ids (default: every open batch of the model).")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="The model the batches were submitted for, as "
        "given to 'trustgauge run' (its key comes from the backend's environment variable).")] = None,
    model_config: Annotated[Path | None, typer.Option("--model-config", help="The model config file given to "
        "'trustgauge run'.")] = None,
) -> None:
    """Cancel open batches at the provider. Requests already finished are still returned: the
    next 'trustgauge run' with the same options downloads them and submits the rest again."""
    try:
        cancelled = _run_async(_cancel(batch_ids or [], model, model_config))
    except (UsageError, ModelError) as exc:
        fail(str(exc))
    for batch_id in cancelled:
        typer.echo(f"cancelled {batch_id}")
    if not cancelled:
        typer.echo("no open batches of this model")
    else:
        typer.echo("the same 'trustgauge run' command downloads what finished and submits the rest again")


async def _cancel(batch_ids: list[str], spec: str | None, config_path: Path | None) -> list[str]:
    from trustgauge import _paths
    from trustgauge.config import load_model_config
    from trustgauge.engine.batch import refuse_batch
    from trustgauge.engine.store import Store
    from trustgauge.models.registry import load_model

    model = load_model(load_model_config(config_path, spec=spec))
    try:
        api = refuse_batch(model)
        path = _paths.store_path()
        if not path.exists():
            return []
        with Store(path) as store:
            open_ = {b.batch_id: b for b in store.batches(api.provider, model.identity(), state="open")}
        unknown = [b for b in batch_ids if b not in open_]
        if unknown:
            raise UsageError(f"no open batch {unknown[0]} of {model.describe()} in the store (see 'trustgauge batches list')")
        chosen = batch_ids or list(open_)
        for batch_id in chosen:
            await api.cancel(batch_id)
        return chosen
    finally:
        await model.aclose()
