"""A registry state taken by a test and restored afterwards must not leak into the next test.

The scripted-oracle identity test failed when it ran after ``tests/test_chat.py``: that test took
``task_registry._state()`` before anything had read the registry (so ``loaded=False`` and no
tasks), registered toy tasks, then restored the state. The task modules stayed imported, so their
``@register_task`` decorators never ran again, and the next read raised "built-in tasks not
registered". ``_state()`` now loads the built-ins first (the merge of i-executor); the task
registry checks below fail without it, the catalogue one guards the same pattern there.
Each runs in a fresh interpreter: in this one the registries are loaded already."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _fresh(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TRUSTGAUGE_HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=300,
    )


def test_task_registry_state_taken_before_loading_restores_the_builtins(tmp_path: Path) -> None:
    proc = _fresh(
        """
        from trustgauge.tasks import registry
        state = registry._state()  # the first touch of the registry, as test_chat's toy run does
        list(registry.TASKS)  # the run reads it: the task modules get imported
        registry._restore(state)
        assert all(task_id in registry.TASKS for task_id in registry.ORDER)
        print(len(registry.ORDER))
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) >= 30


def test_judge_catalogue_state_taken_before_loading_restores_the_builtins(tmp_path: Path) -> None:
    proc = _fresh(
        """
        from trustgauge.judges import catalogue
        state = catalogue._state()
        catalogue.catalogue()
        catalogue._restore(state)
        print(sorted(catalogue.catalogue()) == sorted(state[0]) and len(state[0]) > 0)
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"


def test_scripted_oracle_identity_passes_after_test_chat(tmp_path: Path) -> None:
    """The ordering the review reported, run as it was reported."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TRUSTGAUGE_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "tests/test_chat.py",
         "tests/test_scripted_oracle.py::test_identity_and_cache_key_are_the_ones_recorded_before_the_injection"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
