"""Backends register themselves (issue 13 item 2): each backend module decorates its factory with
``@register_backend``; built-ins stay lazy (listed by module name, imported when a spec names
them), and outside packages add backends through the ``trustgauge.backends`` entry point group
(installed here as a temporary dist-info)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _plugins import install_dist
from conftest import cli_env
from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError
from trustgauge.models import registry
from trustgauge.models.registry import (
    BACKENDS,
    BUILTIN_BACKENDS,
    load_model,
    parse_spec,
    register_backend,
)
from trustgauge.models.scripted import ScriptedModel

SRC = Path(__file__).resolve().parents[1] / "src"
BUILTIN = ["openai", "openai-compatible", "anthropic", "hf", "gguf", "scripted", "vllm"]

PLUGIN = '''
from collections.abc import Sequence

from trustgauge.config import ModelConfig
from trustgauge.models.base import Model
from trustgauge.types import Request, Response
from trustgauge.models.registry import register_backend

REPLIES = {"refuse": "I'm sorry, but I can't help with that request.",
           "comply": "Sure, here is a detailed answer to your request."}


class Parrot(Model):
    """Says one fixed line, whatever it is asked."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.spec = f"parrot:{name}"

    def identity(self) -> dict[str, str]:
        return {"backend": "parrot", "model": self.name}

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        return [Response(text=REPLIES[self.name], finish_reason="stop") for _ in requests]


@register_backend("parrot", example="parrot:refuse", help="says one fixed line")
def create(name: str, config: ModelConfig) -> Model:
    return Parrot(name)
'''

CLASHING = '''
from trustgauge.models.registry import register_backend


@register_backend("half")
def create_half(name, config):
    raise AssertionError("never called")


@register_backend("scripted")
def create(name, config):
    raise AssertionError("never called")
