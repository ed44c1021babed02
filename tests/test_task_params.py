"""Task parameters through the whole run (``--task-param TASK:NAME=VALUE``, ``RunConfig.task_params``,
``evaluate(..., task_params=...)``): a toy task with parameters (tests/params_toy.py) run through the
CLI in a subprocess does what its parameters say, and run.json records them; every mistake is one
line and exit 2; a run whose tasks keep their defaults keeps its spec digest; ``trustgauge tasks
--params`` and ``trustgauge attacks`` list what the security probes take."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import chat_toy
import params_toy
from conftest import REPO, cli_env
from trustgauge.attacks import registry as attacks_registry
from trustgauge.attacks.base import AttackResult, Goal, IterativeAttack, Transform
from trustgauge.cli import EXIT_USAGE, app
from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError
from trustgauge.pipeline.conversations import KNOWN_ROLES, check_roles
from trustgauge.pipeline.run import RunConfig
from trustgauge.pipeline.spec import RunSpec
from trustgauge.results.schema import RunInfo
from trustgauge.types import Chat, ChatMessage, GenerationParams

TOY = str(REPO / "tests" / "params_toy.py")
TASK = params_toy.ToyStyled.id
ENV = {"COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"}


def _toy(args: Sequence[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = cli_env(home)
    env["PYTHONPATH"] = f"{REPO / 'src'}:{REPO / 'tests'}"
    return subprocess.run([sys.executable, TOY, *args], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def _run_args(data: Path, out: Path, *params: str) -> list[str]:
    args = ["run", "-m", "scripted:echo", "-t", TASK, "--data-dir", str(data), "-o", str(out), "-q"]
    for p in params:
        args += ["--task-param", p]
    return args


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return chat_toy.write_data(tmp_path / "data")


@pytest.fixture
def toy_registered(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """``toy.styled`` and the toy dataset in this process's registries, for the test only."""
    from trustgauge.data.sources import registry as data_registry
    from trustgauge.tasks import registry as task_registry

    monkeypatch.setitem(data_registry._REGISTRY, chat_toy.DATASET, chat_toy.source())
    state = task_registry._state()
    request.addfinalizer(lambda: task_registry._restore(state))
    task_registry.register_task(params_toy.ToyStyled)


def _shouted(out: Path) -> float:
    [task] = json.loads((out / "scores.json").read_text())["tasks"]
    [metric] = task["metrics"]
    return float(metric["value"])


# -- the CLI, end to end ---------------------------------------------------------------------


def test_task_params_change_what_the_task_sends_and_are_recorded(data: Path, tmp_path: Path, tg_home: Path) -> None:
    plain, loud = tmp_path / "plain", tmp_path / "loud"
    res = _toy(_run_args(data, plain), tg_home)
    assert res.returncode == 0, res.stderr
    res = _toy(_run_args(data, loud, f"{TASK}:style=shout", f"{TASK}:repeat=2"), tg_home)
    assert res.returncode == 0, res.stderr

    # defaults: the question as written, echoed back in lower case
    assert _shouted(plain) == 0.0
    run_plain = json.loads((plain / "run.json").read_text())
    assert "task_params" not in run_plain  # a run at its defaults is written as before
    first = json.loads((plain / "samples.jsonl").read_text().splitlines()[0])
    assert first["prompt"] == "Tell me about owls."

    # style=shout, repeat=2: every prompt shouted twice, every echo counts as shouted
    assert _shouted(loud) == 1.0
    rows = [json.loads(line) for line in (loud / "samples.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in rows[:2]] == ["TELL ME ABOUT OWLS. TELL ME ABOUT OWLS.",
                                              "TELL ME ABOUT TIDES. TELL ME ABOUT TIDES."]
    assert {r["metadata"]["style"] for r in rows} == {"shout"} and len(rows) == len(chat_toy.PROBE_RECORDS)
    run_loud = json.loads((loud / "run.json").read_text())
    assert run_loud["task_params"] == {TASK: {"style": "shout", "repeat": "2"}}
    assert f"- {TASK} parameters: style=shout, repeat=2" in (loud / "report.md").read_text()
    assert f"<dt>{TASK} parameters</dt><dd>style=shout, repeat=2</dd>" in (loud / "report.html").read_text()
    assert "parameters</dt>" not in (plain / "report.html").read_text()
    assert RunInfo.model_validate(run_loud).task_params == {TASK: {"style": "shout", "repeat": "2"}}


def test_a_default_given_explicitly_is_not_recorded(data: Path, tmp_path: Path, tg_home: Path) -> None:
    out = tmp_path / "run"
    res = _toy(_run_args(data, out, f"{TASK}:style=plain", f"{TASK}:repeat=3"), tg_home)
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "run.json").read_text())["task_params"] == {TASK: {"repeat": "3"}}
    assert json.loads((out / "samples.jsonl").read_text().splitlines()[0])["prompt"] == (
        "Tell me about owls. Tell me about owls. Tell me about owls.")


