"""Choosing and creating judges by kind and name; the offline defaults are used unless the
user picks another with ``--judge KIND=NAME`` (or ``--judge-model SPEC``, which picks ``llm``).

The judges themselves are in :mod:`trustgauge.judges.catalogue` (``trustgauge judges`` prints
it); :data:`JUDGES` (kind -> name -> :class:`JudgeInfo`) and :data:`DEFAULT_JUDGES` (the judge
of each kind used when the user names none) are views of it, re-exported here.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trustgauge.errors import ConfigError
from trustgauge.judges.base import Judge
from trustgauge.judges.catalogue import (
    DEFAULT_JUDGES,
    GPT4_KINDS,
    JUDGES,
    LLM,
    JudgeInfo,
    KindEntry,
    catalogue,
    kind_entry,
    unknown_judge,
)

__all__ = [
    "DEFAULT_JUDGES",
    "GPT4_KINDS",
    "JUDGES",
    "LLM",
    "JudgeInfo",
    "JudgeRow",
    "KindEntry",
    "check_judge_choice",
    "create_judge",
    "describe_judges",
    "judge_info",
    "needs_judge_model",
    "resolve_judge_name",
]


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
    """Every judge in the catalogue, kinds in catalogue order (the judge modules are imported,
    the libraries they load lazily are not)."""
    return [
        JudgeRow(kind, name, entry.default == name, info.offline, info.needs,
                 info.summary, info.needs_reference)
        for kind, entry in catalogue().items()
        for name, info in entry.alternatives.items()
    ]


def resolve_judge_name(kind: str, name: str | None = None, *, judge_model: str | None = None) -> str:
    """The implementation used for ``kind``: ``name`` if given, else ``llm`` when a judge model
    is given and the kind has an llm judge, else the kind's default.

    Raises:
        ConfigError: unknown kind or name (the message lists the known ones).
    """
    entry = kind_entry(kind)
    if not name:
        if judge_model and LLM in entry.alternatives:
            name = LLM
        elif entry.default is not None:
            name = entry.default
        else:
            raise ConfigError(
                f"the {kind} judge needs --judge-model SPEC (no offline judge for {kind})"
            )
    if name not in entry.alternatives:
        raise unknown_judge(kind, name)
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
    return (
        kind_entry(kind).default is None and not name and not judge_model
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
    if getattr(judge, "kind", None) is None:
        # a class that does not declare its kind (judges.md's example): it is the kind it was
        # registered and created for; without it every cache key raised AttributeError mid-run
        judge.kind = kind
    if settings:
        judge.settings = settings
    return judge


#: options that do not change a judge's verdicts (how it runs, not what it decides)
_NOT_SETTINGS = frozenset(
    {"batch_size", "max_concurrency", "qps", "max_retries", "max_backoff", "timeout",
     "device", "cache_dir", "base_url", "api_key_env", "max_parse_retries", "retry", "max_tokens"}
)
