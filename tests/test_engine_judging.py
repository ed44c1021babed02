"""engine/judging.py: the cached judging loop, moved out of evaluate.py (issue 13, step 5;
evaluate.py itself is ``pipeline/run.py`` since step 13).

The engine sits below tasks and judges (docs/architecture.md §2.1): it knows a judge only by the
``Judge`` protocol of :mod:`trustgauge.types` and a task only by the hooks the loop calls, so no
module of ``trustgauge/engine`` may import ``trustgauge.judges`` or ``trustgauge.tasks``.
"""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

import trustgauge.engine
from trustgauge.engine import judging
from trustgauge.engine.progress import Progress
from trustgauge.engine.runner import Outcome
from trustgauge.engine.store import Store
from trustgauge.errors import JudgeError, TransientModelError, UsageError
from trustgauge.judges.llm_judge import LLMJudgeError
from trustgauge.types import JudgeItem, Judgement, JudgeSlot, Response, Sample

ENGINE_DIR = Path(trustgauge.engine.__file__).parent
#: what the engine must not import: the layers above it
ABOVE = (
    "trustgauge.judges", "trustgauge.tasks", "trustgauge.pipeline", "trustgauge.report", "trustgauge.cli",
    "trustgauge.api",
)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports (lazy, ``TYPE_CHECKING`` and relative imports included)."""
    package = "trustgauge.engine"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def test_the_ast_walk_sees_lazy_and_relative_imports() -> None:
    """The walk below would pass vacuously if it missed the imports that hide (in functions,
    relative): check it on a sample."""
    sample = ENGINE_DIR / "judging.py"
    names = {name for _, name in _imports(sample)}
    assert "trustgauge.engine.store" in names
    assert "trustgauge.types.Judge" in names


def test_engine_imports_no_judge_or_task_module() -> None:
    offending = [
        f"{path.name}:{line} imports {name}"
        for path in sorted(ENGINE_DIR.glob("*.py"))
        for line, name in _imports(path)
        if name.startswith(ABOVE)
    ]
    assert offending == []


def test_importing_the_judging_loop_loads_no_judge_or_task_module() -> None:
    code = "import sys, trustgauge.engine.judging; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = [m for m in out.stdout.split() if m.startswith(ABOVE)]
    assert loaded == []


@pytest.mark.parametrize(
    "name", ["ERROR_LABEL", "JUDGE_BATCH", "JudgeFailedError", "JudgeStats", "judge_items"]
)
def test_the_moved_names_have_one_import_path(name: str) -> None:
    """Step 13: ``trustgauge.evaluate`` (which re-exported them) is gone and the run module,
    ``pipeline/run.py``, does not re-export them: each is only in ``engine.judging``."""
    import importlib.util

    from trustgauge.pipeline import run

    assert importlib.util.find_spec("trustgauge.evaluate") is None
    assert not hasattr(run, name)
    assert hasattr(judging, name)
    if isinstance(getattr(judging, name), type):
        assert getattr(judging, name).__module__ == "trustgauge.engine.judging"


class Counting:
    """A judge that is not a subclass of ``judges.base.Judge``: the protocol is enough."""

    kind = "refusal"
    id = "counting@1"
    cache_id = "refusal/counting@1"

    def __init__(self, fail: BaseException | None = None, short: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail
        self.short = short

    async def judge(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        self.calls.append([i.response for i in items])
        if self.fail is not None:
            raise self.fail
        out = [
            Judgement(label="error" if i.response == "bad" else "refusal", score=1.0, judge=self.id)
            for i in items
        ]
        return out[:-1] if self.short else out


def _run(judge: Counting, responses: list[str], store: Store | None, batch_size: int = 256
         ) -> tuple[list[Judgement], judging.JudgeStats]:
    items = [JudgeItem(response=r) for r in responses]
    return asyncio.run(judging.judge_items(judge, items, store, batch_size=batch_size, progress=Progress()))


def test_judge_items_dedups_batches_and_caches_all_but_errors(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        judge = Counting()
        verdicts, stats = _run(judge, ["a", "b", "a", "bad"], store, batch_size=2)
        # 3 unique items in batches of 2, in first-seen order
        assert judge.calls == [["a", "b"], ["bad"]]
        assert [v.label for v in verdicts] == ["refusal", "refusal", "refusal", "error"]
        assert (stats.unique, stats.cached, stats.judged, stats.errors) == (3, 0, 3, 1)
        # cached under kind/id; the error judgement is not stored, so only it is judged again
        key_a = JudgeItem(response="a").cache_key("refusal/counting@1")
        assert store.get_judgements([key_a])[key_a].label == "refusal"
        again = Counting()
        verdicts, stats = _run(again, ["a", "b", "a", "bad"], store)
        assert again.calls == [["bad"]]
        assert (stats.unique, stats.cached, stats.judged, stats.errors) == (3, 2, 1, 1)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (LLMJudgeError("failed on all 2 items: HTTP 500"), "the refusal judge counting@1 failed: failed on all 2 items: HTTP 500"),
        (TransientModelError("timed out"), "the refusal judge counting@1 failed: timed out"),
    ],
)
def test_judge_items_turns_judge_and_model_failures_into_judge_failed(error: Exception, message: str) -> None:
    with pytest.raises(judging.JudgeFailedError) as info:
        _run(Counting(fail=error), ["a", "b"], None)
    assert str(info.value) == message
    assert info.value.__cause__ is error


def test_other_errors_pass_through_and_llm_judge_error_is_still_a_usage_error() -> None:
    """The loop catches ``JudgeError`` (errors.py) instead of importing the llm judge; the llm
    judge's error keeps its old bases."""
    assert issubclass(LLMJudgeError, JudgeError) and issubclass(LLMJudgeError, UsageError)
    with pytest.raises(ValueError, match="boom"):
        _run(Counting(fail=ValueError("boom")), ["a"], None)


