"""A new contributor follows docs/extending.md, the Python API and the config docs literally:
each test here failed before the fix it names (audit of docs against the product)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _plugins import install_dist
from conftest import cli_env
from trustgauge.stats.aggregators import registry as aggregators

AGGREGATOR_MODULE = '''
from trustgauge.stats.aggregators import register_aggregator
from trustgauge.stats.metric_values import proportion_metric


@register_aggregator("mybench.sure_share@1")
def sure_share(scored, params):
    flags = [sc.values["sure"] == 1.0 for _, sc in scored if sc.valid]
    return [proportion_metric("sure_rate", "higher", flags, n_invalid=len(scored) - len(flags))]
'''


@pytest.fixture
def aggregator_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    state = aggregators._state()
    root = install_dist(tmp_path / "site", "tgsure", "trustgauge.aggregators",
                        {"sure": "tg_sure_agg"}, {"tg_sure_agg": AGGREGATOR_MODULE})
    monkeypatch.syspath_prepend(str(root))
    yield
    sys.modules.pop("tg_sure_agg", None)
    aggregators._restore(state)


def test_an_aggregator_module_imported_before_its_entry_point_loads_is_not_reported_broken(
    aggregator_plugin: None,
) -> None:
    """extending.md: the task names its aggregator, and the aggregator's module is published
    under ``trustgauge.aggregators`` too. A task module that imports it (or defines it) runs the
    decorator when the task registry loads, before the aggregator entry point: the plugin was
    then skipped with "it registered no aggregator" on every run, though it had."""
    importlib.import_module("tg_sure_agg")  # the task plugin imported it first
    aggregators._restore((aggregators._state()[0], [], False))  # read afresh: load the plugins
    assert "mybench.sure_share@1" in aggregators.known_aggregators()
    assert aggregators.plugin_errors() == []


def _task_module(task_id: str, extra: str = "") -> str:
    name = task_id.split(".")[1]
    return f'''
{extra}
from trustgauge.tasks.base import Task
from trustgauge.tasks.registry import register_task
from trustgauge.types import DataRef, Sample, SampleScore


@register_task
class T(Task):
    id = "{task_id}"
    dimension = "pair"
    size = 1
    title = "{name}"
    data = DataRef(dataset="trustllm", path="x.json")
    metrics = (("m", "higher"),)
    aggregator = "mean@1"

    def samples(self, records):
        return [Sample(id="0", prompt="p")]

    def score(self, sample, response, judgements):
        return SampleScore(values={{"m": 1.0}})

    def aggregator_params(self):
        return {{"metrics": [["m", "m", "higher"]]}}
'''


@pytest.fixture
def sibling_task_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from trustgauge.tasks import registry as tasks

    state = tasks._state()
    root = install_dist(
        tmp_path / "site", "tgpair", "trustgauge.tasks",
        {"first": "tg_pair_first", "second": "tg_pair_second"},
        {"tg_pair_first": _task_module("pair.first", "import tg_pair_second  # noqa: F401 -- a shared helper"),
         "tg_pair_second": _task_module("pair.second")},
    )
    monkeypatch.syspath_prepend(str(root))
    tasks._restore((state[0], state[1], [], False))  # read afresh: load the plugins
    yield
    for name in ("tg_pair_first", "tg_pair_second"):
        sys.modules.pop(name, None)
    tasks._restore(state)


def test_a_task_plugin_whose_module_an_earlier_plugin_imported_is_not_reported_broken(
    sibling_task_plugins: None,
) -> None:
    """extending.md invites a task module to import a sibling's helpers (as safety/toxicity.py
    takes the jailbreak reader): when both are published as entry points, loading the first
    registers the second's task too, and the second was then skipped with "it registered no
    task" (though its task ran), one error line on every command."""
    from trustgauge.tasks import registry as tasks

    ids = list(tasks.TASKS)
    assert sorted(ids[-2:]) == ["pair.first", "pair.second"]  # second's class is defined first
    assert tasks.plugin_errors() == []


DOCS = Path(__file__).resolve().parents[1] / "docs"


def _python_block(doc: str, containing: str) -> str:
    text = (DOCS / doc).read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    (block,) = [b for b in blocks if containing in b]
    return block