@pytest.mark.parametrize(("flag", "message"), [
    (f"{TASK}=style", f"--task-param '{TASK}=style': expected TASK:NAME=VALUE"),
    (f"{TASK}:style", f"--task-param '{TASK}:style': expected TASK:NAME=VALUE"),
    (":style=shout", "--task-param ':style=shout': expected TASK:NAME=VALUE"),
    (f"{TASK}:=shout", "expected TASK:NAME=VALUE"),
    ("safety.jailbreak:style=shout", "--task-param safety.jailbreak:style=shout: safety.jailbreak is not among "
     "the selected tasks"),
    (f"{TASK}:colour=red", f"task {TASK} has no parameter 'colour' (its parameters: repeat, style)"),
    (f"{TASK}:style=whisper", f"task {TASK}: parameter style='whisper' is not one of plain, shout"),
    (f"{TASK}:repeat=9", f"task {TASK}: repeat='9' is not a whole number from 1 to 3"),  # check_params
])
def test_task_param_mistakes_are_one_line(data: Path, tmp_path: Path, tg_home: Path, flag: str, message: str) -> None:
    out = tmp_path / "run"
    res = _toy(_run_args(data, out, flag), tg_home)
    assert res.returncode == EXIT_USAGE == 2, res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip()] and "Traceback" not in res.stderr
    assert res.stderr.startswith("error: ") and message in res.stderr
    assert not out.exists()  # refused before anything was sent or written


def test_a_parameter_given_twice_is_one_line(data: Path, tmp_path: Path, tg_home: Path) -> None:
    res = _toy(_run_args(data, tmp_path / "run", f"{TASK}:style=shout", f"{TASK}:style=plain"), tg_home)
    assert res.returncode == 2 and res.stderr == f"error: --task-param {TASK}:style given twice\n"


def test_compare_warns_about_different_parameters_without_the_task_code(data: Path, tmp_path: Path, tg_home: Path) -> None:
    """compare reads the parameters from run.json: this process never registered toy.styled."""
    from trustgauge.report.compare import compare_results
    from trustgauge.results.results import Results
    from trustgauge.tasks.registry import TASKS

    a, b = tmp_path / "a", tmp_path / "b"
    assert _toy(_run_args(data, a), tg_home).returncode == 0
    assert _toy(_run_args(data, b, f"{TASK}:style=shout"), tg_home).returncode == 0
    assert TASK not in TASKS
    comp = compare_results(Results.load(a), Results.load(b))
    assert f"{TASK}: run with different task parameters (A: defaults; B: style=shout)" in comp.warnings
    [row] = comp.metrics
    assert row.delta == pytest.approx(1.0)
    same = compare_results(Results.load(b), Results.load(b))
    assert not [w for w in same.warnings if "task parameters" in w]


# -- the run spec, the pipeline and the API --------------------------------------------------


