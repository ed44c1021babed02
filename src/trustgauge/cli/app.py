"""The ``trustgauge`` Typer app, its root options and the console-script entry point.

The commands live in one module per group (run, tasks, taxonomy, judges, attacks, watermark, data, report) and register
themselves on :data:`app` when ``trustgauge.cli`` is imported (in the order ``--help`` lists them)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from trustgauge._version import __version__
from trustgauge.errors import UsageError

app = typer.Typer(
    name="trustgauge",
    help=(
        "Measure how trustworthy a large language model is (TrustLLM and beyond).\n\n"
        "Examples:\n\n"
        "  trustgauge demo                                   # no key: SmolLM2 on this machine\n\n"
        "  trustgauge run --model openai:gpt-4o-mini --tasks safety --limit 50\n\n"
        "  trustgauge run --model openai-compatible:llama3@http://127.0.0.1:8000/v1 --tasks all\n\n"
        "  trustgauge tasks --json"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help=(
        "Datasets: fetch, verify and list the official releases.\n\n"
        "A run reads the data from --data-dir DIR, else TRUSTGAUGE_DATA_DIR, else the cached copy "
        "(fetched on first use); it never falls back to a smaller sample.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  trustgauge data list                      # sources, checksums, cached copies\n"
        "  trustgauge data list --files              # ... and each file's record count\n"
        "  trustgauge data fetch trustllm            # the pinned GitHub release\n"
        "  trustgauge data fetch trustllm --from hf  # the gated Hugging Face copy\n"
        "  trustgauge run -m MODEL --data-dir DIR    # an unpacked copy of the release\n\n"
        "The Hugging Face copy needs its terms accepted on the dataset page and a token: HF_TOKEN, "
        "or 'hf auth login'. Offline, '--suite quick' runs on the small packaged sample."
    ),
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")

def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"trustgauge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Measure how trustworthy a large language model is."""
    from trustgauge._secrets import secrets_in_environment

    secrets_in_environment()  # before any command reads, sends or prints anything


def main() -> None:
    """Console-script entry point."""
    import sys

    import trustgauge.cli  # noqa: F401  (registers every command on the app)
    from trustgauge.cli._errors import uncaught_usage_error
    from trustgauge.cli._repeated import may_repeat, repeated_option

    if may_repeat(sys.argv[1:]):  # a word seen twice: only then is the command tree built
        import typer.main

        repeated = repeated_option(typer.main.get_command(app), sys.argv[1:])
        if repeated:
            uncaught_usage_error(UsageError(f"{repeated} is given more than once: give it once (it takes one value)"))
    if os.environ.get("TRUSTGAUGE_DEBUG"):
        app()
        return
    try:
        app()
    except UsageError as exc:  # raised outside a command's own handling
        uncaught_usage_error(exc)