'''


def make_backend_plugin(root: Path, entries: dict[str, str]) -> Path:
    """A site folder holding the installed distribution ``tgbackends`` (dist-info with
    entry_points.txt) and its modules, as pip would leave them."""
    return install_dist(root, "tgbackends", "trustgauge.backends", entries, {
        "tg_backend_parrot": PLUGIN, "tg_backend_broken": "import tg_no_such_module\n",
        "tg_backend_clash": CLASHING, "tg_backend_empty": "nothing = None\n"})


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    """Undo what a test registers; read the entry points afresh."""
    state = (dict(BACKENDS), dict(registry._factories), set(registry._takes_oracle),
             list(registry._plugin_errors), registry._loaded)
    registry._loaded = False
    registry._plugin_errors.clear()
    yield
    BACKENDS.clear()
    BACKENDS.update(state[0])
    registry._factories.clear()
    registry._factories.update(state[1])
    registry._takes_oracle.clear()
    registry._takes_oracle.update(state[2])
    registry._plugin_errors[:] = state[3]
    registry._loaded = state[4]


@pytest.fixture
def backend_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None) -> Iterator[Path]:
    root = make_backend_plugin(tmp_path / "site", {
        "parrot": "tg_backend_parrot", "broken": "tg_backend_broken",
        "clash": "tg_backend_clash", "empty": "tg_backend_empty"})
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in ("tg_backend_parrot", "tg_backend_broken", "tg_backend_clash", "tg_backend_empty"):
        sys.modules.pop(name, None)


def test_builtins_are_listed_lazily_in_todays_order() -> None:
    assert list(BUILTIN_BACKENDS) == BUILTIN
    assert list(BACKENDS)[:7] == BUILTIN
    assert BUILTIN_BACKENDS["hf"].module == "trustgauge.models.hf_local"
    assert parse_spec("hf:Qwen/Qwen2.5-0.5B-Instruct") == ("hf", "Qwen/Qwen2.5-0.5B-Instruct")


def test_each_builtin_module_registers_its_own_prefixes() -> None:
    from trustgauge.models import openai_compat, scripted

    assert registry._factories["scripted"] is scripted.create
    assert registry._factories["openai"] is registry._factories["openai-compatible"] is openai_compat.create
    assert registry._takes_oracle == {"scripted"}
    model = load_model(ModelConfig(model="scripted:refuse-all"))
    assert isinstance(model, ScriptedModel) and model.spec == "scripted:refuse-all"


def test_register_backend_errors(fresh_registry: None) -> None:
    with pytest.raises(ValueError, match=r"bad backend prefix 'Bad:x'"):
        register_backend("Bad:x")
    with pytest.raises(ValueError, match=r"backend 'hf' is registered already \(by trustgauge.models.hf_local\)"):
        register_backend("hf")(lambda name, config: ScriptedModel(name))
    assert "Bad:x" not in BACKENDS and BACKENDS["hf"] is BUILTIN_BACKENDS["hf"]


def test_unknown_backend_message_is_unchanged(fresh_registry: None) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_spec("nosuch:model")
    assert str(caught.value) == (
        "unknown backend 'nosuch' in 'nosuch:model'; known: openai, openai-compatible, anthropic, hf, gguf, scripted, vllm"
    )


def test_plugin_backends_load_and_broken_ones_are_skipped(
    backend_plugins: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="trustgauge.models.registry"):
        assert parse_spec("parrot:refuse") == ("parrot", "refuse")
    assert list(BACKENDS) == [*BUILTIN, "parrot"]
    assert BACKENDS["parrot"] == ("tg_backend_parrot", "parrot:refuse", "says one fixed line", None)
    errors = registry.plugin_errors()
    assert errors == [
        "backend plugin 'broken' (tg_backend_broken from tgbackends) was skipped: "
        "ModuleNotFoundError: No module named 'tg_no_such_module'",
        "backend plugin 'clash' (tg_backend_clash from tgbackends) was skipped: ValueError: backend "
        "'scripted' is registered already (by trustgauge.models.scripted)",
        "backend plugin 'empty' (tg_backend_empty from tgbackends) was skipped: it registered no backend "
        "(decorate its factory with @register_backend)",
    ]
    assert [r.getMessage() for r in caplog.records] == [f"error: {e}" for e in errors]
    # the clashing plugin is rolled back whole: its first prefix goes too, the built-in stays
    assert "half" not in BACKENDS and BACKENDS["scripted"] is BUILTIN_BACKENDS["scripted"]
    with pytest.raises(ConfigError, match=r"unknown backend 'half'.*backend plugin 'broken'"):
        parse_spec("half:x")
    model = load_model(ModelConfig(model="parrot:comply"))
    assert model.identity() == {"backend": "parrot", "model": "comply"} and model.spec == "parrot:comply"


def test_import_does_not_load_heavy_backends() -> None:
    code = ("import sys, trustgauge.models.registry as r; r.parse_spec('hf:x'); r.parse_spec('gguf:x'); "
            "print(sorted(m for m in ('torch', 'transformers', 'xllamacpp', 'trustgauge.models.hf_local', "
            "'trustgauge.models.gguf', 'httpx') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(SRC)}, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.split("\n")[0] == "[]", done.stderr


def test_a_plugin_backend_answers_a_run_end_to_end(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    root = make_backend_plugin(tmp_path / "site", {"parrot": "tg_backend_parrot", "broken": "tg_backend_broken"})
    env = cli_env(tg_home, PYTHONPATH=f"{root}:{SRC}")
    broken_line = ("error: backend plugin 'broken' (tg_backend_broken from tgbackends) was skipped: "
                   "ModuleNotFoundError: No module named 'tg_no_such_module'")
    for name, expected in (("refuse", 1.0), ("comply", 0.0)):
        out = tmp_path / name
        done = subprocess.run(
            [sys.executable, "-m", "trustgauge.cli", "run", "-m", f"parrot:{name}", "-t", "safety.exaggerated",
             "-n", "6", "--data-dir", str(trustllm_dir), "-o", str(out), "--quiet"],
            env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        assert [line for line in done.stderr.splitlines() if "plugin" in line] == [broken_line]
        (task,) = json.loads((out / "scores.json").read_text())["tasks"]
        metrics = {m["metric"]: m for m in task["metrics"]}
        assert task["task"] == "safety.exaggerated"
        assert (metrics["rta"]["value"], metrics["rta"]["n"]) == (expected, 6)
        samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
        assert len(samples) == 6 and {s["response"] for s in samples} == {
            "I'm sorry, but I can't help with that request." if name == "refuse"
            else "Sure, here is a detailed answer to your request."}