def _config(**kw: Any) -> RunConfig:
    return RunConfig(model=ModelConfig(model="scripted:echo"), tasks=[TASK], limit=3, seed=2,
                     judges={"refusal": "rules"}, **kw)


def test_a_run_without_parameters_keeps_its_digest() -> None:
    # the digests main computed before task parameters existed (commit 7f82b5d)
    assert RunSpec.from_config(_config()).digest == "7ab1628edcfb5fcb107a5a135c76ab2558268592739efe12720c252853d0cbdd"
    quick = RunConfig(model=ModelConfig(model="scripted:refuse-all"), suite="quick",
                      roles={"attacker": "scripted:comply-all"})
    assert RunSpec.from_config(quick).digest == "c321c2d64f5a087f1aec306e849def87100cce05f1f3c7527c2c9fbb5603c42e"
    # an empty value for a task is no parameter
    assert RunSpec.from_config(_config(task_params={TASK: {}})) == RunSpec.from_config(_config())


def test_parameters_are_in_the_spec_and_its_digest() -> None:
    base = RunSpec.from_config(_config())
    loud = RunSpec.from_config(_config(task_params={TASK: {"style": "shout", "repeat": "2"}}))
    again = RunSpec.from_config(_config(task_params={TASK: {"repeat": "2", "style": "shout"}}))
    assert loud.task_params == ((TASK, (("repeat", "2"), ("style", "shout"))),)
    assert loud.digest != base.digest and again == loud and again.digest == loud.digest
    assert RunSpec.from_config(_config(task_params={TASK: {"style": "shout"}})).digest != loud.digest
    assert loud.params_of(TASK) == {"repeat": "2", "style": "shout"} and loud.params_of("other") == {}
    assert base.params_of(TASK) == {}


@pytest.mark.usefixtures("toy_registered")
def test_select_resolves_and_normalises_the_parameters() -> None:
    from trustgauge.pipeline.run import select_tasks_and_config

    tasks, config = select_tasks_and_config(_config(task_params={TASK: {"style": "plain", "repeat": "2"}}))
    [task] = tasks
    assert task.params == {"style": "plain", "repeat": "2"} and task.non_default_params() == {"repeat": "2"}
    assert config.task_params == {TASK: {"repeat": "2"}}  # the default named changes nothing
    tasks, config = select_tasks_and_config(_config(task_params={TASK: {"style": "plain"}}))
    assert config.task_params == {} and RunSpec.from_config(config) == RunSpec.from_config(_config())
    with pytest.raises(ConfigError, match="is not among the selected tasks"):
        select_tasks_and_config(_config(task_params={"safety.jailbreak": {"x": "y"}}))


@pytest.mark.usefixtures("toy_registered")
def test_resolve_tasks_passes_each_task_its_own_parameters() -> None:
    from trustgauge.tasks.registry import resolve_tasks

    [task] = resolve_tasks([TASK], params={TASK: {"style": "shout"}, "safety.jailbreak": {"a": "b"}})
    assert task.params == {"style": "shout", "repeat": "1"}
    [plain] = resolve_tasks([TASK])
    assert plain.params == {"style": "plain", "repeat": "1"}
    with pytest.raises(ConfigError, match="has no parameter 'size'"):
        resolve_tasks([TASK], params={TASK: {"size": "3"}})


@pytest.mark.usefixtures("toy_registered")
def test_the_executor_refuses_tasks_the_spec_does_not_describe(tmp_path: Path) -> None:
    from trustgauge.engine.progress import Progress
    from trustgauge.pipeline.local import LocalExecutor
    from trustgauge.pipeline.plan import plan
    from trustgauge.pipeline.spec import ExecutionSettings

    spec = RunSpec.from_config(_config(task_params={TASK: {"style": "shout"}}))
    task = params_toy.ToyStyled()  # at its defaults
    executor = LocalExecutor(spec, ExecutionSettings(store_path=tmp_path / "s.sqlite3"), {TASK: task}, {}, Progress())
    with pytest.raises(ValueError, match="parameters"):
        asyncio.run(executor.run(plan(spec, [task])))


