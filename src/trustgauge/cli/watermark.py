"""``trustgauge watermark``: the watermarking schemes (:mod:`trustgauge.watermark`) and detection
of their mark in given text, which needs only the key and the model's tokenizer."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trustgauge.cli._errors import fail
from trustgauge.cli.app import app
from trustgauge.errors import ModelError, UsageError, not_utf8

if TYPE_CHECKING:
    from trustgauge.types import TextTokenizer

watermark_app = typer.Typer(
    help=(
        "Watermarking: the schemes, and detecting a scheme's mark in text.\n\n"
        "A watermark is made while a model samples (trustgauge run --watermark SCHEME, hf: "
        "models); detecting it needs only the key (TRUSTGAUGE_WATERMARK_KEY, default trustgauge's "
        "public key) and the model's tokenizer.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  trustgauge watermark schemes\n"
        "  trustgauge watermark detect answers.jsonl --scheme kgw --tokenizer hf:gguf:smollm2\n"
        "  echo 'some text' | trustgauge watermark detect - --tokenizer hf:gguf:smollm2"
    ),
    no_args_is_help=True,
)
app.add_typer(watermark_app, name="watermark")


def scheme_rows() -> list[dict[str, Any]]:
    """Every registered scheme: {name, version, title, parameters: {name: {default, help, choices}}}."""
    from trustgauge.watermark import schemes

    rows = []
    for name, cls in schemes().items():
        params = {
            p: {"default": s.default, "help": s.help, "choices": list(s.choices) if s.choices else None}
            for p, s in cls.PARAMETERS.items()
        }
        params["z_threshold"] = {"default": 4.0, "help": "z-score at which a text counts as watermarked", "choices": None}
        rows.append({"name": name, "version": cls.version, "title": cls.title, "parameters": params})
    return rows


@watermark_app.command("schemes")
def schemes_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {name, version, title, parameters}.")] = False,
) -> None:
    """List the watermarking schemes and their parameters (set them as
    --watermark SCHEME:NAME=VALUE,... or detect --param NAME=VALUE)."""
    rows = scheme_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['name']} (v{row['version']}): {row['title']}")
        for pname, p in row["parameters"].items():
            choices = f" [{', '.join(p['choices'])}]" if p["choices"] else ""
            typer.echo(f"  {pname} = {p['default']}{choices}: {p['help']}")


def _json_value(text: str, where: str) -> Any:
    """``json.loads(text)``, or one UsageError line naming ``where`` (a file, or a file's line)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno}, column {exc.colno}" if "\n" in text.strip() else f"column {exc.colno}"
        raise UsageError(f"{where}: not valid JSON ({exc.msg} at {at})") from None
    except RecursionError:
        raise UsageError(f"{where}: not valid JSON (nested too deep)") from None
    except ValueError as exc:  # a number of more than 4,300 digits
        raise UsageError(f"{where}: not valid JSON ({str(exc).split(';')[0]})") from None


def read_texts(source: str) -> list[str]:
    """The texts of ``source``: ``-`` (stdin, one text), a ``.jsonl`` / ``.json`` file of records
    with a ``text`` field (or of strings), or any other file (one text)."""
    if source == "-":
        text = sys.stdin.read()
        if not text.strip():  # nothing piped in is no text, not one text too short to test
            raise UsageError("-: no text to detect (stdin is empty)")
        return [text]
    path = Path(source)
    if path.is_dir():
        raise UsageError(f"{source}: a folder, not a file")
    if not path.is_file():
        raise UsageError(f"{source}: no such file")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:  # a binary or non-UTF-8 file would be scored as mojibake
        raise UsageError(f"{source}: {not_utf8(exc.object, exc.start)}; save it as UTF-8") from None
    except OSError as exc:
        raise UsageError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    if not raw.strip():
        raise UsageError(f"{source}: no text to detect (the file is empty)")
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".json"):
        return [raw]
    items: Any
    if suffix == ".jsonl":
        # "\n" only: str.splitlines() also splits at U+2028, U+0085 ..., which JSON allows
        # unescaped inside a string (a text holding one came back as two broken lines)
        items = []
        for lineno, line in enumerate(raw.split("\n"), start=1):
            if line.strip():
                items.append(_json_value(line, f"{source}:{lineno}"))
    else:
        items = _json_value(raw, source)
    if not isinstance(items, list):
        raise UsageError(f"{source}: expected a list of records with a 'text' field")
    if not items:
        raise UsageError(f"{source}: no text to detect (no records)")
    texts = []
    for i, item in enumerate(items):
        text = item.get("text") if isinstance(item, dict) else item
        if not isinstance(text, str):
            raise UsageError(f"{source}: record {i + 1} has no 'text' string")
        texts.append(text)
    return texts