def test_the_multi_turn_probe_of_extending_md_registers_as_written() -> None:
    """The attacker-loop example declared ``id = "mybench.attack_loop"`` in dimension
    ``safety``: registering it, as a contributor copying it does, was refused ("task id
    'mybench.attack_loop' must be '<dimension>.<name>'") and the whole plugin skipped."""
    from trustgauge.tasks import registry as tasks

    namespace: dict[str, object] = {}
    exec(compile(_python_block("extending.md", "class AttackLoop(Task)"), "extending.md", "exec"), namespace)
    state = tasks._state()
    try:
        tasks.register_task(namespace["AttackLoop"])  # type: ignore[arg-type]
        assert "mybench.attack_loop" in tasks.TASKS
    finally:
        tasks._restore(state)


@pytest.mark.parametrize("value", ["5", "[top_k]", "top_k=20"])
def test_an_extra_body_that_is_not_a_mapping_is_one_clear_error(tmp_path: Path, value: str) -> None:
    """README's model config has ``options: {extra_body: {top_k: 20}}``; written as anything
    but a mapping it was dropped without a word by every backend (and the cache key), so the run
    went on without the fields asked for."""
    from trustgauge.config import load_model_config
    from trustgauge.errors import ConfigError

    path = tmp_path / "model.yaml"
    path.write_text(f"model: openai-compatible:m@http://127.0.0.1:9/v1\noptions: {{extra_body: {value}}}\n")
    with pytest.raises(ConfigError) as caught:
        load_model_config(path)
    message = str(caught.value)
    assert message.startswith(f"invalid model config in {path}: options: extra_body must be a mapping")
    assert "\n" not in message
    path.write_text("model: openai-compatible:m@http://127.0.0.1:9/v1\noptions: {extra_body: {top_k: 20}}\n")
    assert load_model_config(path).options == {"extra_body": {"top_k": 20}}


JUDGE_MODULE = '''
from trustgauge.judges import Judge
from trustgauge.judges.catalogue import register_judge
from trustgauge.types import Judgement


@register_judge("refusal", "keywords", offline=True, summary="refusal if a keyword list matches")
class KeywordRefusalJudge(Judge):
    name, version = "keywords", "1"

    async def judge(self, items):
        return [Judgement(label="refusal" if "sorry" in i.response.lower() else "compliance", judge=self.id)
                for i in items]
'''