def test_judge_items_rejects_a_short_answer() -> None:
    with pytest.raises(judging.JudgeFailedError, match=r"^the refusal judge counting@1 returned 1 judgements for 2 items$"):
        _run(Counting(short=True), ["a", "b"], None)


class TwoSlots:
    """A duck-typed task (no ``Task`` base) with slots still written as strings: refusal first,
    toxicity only of complied answers, a role slot compared with a peer sample's response."""

    id = "toy.two_slots"
    judges = ("refusal", "toxicity#peer")

    def wants_judgement(self, slot: JudgeSlot, sample: Sample, earlier: Mapping[str, Judgement],
                        response: str | None = None) -> bool:
        assert isinstance(slot, JudgeSlot)
        if slot.kind != "toxicity":
            return True
        return earlier["refusal"].label == "compliance"

    def peer(self, slot: JudgeSlot, sample: Sample) -> str | None:
        return "0" if slot.role == "peer" and sample.id != "0" else None

    def judge_item(self, slot: JudgeSlot, sample: Sample, response: str, peer_response: str | None = None
                   ) -> JudgeItem:
        return JudgeItem(prompt=str(slot), response=response, reference=peer_response)


class Rule:
    def __init__(self, kind: str) -> None:
        self.kind, self.id, self.cache_id = kind, f"{kind}-rule@1", f"{kind}/{kind}-rule@1"
        self.seen: list[JudgeItem] = []

    async def judge(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        self.seen += items
        label = {"refusal": lambda i: "refusal" if "no" in i.response else "compliance",
                 "toxicity": lambda i: "scored"}[self.kind]
        return [Judgement(label=label(i), judge=self.id) for i in items]


@dataclass
class Work:
    task: TwoSlots
    samples: list[Sample]


def test_judge_all_stages_slots_and_keys_verdicts_by_the_slot_key() -> None:
    samples = [Sample(id=str(i), prompt=f"p{i}") for i in range(4)]
    responses = ["sure", "no way", "sure thing", None]  # sample 3's request failed
    outcomes = {
        TwoSlots.id: [
            Outcome(key=str(i), response=None if r is None else Response(text=r), error=None if r else "x")
            for i, r in enumerate(responses)
        ]
    }
    judges = {"refusal": Rule("refusal"), "toxicity": Rule("toxicity")}
    got = asyncio.run(judging.judge_all([Work(TwoSlots(), samples)], outcomes, judges, None, False, Progress()))
    assert {k: v.label for k, v in got.items()} == {
        (TwoSlots.id, "0", "refusal"): "compliance",
        (TwoSlots.id, "1", "refusal"): "refusal",
        (TwoSlots.id, "2", "refusal"): "compliance",
        # toxicity only of complied answers (0, 2), stored under the slot's key
        (TwoSlots.id, "0", "toxicity#peer"): "scored",
        (TwoSlots.id, "2", "toxicity#peer"): "scored",
    }
    # the item the task built for the slot object; sample 2 compared with sample 0's response
    assert [(i.prompt, i.response, i.reference) for i in judges["toxicity"].seen] == [
        ("toxicity#peer", "sure", None), ("toxicity#peer", "sure thing", "sure"),
    ]
