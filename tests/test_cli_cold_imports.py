"""Cold start (issue 14): ``trustgauge --help``, ``trustgauge tasks`` and ``trustgauge taxonomy`` load
none of the heavy libraries they do not need (numpy, the ONNX stack, the tokenizer, the HTTP and model clients);
``--help`` not even an event loop. Times are measured in benchmarks/cold_start.py, not here."""

from __future__ import annotations

import pytest
from tests._imports import modules_after

#: top-level packages neither command needs; each costs tens of milliseconds to import or more
HEAVY = ("numpy", "onnxruntime", "onnx", "tokenizers", "safetensors", "huggingface_hub", "openai", "httpx", "scipy", "torch", "transformers")


def _cli(*argv: str) -> str:
    return (
        "import contextlib, io, sys\n"
        f"sys.argv = ['trustgauge', {', '.join(repr(a) for a in argv)}]\n"
        "from trustgauge.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
    )


@pytest.mark.parametrize("argv", [("--help",), ("tasks",), ("tasks", "--json"), ("taxonomy",), ("taxonomy", "--json")])
def test_quick_commands_import_no_heavy_library(argv: tuple[str, ...]) -> None:
    loaded = {m.split(".")[0] for m in modules_after(_cli(*argv), prefix="")}
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_help_starts_no_event_loop() -> None:
    loaded = {m.split(".")[0] for m in modules_after(_cli("--help"), prefix="")}
    assert "asyncio" not in loaded