def test_a_judge_written_as_judges_md_shows_gets_its_kind_from_its_registration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """judges.md's "Adding a judge" class sets ``name, version`` but no ``kind`` (the decorator
    names it): run with ``--judge refusal=keywords`` it crashed the run with a traceback,
    ``AttributeError: 'KeywordRefusalJudge' object has no attribute 'kind'``, at its first
    cache key."""
    import asyncio

    from trustgauge.judges import catalogue
    from trustgauge.judges.registry import create_judge
    from trustgauge.types import JudgeItem

    (tmp_path / "tg_keyword_judge.py").write_text(JUDGE_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    state = catalogue._state()
    try:
        importlib.import_module("tg_keyword_judge")
        judge = create_judge("refusal", "keywords")
        assert judge.kind == "refusal" and judge.cache_id == "refusal/keywords@1"
        item = JudgeItem(response="Sorry, no.")
        assert item.cache_key(judge.cache_id)
        (verdict,) = asyncio.run(judge.judge([item]))
        assert verdict.label == "refusal"
    finally:
        sys.modules.pop("tg_keyword_judge", None)
        catalogue._restore(state)


def test_evaluate_takes_one_selector_as_a_string(tmp_path: Path, tg_home: Path) -> None:
    """``trustgauge.evaluate("MODEL", "safety.misuse")`` (a string is a ``Sequence[str]``, so
    the type checker let it through) asked for tasks 's', 'a', 'f', ...: "unknown task 's'"."""
    import trustgauge

    result = trustgauge.evaluate("scripted:refuse-all", "safety.misuse", limit=1, suite="quick",
                                 out=tmp_path / "one")
    assert result.run.tasks == ["safety.misuse"]
    (outcome,) = trustgauge.evaluate_many(["scripted:refuse-all"], "safety.misuse,safety.exaggerated",
                                          limit=1, suite="quick", out=tmp_path / "many")
    assert isinstance(outcome, trustgauge.RunResult)
    assert outcome.run.tasks == ["safety.misuse", "safety.exaggerated"]


def test_a_packaged_file_with_the_wrong_record_count_does_not_send_the_user_to_download_it() -> None:
    """extending.md's task ships its data in its package (``PackageFiles``, ``files=
    {"prompts.json": 3}``). A file that disagrees with that count said "not the pinned tgtoy
    release; use an unmodified copy (`trustgauge data fetch tgtoy` downloads and verifies it)",
    and that command only re-checks the same package folder and fails the same way."""
    from trustgauge.data.records import record_count_error
    from trustgauge.data.sources import PackageFiles, PinnedFile

    shipped = PackageFiles(id="tgtoy", description="three toy prompts", package="tg_task_plugin",
                           path="data", files={"prompts.json": 3})
    message = record_count_error(shipped, "data/prompts.json", 4, 3)
    assert message == ("data/prompts.json holds 4 records, expected 3: the files package tg_task_plugin "
                       "ships do not match the `files` its source tgtoy declares")
    pinned = PinnedFile(id="mybench", url="https://example.org/items.json", sha256="0" * 64, size_bytes=1,
                        files={"items.json": 2})
    assert "`trustgauge data fetch mybench` downloads and verifies it" in record_count_error(
        pinned, "items.json", 1, 2)


# -- a misspelt model option ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "options", "needle"),
    [
        ("gguf:smollm2", {"nctx": 8192}, "gguf: unknown model option 'nctx' (did you mean 'n_ctx'?); gguf: models read "
                                          "n_ctx, n_parallel, threads, verbose"),
        ("openai-compatible:m@http://127.0.0.1:9/v1", {"extra-body": {}}, "unknown model option 'extra-body' (did you mean 'extra_body'?)"),
        ("scripted:table", {"tabel": {}, "zzz": 1}, "scripted: unknown model options 'tabel', 'zzz' (did you mean 'table'?)"),
        ("hf:some/model", {"dtyp": "float32"}, "hf: unknown model option 'dtyp' (did you mean 'dtype'?)"),
    ],
)
def test_a_model_option_the_backend_does_not_read_is_refused(spec: str, options: dict[str, Any], needle: str) -> None:
    """``options: {nctx: 8192}`` for gguf: (security.md asks for n_ctx 8192) ran silently with
    llama.cpp's 2,048-token context: no backend checked its option names."""
    from trustgauge.config import ModelConfig
    from trustgauge.errors import ConfigError
    from trustgauge.models.registry import load_model

    with pytest.raises(ConfigError) as caught:
        load_model(ModelConfig(model=spec, options=options))
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_batch_size_is_accepted_by_every_backend_and_known_options_load(tmp_path: Path) -> None:
    """``--batch-size`` sets options.batch_size for every model of a run (a models file may mix
    local and hosted ones): accepted everywhere, read by those that batch."""
    from trustgauge.config import ModelConfig
    from trustgauge.models.registry import load_model

    load_model(ModelConfig(model="scripted:table", options={"table": {"a": "b"}, "default": "c", "batch_size": 4}))
    load_model(ModelConfig(model="openai-compatible:m@http://127.0.0.1:9/v1",
                           options={"extra_body": {"top_k": 1}, "batch_max_requests": 5, "batch_size": 8}))


def test_a_misspelt_option_in_a_model_config_through_the_cli(tmp_path: Path) -> None:
    config = tmp_path / "model.yaml"
    config.write_text("model: scripted:refuse-all\noptions: {data_dri: x}\n")
    out = subprocess.run([sys.executable, "-m", "trustgauge", "run", "--model-config", str(config), "--suite",
                          "quick-safety", "-n", "1"], env=cli_env(tmp_path / "home"), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown model option 'data_dri' (did you mean 'data_dir'?)" in lines[0], out.stderr


def test_a_misspelt_option_is_refused_before_a_dataset_is_downloaded(tmp_path: Path) -> None:
    """The full TrustLLM suite downloads its release first: a typo in the model config must not
    wait for (or fail behind) the download. Here the download cannot happen (no network, empty
    home): the option error comes first."""
    config = tmp_path / "model.yaml"
    config.write_text("model: scripted:refuse-all\noptions: {data_dri: x}\n")
    out = subprocess.run([sys.executable, "-m", "trustgauge", "run", "--model-config", str(config), "-t",
                          "safety.exaggerated", "-n", "1"], env=cli_env(tmp_path / "home"), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown model option 'data_dri'" in lines[0], out.stderr

