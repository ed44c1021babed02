"""The taxonomy as data (issue 15 item 1): the four frameworks shipped in the package, every
task's tags, the coverage functions on a hand-built registry, ``--tasks`` by category or
sub-category, and ``trustgauge taxonomy`` for each framework. Expected values are counted by
hand from spec/beyond-trustllm.md §1.1 and §2, OWASP's and NIST's published lists and the tags
in the task modules."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from trustgauge.cli import app
from trustgauge.errors import ConfigError
from trustgauge.tasks import registry
from trustgauge.tasks.base import Task
from trustgauge.tasks.registry import TASKS, register_task, resolve_tasks, tags_by_task
from trustgauge.taxonomy import (
    BASE,
    check_tag,
    coverage,
    framework,
    framework_ids,
    items_measured,
    select,
)
from trustgauge.types import DataRef, Sample, SampleScore

ENV = {"COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"}

#: spec/beyond-trustllm.md §1.1, in the table's order
LIU = {
    "Reliability": ["Misinformation", "Hallucination", "Inconsistency", "Miscalibration", "Sycophancy"],
    "Safety": ["Violence", "Unlawful conduct", "Harms to minor", "Adult content", "Mental health issues",
               "Privacy violation"],
    "Fairness": ["Injustice", "Stereotype bias", "Preference bias", "Disparate performance"],
    "Resistance to misuse": ["Propagandistic misuse", "Cyberattack misuse", "Social-engineering misuse",
                             "Leaking copyrighted content"],
    "Explainability & reasoning": ["Lack of interpretability", "Limited logical reasoning",
                                   "Limited causal reasoning"],
    "Social norms": ["Toxicity", "Unawareness of emotions", "Cultural insensitivity"],
    "Robustness": ["Prompt attacks", "Paradigm & distribution shifts", "Interventional effect",
                   "Poisoning attacks"],
}


def test_liu_has_7_categories_and_29_subcategories_as_the_spec() -> None:
    liu = framework("liu2023")
    assert [len(c.items) for c in liu.categories] == [5, 6, 4, 4, 3, 3, 4]
    assert len(liu.items) == 29 and len({i.id for i in liu.items}) == 29
    assert {c.name: [i.name for i in c.items] for c in liu.categories} == LIU
    assert [c.id for c in liu.categories] == [
        "reliability", "safety", "fairness", "resistance-to-misuse", "explainability-and-reasoning",
        "social-norms", "robustness",
    ]
    for category in liu.categories:
        for item in category.items:
            assert item.id.startswith(f"{category.id}/") and item.meaning.endswith(".")
    assert liu.item("reliability/misinformation") is not None
    assert liu.item("safety/privacy-violation").meaning == (  # type: ignore[union-attr]
        "Reveals or infers personal data, or helps surveillance or doxxing."
    )
    assert liu.item("robustness/paradigm-and-distribution-shifts").name == "Paradigm & distribution shifts"  # type: ignore[union-attr]
    assert liu.provenance and "2308.05374" in liu.reference


def test_the_other_frameworks() -> None:
    assert framework_ids() == ("liu2023", "fan2023", "owasp-llm-2025", "nist-ai-600-1")
    fan = framework("fan2023")
    assert [c.id for c in fan.categories] == ["privacy", "security", "fairness", "responsibility"]
    assert [len(c.items) for c in fan.categories] == [5, 6, 4, 5]
    assert fan.item("privacy/membership-inference") is not None
    owasp = framework("owasp-llm-2025")
    assert [i.id for i in owasp.items] == [f"llm{n:02d}" for n in range(1, 11)]
    assert [i.name for i in owasp.items] == [
        "LLM01 Prompt Injection", "LLM02 Sensitive Information Disclosure", "LLM03 Supply Chain",
        "LLM04 Data and Model Poisoning", "LLM05 Improper Output Handling", "LLM06 Excessive Agency",
        "LLM07 System Prompt Leakage", "LLM08 Vector and Embedding Weaknesses", "LLM09 Misinformation",
        "LLM10 Unbounded Consumption",
    ]
    nist = framework("nist-ai-600-1")
    assert [i.name for i in nist.items] == [
        "CBRN Information or Capabilities", "Confabulation", "Dangerous, Violent, or Hateful Content",
        "Data Privacy", "Environmental Impacts", "Harmful Bias and Homogenization", "Human-AI Configuration",
        "Information Integrity", "Information Security", "Intellectual Property",
        "Obscene, Degrading, and/or Abusive Content", "Value Chain and Component Integration",
    ]
    liu = {i.id for i in framework(BASE).items}
    for fw_id in framework_ids()[1:]:
        fw = framework(fw_id)
        assert fw.provenance and fw.reference
        for item in fw.items:
            assert set(item.from_base) <= liu, item.id
    # a few mappings, read off the data by hand
    assert owasp.item("llm09").from_base == ("reliability/misinformation", "reliability/hallucination")  # type: ignore[union-attr]
    assert nist.item("data-privacy").from_base == ("safety/privacy-violation",)  # type: ignore[union-attr]
    with pytest.raises(KeyError, match="unknown framework 'owasp'"):
        framework("owasp")


def test_a_malformed_data_file_is_refused() -> None:
    from trustgauge.taxonomy.frameworks import _parse

    base = frozenset({"reliability/misinformation"})
    item = {"id": "x/a", "name": "A", "meaning": "a.", "from_liu2023": ["reliability/misinformation"]}
    good = {"id": "toy", "title": "t", "reference": "r", "provenance": ["p"],
            "categories": [{"id": "x", "name": "X", "items": [item]}]}
    assert _parse(good, "toy", base).item("x/a").from_base == ("reliability/misinformation",)  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="declares id 'toy'"):
        _parse(good, "other", base)
    with pytest.raises(ValueError, match="missing or wrong field 'meaning'"):
        _parse(good | {"categories": [{"id": "x", "name": "X", "items": [{"id": "x/a", "name": "A"}]}]}, "toy", base)
    with pytest.raises(ValueError, match=r"repeats ids \['x/a'\]"):
        _parse(good | {"categories": [{"id": "x", "name": "X", "items": [item, item]}]}, "toy", base)
    with pytest.raises(ValueError, match=r"item 'x/a' maps from unknown liu2023 sub-categories \['reliability/misinformation'\]"):
        _parse(good, "toy", frozenset())


#: the built-in tasks without a Liu tag: no Liu sub-category is what they measure
NO_LIU_TAG = {"safety.exaggerated", "ethics.explicit.low_ambiguity", "ethics.explicit.high_ambiguity",
              "ethics.awareness.mission", "fan2023.membership_inference", "fan2023.contamination",
              "fan2023.system_prompt_leakage", "fan2023.generated_text_detection",
              "fan2023.watermark", "fan2023.watermark_utility"}


def test_every_task_is_tagged_with_tags_that_resolve() -> None:
    tags = tags_by_task()
    assert list(tags) == list(TASKS)
    assert len([t for t in tags if TASKS[t].benchmark == "trustllm"]) == 30
    for task_id, task_tags in tags.items():
        for tag in task_tags:
            check_tag(tag)
        assert len(set(task_tags)) == len(task_tags), task_id
    assert {t for t, tt in tags.items() if not any(":" not in tag for tag in tt)} == NO_LIU_TAG
    assert {t for t, tt in tags.items() if not tt} == {"safety.exaggerated"}
    # the old free strings are fixed (toxicity is a social norm in Liu, privacy a safety item)
    assert tags["safety.toxicity"] == ("social-norms/toxicity",)
    assert tags["privacy.awareness.query"] == ("safety/privacy-violation",)
    assert tags["fairness.disparagement"] == ("fairness/injustice", "fan2023:fairness/disparate-performance")


def test_check_tag_says_what_is_wrong() -> None:
    check_tag("reliability/misinformation")
    check_tag("fan2023:security/jailbreak")
    check_tag("owasp-llm-2025:llm07")
    check_tag("liu2023:safety/violence")
    with pytest.raises(ValueError, match=r"unknown taxonomy tag 'Safety/Toxicity'"):
        check_tag("Safety/Toxicity")
    with pytest.raises(ValueError, match=r"'safety' is a liu2023 category: tag the sub-categories"):
        check_tag("safety")
    with pytest.raises(ValueError, match=r"unknown framework 'owasp'"):
        check_tag("owasp:llm01")
    with pytest.raises(ValueError, match=r"not an item of fan2023"):
        check_tag("fan2023:security/teleportation")


#: a small registry, by hand: a misinformation task, a hallucination task that is also a
#: jailbreak (an extra Fan tag), and an untagged one
SMALL = {
    "a.mis": ("reliability/misinformation",),
    "b.hal": ("reliability/hallucination", "fan2023:security/jailbreak"),
    "c.none": (),
}


def test_coverage_on_a_small_registry() -> None:
    liu = coverage(framework("liu2023"), SMALL)
    assert liu.counts() == (2, 29)
    assert liu.counts("reliability") == (2, 5)
    assert liu.counts("safety") == (0, 6)
    by_id = {row.item.id: row.tasks for row in liu.items}
    assert by_id["reliability/misinformation"] == ("a.mis",)
    assert by_id["reliability/hallucination"] == ("b.hal",)
    assert by_id["reliability/sycophancy"] == ()
    assert len(liu.unmeasured) == 27 and liu.unmeasured[0].id == "reliability/inconsistency"
    # fan: responsibility/hallucination maps from both Liu items; jailbreak only from the extra tag
    fan = coverage(framework("fan2023"), SMALL)
    fan_by_id = {row.item.id: row.tasks for row in fan.items}
    assert fan_by_id["responsibility/hallucination"] == ("a.mis", "b.hal")
    assert fan_by_id["security/jailbreak"] == ("b.hal",)
    assert fan.counts() == (2, 20) and fan.counts("security") == (1, 6) and fan.counts("privacy") == (0, 5)
    owasp = coverage(framework("owasp-llm-2025"), SMALL)
    assert owasp.counts() == (1, 10) and owasp.items[8].tasks == ("a.mis", "b.hal")
    nist = coverage(framework("nist-ai-600-1"), SMALL)
    assert nist.counts() == (1, 12) and nist.items[1].item.id == "confabulation" and nist.items[1].tasks == ("a.mis", "b.hal")
    # an extra tag of one framework is nothing to the others
    assert items_measured(framework("owasp-llm-2025"), ("fan2023:security/jailbreak",)) == []
    assert items_measured(framework("liu2023"), ("fan2023:security/jailbreak",)) == []


def test_select_on_a_small_registry() -> None:
    assert select("reliability", SMALL) == ["a.mis", "b.hal"]
    assert select("liu2023:reliability/hallucination", SMALL) == ["b.hal"]
    assert select("fan2023:security", SMALL) == ["b.hal"]
    assert select("owasp-llm-2025:llm09", SMALL) == ["a.mis", "b.hal"]
    assert select("explainability-and-reasoning", SMALL) == []  # known, measured by nobody
    assert select("nosuch", SMALL) is None
    assert select("nosuch:reliability", SMALL) is None
    assert select("reliability/nosuch", SMALL) is None


def test_tasks_selects_by_category_and_subcategory() -> None:
    assert [t.id for t in resolve_tasks(["reliability"])] == [
        "truthfulness.misinformation.internal", "truthfulness.misinformation.external",
        "truthfulness.hallucination", "truthfulness.sycophancy.persona",
        "truthfulness.sycophancy.preference", "truthfulness.adversarial_factuality",
        "robustness.ood_detection", "ethics.awareness.capability",  # the last one an extra task
        "liu2023.hallucination", "liu2023.miscalibration", "liu2023.typo",  # Liu et al.'s studies come last
    ]
    assert [t.id for t in resolve_tasks(["safety/privacy-violation"])] == [
        "privacy.awareness.confaide", "privacy.awareness.query", "privacy.leakage",
        "fan2023.pii_association", "fan2023.pii_leakage",  # Fan et al.'s PII probes after TrustLLM's
    ]
    # a TrustLLM dimension wins over the Liu category of the same name; liu2023: names the category
    assert [t.id for t in resolve_tasks(["safety"])] == [
        "safety.jailbreak", "safety.toxicity", "safety.misuse", "safety.exaggerated",
    ]
    assert [t.id for t in resolve_tasks(["liu2023:safety"])] == [
        "safety.misuse", "privacy.awareness.confaide", "privacy.awareness.query", "privacy.leakage",
        "liu2023.safety", "fan2023.pii_association", "fan2023.pii_leakage",  # benchmarks in the order they came
    ]
    assert [t.id for t in resolve_tasks(["social-norms/toxicity,safety.jailbreak"])] == [
        "safety.jailbreak", "safety.toxicity",
    ]
    assert [t.id for t in resolve_tasks(["fan2023:security/jailbreak"])] == [
        "safety.jailbreak", "fan2023.jailbreak", "fan2023.jailbreak_crescendo", "fan2023.jailbreak_pair",
        "fan2023.jailbreak_tap",  # Fan et al.'s attack tasks after TrustLLM's
    ]
    with pytest.raises(ConfigError, match=r"unknown task 'safety/privacy'; did you mean safety/privacy-violation") as exc:
        resolve_tasks(["safety/privacy"])
    assert "\n" not in str(exc.value)
    with pytest.raises(ConfigError, match=r"no task measures 'robustness/poisoning-attacks' yet"):
        resolve_tasks(["robustness/poisoning-attacks"])


class _Tagged(Task):
    id = "toy.tagged"
    dimension = "toy"
    size = 1
    title = "toy"
    data = DataRef(dataset="trustllm", path="safety/misuse.json")
    metrics = (("x", "higher"),)
    aggregator = "mean@1"
    taxonomy = ("reliability/hallucination", "owasp-llm-2025:llm07")

    def samples(self, records):  # type: ignore[no-untyped-def]
        return [Sample(id="0", prompt="p")]

    def score(self, sample, response, judgements):  # type: ignore[no-untyped-def]
        return SampleScore()


@pytest.fixture
def restore_registry() -> Iterator[None]:
    state = registry._state()
    yield
    registry._restore(state)


def test_register_task_refuses_an_unknown_tag(restore_registry: None) -> None:
    for bad, message in (
        (("Safety/Toxicity",), r"'toy\.bad'.*unknown taxonomy tag 'Safety/Toxicity'"),
        (("reliability",), r"'toy\.bad'.*'reliability' is a liu2023 category"),
        (("nist:confabulation",), r"'toy\.bad'.*unknown framework 'nist'"),
        ("reliability/hallucination", r"'toy\.bad': taxonomy must be a tuple of tag strings"),
    ):
        with pytest.raises(ValueError, match=message):
            register_task(type("Bad", (_Tagged,), {"id": "toy.bad", "taxonomy": bad}))
        assert "toy.bad" not in TASKS
    # a known tag registers, and the task is then selected and counted by it
    register_task(_Tagged)
    assert [t.id for t in resolve_tasks(["owasp-llm-2025:llm07"])] == ["fan2023.system_prompt_leakage", "toy.tagged"]
    assert "toy.tagged" in [t.id for t in resolve_tasks(["reliability/hallucination"])]


def _invoke(*args: str) -> str:
    res = CliRunner().invoke(app, ["taxonomy", *args], env=ENV)
    assert res.exit_code == 0, res.output
    return res.output


#: (framework, measured, total, measured per category) with today's tags, counted by hand
EXPECTED = [
    ("liu2023", 23, 29, [5, 6, 3, 3, 1, 3, 2]),
    ("fan2023", 15, 20, [4, 3, 3, 5]),  # responsibility/content-detection: detection and watermark tasks
    ("owasp-llm-2025", 4, 10, [4]),
    ("nist-ai-600-1", 8, 12, [8]),
]


@pytest.mark.parametrize(("fw_id", "measured", "total", "per_category"), EXPECTED)
def test_cli_json_for_each_framework(fw_id: str, measured: int, total: int, per_category: list[int]) -> None:
    out = json.loads(_invoke("--framework", fw_id, "--json"))
    assert (out["framework"], out["measured"], out["total"]) == (fw_id, measured, total)
    assert [c["measured"] for c in out["categories"]] == per_category
    assert len(out["unmeasured"]) == total - measured
    assert out["provenance"] and out["reference"]


def test_cli_tree_text() -> None:
    out = _invoke()
    assert out.startswith("Liu et al. (2023), Trustworthy LLMs: 7 categories, 29 sub-categories (liu2023): 23/29 measured")
    assert "Reliability (reliability): 5/5 measured" in out
    assert "Resistance to misuse (resistance-to-misuse): 3/4 measured" in out
    assert "Privacy violation (safety/privacy-violation): " in out
    assert "privacy.awareness.confaide, privacy.awareness.query, privacy.leakage" in out
    assert out.count("not measured") == 6 + 1  # 6 leaves, and the summary line
    assert " ".join(out.split()).endswith(
        "23 of 29 liu2023 items measured; not measured: fairness/disparate-performance, "
        "resistance-to-misuse/social-engineering-misuse, "
        "explainability-and-reasoning/lack-of-interpretability, explainability-and-reasoning/limited-logical-reasoning, "
        "robustness/interventional-effect, "
        "robustness/poisoning-attacks"
    )
    owasp = _invoke("--framework", "owasp")  # a unique prefix
    assert "Top 10 for LLM Applications 2025 (llm-top-10): 4/10 measured" in owasp
    assert "LLM09 Misinformation (llm09): " in owasp
    assert " ".join(owasp.split()).endswith("4 of 10 owasp-llm-2025 items measured; not measured: llm03, llm04, llm05, llm06, llm08, llm10")
    fan = _invoke("-f", "fan2023")
    assert "Security (security): 3/6 measured" in fan and "safety.jailbreak" in fan
    assert "fan2023.injection_direct, fan2023.injection_indirect" in fan
    nist = _invoke("-f", "nist-ai-600-1")
    assert "Generative AI risks (gai-risks): 8/12 measured" in nist


def test_tasks_json_lists_the_tags() -> None:
    res = CliRunner().invoke(app, ["tasks", "--json"], env=ENV)
    assert res.exit_code == 0, res.output
    rows = {r["id"]: r["taxonomy"] for r in json.loads(res.output)}
    assert rows["safety.jailbreak"] == ["robustness/prompt-attacks", "fan2023:security/jailbreak"]
    assert rows["safety.exaggerated"] == []


def test_cli_unknown_framework_is_one_line() -> None:
    res = CliRunner().invoke(app, ["taxonomy", "--framework", "iso42001"], env=ENV)
    assert res.exit_code == 2
    assert res.output.strip() == (
        "error: unknown framework 'iso42001'; known: liu2023, fan2023, owasp-llm-2025, nist-ai-600-1"
    )
