"""Many models in one command (``trustgauge run -m A -m B``, ``--models-file``,
``trustgauge.api.evaluate_many``): end to end through the CLI against the OpenAI-compatible test
server (tests/fake_server.py) on the packaged quick slice of XSTest (offline), and the pieces
(models file, run names, scheduling, progress) on their own."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from fake_server import FakeServer, free_port
from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError, UsageError

SLICE = ["--suite", "quick", "-t", "safety.exaggerated"]  # 20 XSTest prompts shipped with trustgauge
REFUSAL = "I'm sorry, but I can't help with that."


def tg(args: list[str], home: Path, timeout: float = 240, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", *args],
        env=cli_env(home, **env), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def spec(server: Any, model: str) -> str:
    return f"openai-compatible:{model}@{server.openai_base_url}"


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def start_server(**config: Any) -> FakeServer:
    # "kill" prompts are refused (half the slice or so), the rest answered
    return FakeServer.start(models=["model-a", "model-b"], replies=[["kill", REFUSAL]],
                            default_reply="Sure! Here is how: first, open the terminal.", **config)


# ----------------------------------------------------------------------------- end to end


def test_models_run_side_by_side_and_each_run_equals_a_single_run(tmp_path: Path, tg_home: Path) -> None:
    with start_server(latency=0.15) as server:
        out = tmp_path / "many"
        models = [spec(server, "model-a"), spec(server, "model-b"), "scripted:refuse-all"]
        res = tg(["run", *(a for m in models for a in ("-m", m)), *SLICE, "-n", "12", "-c", "2", "-o", str(out)],
                 tg_home)
        assert res.returncode == 0, res.stderr
        spans = server.stats()["model_spans"]
        names = ["openai-compatible-model-a", "openai-compatible-model-b", "scripted-refuse-all"]
        assert sorted(p.name for p in out.iterdir()) == sorted([*names, "leaderboard.md", "leaderboard.html"])

        # the two server models' requests overlapped in time (each alone takes >= 6 x 0.15 s at
        # concurrency 2: one after the other, their spans would not meet)
        a, b = spans["model-a"], spans["model-b"]
        assert a[1] - a[0] >= 0.8 and b[1] - b[0] >= 0.8
        assert max(a[0], b[0]) < min(a[1], b[1])

        # each model's run directory is the one a single-model run into the same folder name
        # writes (another store, so no answer is a cache hit in either)
        single_home = tmp_path / "single-home"
        single_home.mkdir()
        for model, name in zip(models, names):
            alone = tmp_path / "single" / name
            one = tg(["run", "-m", model, *SLICE, "-n", "12", "-c", "2", "-q", "-o", str(alone)], single_home)
            assert one.returncode == 0, one.stderr
            assert (out / name / "samples.jsonl").read_text() == (alone / "samples.jsonl").read_text()
            assert json.loads((out / name / "scores.json").read_text()) == json.loads((alone / "scores.json").read_text())
            together = json.loads((out / name / "run.json").read_text())
            single = json.loads((alone / "run.json").read_text())
            assert together["requests"] == single["requests"] and together["run_id"] == single["run_id"] == name
    samples = [json.loads(line) for line in (out / names[0] / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 12 and all(s["response"] for s in samples)

    board = (out / "leaderboard.md").read_text()
    for model in ("openai-compatible:model-a@", "openai-compatible:model-b@", "scripted:refuse-all"):
        assert model in board
        assert model in res.stdout  # the ranking is printed at the end
    assert "3 runs, 1 sub-tasks" in board and "safety.exaggerated" in board
    assert "<td>scripted:refuse-all</td>" in (out / "leaderboard.html").read_text()
    assert "Failed" not in board
    assert res.stderr.count("done: ") == 3


def test_an_unreachable_model_fails_alone(tmp_path: Path, tg_home: Path) -> None:
    gone = f"openai-compatible:gone@http://127.0.0.1:{free_port()}/v1"
    with start_server() as server:
        out = tmp_path / "many"
        res = tg(["run", "-m", spec(server, "model-a"), "-m", gone, *SLICE, "-n", "6", "-o", str(out)], tg_home)
    assert res.returncode == 1, res.stderr
    lines = errors(res.stderr)
    assert lines[0].startswith("error: openai-compatible-gone (openai-compatible:gone@http://127.0.0.1:")
    assert "failed while running" in lines[0] and "cannot reach" in lines[0]
    assert len(lines[0].splitlines()) == 1 and "Traceback" not in res.stderr
    assert lines[-1] == f"{lines[0]} (the runs written are in {out})"
    # the reachable model's run is complete and ranked; the other is listed as failed
    assert len((out / "openai-compatible-model-a" / "samples.jsonl").read_text().splitlines()) == 6
    assert not (out / "openai-compatible-gone").exists()
    board = (out / "leaderboard.md").read_text()
    assert "### Failed (not ranked)" in board and "cannot reach" in board
    assert "| 1 | openai-compatible:model-a@" in board
    assert "Failed (not ranked)" in (out / "leaderboard.html").read_text()


def test_a_missing_key_is_found_before_anything_is_sent(tmp_path: Path, tg_home: Path) -> None:
    with start_server(latency=0.05) as server:
        out = tmp_path / "many"
        res = tg(["run", "-m", spec(server, "model-a"), "-m", "openai:gpt-4o-mini", *SLICE, "-n", "6",
                  "-o", str(out)], tg_home)
        assert res.returncode == 1, res.stderr
        first = errors(res.stderr)[0]
        assert first.startswith("error: openai-gpt-4o-mini (openai:gpt-4o-mini) failed before anything was sent:")
        assert "missing API key" in first and "OPENAI_API_KEY" in first
        # reported before the other model even started
        assert res.stderr.index(first) < res.stderr.index("generating (openai-compatible:model-a")
        assert (out / "openai-compatible-model-a" / "scores.json").is_file()
        assert "missing API key" in (out / "leaderboard.md").read_text()

        # every model failing its check: nothing runs, exit 2
        none = tg(["run", "-m", "openai:gpt-4o-mini", "-m", "anthropic:claude-haiku-4-5", *SLICE, "-n", "6",
                   "-o", str(tmp_path / "none")], tg_home)
        assert none.returncode == 2, none.stderr
        assert errors(none.stderr)[-1] == "error: no model could start (2 failed before anything was sent; see above)"


def test_ctrl_c_stops_every_model_and_the_same_command_resumes(tmp_path: Path, tg_home: Path) -> None:
    with start_server(latency=0.3) as server:
        args = ["run", "-m", spec(server, "model-a"), "-m", spec(server, "model-b"), *SLICE, "-n", "12", "-c", "1",
                "-o", str(tmp_path / "many")]
        proc = subprocess.Popen([sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(tg_home),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while server.stats()["successes"] < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "run the same command again to resume" in err and "Traceback" not in err
        before = server.stats()["successes"]
        assert 4 <= before < 24
        res = tg(args, tg_home)
        assert res.returncode == 0, res.stderr
        stats = server.stats()
    # what was answered before the interrupt is not asked again (only requests in flight may repeat)
    assert stats["successes"] - before <= 24 - before + 2
    cached = [json.loads((tmp_path / "many" / n / "run.json").read_text())["requests"]["cached"]
              for n in ("openai-compatible-model-a", "openai-compatible-model-b")]
    assert sum(cached) >= before - 2


def test_models_file_names_and_configs(tmp_path: Path, tg_home: Path) -> None:
    with start_server() as server:
        models = tmp_path / "models.yaml"
        models.write_text(
            f"- {spec(server, 'model-a')}\n"
            f"- name: b-short\n  model: {spec(server, 'model-b')}\n  generation: {{max_tokens: 2}}\n"
            f"- {spec(server, 'model-a')}\n"
        )
        out = tmp_path / "many"
        res = tg(["run", "--models-file", str(models), *SLICE, "-n", "4", "-q", "-o", str(out)], tg_home)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [
        "b-short", "openai-compatible-model-a", "openai-compatible-model-a-2"]
    short = [json.loads(x) for x in (out / "b-short" / "samples.jsonl").read_text().splitlines()]
    assert all(len(s["response"].split()) <= 2 for s in short)
    board = (out / "leaderboard.md").read_text()
    # the two runs of one spec are told apart by their run names
    assert "(openai-compatible-model-a)" in board and "(openai-compatible-model-a-2)" in board


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "scripted:refuse-all", "-m", "scripted:comply-all", "--model-config", "m.yaml"],
         "--model-config configures the one --model; for several models give each its config in --models-file"),
        (["-m", "scripted:refuse-all", "--models-file", "m.yaml"],
         "--models-file lists the models: add the --model ones to the file"),
        (["--models-file", "bad.yaml"], "models file bad.yaml, entry 2 (x): temperature: Extra inputs are not permitted"),
        (["-m", "scripted:refuse-all", "-m", "scripted:comply-all", "-t", "no.such.task"], "unknown task"),
    ],
)
def test_bad_commands_are_one_line_and_exit_2(tmp_path: Path, tg_home: Path, args: list[str], message: str) -> None:
    (tmp_path / "m.yaml").write_text("- scripted:refuse-all\n")
    (tmp_path / "bad.yaml").write_text("- scripted:refuse-all\n- {name: x, model: scripted:comply-all, temperature: 0}\n")
    res = subprocess.run([sys.executable, "-m", "trustgauge.cli", "run", *args, "--suite", "quick", "-n", "2",
                          "-o", str(tmp_path / "out")], env=cli_env(tg_home), capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert res.returncode == 2, res.stderr
    assert len(errors(res.stderr)) == 1 and message in errors(res.stderr)[0], res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- the models file


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_models_file_formats(tmp_path: Path) -> None:
    from trustgauge.pipeline.many import read_models_file

    yaml_file = write(tmp_path / "m.yaml", "- openai:gpt-4o-mini\n- {name: t0, model: 'scripted:refuse-all', "
                      "generation: {temperature: 0}, system_prompt: Be brief.}\n")
    got = read_models_file(yaml_file)
    assert got[0] == (None, ModelConfig(model="openai:gpt-4o-mini"))
    assert got[1][0] == "t0" and got[1][1].generation.temperature == 0 and got[1][1].system_prompt == "Be brief."
    toml_file = write(tmp_path / "m.toml", '[[models]]\nmodel = "scripted:refuse-all"\n\n[[models]]\n'
                      'name = "c"\nmodel = "scripted:comply-all"\ntimeout = 5\n')
    assert [(n, c.model, c.timeout) for n, c in read_models_file(toml_file)] == [
        (None, "scripted:refuse-all", 120.0), ("c", "scripted:comply-all", 5.0)]
    json_file = write(tmp_path / "m.json", json.dumps({"models": ["scripted:refuse-all", {"model": "scripted:comply-all"}]}))
    assert [c.model for _, c in read_models_file(json_file)] == ["scripted:refuse-all", "scripted:comply-all"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: scripted:refuse-all\n", "models file {f}: expected a list of models (specs or model configs)"),
        ("[]\n", "models file {f}: the list of models is empty"),
        ("- scripted:refuse-all\n- 3\n", "models file {f}, entry 2: expected a model spec or a model config mapping, got int"),
        ("- {name: x, generation: {}}\n", "models file {f}, entry 1 (x): no 'model:'"),
        ("- {model: 'scripted:x', generation: {temperature: 9}}\n",
         "models file {f}, entry 1: generation.temperature: Input should be less than or equal to 2"),
        ("- {name: '', model: 'scripted:x'}\n", "models file {f}, entry 1: name must be a non-empty string"),
        ("- ''\n", "models file {f}, entry 1: an empty model spec"),
        ("- [unclosed\n", "cannot parse config {f}:"),
    ],
)
def test_models_file_errors_name_the_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    from trustgauge.pipeline.many import read_models_file

    path = write(tmp_path / "models.yaml", text)
    with pytest.raises(ConfigError) as err:
        read_models_file(path)
    assert str(err.value).startswith(message.format(f=path)), str(err.value)
    assert "\n" not in str(err.value)


def test_run_names_are_unique() -> None:
    from trustgauge.pipeline.many import model_entries

    a = ModelConfig(model="openai-compatible:llama3@http://127.0.0.1:1/v1")
    b = ModelConfig(model="openai-compatible:llama3@http://127.0.0.1:2/v1")
    c = ModelConfig(model="hf:Qwen/Qwen2.5-0.5B-Instruct")
    names = [e.name for e in model_entries([(None, a), (None, b), (None, c), (None, a)])]
    assert names == ["openai-compatible-llama3", "openai-compatible-llama3-2", "hf-Qwen-Qwen2.5-0.5B-Instruct",
                     "openai-compatible-llama3-3"]
    # a given name stays; a derived one moves aside
    assert [e.name for e in model_entries([(None, a), ("openai-compatible-llama3", b)])] == [
        "openai-compatible-llama3-2", "openai-compatible-llama3"]
    assert [e.name for e in model_entries([("my model/v2", a)])] == ["my-model-v2"]
    with pytest.raises(ConfigError, match="model name 'x' is given to two models"):
        model_entries([("x", a), ("x", b)])


# ----------------------------------------------------------------------------- scheduling


def _configs(tmp_path: Path, specs: list[str]) -> list[Any]:
    from trustgauge.pipeline.many import model_entries
    from trustgauge.pipeline.run import RunConfig

    entries = model_entries([(None, ModelConfig(model=s)) for s in specs])
    return [RunConfig(model=e.config, tasks=["safety.exaggerated"], suite="quick", out=tmp_path / e.name)
            for e in entries]


def test_local_weight_models_take_turns_while_api_models_overlap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trustgauge.pipeline import many

    spans: dict[str, tuple[float, float]] = {}

    async def fake_run(config: Any, **kwargs: Any) -> str:
        t0 = time.monotonic()
        await asyncio.sleep(0.2)
        spans[config.model.model] = (t0, time.monotonic())
        return f"ran {config.model.model}"

    async def no_preflight(config: Any) -> None:
        return None

    monkeypatch.setattr(many, "run_evaluation", fake_run)
    monkeypatch.setattr(many, "preflight", no_preflight)
    configs = _configs(tmp_path, ["gguf:a.gguf", "hf:b", "scripted:refuse-all", "gguf:c.gguf"])
    got = asyncio.run(many.run_models(configs, renderers={}))  # type: ignore[arg-type]
    assert got == ["ran gguf:a.gguf", "ran hf:b", "ran scripted:refuse-all", "ran gguf:c.gguf"]
    local = sorted(spans[m] for m in ("gguf:a.gguf", "hf:b", "gguf:c.gguf"))
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(local))  # one at a time
    api = spans["scripted:refuse-all"]
    assert api[0] < local[0][1]  # beside the first local model, not after it
    spans.clear()
    asyncio.run(many.run_models(configs, renderers={}, local_one_at_a_time=False))  # type: ignore[arg-type]
    starts = [s for s, _ in spans.values()]
    assert max(starts) - min(starts) < 0.15


def test_a_bug_in_one_run_fails_that_model_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trustgauge.pipeline import many

    async def fake_run(config: Any, **kwargs: Any) -> str:
        if config.model.model == "scripted:comply-all":
            raise RuntimeError("boom")
        await asyncio.sleep(0.05)
        return "ok"

    async def no_preflight(config: Any) -> None:
        return None

    monkeypatch.setattr(many, "run_evaluation", fake_run)
    monkeypatch.setattr(many, "preflight", no_preflight)
    seen: list[Any] = []
    got = asyncio.run(many.run_models(_configs(tmp_path, ["scripted:comply-all", "scripted:refuse-all"]),
                                      renderers={}, on_outcome=seen.append))  # type: ignore[arg-type]
    assert got[1] == "ok"
    assert isinstance(got[0], many.ModelFailure) and got[0].stage == "run" and got[0].error == "RuntimeError: boom"
    assert got[0].line() == "scripted-comply-all (scripted:comply-all) failed while running: RuntimeError: boom"
    assert seen[0] is got[0] and len(seen) == 2  # the failure is reported as soon as it happens


def test_what_the_models_share_is_checked_once_before_any_run(tmp_path: Path) -> None:
    from trustgauge.pipeline import many

    configs = _configs(tmp_path, ["scripted:refuse-all", "scripted:comply-all"])
    bad = [c.model_copy(update={"tasks": ["no.such.task"]}) for c in configs]
    with pytest.raises(UsageError, match=r"no\.such\.task"):
        asyncio.run(many.run_models(bad, renderers={}))  # type: ignore[arg-type]
    same = [configs[0], configs[1].model_copy(update={"out": configs[0].out})]
    with pytest.raises(UsageError, match="the same run directory"):
        asyncio.run(many.run_models(same, renderers={}))  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())


def test_evaluate_many_from_python(tmp_path: Path) -> None:
    from trustgauge.api import ModelFailure, RunResult, evaluate_many

    got = evaluate_many(["scripted:refuse-all", ("comply", "scripted:comply-all"), "openai:gpt-4o-mini"],
                        ["safety.exaggerated"], suite="quick", limit=4, out=tmp_path)
    assert isinstance(got[0], RunResult) and isinstance(got[1], RunResult) and isinstance(got[2], ModelFailure)
    assert got[1].out_dir == tmp_path / "comply" and got[1].total == 4
    assert got[2].stage == "preflight" and "missing API key" in got[2].error
    board = (tmp_path / "leaderboard.md").read_text()
    assert "| 1 | scripted:comply-all |" in board and "| 2 | scripted:refuse-all |" in board
    assert "| openai:gpt-4o-mini | openai-gpt-4o-mini | missing API key" in board


# ----------------------------------------------------------------------------- progress


def test_progress_one_row_per_model() -> None:
    from rich.console import Console
    from rich.progress import Progress as RichBar

    from trustgauge.engine.progress import PlainProgress, ProgressGroup, RichProgress

    bar = RichBar(console=Console(file=io.StringIO()))
    a, b = RichProgress(bar=bar, label="model-a"), RichProgress(bar=bar, label="model-b")
    a.start("generating", 10)
    b.start("generating", 5)
    a.advance(10)
    a.start("judging", 10)  # the next phase takes over the model's row
    a.close()  # leaves the shared display running for the others
    assert [t.description for t in bar.tasks] == ["model-a: judging", "model-b: generating"]
    assert [t.total for t in bar.tasks] == [10, 5]

    stream = io.StringIO()
    plain = PlainProgress(stream=stream, label="model-b")
    plain.start("generating (x)", 3)
    assert stream.getvalue().startswith("[trustgauge] model-b: generating (x): 0/3")
    quiet = ProgressGroup(enabled=False)
    assert type(quiet("m")).__name__ == "Progress"
    assert isinstance(ProgressGroup()("m"), PlainProgress)  # not a terminal here


def test_runs_with_local_weights_anywhere_take_turns(tmp_path: Path) -> None:
    from trustgauge.pipeline.many import uses_local_weights

    api, gguf = _configs(tmp_path, ["scripted:refuse-all", "gguf:smollm2"])
    assert not uses_local_weights(api) and uses_local_weights(gguf)
    assert uses_local_weights(api.model_copy(update={"roles": {"attacker": ModelConfig(model="gguf:smollm2")}}))
    assert uses_local_weights(api.model_copy(update={"judge_model": "hf:Qwen/Qwen2.5-0.5B-Instruct"}))
    assert not uses_local_weights(api.model_copy(update={"judge_model": "openai:gpt-4o"}))


def test_a_role_without_its_key_stops_the_command_before_any_run(tmp_path: Path) -> None:
    from trustgauge.pipeline import many

    configs = [c.model_copy(update={"roles": {"attacker": ModelConfig(model="openai:gpt-4o-mini")}})
               for c in _configs(tmp_path, ["scripted:refuse-all", "scripted:comply-all"])]
    with pytest.raises(UsageError, match="missing API key for openai:gpt-4o-mini"):
        asyncio.run(many.run_models(configs, renderers={}))  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())
