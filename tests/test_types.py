"""trustgauge.types: the shared value types moved out of models/tasks/judges (issue 13, step 1).

The move must not change a byte of what is hashed or stored: the cache keys below were computed
with the code *before* the move (commit e086328, types still in models/base.py and
judges/base.py), so a renamed field, a changed default or a serializer lost in the move fails
here, not only in the goldens' SmolLM2 replay."""

from __future__ import annotations

import pytest

from _imports import modules_after
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


def test_moved_names_have_one_import_path() -> None:
    """Step 13: the old homes no longer re-export them; nothing in the repository imports a
    moved name from ``tasks.base``, ``models.base`` or ``judges.base``."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pattern = re.compile(r"from trustgauge\.(tasks|models|judges)\.base import (?:\(([^)]*)\)|([^\n]*))")
    offenders = []
    for folder in ("src", "tests", "scripts", "benchmarks"):
        for path in (root / folder).rglob("*.py"):
            for match in pattern.finditer(path.read_text(encoding="utf-8")):
                listed = (match.group(2) or match.group(3)).split("#")[0]
                names = {n.strip().split(" as ")[0] for n in listed.replace("\n", ",").split(",")}
                moved = names & set(MOVED[{"tasks": tasks_base, "models": models_base, "judges": judges_base}[match.group(1)]])
                if moved:
                    offenders.append(f"{path.relative_to(root)}: {sorted(moved)}")
    assert offenders == []


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


def test_types_imports_no_trustgauge_layer_above_it() -> None:
    loaded = modules_after("import trustgauge.types", "trustgauge.")
    assert loaded <= {"trustgauge.types", "trustgauge._version"}, loaded


def test_store_no_longer_imports_judges() -> None:
    """The engine <-> judges cycle went through store.py's Judgement import."""
    loaded = modules_after("import trustgauge.engine.store", "trustgauge.")
    assert not any(m.startswith("trustgauge.judges") for m in loaded), loaded


@pytest.mark.parametrize(
    "module",
    ["results.schema", "results.results", "report.summary", "results.dimensions", "results.outcomes", "report.leaderboard"],
)
def test_report_readers_load_without_the_code_that_produced_the_run(module: str) -> None:
    """Before the move these imported ``tasks.base`` for MetricValue/Direction, which loaded
    every task, judge and model module (``trustgauge.load_results`` paid for all of it)."""
    loaded = modules_after(f"import trustgauge.{module}", "trustgauge.")
    producers = ("trustgauge.tasks", "trustgauge.judges", "trustgauge.models", "trustgauge.engine")
    assert not any(m.startswith(producers) for m in loaded), sorted(loaded)


# --- JudgeSlot (issue 13, step 3) ----------------------------------------------------------

#: every slot today's tasks declare, as it is stored (samples.jsonl ``judgements`` keys)
TODAY_SLOTS = {
    "refusal": types.JudgeSlot("refusal"),
    "toxicity": types.JudgeSlot("toxicity"),
    "similarity": types.JudgeSlot("similarity"),
    "correctness": types.JudgeSlot("correctness"),
    "harmfulness": types.JudgeSlot("harmfulness"),
    "same_preference": types.JudgeSlot("same_preference"),
    "misinformation_correction": types.JudgeSlot("misinformation_correction"),
    "similarity#honest": types.JudgeSlot("similarity", "honest"),
    "similarity#sycophantic": types.JudgeSlot("similarity", "sycophantic"),
    "stereotype_recognition?": types.JudgeSlot("stereotype_recognition", optional=True),
    "agreement?": types.JudgeSlot("agreement", optional=True),
    "ethics_judgement?": types.JudgeSlot("ethics_judgement", optional=True),
    "diagnosis?": types.JudgeSlot("diagnosis", optional=True),
    "injection_followed?": types.JudgeSlot("injection_followed", optional=True),
    "attack_success": types.JudgeSlot("attack_success"),
}


@pytest.mark.parametrize(("text", "slot"), TODAY_SLOTS.items())
def test_judge_slot_parse_and_str_round_trip(text: str, slot: types.JudgeSlot) -> None:
    assert types.JudgeSlot.parse(text) == slot
    assert str(slot) == text
    assert types.JudgeSlot.parse(slot) is slot
    # the helpers the old string parsing became
    assert types.judge_kind(text) == types.judge_kind(slot) == text.rstrip("?").split("#", 1)[0]
    assert types.is_optional(text) == types.is_optional(slot) == text.endswith("?")