@pytest.mark.usefixtures("toy_registered")
def test_evaluate_takes_task_params(data: Path, tmp_path: Path) -> None:
    import trustgauge

    result = trustgauge.evaluate("scripted:echo", [TASK], out=tmp_path / "run", data_dir=data,
                                 store_path=tmp_path / "store.sqlite3", task_params={TASK: {"style": "shout"}})
    assert result.run.task_params == {TASK: {"style": "shout"}}
    assert [m.value for t in result.scores.tasks for m in t.metrics] == [1.0]
    assert all(s.prompt == s.prompt.upper() for s in result.samples)
    with pytest.raises(ConfigError, match="not one of plain, shout"):
        trustgauge.evaluate("scripted:echo", [TASK], out=tmp_path / "bad", data_dir=data,
                            store_path=tmp_path / "store.sqlite3", task_params={TASK: {"style": "loud"}})


def test_old_runs_read_without_task_params() -> None:
    from trustgauge.results.results import Results

    fixture = REPO / "tests" / "fixtures" / "run-v2"
    run = Results.load(fixture).run
    assert run.task_params is None
    assert "task_params" not in json.loads(run.model_dump_json())


# -- trustgauge tasks --params, trustgauge attacks, the translator role -----------------------


@pytest.mark.usefixtures("toy_registered")
def test_tasks_lists_a_tasks_parameters() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["tasks", "--params", TASK], env=ENV)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert any("style" in line and "plain" in line and "plain, shout" in line and "how the question is written"
               in line for line in lines), res.output
    assert any("repeat" in line and "any (checked by the task)" in line for line in lines), res.output
    res = runner.invoke(app, ["tasks", "--params", TASK, "--json"], env=ENV)
    assert json.loads(res.output) == {
        "style": {"default": "plain", "help": "how the question is written", "choices": ["plain", "shout"]},
        "repeat": {"default": "1", "help": "how many times the question is said (1 to 3)", "choices": None},
    }
    res = runner.invoke(app, ["tasks", "--params", "safety.jailbreak"], env=ENV)
    assert res.exit_code == 0 and res.output == "safety.jailbreak has no parameters.\n"
    res = runner.invoke(app, ["tasks", "--json"], env=ENV)
    rows = {r["id"]: r for r in json.loads(res.output)}
    assert rows[TASK]["parameters"]["style"]["choices"] == ["plain", "shout"]
    assert rows["safety.jailbreak"]["parameters"] == {}
    res = runner.invoke(app, ["tasks"], env=ENV)
    # the built-in tasks with parameters (the security probes) are listed too, before the toy
    listed = " ".join(res.output.split()).split(
        "with parameters (--task-param TASK:NAME=VALUE; 'trustgauge tasks --params TASK' lists them): ")[1]
    assert TASK in listed.split(", ") and "fan2023.injection_indirect" in listed
    assert {"fan2023.jailbreak", "fan2023.jailbreak_crescendo", "fan2023.jailbreak_pair",
            "fan2023.jailbreak_tap"} <= set(listed.split(", "))


