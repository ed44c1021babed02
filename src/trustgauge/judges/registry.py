"""Judge implementations by kind and name; the offline defaults are used unless the user
picks another with ``--judge KIND=NAME`` (or ``--judge-model SPEC``, which picks ``llm``).

:data:`JUDGES` is the catalogue (``trustgauge judges`` prints it): for each kind, each
implementation's import path, whether it runs offline, what it needs and a one-line summary.
:data:`DEFAULT_JUDGES` names the judge of each kind used when the user names none.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trustgauge.errors import ConfigError
from trustgauge.judges.base import Judge

#: the implementation name that ``--judge-model`` selects
LLM = "llm"


@dataclass(frozen=True)
class JudgeInfo:
    """One judge implementation in the catalogue."""

    #: ``"module:Class"``, imported only when the judge is created
    path: str
    #: runs on this machine with no network access (once its files are in place)
    offline: bool
    #: what it needs beyond the core install: an extra, an env var, ``--judge-model``; "" if nothing
    needs: str
    #: one line for ``trustgauge judges``
    summary: str
    #: the judge compares the response with ``JudgeItem.reference`` (a gold answer)
    needs_reference: bool = False


_MINILM_NEEDS = "MiniLM-L6 weights (fetched once)"
_LLM_NEEDS = "--judge-model"

#: kind -> name -> implementation
JUDGES: dict[str, dict[str, JudgeInfo]] = {
    "refusal": {
        "minilm": JudgeInfo(
            "trustgauge.judges.refusal_learned:LearnedRefusalJudge", True, _MINILM_NEEDS,
            "MiniLM embeddings + rule features + a small MLP trained on XSTest/PyRIT labels",
        ),
        "rules": JudgeInfo(
            "trustgauge.judges.refusal_rules:RuleRefusalJudge", True, "",
            "phrase and structure rules on the response's opening; instant, no files",
        ),
        "longformer": JudgeInfo(
            "trustgauge.judges.refusal_longformer:LongformerRefusalJudge", True,
            "extra 'local'; weights (fetched once, or model=DIR)",
            "TrustLLM's own RtA classifier, LibrAI/longformer-harmful-ro",
        ),
        LLM: JudgeInfo(
            "trustgauge.judges.llm_judge:LLMJudge", False, _LLM_NEEDS,
            "an LLM asked with a refusal rubric (full or partial refusal -> refusal)",
        ),
    },
    "toxicity": {
        "minilm": JudgeInfo(
            "trustgauge.judges.toxicity_learned:LearnedToxicityJudge", True, _MINILM_NEEDS,
            "predicts Perspective's TOXICITY score (0..1) from MiniLM embeddings + a profanity lexicon",
        ),
        "perspective": JudgeInfo(
            "trustgauge.judges.toxicity_perspective:PerspectiveToxicityJudge", False,
            "PERSPECTIVE_API_KEY",
            "Google Perspective API TOXICITY, as TrustLLM (default 1 request/s: option qps)",
        ),
        LLM: JudgeInfo(
            "trustgauge.judges.llm_judge:LLMJudge", False, _LLM_NEEDS,
            "an LLM asked to score toxicity in 0..1 (toxic at >= 0.5)",
        ),
    },
    "similarity": {
        "minilm": JudgeInfo(
            "trustgauge.judges.similarity:MiniLMSimilarityJudge", True, _MINILM_NEEDS,
            "cosine similarity of MiniLM embeddings of response and reference",
            needs_reference=True,
        ),
        "openai": JudgeInfo(
            "trustgauge.judges.similarity:OpenAISimilarityJudge", False, "OPENAI_API_KEY",
            "cosine similarity of OpenAI embeddings (TrustLLM used text-embedding-ada-002)",
            needs_reference=True,
        ),
    },
    "correctness": {
        "squad": JudgeInfo(
            "trustgauge.judges.correctness:SquadCorrectnessJudge", True, "",
            "SQuAD exact match, token F1 and containment against the gold answer(s)",
            needs_reference=True,
        ),
        LLM: JudgeInfo(
            "trustgauge.judges.llm_judge:LLMJudge", False, _LLM_NEEDS,
            "an LLM asked whether the answer matches the gold answer(s)",
            needs_reference=True,
        ),
    },
}

# TrustLLM asked GPT-4 for these and no offline judge is sound: they run only with a judge model
_NEEDS_MODEL = "--judge-model (no offline judge)"
JUDGES["misinformation_correction"] = {
    LLM: JudgeInfo(
        "trustgauge.judges.llm_judge:LLMJudge", False, _NEEDS_MODEL,
        "an LLM asked whether the response corrects the false premise (TrustLLM advfact prompt)",
        needs_reference=True,
    ),
}
JUDGES["same_preference"] = {
    LLM: JudgeInfo(
        "trustgauge.judges.llm_judge:LLMJudge", False, _NEEDS_MODEL,
        "an LLM asked whether two answers state the same preference (TrustLLM sycophancy prompt)",
        needs_reference=True,
    ),
}

# TrustLLM asked GPT-4 to read answers its own rules could not; our tasks read them offline and
# use these only as an optional fallback with --judge-model (the answers stay invalid without)
for _kind, _what in (
    ("stereotype_recognition", "which of stereotype / anti-stereotype / unrelated an answer chose"),
    ("agreement", "whether an answer agrees with a statement"),
    ("ethics_judgement", "whether an answer calls an action wrong, not wrong, or is unsure"),
    ("diagnosis", "whether a diagnosis names exactly the gold pathology"),
):
    JUDGES[_kind] = {
        LLM: JudgeInfo(
            "trustgauge.judges.llm_judge:LLMJudge", False, _NEEDS_MODEL,
            f"an LLM asked {_what} (TrustLLM's GPT-4 fallback prompt); optional",
            needs_reference=_kind == "diagnosis",
        ),
    }

#: the kinds TrustLLM judged with GPT-4: in a run, ``--judge-model`` makes them use the llm judge
#: (other kinds keep their offline default unless ``--judge KIND=llm``; TrustLLM used Longformer,
#: Perspective and ada-002 for those, and an LLM judge on every refusal would be costly)
GPT4_KINDS: frozenset[str] = frozenset(
    {"correctness", "misinformation_correction", "same_preference", "stereotype_recognition",
     "agreement", "ethics_judgement", "diagnosis"}
)

#: the judge used for each kind when the user names none (all offline); kinds missing here
#: have no sound offline judge and need ``--judge-model``
DEFAULT_JUDGES: dict[str, str] = {
    "refusal": "minilm",
    "toxicity": "minilm",
    "similarity": "minilm",
    "correctness": "squad",
}


@dataclass(frozen=True)
class JudgeRow:
    """One line of ``trustgauge judges``."""

    kind: str
    name: str
    default: bool
    offline: bool
    needs: str
    summary: str
    needs_reference: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "default": self.default, "offline": self.offline,
            "needs": self.needs, "summary": self.summary, "needs_reference": self.needs_reference,
        }


def describe_judges() -> list[JudgeRow]:
    """Every judge in the catalogue (no module is imported), kinds in catalogue order."""
    return [
        JudgeRow(kind, name, DEFAULT_JUDGES.get(kind) == name, info.offline, info.needs,
                 info.summary, info.needs_reference)
        for kind, impls in JUDGES.items()
        for name, info in impls.items()
    ]


def resolve_judge_name(kind: str, name: str | None = None, *, judge_model: str | None = None) -> str:
    """The implementation used for ``kind``: ``name`` if given, else ``llm`` when a judge model
    is given and the kind has an llm judge, else the kind's default.

    Raises:
        ConfigError: unknown kind or name (the message lists the known ones).
    """
    if kind not in JUDGES:
        raise ConfigError(f"unknown judge kind {kind!r}; known: {', '.join(JUDGES)}")
    if not name:
        if judge_model and LLM in JUDGES[kind]:
            name = LLM
        elif kind in DEFAULT_JUDGES:
            name = DEFAULT_JUDGES[kind]
        else:
            raise ConfigError(
                f"the {kind} judge needs --judge-model SPEC (no offline judge for {kind})"
            )
    if name not in JUDGES[kind]:
        raise ConfigError(f"unknown {kind} judge {name!r}; known: {', '.join(JUDGES[kind])}")
    return name


def check_judge_choice(
    kind: str, name: str | None = None, *, judge_model: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> str:
    """What :func:`create_judge` checks before importing anything: the kind and name are known
    and an ``llm`` judge has a model. Returns the implementation name.

    Raises:
        ConfigError: as :func:`create_judge`.
    """
    name = resolve_judge_name(kind, name, judge_model=judge_model)
    if name == LLM and not judge_model and not (options or {}).get("model"):
        raise ConfigError(
            f"the {kind}={LLM} judge needs --judge-model SPEC (e.g. --judge-model openai:gpt-4o)"
        )
    return name


def needs_judge_model(
    kind: str, name: str | None = None, *, judge_model: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> bool:
    """True when ``kind`` has no offline default and neither a judge name, a judge model nor a
    ``model`` option was given: its tasks cannot be scored in this run."""
    if kind not in JUDGES:
        raise ConfigError(f"unknown judge kind {kind!r}; known: {', '.join(JUDGES)}")
    return (
        kind not in DEFAULT_JUDGES and not name and not judge_model
        and not (options or {}).get("model")
    )


def judge_info(kind: str, name: str | None = None, *, judge_model: str | None = None) -> JudgeInfo:
    """The catalogue entry :func:`create_judge` would use."""
    return JUDGES[kind][resolve_judge_name(kind, name, judge_model=judge_model)]


def create_judge(
    kind: str, name: str | None = None, *, judge_model: str | None = None, **options: Any
) -> Judge:
    """Instantiate the judge ``name`` of ``kind`` with ``options``.

    ``name`` ``None`` means ``llm`` when ``judge_model`` is given and the kind has an llm judge,
    else the kind's offline default. ``judge_model`` (any model spec) is the ``model`` of an
    ``llm`` judge, unless ``options`` give one; other judges ignore it. Judges whose constructor
    takes ``kind`` (the kind-generic ``llm`` judge) get it.

    Raises:
        ConfigError: unknown kind, name or option; an ``llm`` judge without a model; an
            option value the judge rejects.
    """
    name = check_judge_choice(kind, name, judge_model=judge_model, options=options)
    info = JUDGES[kind][name]
    module_name, _, cls_name = info.path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f" (needs {info.needs})" if info.needs else ""
        raise ConfigError(f"the {kind}={name} judge cannot be loaded{hint}: {exc}") from None
    cls = getattr(module, cls_name)
    params = inspect.signature(cls).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    options = dict(options)
    if name == LLM and not options.get("model"):
        options["model"] = judge_model
    if "kind" in options:
        raise ConfigError(f"the {kind}={name} judge does not take a 'kind' option")
    known = [p for p in params if p != "kind" and params[p].kind is not inspect.Parameter.VAR_KEYWORD]
    if not takes_any:
        unknown = sorted(set(options) - set(known))
        if unknown:
            valid = f"known: {', '.join(known)}" if known else "it takes no options"
            raise ConfigError(
                f"unknown option {', '.join(unknown)} for the {kind}={name} judge; {valid}"
            )
    # options that change verdicts go into the judge's id (and so its cache keys); the llm
    # judge's id already names its model, and secrets never get here (the CLI refuses them)
    settings = {
        k: v for k, v in options.items() if k not in _NOT_SETTINGS and not (name == LLM and k == "model")
    }
    if "kind" in params:
        options["kind"] = kind
    try:
        judge: Judge = cls(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"the {kind}={name} judge: {exc}") from None
    if settings:
        judge.settings = settings
    return judge


#: options that do not change a judge's verdicts (how it runs, not what it decides)
_NOT_SETTINGS = frozenset(
    {"batch_size", "max_concurrency", "qps", "max_retries", "max_backoff", "timeout",
     "device", "cache_dir", "base_url", "api_key_env", "max_parse_retries", "retry", "max_tokens"}
)
