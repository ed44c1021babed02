"""The one judge catalogue (judges/catalogue.py): the old tables are views with the same
contents, every rubric is reachable from a kind, judges self-register with @register_judge,
and outside packages add judges through the ``trustgauge.judges`` entry point (a broken plugin
is skipped with one error line naming it)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _plugins import install_dist
from conftest import cli_env
from fake_server import FakeServer
from trustgauge.cli import app
from trustgauge.errors import ConfigError
from trustgauge.judges import catalogue
from trustgauge.judges.base import Judge
from trustgauge.judges.catalogue import KindEntry, register_judge
from trustgauge.judges.llm_judge import LLMJudge
from trustgauge.judges.registry import (
    DEFAULT_JUDGES,
    GPT4_KINDS,
    JUDGES,
    create_judge,
    describe_judges,
    needs_judge_model,
    resolve_judge_name,
)
from trustgauge.judges.rubrics import DEFAULT_RUBRICS, RUBRICS
from trustgauge.types import JudgeItem, Judgement

pytestmark = pytest.mark.timeout(180)

#: a judge model spec that is never called (an llm judge connects on its first request only)
UNUSED_MODEL = "openai-compatible:judge@http://127.0.0.1:9/v1"

_RL, _RR, _LF = "refusal_learned:LearnedRefusalJudge", "refusal_rules:RuleRefusalJudge", "refusal_longformer:LongformerRefusalJudge"
_LLM, _MINILM = "llm_judge:LLMJudge", "MiniLM-L6 weights (fetched once)"
_FALLBACK = "(TrustLLM's GPT-4 fallback prompt); optional"
_NO_OFFLINE = "--judge-model (no offline judge)"

#: `trustgauge judges --json` rows (+ import path) of the kinds that existed before the catalogue,
#: copied from the three tables of commit e086328: the views must list exactly these, in order (the
#: minilm refusal summary since: minilm@5 is a cascade, issue 14)
BEFORE: list[tuple[str, str, bool, bool, str, str, bool, str]] = [
    ("refusal", "minilm", True, True, _MINILM,
     "rules + a gate on rule features; MiniLM embeddings + a small MLP for the uncertain rest", False, _RL),
    ("refusal", "rules", False, True, "",
     "phrase and structure rules on the response's opening; instant, no files", False, _RR),
    ("refusal", "longformer", False, True, "extra 'local'; weights (fetched once, or model=DIR)",
     "TrustLLM's own RtA classifier, LibrAI/longformer-harmful-ro", False, _LF),
    ("refusal", "llm", False, False, "--judge-model",
     "an LLM asked with a refusal rubric (full or partial refusal -> refusal)", False, _LLM),
    ("toxicity", "minilm", True, True, _MINILM,
     "predicts Perspective's TOXICITY score (0..1) from MiniLM embeddings + a profanity lexicon", False,
     "toxicity_learned:LearnedToxicityJudge"),
    ("toxicity", "perspective", False, False, "PERSPECTIVE_API_KEY",
     "Google Perspective API TOXICITY, as TrustLLM (default 1 request/s: option qps)", False,
     "toxicity_perspective:PerspectiveToxicityJudge"),
    ("toxicity", "llm", False, False, "--judge-model",
     "an LLM asked to score toxicity in 0..1 (toxic at >= 0.5)", False, _LLM),
    ("similarity", "minilm", True, True, _MINILM,
     "cosine similarity of MiniLM embeddings of response and reference", True,
     "similarity:MiniLMSimilarityJudge"),
    ("similarity", "openai", False, False, "OPENAI_API_KEY",
     "cosine similarity of OpenAI embeddings (TrustLLM used text-embedding-ada-002)", True,
     "similarity:OpenAISimilarityJudge"),
    ("correctness", "squad", True, True, "",
     "SQuAD exact match, token F1 and containment against the gold answer(s)", True,
     "correctness:SquadCorrectnessJudge"),
    ("correctness", "llm", False, False, "--judge-model",
     "an LLM asked whether the answer matches the gold answer(s)", True, _LLM),
    ("misinformation_correction", "llm", False, False, _NO_OFFLINE,
     "an LLM asked whether the response corrects the false premise (TrustLLM advfact prompt)", True, _LLM),
    ("same_preference", "llm", False, False, _NO_OFFLINE,
     "an LLM asked whether two answers state the same preference (TrustLLM sycophancy prompt)", True, _LLM),
    ("stereotype_recognition", "llm", False, False, _NO_OFFLINE,
     f"an LLM asked which of stereotype / anti-stereotype / unrelated an answer chose {_FALLBACK}", False, _LLM),
    ("agreement", "llm", False, False, _NO_OFFLINE,
     f"an LLM asked whether an answer agrees with a statement {_FALLBACK}", False, _LLM),
    ("ethics_judgement", "llm", False, False, _NO_OFFLINE,
     f"an LLM asked whether an answer calls an action wrong, not wrong, or is unsure {_FALLBACK}", False, _LLM),
    ("diagnosis", "llm", False, False, _NO_OFFLINE,
     f"an LLM asked whether a diagnosis names exactly the gold pathology {_FALLBACK}", True, _LLM),
]
BEFORE_DEFAULT_RUBRICS = {
    "refusal": "refusal", "toxicity": "toxicity", "correctness": "correctness",
    "misinformation_correction": "trustllm.advfact", "same_preference": "trustllm.sycophancy_preference",
    "stereotype_recognition": "trustllm.stereotype_recognition", "agreement": "trustllm.stereotype_agreement",
    "ethics_judgement": "trustllm.ethics", "diagnosis": "trustllm.ood_generalization",
}
BEFORE_GPT4_KINDS = {"correctness", "misinformation_correction", "same_preference", "stereotype_recognition",
                     "agreement", "ethics_judgement", "diagnosis"}
NEW_KINDS = ("human_interest", "harmfulness", "attack_success", "injection_followed")
_HL = "harmfulness_learned:LearnedHarmfulnessJudge"
_AS = "attack_success_offline:OfflineAttackSuccessJudge"
#: the rows of the kinds added since, in listing order: human_interest (llm only), then harmfulness
#: (the offline default first, issue 15; its llm judge asks with Liu et al.'s safety prompt), then
#: attack_success (issue 17, the jailbreak tasks: the offline rule cascade first, its llm judge asks
#: with StrongREJECT's rubric), then injection_followed (llm only, issue 17: BIPIA's judge question)
NEW_ROWS: list[tuple[str, str, bool, bool, str, str, bool, str]] = [
    ("human_interest", "llm", False, False, _NO_OFFLINE,
     "an LLM asked whether an answer considers human interests (TrustLLM awareness_mission_hard prompt); "
     "for 'trustgauge judge'", False, _LLM),
    ("harmfulness", "minilm", True, True, _MINILM,
     "MiniLM embedding of question+answer, refusal and toxicity judges' scores + a small MLP ensemble", False, _HL),
    ("harmfulness", "llm", False, False, "--judge-model",
     "an LLM asked whether an answer contains harmful content (Liu et al. 2023 safety prompt; "
     "rubric=strongreject or rubric=harmbench for attack success)", False, _LLM),
    ("attack_success", "minilm", True, True, _MINILM,
     "rule cascade: empty / garbled / refused / off-topic (MiniLM goal-answer cosine) / too short -> not a success",
     False, _AS),
    ("attack_success", "llm", False, False, "--judge-model",
     "an LLM asked whether an answer gave what the attack asked for (StrongREJECT's rubric; "
     "rubric=harmbench: HarmBench's classifier prompt)", False, _LLM),
    ("injection_followed", "llm", False, False, _NO_OFFLINE,
     "an LLM asked BIPIA's question whether an answer did what an injected instruction asked", True, _LLM),
]


def rows_now() -> list[tuple[str, str, bool, bool, str, str, bool, str]]:
    return [
        (r.kind, r.name, r.default, r.offline, r.needs, r.summary, r.needs_reference,
         JUDGES[r.kind][r.name].path.removeprefix("trustgauge.judges."))
        for r in describe_judges()
    ]


@pytest.fixture
def restore_catalogue() -> Iterator[None]:
    """Judges a test registers (or plugins it loads) are gone after it."""
    catalogue.catalogue()  # the built-ins in place first, so restoring never drops one
    state = catalogue._state()
    try:
        yield
    finally:
        catalogue._restore(state)


# ---------------------------------------------------------------------------------------------
# The old tables are views with the old contents
# ---------------------------------------------------------------------------------------------


def test_views_keep_the_old_contents_and_order() -> None:
    rows = rows_now()
    assert rows[: len(BEFORE)] == BEFORE
    assert rows[len(BEFORE):] == NEW_ROWS
    assert {k: v for k, v in DEFAULT_RUBRICS.items() if k not in NEW_KINDS} == BEFORE_DEFAULT_RUBRICS
    assert set(GPT4_KINDS) - {"human_interest"} == BEFORE_GPT4_KINDS
    assert dict(DEFAULT_JUDGES) == {"refusal": "minilm", "toxicity": "minilm", "similarity": "minilm",
                                    "correctness": "squad", "harmfulness": "minilm",
                                    "attack_success": "minilm"}
    assert list(JUDGES) == [*dict.fromkeys(r[0] for r in BEFORE), *NEW_KINDS]
    entry = catalogue.catalogue()["refusal"]
    assert entry == KindEntry("refusal", "minilm", dict(JUDGES["refusal"]), "refusal", False)
    assert "correctness" in GPT4_KINDS and "refusal" not in GPT4_KINDS and 3 not in GPT4_KINDS


def test_listing_order_does_not_depend_on_import_order() -> None:
    # a process that imports the llm judge (which registers first) before reading the catalogue
    code = (
        "import json, trustgauge.judges.llm_judge, trustgauge.judges.correctness\n"
        "from trustgauge.judges.registry import describe_judges\n"
        "print(json.dumps([[r.kind, r.name] for r in describe_judges()]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert [tuple(x) for x in json.loads(out.stdout)] == [r[:2] for r in rows_now()]


# ---------------------------------------------------------------------------------------------
# Every rubric is reachable
# ---------------------------------------------------------------------------------------------


def test_every_rubric_is_reachable_from_some_kind() -> None:
    for rubric_id, rubric in RUBRICS.items():
        assert "llm" in JUDGES.get(rubric.kind, {}), f"rubric {rubric_id} judges {rubric.kind!r}: no llm judge"
        judge = create_judge(rubric.kind, "llm", judge_model=UNUSED_MODEL, rubric=rubric_id)
        assert isinstance(judge, LLMJudge) and judge.rubric is rubric and judge.version == f"{rubric_id}.v{rubric.version}"
        for kind in rubric.also_kinds:  # the attack-success rubrics serve a second kind
            assert create_judge(kind, "llm", judge_model=UNUSED_MODEL, rubric=rubric_id).rubric is rubric
    # every rubric is at v1 but Liu et al.'s safety prompt (v2: "no" is ``safe``, the offline judge's label)
    assert {r.id: r.version for r in RUBRICS.values() if r.version != "1"} == {"liu2023.safety": "2"}
    assert set(DEFAULT_RUBRICS.values()) <= set(RUBRICS)


def test_every_kind_is_consistent() -> None:
    for kind, entry in catalogue.catalogue().items():
        assert entry.kind == kind and entry.alternatives, kind
        assert entry.default is None or entry.alternatives[entry.default].offline, kind
        # a kind has a rubric exactly when it has an llm judge, and that rubric judges the kind
        assert ("llm" in entry.alternatives) == (entry.rubric is not None), kind
        if entry.rubric is not None:
            assert RUBRICS[entry.rubric].judges(kind)
            judge = create_judge(kind, judge_model=UNUSED_MODEL)  # --judge-model alone picks llm
            assert isinstance(judge, LLMJudge) and judge.rubric.id == entry.rubric


@pytest.mark.parametrize(("kind", "rubric"), [("human_interest", "trustllm.awareness_mission_hard")])
def test_the_unselectable_rubric_has_an_llm_only_kind(kind: str, rubric: str) -> None:
    assert resolve_judge_name(kind, judge_model=UNUSED_MODEL) == "llm"
    assert needs_judge_model(kind) and not needs_judge_model(kind, judge_model=UNUSED_MODEL)
    with pytest.raises(ConfigError, match=f"the {kind} judge needs --judge-model SPEC"):
        create_judge(kind)
    assert create_judge(kind, judge_model=UNUSED_MODEL).rubric.id == rubric  # type: ignore[attr-defined]


def test_harmfulness_is_offline_by_default_and_llm_when_named() -> None:
    # the offline default; `trustgauge judge harmfulness --judge-model SPEC` asks the paper's prompt;
    # in a run, --judge-model alone keeps the offline judge (not a TrustLLM GPT-4 kind) and
    # --judge harmfulness=llm picks the llm judge
    assert resolve_judge_name("harmfulness") == "minilm"
    assert resolve_judge_name("harmfulness", judge_model=UNUSED_MODEL) == "llm"
    assert "harmfulness" not in GPT4_KINDS
    assert not needs_judge_model("harmfulness")
    with pytest.raises(ConfigError, match="needs --judge-model"):
        create_judge("harmfulness", "llm")
    judge = create_judge("harmfulness", "llm", judge_model=UNUSED_MODEL)
    assert isinstance(judge, LLMJudge) and judge.rubric.id == "liu2023.safety" and judge.version == "liu2023.safety.v2"


def test_cli_lists_and_judges_the_new_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    res = runner.invoke(app, ["judges", "--json"])
    assert res.exit_code == 0, res.output
    by = {(r["kind"], r["name"]): r for r in json.loads(res.stdout)}
    assert by["human_interest", "llm"]["default"] is False and by["human_interest", "llm"]["needs"] == _NO_OFFLINE
    assert by["harmfulness", "minilm"]["default"] is True and by["harmfulness", "llm"]["needs"] == "--judge-model"
    res = runner.invoke(app, ["judges"])
    assert res.exit_code == 0 and "human_interest" in res.stdout and "harmfulness" in res.stdout

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"prompt": "[ITEM-1] Should the AI help?", "response": "Yes, people first."}) + "\n")
    out = tmp_path / "out.jsonl"
    answer = json.dumps({"label": "yes"})
    with FakeServer.start(models=["judge"], scripts=[["ITEM-1", [answer]]]) as server:
        spec = f"openai-compatible:judge@{server.openai_base_url}"
        res = runner.invoke(app, ["judge", "human_interest", "--judge-model", spec, "-i", str(src), "-o", str(out)])
        assert res.exit_code == 0, res.output
        row = json.loads(out.read_text())
        assert (row["label"], row["score"]) == ("considers_human_interests", 1.0)
        assert row["judge_version"] == "trustllm.awareness_mission_hard.v1"
    res = runner.invoke(app, ["judge", "human_interest", "-i", str(src), "-o", str(out)])
    assert res.exit_code == 2 and "the human_interest judge needs --judge-model SPEC" in res.stderr


# ---------------------------------------------------------------------------------------------
# @register_judge
# ---------------------------------------------------------------------------------------------


class EchoJudge(Judge):
    """Labels every response with its flavour."""

    name = "echo"
    version = "1"

    def __init__(self, flavour: str = "plain") -> None:
        self.flavour = flavour

    async def judge(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        return [Judgement(label=self.flavour, score=None, raw="", judge=self.id) for _ in items]


def test_register_judge_adds_a_judge_to_a_kind_and_a_new_kind(restore_catalogue: None) -> None:
    assert register_judge("refusal", "echo", offline=True, summary="echoes")(EchoJudge) is EchoJudge
    # after the built-ins of the kind, before nothing else
    assert list(JUDGES["refusal"]) == ["minilm", "rules", "longformer", "llm", "echo"]
    assert JUDGES["refusal"]["echo"] == catalogue.JudgeInfo(f"{__name__}:EchoJudge", True, "", "echoes")
    judge = create_judge("refusal", "echo", flavour="loud")
    assert isinstance(judge, EchoJudge) and judge.id == "echo@1[flavour=loud]"
    assert DEFAULT_JUDGES["refusal"] == "minilm"  # registering never changes a default
    register_judge("refusal", "echo", offline=True, summary="echoes")(EchoJudge)  # again: no-op

    class Other(EchoJudge):
        pass

    with pytest.raises(ValueError, match=r"judge refusal=echo is registered already \(by .*:EchoJudge\)"):
        register_judge("refusal", "echo", offline=True, summary="other")(Other)

    # a kind nobody declared: created with no default, so it needs an explicit name
    register_judge("sarcasm", "echo", offline=True, summary="echoes", needs_reference=True)(EchoJudge)
    assert list(JUDGES)[-1] == "sarcasm" and "sarcasm" not in DEFAULT_JUDGES
    assert catalogue.catalogue()["sarcasm"] == KindEntry("sarcasm", None, {"echo": JUDGES["sarcasm"]["echo"]})
    assert needs_judge_model("sarcasm") and not needs_judge_model("sarcasm", "echo")
    with pytest.raises(ConfigError, match="the sarcasm judge needs --judge-model"):
        resolve_judge_name("sarcasm")
    assert resolve_judge_name("sarcasm", "echo") == "echo"
    assert ("sarcasm", "echo", False, True, "", "echoes", True) in [
        (r.kind, r.name, r.default, r.offline, r.needs, r.summary, r.needs_reference) for r in describe_judges()
    ]
    with pytest.raises(ValueError, match="needs a kind and a name"):
        register_judge("", "x", offline=True, summary="")
    with pytest.raises(ValueError, match="judge kind 'refusal' is declared already"):
        catalogue.declare_kind("refusal", default="rules")


def test_restore_catalogue_removes_what_a_test_registered() -> None:
    assert "echo" not in JUDGES["refusal"] and "sarcasm" not in JUDGES


# ---------------------------------------------------------------------------------------------
# Plugins: the trustgauge.judges entry point
# ---------------------------------------------------------------------------------------------

GOOD_PLUGIN = '''
from trustgauge.judges.base import Judge
from trustgauge.types import Judgement
from trustgauge.judges.catalogue import register_judge


@register_judge("refusal", "always", offline=True, summary="calls everything a refusal (plugin)")
@register_judge("politeness", "always", offline=True, summary="calls everything polite (plugin)")
class AlwaysJudge(Judge):
    name = "always"
    version = "7"

    async def judge(self, items):
        return [Judgement(label="yes", score=1.0, raw="", judge=self.id) for _ in items]
'''

# registers one judge, then clashes with a built-in: the first must not stay behind
CLASHING_PLUGIN = '''
from trustgauge.judges.base import Judge
from trustgauge.judges.catalogue import register_judge


@register_judge("toxicity", "half", offline=True, summary="half registered")
class Half(Judge):
    name = "half"


@register_judge("refusal", "rules", offline=True, summary="steals a built-in name")
class Thief(Judge):
    name = "rules"
'''


def make_plugin_dist(root: Path, entries: dict[str, str], modules: dict[str, str]) -> Path:
    """A directory holding an installed distribution ``tgplugins`` (dist-info with
    entry_points.txt) and its modules, as pip would leave it in site-packages."""
    return install_dist(root, "tgplugins", "trustgauge.judges", entries, modules)


@pytest.fixture
def plugins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_catalogue: None
) -> Iterator[Path]:
    root = make_plugin_dist(
        tmp_path / "site",
        {"good": "tg_plugin_good", "broken": "tg_plugin_missing_dep", "clash": "tg_plugin_clash",
         "empty": "tg_plugin_empty:nothing"},
        {"tg_plugin_good": GOOD_PLUGIN, "tg_plugin_missing_dep": "import tg_no_such_module\n",
         "tg_plugin_clash": CLASHING_PLUGIN, "tg_plugin_empty": "nothing = None\n"},
    )
    monkeypatch.syspath_prepend(str(root))
    catalogue._restore((*catalogue._state()[:3], False))  # read the catalogue afresh: load plugins
    yield root
    for name in ("tg_plugin_good", "tg_plugin_missing_dep", "tg_plugin_clash", "tg_plugin_empty"):
        sys.modules.pop(name, None)


def test_plugins_register_by_entry_point_and_broken_ones_are_skipped(
    plugins: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="trustgauge.judges.catalogue"):
        entries = catalogue.catalogue()
    # the good plugin: a judge for a built-in kind (listed last) and a new kind
    assert list(entries["refusal"].alternatives) == ["minilm", "rules", "longformer", "llm", "always"]
    assert entries["refusal"].alternatives["always"].path == "tg_plugin_good:AlwaysJudge"
    assert entries["politeness"] == KindEntry(
        "politeness", None, {"always": catalogue.JudgeInfo("tg_plugin_good:AlwaysJudge", True, "",
                                                          "calls everything polite (plugin)")})
    assert create_judge("politeness", "always").id == "always@7"
    # the clashing plugin is rolled back whole: no half judge, the built-in rules judge kept
    assert "half" not in entries["toxicity"].alternatives
    assert entries["refusal"].alternatives["rules"].path == "trustgauge.judges.refusal_rules:RuleRefusalJudge"
    # one line per broken plugin, naming it, its target and its distribution; no traceback
    errors = catalogue.plugin_errors()
    assert errors == [
        "judge plugin 'broken' (tg_plugin_missing_dep from tgplugins) was skipped: "
        "ModuleNotFoundError: No module named 'tg_no_such_module'",
        "judge plugin 'clash' (tg_plugin_clash from tgplugins) was skipped: ValueError: judge refusal=rules "
        "is registered already (by trustgauge.judges.refusal_rules:RuleRefusalJudge)",
        "judge plugin 'empty' (tg_plugin_empty:nothing from tgplugins) was skipped: it registered no judge "
        "(decorate judge classes with @register_judge)",
    ]
    assert [r.getMessage() for r in caplog.records] == [f"error: {e}" for e in errors]
    assert all(r.exc_info is None for r in caplog.records)
    # asking for something that does not exist repeats why a plugin may be missing
    with pytest.raises(ConfigError, match=r"unknown judge kind 'sarcasm'; known: .*politeness; judge plugin 'broken'"):
        create_judge("sarcasm")
    with pytest.raises(ConfigError, match=r"unknown refusal judge 'x'; known: minilm, rules, longformer, llm, always; "):
        create_judge("refusal", "x")
    # loaded once: reading again neither reloads nor repeats the errors
    caplog.clear()
    catalogue.catalogue()
    assert not caplog.records and len(catalogue.plugin_errors()) == 3


def test_a_plugin_imported_before_the_catalogue_is_read_is_not_an_error(plugins: Path) -> None:
    import tg_plugin_good  # noqa: F401 -- its decorators run now, before the entry point loads it

    assert "always" in catalogue.catalogue()["politeness"].alternatives
    assert [e.split("'")[1] for e in catalogue.plugin_errors()] == ["broken", "clash", "empty"]


def test_plugins_can_be_found_by_monkeypatched_entry_points(
    monkeypatch: pytest.MonkeyPatch, restore_catalogue: None
) -> None:
    import importlib.metadata as md

    eps = md.EntryPoints([md.EntryPoint("inline", f"{__name__}:EchoJudge", "trustgauge.judges")])
    seen: list[str | None] = []

    def entry_points(*, group: str | None = None) -> md.EntryPoints:
        seen.append(group)
        return eps

    monkeypatch.setattr(md, "entry_points", entry_points)
    catalogue._restore((*catalogue._state()[:3], False))
    # EchoJudge is not decorated, so loading it registers nothing: skipped, said once
    assert "echo" not in catalogue.catalogue()["refusal"].alternatives and seen == ["trustgauge.judges"]
    assert catalogue.plugin_errors()[-1].startswith(f"judge plugin 'inline' ({__name__}:EchoJudge) was skipped")


def test_cli_with_a_broken_plugin_prints_one_error_line_and_works(tmp_path: Path, tg_home: Path) -> None:
    root = make_plugin_dist(tmp_path / "site", {"broken": "tg_plugin_missing_dep", "good": "tg_plugin_good"},
                            {"tg_plugin_missing_dep": "import tg_no_such_module\n", "tg_plugin_good": GOOD_PLUGIN})
    env = cli_env(tg_home)
    env["PYTHONPATH"] = f"{root}{':' + env['PYTHONPATH'] if env.get('PYTHONPATH') else ''}"
    res = subprocess.run([sys.executable, "-m", "trustgauge.cli", "judges", "--json"], env=env,
                         capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    assert res.stderr.splitlines() == [
        "error: judge plugin 'broken' (tg_plugin_missing_dep from tgplugins) was skipped: "
        "ModuleNotFoundError: No module named 'tg_no_such_module'"
    ]
    rows = {(r["kind"], r["name"]) for r in json.loads(res.stdout)}
    assert {("refusal", "always"), ("politeness", "always"), ("refusal", "rules")} <= rows
