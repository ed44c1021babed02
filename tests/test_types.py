"""trustgauge.types: the shared value types moved out of models/tasks/judges (issue 13, step 1).

The move must not change a byte of what is hashed or stored: the cache keys below were computed
with the code *before* the move (commit e086328, types still in models/base.py and
judges/base.py), so a renamed field, a changed default or a serializer lost in the move fails
here, not only in the goldens' SmolLM2 replay."""

from __future__ import annotations

import subprocess
import sys

import pytest

from trustgauge import types
from trustgauge.judges import base as judges_base
from trustgauge.models import base as models_base
from trustgauge.tasks import base as tasks_base

IDENTITY = {"backend": "gguf", "model": "SmolLM2", "sha256": "abc"}

MOVED = {
    models_base: ("ChatMessage", "GenerationParams", "Request", "Response", "ResponseFormat", "Role", "Usage"),
    tasks_base: ("Sample", "SampleScore", "MetricValue", "DataRef", "Direction", "UndefinedAs"),
    judges_base: ("JudgeItem", "Judgement"),
}


@pytest.mark.parametrize(
    ("old", "name"), [(mod, name) for mod, names in MOVED.items() for name in names]
)
def test_old_homes_re_export_the_same_objects(old: object, name: str) -> None:
    assert getattr(old, name) is getattr(types, name)


def test_classes_live_in_types() -> None:
    for names in MOVED.values():
        for name in names:
            obj = getattr(types, name)
            if isinstance(obj, type):
                assert obj.__module__ == "trustgauge.types", name


def test_request_cache_keys_unchanged_by_the_move() -> None:
    plain = types.Request.user(
        "Hello, who are you?",
        types.GenerationParams(temperature=0.7, max_tokens=64, seed=3, stop=("\n",)),
    )
    assert plain.model_dump_json() == (
        '{"messages":[{"role":"user","content":"Hello, who are you?"}],'
        '"params":{"temperature":0.7,"max_tokens":64,"top_p":null,"seed":3,"stop":["\\n"]}}'
    )
    assert plain.cache_key(IDENTITY) == "99ba0d1d16826522144640c720653de9e431966774887f89f09cffe1a84f0935"

    structured = types.Request(
        messages=(
            types.ChatMessage(role="system", content="Be brief."),
            types.ChatMessage(role="user", content="Ça va?"),
        ),
        params=types.GenerationParams(
            response_format=types.ResponseFormat.from_schema(
                "verdict", {"type": "object", "properties": {"label": {"type": "string"}}}
            )
        ),
    )
    assert structured.cache_key(IDENTITY) == (
        "69353c8d6070e652c62f9db22ba2e7f7a585eab1444ce9730360cf5cd061be1a"
    )


def test_judge_item_cache_key_unchanged_by_the_move() -> None:
    item = types.JudgeItem(prompt="p", response="r", reference={"a": [1, 2]})
    assert item.cache_key("refusal/rules@4") == (
        "227b720587d6379adb8eabe5e2dbf047b9c2aa56ad5917ac2e558d5376d11f4b"
    )


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return {m for m in out.stdout.split() if m.startswith("trustgauge.")}


def test_types_imports_no_trustgauge_layer_above_it() -> None:
    loaded = _modules_after("import trustgauge.types")
    assert loaded <= {"trustgauge.types", "trustgauge._version"}, loaded


def test_store_no_longer_imports_judges() -> None:
    """The engine <-> judges cycle went through store.py's Judgement import."""
    loaded = _modules_after("import trustgauge.engine.store")
    assert not any(m.startswith("trustgauge.judges") for m in loaded), loaded


@pytest.mark.parametrize(
    "module",
    ["report.schema", "report.results", "report.summary", "report.dimensions", "report.leaderboard"],
)
def test_report_readers_load_without_the_code_that_produced_the_run(module: str) -> None:
    """Before the move these imported ``tasks.base`` for MetricValue/Direction, which loaded
    every task, judge and model module (``trustgauge.load_results`` paid for all of it)."""
    loaded = _modules_after(f"import trustgauge.{module}")
    producers = ("trustgauge.tasks", "trustgauge.judges", "trustgauge.models", "trustgauge.engine")
    assert not any(m.startswith(producers) for m in loaded), sorted(loaded)
