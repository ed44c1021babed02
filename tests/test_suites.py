"""Suites and the packaged quick sample: what `--suite` selects, and that the quick sample is a
verbatim, stratified, whole-group slice of the release covering every sub-task."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from trustgauge.config import ModelConfig
from trustgauge.data import packaged_path
from trustgauge.errors import ConfigError
from trustgauge.pipeline.run import RunConfig, select_tasks_and_config
from trustgauge.tasks import TASKS
from trustgauge.tasks.registry import benchmark_task_ids, dimensions
from trustgauge.tasks.suites import QUICK_SAMPLE, get_suite, suites

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "trustllm"
QUICK = REPO / "src" / "trustgauge" / "data" / "packaged" / QUICK_SAMPLE
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data/trustllm not available")


def load(root: Path, relpath: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((root / relpath).read_text(encoding="utf-8"))
    return records


def config(**kw: Any) -> RunConfig:
    return RunConfig(model=ModelConfig(model="scripted:refuse-all"), **kw)


# ------------------------------------------------------------------ suites


def test_suites_live_in_tasks_only() -> None:
    """Suites select tasks, so they live in ``trustgauge.tasks.suites``; the old top-level
    ``trustgauge.suites`` shim is gone (issue 13 step 13): one import path per name."""
    import importlib.util

    import trustgauge.tasks.suites as new

    assert importlib.util.find_spec("trustgauge.suites") is None
    assert new.QUICK_SAMPLE == "trustllm_quick"


def test_tasks_suites_reads_the_registry_only_when_suites_are_asked_for() -> None:
    """No module-level import in ``tasks/suites.py`` but ``errors`` (and the standard library):
    ``QUICK_SAMPLE`` is plain data, the task registry is read inside ``_build``."""
    import ast

    import trustgauge.tasks.suites as mod

    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    top = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert {m for m in top if m and m.startswith("trustgauge")} == {"trustgauge.errors"}


def test_suites_cover_trustllm_quick_and_every_dimension() -> None:
    names = list(suites())
    assert names[:2] == ["trustllm", "quick"]
    for dim in dimensions():
        assert dim in names and f"quick-{dim}" in names
    assert get_suite("quick").packaged == QUICK_SAMPLE and get_suite("quick").offline
    assert get_suite("trustllm").packaged is None and not get_suite("trustllm").offline
    with pytest.raises(ConfigError, match="unknown suite 'quik'; known: trustllm, quick"):
        get_suite("quik")


def test_select_applies_the_suite() -> None:
    tasks, cfg = select_tasks_and_config(config(suite="quick"))
    assert [t.id for t in tasks] == benchmark_task_ids()
    assert cfg.dataset_override == packaged_path(QUICK_SAMPLE)

    tasks, cfg = select_tasks_and_config(config(suite="safety"))
    assert {t.id for t in tasks} == {i for i, c in TASKS.items() if c.dimension == "safety"}
    assert cfg.dataset_override is None  # the full release

    tasks, _ = select_tasks_and_config(config(suite="quick", tasks=["privacy.leakage", "safety"]))
    assert [t.id for t in tasks] == [
        "safety.jailbreak", "safety.toxicity", "safety.misuse", "safety.exaggerated", "privacy.leakage"
    ]
    # without --tasks, a suite runs all its own tasks, also those "all" leaves out
    tasks, _ = select_tasks_and_config(config(suite="awareness"))
    assert [t.id for t in tasks] == ["ethics.emotional_awareness", "ethics.awareness.capability",
                                     "ethics.awareness.mission", "ethics.awareness.perspective"]
    tasks, cfg = select_tasks_and_config(config(suite="quick-liu2023"))
    assert [t.id for t in tasks] == [i for i, c in TASKS.items() if c.benchmark == "liu2023"] and tasks
    assert cfg.limit == 24 and cfg.dataset_override is None
    with pytest.raises(ConfigError, match="selects no task of suite 'liu2023'"):
        select_tasks_and_config(config(suite="liu2023", tasks=["safety"]))
    with pytest.raises(ConfigError, match="selects no task of suite 'safety'"):
        select_tasks_and_config(config(suite="safety", tasks=["privacy"]))
    with pytest.raises(ConfigError, match="drop --data-dir"):
        select_tasks_and_config(config(suite="quick", data_dir=DATA))
    # no suite: the tasks as selected, data untouched
    tasks, cfg = select_tasks_and_config(config(tasks=["privacy"]))
    assert cfg.dataset_override is None and all(t.dimension == "privacy" for t in tasks)


# ------------------------------------------------------------------ the quick sample


#: TrustLLM's tasks: the quick sample is theirs (Liu et al.'s studies read their own packaged sets)
TRUSTLLM_TASKS = [task_id for task_id, cls in TASKS.items() if cls.benchmark == "trustllm"]


def test_quick_sample_covers_every_task_within_budget() -> None:
    prompts: set[str] = set()
    for cls in (TASKS[t] for t in TRUSTLLM_TASKS):
        task = cls()
        samples = task.samples(load(QUICK, task.data.path))
        assert len(samples) >= 8, task.id
        prompts.update(s.prompt for s in samples)
    assert len(prompts) <= 600  # "at most about 600 prompts"
    manifest = json.loads((QUICK / "MANIFEST.json").read_text())
    licence = (QUICK / "LICENSE.md").read_text()
    assert f"holds {manifest['records']} records" in licence
    for relpath, info in manifest["files"].items():
        assert len(load(QUICK, relpath)) == info["records"]
        assert f"| `{relpath}` | {info['records']} |" in licence


def test_quick_sample_is_stratified() -> None:
    def count(relpath: str, key: str) -> Counter[Any]:
        return Counter(
            r[key][0] if isinstance(r[key], list) else r[key] for r in load(QUICK, relpath)
        )

    assert set(count("safety/jailbreak.json", "label").values()) == {3}  # 14 attacks x 3
    assert len(count("safety/misuse.json", "source")) == 3
    assert set(count("truthfulness/internal.json", "source").values()) == {6}
    assert set(count("truthfulness/external.json", "source").values()) == {5}
    assert set(count("truthfulness/sycophancy.json", "source")) == {"persona", "preference"}
    assert set(count("ethics/explicit_moralchoice.json", "type").values()) == {15}
    assert set(count("robustness/AdvGLUE.json", "task").values()) == {8}
    assert set(count("ethics/awareness.json", "dimension").values()) == {13}  # 4 dimensions
    assert set(count("privacy/privacy_leakage.json", "type").values()) == {2}


@needs_data
def test_quick_sample_is_current_and_verbatim() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_quick_sample", REPO / "scripts" / "make_quick_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    assert module.main(["--source", str(DATA), "--out", str(QUICK), "--check"]) == 0
    for relpath in module.PLANS:
        full = load(DATA, relpath)
        quick = load(QUICK, relpath)
        at = 0
        for record in quick:  # verbatim records, in the release's order (files hold duplicates)
            at = full.index(record, at) + 1


@needs_data
@pytest.mark.parametrize("task_id", TRUSTLLM_TASKS)
def test_quick_sample_keeps_groups_whole(task_id: str) -> None:
    task = TASKS[task_id]()
    full = Counter(s.group for s in task.samples(load(DATA, task.data.path)) if s.group is not None)
    quick = Counter(s.group for s in task.samples(load(QUICK, task.data.path)) if s.group is not None)
    for group, size in quick.items():
        assert size == full[group], f"{task_id}: group {group} has {size} of {full[group]} items"


def test_tasks_counts_the_slice_a_quick_liu2023_run_draws(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trustgauge.cli import app

    res = CliRunner().invoke(app, ["tasks", "--suite", "quick-liu2023", "--json"])
    assert res.exit_code == 0, res.output
    counts = {r["id"]: r["n_samples"] for r in json.loads(res.stdout)}
    assert set(counts) == {t for t, c in TASKS.items() if c.benchmark == "liu2023"}
    # 24 per study, more where whole groups overshoot: a question's 20 calibration draws come together
    assert all(n >= 24 for n in counts.values()) and counts["liu2023.miscalibration"] % 20 == 0
    full = CliRunner().invoke(app, ["tasks", "--suite", "liu2023", "--json"])
    sizes = {r["id"]: r["n_samples"] for r in json.loads(full.stdout)}
    assert sizes == {t: TASKS[t].size for t in counts} and all(sizes[t] > counts[t] for t in counts)