def test_today_tasks_declare_exactly_these_slots() -> None:
    from trustgauge.tasks.registry import TASKS

    declared = {slot for cls in TASKS.values() for slot in cls.judges}
    assert all(isinstance(slot, types.JudgeSlot) for slot in declared)
    assert {str(slot) for slot in declared} == set(TODAY_SLOTS)


def test_judge_slot_role_and_optional_together_and_hashable() -> None:
    slot = types.JudgeSlot.parse("similarity#honest?")
    assert (slot.kind, slot.role, slot.optional) == ("similarity", "honest", True)
    assert str(slot) == "similarity#honest?"
    assert {slot: 1}[types.JudgeSlot("similarity", "honest", optional=True)] == 1
    with pytest.raises(AttributeError):
        slot.kind = "refusal"  # type: ignore[misc]


def test_a_slot_equals_only_a_slot_not_its_storage_key() -> None:
    """The migration aid is gone (issue 13 step 13): a slot equals and hashes on its
    (kind, role, optional) only; code that has a storage key converts with ``parse`` / ``str``."""
    toxicity, honest = types.JudgeSlot("toxicity"), types.JudgeSlot("similarity", "honest")
    assert toxicity != "toxicity"
    assert "toxicity" != toxicity  # noqa: SIM300 - the reflected comparison (str first)
    assert honest != "similarity#honest"
    assert honest not in {"toxicity": 1, "similarity#honest": 2}
    assert {"toxicity": 1, "similarity#honest": 2}[str(honest)] == 2
    assert {honest: 3}[types.JudgeSlot.parse("similarity#honest")] == 3
    assert hash(honest) == hash(types.JudgeSlot("similarity", "honest"))
    assert toxicity == types.JudgeSlot("toxicity") and toxicity != types.JudgeSlot("toxicity", optional=True)
    assert toxicity != 1


@pytest.mark.parametrize("bad", ["", "?", "#honest", "similarity#", "a#b#c", "refusal??"])
def test_judge_slot_rejects_malformed_keys(bad: str) -> None:
    with pytest.raises(ValueError, match="judge slot"):
        types.JudgeSlot.parse(bad)


def test_task_subclass_may_still_list_slots_as_strings() -> None:
    """The transition: a task written before slots were typed gets them parsed."""

    class Old(tasks_base.Task):
        judges = ("similarity#honest", "diagnosis?")  # type: ignore[assignment]

    class Child(Old):
        pass

    expected = (types.JudgeSlot("similarity", "honest"), types.JudgeSlot("diagnosis", optional=True))
    assert Old.judges == expected and Child.judges == expected
    assert tasks_base.Task.judges == ()


# --- MetricValue.group (issue 13, step 3) --------------------------------------------------

@pytest.mark.parametrize(
    ("name", "base", "group"),
    [
        ("accuracy", "accuracy", None),
        ("p_value", "p_value", None),
        ("accuracy[squad]", "accuracy", "squad"),
        ("rta[Hate speech (race)]", "rta", "Hate speech (race)"),
        ("leak_rate[email, zero-shot]", "leak_rate", "email, zero-shot"),
        ("rate[a[b]]", "rate", "a[b]"),  # brackets inside the group
        ("rate[[x]]", "rate", "[x]"),
        ("rate[]", "rate", ""),
        ("rate[open", "rate", "open"),  # no closing bracket: still a group, as "[" in name said
    ],
)
def test_metric_value_group_derived_from_the_stored_name(name: str, base: str, group: str | None) -> None:
    assert types.split_metric(name) == (base, group)
    m = types.MetricValue(metric=name, value=0.5, direction="higher", n=3)
    assert (m.base_metric, m.group) == (base, group)
    # the four sites that split on "[" before: same answers
    assert (m.group is None) == ("[" not in name)
    assert m.base_metric == name.split("[", 1)[0]


def test_metric_value_group_is_not_written() -> None:
    stored = {"metric": "accuracy[squad]", "value": 0.5, "direction": "higher", "ci": None, "n": 3,
              "n_invalid": 0, "reason": None}
    m = types.MetricValue.model_validate(stored)  # read from scores.json (schema 2)
    assert m.group == "squad" and m.base_metric == "accuracy"
    assert m.model_dump() == stored
    assert "group" not in m.model_dump_json()