def _tokenizer(name: str) -> TextTokenizer:
    """A model spec's tokenizer (``hf:...``: the model's own, as it marks), else a tokenizer
    loaded alone from a directory or hub name."""
    if name.startswith("hf:") or ":" in name.split("/", 1)[0]:
        from trustgauge.config import ModelConfig
        from trustgauge.models.registry import load_model

        return load_model(ModelConfig(model=name)).tokenizer()
    from trustgauge.watermark.tokenizer import load_tokenizer

    return load_tokenizer(name)


@watermark_app.command("detect")
def detect_cmd(
    source: Annotated[str, typer.Argument(help="Texts: a .jsonl/.json file of records with 'text', "
        "another file (one text), or - for stdin.")],
    tokenizer: Annotated[str, typer.Option("--tokenizer", metavar="MODEL",
        help="The tokenizer of the model that marked the text: a model spec (hf:gguf:smollm2, "
        "hf:HUB/NAME, hf:/path/to/dir) or a directory holding a tokenizer.")],
    scheme: Annotated[str, typer.Option("--scheme", help="The scheme (trustgauge watermark schemes).")] = "kgw",
    param: Annotated[list[str] | None, typer.Option("--param", metavar="NAME=VALUE",
        help="A scheme parameter, as the text was marked with (repeat).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a text: index, scored, z, "
        "p_value, verdict, reason.")] = False,
) -> None:
    """Is this text watermarked with my key? A z-test on the scheme's pseudo-random choices,
    recomputed from the key (TRUSTGAUGE_WATERMARK_KEY; default trustgauge's public key) and the
    tokenizer; no model is run. Verdicts: watermarked (z >= z_threshold, 4 by default),
    not_watermarked (with this key and tokenizer: unmarked text, another key or another
    tokenizer all look alike), undetermined (too few tokens for the test to mean anything).

    Examples:

    \b
      TRUSTGAUGE_WATERMARK_KEY=... trustgauge watermark detect out.jsonl --tokenizer hf:gguf:smollm2
      trustgauge watermark detect out.jsonl --tokenizer hf:gguf:smollm2 --scheme kgw --param gamma=0.5
    """
    from trustgauge.watermark import key_from_environment, make_scheme

    params: dict[str, str] = {}
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"--param {item!r}: expected NAME=VALUE")
        if name.strip() in params:  # the last one silently won: a detection with other parameters
            fail(f"--param {name.strip()} given twice")
        params[name.strip()] = value.strip()
    try:
        texts = read_texts(source)
        marker = make_scheme(scheme, key_from_environment(), **params)
        found = marker.detect_texts(_tokenizer(tokenizer), texts)
    except (UsageError, ModelError, OSError) as exc:  # one line, exit 2: what the user can fix
        fail(str(exc))  # (a model that has no tokenizer is the wrong --tokenizer, not a failed call)
    for index, result in enumerate(found):
        row = {"index": index, **result.as_dict()}
        if as_json:
            typer.echo(json.dumps(row))
            continue
        z = "-" if result.z is None else f"{result.z:.2f}"
        p = "-" if result.p_value is None else f"{result.p_value:.2g}"
        verdict = {"not_watermarked": "not watermarked with this key"}.get(result.verdict, result.verdict)
        line = f"{index}: {verdict} (z {z}, p {p}, {result.scored} tokens scored)"
        typer.echo(line + (f": {result.reason}" if result.reason else ""))