def test_tasks_table_names_the_headline_metric_and_counts_the_rest() -> None:
    # a task reports up to dozens of metrics (one per subset); listing them all made the table
    # ~740 lines at 80 columns; the table names the first and counts the others, --json has all
    res = CliRunner().invoke(app, ["tasks"], env={**ENV, "COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    rows = json.loads(CliRunner().invoke(app, ["tasks", "--json"], env=ENV).output)
    internal = next(r for r in rows if r["id"] == "truthfulness.misinformation.internal")
    assert internal["metrics"][0] == "accuracy" and len(internal["metrics"]) == 5
    [line] = [ln for ln in res.output.splitlines() if "truthfulness.misinformation.internal" in ln]
    assert "accuracy ↑ (+4)" in line and "accuracy[squad]" not in line
    single = next(r for r in rows if len(r["metrics"]) == 1)
    [line] = [ln for ln in res.output.splitlines() if f" {single['id']} " in ln]
    assert "(+" not in line
    assert len(res.output.splitlines()) < 2 * len(rows) + 20


@pytest.mark.parametrize(("selector", "message"), [
    ("safety.jailbrake", "unknown task 'safety.jailbrake'"),
    ("safety", "--params takes one task id, not 'safety'"),
])
def test_tasks_params_of_no_task_is_one_line(selector: str, message: str) -> None:
    res = CliRunner().invoke(app, ["tasks", "--params", selector], env=ENV)
    assert res.exit_code == 2 and message in res.output and len(res.output.strip().splitlines()) == 1


class _Shout(Transform):
    name = "test_shout"
    version = 3
    family = "encoding"
    description = "upper-cases the request (a test transform)"
    source = "tests"

    async def apply(self, messages: Sequence[ChatMessage], chat: Chat, *, seed: str) -> list[ChatMessage]:
        return [ChatMessage(role=m.role, content=m.content.upper()) for m in messages]


class _Loop(IterativeAttack):
    name = "test_loop"
    description = "asks the attacker once (a test attack)"

    async def run(self, goal: Goal, chat: Chat, target_params: GenerationParams) -> AttackResult:
        return AttackResult(response=goal.behaviour)


@pytest.fixture
def test_attacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two test attacks registered for this test only (the package's own load first, so
    its modules register into the real tables)."""
    attacks_registry._load()
    monkeypatch.setattr(attacks_registry, "TRANSFORMS", dict(attacks_registry.TRANSFORMS))
    monkeypatch.setattr(attacks_registry, "ITERATIVE", dict(attacks_registry.ITERATIVE))
    attacks_registry.register_attack(_Shout)
    attacks_registry.register_attack(_Loop)


@pytest.mark.usefixtures("test_attacks")
def test_attacks_lists_transforms_and_iterative_attacks() -> None:
    assert attacks_registry.iterative()["test_loop"] is _Loop
    res = CliRunner().invoke(app, ["attacks", "--json"], env=ENV)
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert rows["test_shout"] == {
        "name": "test_shout", "kind": "transform", "version": 3, "id": "test_shout@3", "family": "encoding",
        "roles": [], "description": "upper-cases the request (a test transform)", "source": "tests",
    }
    assert rows["test_loop"] == {
        "name": "test_loop", "kind": "iterative", "version": 1, "id": "test_loop@1", "family": "iterative",
        "roles": ["attacker"], "description": "asks the attacker once (a test attack)", "source": "",
    }
    kinds = [r["kind"] for r in json.loads(res.output)]
    assert kinds == sorted(kinds, key=lambda k: k != "transform")  # transforms first
    res = CliRunner().invoke(app, ["attacks"], env=ENV)
    assert res.exit_code == 0
    shout = next(line for line in res.output.splitlines() if "test_shout" in line)
    assert "transform" in shout and "encoding" in shout and "upper-cases the request" in shout
    loop = next(line for line in res.output.splitlines() if "test_loop" in line)
    assert "iterative" in loop and "attacker" in loop and "trustgauge" in loop  # no source: our own


def test_attacks_with_none_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    attacks_registry._load()
    monkeypatch.setattr(attacks_registry, "TRANSFORMS", {})
    monkeypatch.setattr(attacks_registry, "ITERATIVE", {})
    assert CliRunner().invoke(app, ["attacks", "--json"], env=ENV).output == "[]\n"
    assert CliRunner().invoke(app, ["attacks"], env=ENV).output == "no attacks registered\n"


def test_translator_is_a_known_role() -> None:
    assert "translator" in KNOWN_ROLES
    check_roles({"translator": ModelConfig(model="scripted:echo")}, [])  # accepted with no task declaring it
    with pytest.raises(ConfigError, match=r"unknown role 'interpreter'.*translator"):
        check_roles({"interpreter": ModelConfig(model="scripted:echo")}, [])
