"""The one judge catalogue: for each kind of judgement, its default judge, the alternatives and
the rubric an ``llm`` judge of that kind asks with.

* **Kinds** are declared here, in the order ``trustgauge judges`` lists them
  (:func:`declare_kind` below): the default (an offline judge, or none when no offline judge is
  sound and the kind needs ``--judge-model``), the default rubric of its ``llm`` judge, and
  whether TrustLLM judged it with GPT-4 (then ``--judge-model`` in a run picks the ``llm``
  judge even where an offline default exists).
* **Judges** register themselves in their own module with :func:`register_judge`::

      @register_judge("refusal", "rules", offline=True, summary="phrase and structure rules")
      class RuleRefusalJudge(Judge): ...

  The built-in judge modules (:data:`BUILTIN_MODULES`) are imported on the first read of the
  catalogue, not before (``import trustgauge`` stays light).
* **Outside packages** add judges through the entry-point group ``trustgauge.judges``; the
  entry point names the module (or an object in it) whose ``@register_judge`` classes are
  its judges::

      [project.entry-points."trustgauge.judges"]
      my_judges = "my_package.judges"

  Plugins are loaded after the built-ins, once. A plugin that fails to import, or clashes with
  a registered judge, is skipped with one error line on stderr naming it (no traceback), and
  the error is repeated when someone asks for a kind or judge that does not exist.

The older tables are views of this one: :data:`JUDGES` (kind -> name -> :class:`JudgeInfo`),
:data:`DEFAULT_JUDGES` (kind -> default name), :data:`DEFAULT_RUBRICS` (kind -> rubric id) and
:data:`GPT4_KINDS`. The mapping views write through (tests written against the old dicts
monkeypatch them); new code registers with :func:`register_judge`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import itertools
import logging
import threading
from collections.abc import Callable, Iterator, MutableMapping, Set
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from trustgauge._plugins import load_plugin
from trustgauge.errors import ConfigError

__all__ = [
    "BUILTIN_MODULES",
    "DEFAULT_JUDGES",
    "DEFAULT_RUBRICS",
    "ENTRY_POINT_GROUP",
    "GPT4_KINDS",
    "JUDGES",
    "LLM",
    "JudgeInfo",
    "KindEntry",
    "catalogue",
    "declare_kind",
    "kind_entry",
    "plugin_errors",
    "register_judge",
]

log = logging.getLogger(__name__)

#: the implementation name that ``--judge-model`` selects
LLM = "llm"

#: the entry-point group outside packages register their judge modules under
ENTRY_POINT_GROUP = "trustgauge.judges"

#: the modules holding the built-in judges, imported on the first read of the catalogue; within
#: a kind, judges are listed in this module order (then in registration order within a module),
#: whatever order the modules happened to be imported in. Plugins come after.
BUILTIN_MODULES: tuple[str, ...] = (
    "trustgauge.judges.refusal_learned",
    "trustgauge.judges.refusal_rules",
    "trustgauge.judges.refusal_longformer",
    "trustgauge.judges.toxicity_learned",
    "trustgauge.judges.toxicity_perspective",
    "trustgauge.judges.harmfulness_learned",
    "trustgauge.judges.attack_success_offline",
    "trustgauge.judges.similarity",
    "trustgauge.judges.correctness",
    "trustgauge.judges.llm_judge",
)

# ``needs`` texts shared by several judges (``trustgauge judges`` prints them)
MINILM_NEEDS = "MiniLM-L6 weights (fetched once)"
LLM_NEEDS = "--judge-model"
NEEDS_MODEL = "--judge-model (no offline judge)"


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


@dataclass(frozen=True)
class KindEntry:
    """One kind of judgement: what the catalogue knows about it."""

    kind: str
    #: the judge used when the user names none (offline); ``None``: no sound offline judge, the
    #: kind needs ``--judge-model`` (or an explicit ``--judge KIND=NAME``)
    default: str | None
    #: every judge of this kind, by name, in listing order
    alternatives: dict[str, JudgeInfo] = field(default_factory=dict)
    #: the rubric id an ``llm`` judge of this kind asks with when none is named
    rubric: str | None = None
    #: TrustLLM judged this kind with GPT-4: ``--judge-model`` in a run picks the ``llm`` judge
    #: even though an offline default exists
    trustllm_gpt4: bool = False


_lock = threading.RLock()
_kinds: dict[str, KindEntry] = {}
#: (kind, name) -> listing rank: (module rank, registration sequence)
_rank: dict[tuple[str, str], tuple[int, int]] = {}
_seq = itertools.count()
_loaded = False
_loading = False
_plugin_errors: list[str] = []

_T = TypeVar("_T", bound=type)


def declare_kind(
    kind: str, *, default: str | None = None, rubric: str | None = None,
    trustllm_gpt4: bool = False,
) -> KindEntry:
    """Declare a kind of judgement (listed after the kinds declared before it). Judges that
    registered for it already are kept.

    Raises:
        ValueError: the kind is declared already with a default, rubric or GPT-4 flag.
    """
    with _lock:
        entry = _kinds.get(kind)
        if entry is not None and (entry.default, entry.rubric, entry.trustllm_gpt4) != (None, None, False):
            raise ValueError(f"judge kind {kind!r} is declared already")
        new = KindEntry(kind, default, dict(entry.alternatives) if entry else {}, rubric, trustllm_gpt4)
        _kinds[kind] = new
        return new


def register_judge(
    kind: str, name: str, *, offline: bool, summary: str, needs: str = "",
    needs_reference: bool = False,
) -> Callable[[_T], _T]:
    """Class decorator: register the judge class as ``name`` of ``kind`` (the class itself is
    returned unchanged). A kind not declared yet is created, with no default. Registering the
    same class again under the same name is a no-op (a module imported twice).

    Args:
        kind: what it judges (``refusal``, ``toxicity``, ...).
        name: what ``--judge KIND=NAME`` calls it.
        offline: it runs with no network access (once its files are in place).
        summary: one line for ``trustgauge judges``.
        needs: what it needs beyond the core install ("" if nothing).
        needs_reference: it compares the response with a gold answer.

    Raises:
        ValueError: another class is registered as ``name`` of ``kind`` already.
    """
    if not kind or not name:
        raise ValueError("register_judge needs a kind and a name")

    def decorate(cls: _T) -> _T:
        info = JudgeInfo(f"{cls.__module__}:{cls.__qualname__}", offline, needs, summary, needs_reference)
        _add(kind, name, info)
        return cls

    return decorate


def _module_rank(path: str) -> int:
    module = path.partition(":")[0]
    return BUILTIN_MODULES.index(module) if module in BUILTIN_MODULES else len(BUILTIN_MODULES)


def _add(kind: str, name: str, info: JudgeInfo) -> None:
    with _lock:
        entry = _kinds.get(kind) or KindEntry(kind, None)
        known = entry.alternatives.get(name)
        if known is not None:
            if known.path != info.path:
                raise ValueError(f"judge {kind}={name} is registered already (by {known.path})")
        else:
            _rank[kind, name] = (_module_rank(info.path), next(_seq))
        alternatives = {**entry.alternatives, name: info}
        order = sorted(alternatives, key=lambda n: _rank.get((kind, n), (len(BUILTIN_MODULES) + 1, 0)))
        _kinds[kind] = replace(entry, alternatives={n: alternatives[n] for n in order})


def _ensure_loaded() -> None:
    """Import the built-in judge modules, then the plugins; once (a read during the loading,
    from a module being imported, sees what is registered so far)."""
    global _loaded, _loading
    if _loaded:
        return
    with _lock:
        if _loaded or _loading:
            return
        _loading = True
        try:
            for module in BUILTIN_MODULES:
                importlib.import_module(module)
            _load_plugins()
            _loaded = True
        finally:
            _loading = False


def _load_plugins() -> None:
    """Load every plugin of the entry-point group :data:`ENTRY_POINT_GROUP` (once, on the first
    read of the catalogue). A broken plugin is skipped with one error line."""
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        _load_plugin(ep)


_Snapshot = tuple[dict[str, KindEntry], dict[tuple[str, str], tuple[int, int]]]


def _load_plugin(ep: importlib.metadata.EntryPoint) -> None:
    def check(before: _Snapshot) -> str | None:
        return None if _kinds != before[0] or _registered_from(ep.module) else (
            "it registered no judge (decorate judge classes with @register_judge)"
        )

    def restore(before: _Snapshot) -> None:
        _kinds.clear()
        _kinds.update(before[0])
        _rank.clear()
        _rank.update(before[1])

    load_plugin(ep, kind="judge", lock=_lock, snapshot=lambda: (dict(_kinds), dict(_rank)), restore=restore,
                check=check, errors=_plugin_errors, log=log)


def _registered_from(module: str) -> bool:
    """Some judge's class is in ``module`` or below (its decorators ran before the plugin was
    loaded: the module was imported already)."""
    return any(
        info.path.partition(":")[0] == module or info.path.startswith(f"{module}.")
        for entry in _kinds.values() for info in entry.alternatives.values()
    )


def plugin_errors() -> list[str]:
    """One line per plugin that could not be loaded (after the catalogue was read)."""
    _ensure_loaded()
    return list(_plugin_errors)


def _hint() -> str:
    return "".join(f"; {e}" for e in _plugin_errors)


def catalogue() -> dict[str, KindEntry]:
    """Every kind, in listing order (a copy: register with :func:`register_judge`)."""
    _ensure_loaded()
    with _lock:
        return dict(_kinds)


def kind_entry(kind: str) -> KindEntry:
    """The catalogue entry of ``kind``.

    Raises:
        ConfigError: unknown kind (the message lists the known ones, and plugins that failed).
    """
    _ensure_loaded()
    entry = _kinds.get(kind)
    if entry is None:
        raise ConfigError(f"unknown judge kind {kind!r}; known: {', '.join(_kinds)}{_hint()}")
    return entry


def unknown_judge(kind: str, name: str) -> ConfigError:
    """The error for a judge name ``kind`` does not have."""
    known = ", ".join(kind_entry(kind).alternatives)
    return ConfigError(f"unknown {kind} judge {name!r}; known: {known}{_hint()}")


# ---------------------------------------------------------------------------------------------
# The older tables, as views of the catalogue
# ---------------------------------------------------------------------------------------------


class _View:
    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"  # type: ignore[call-overload]


class _Judges(_View, MutableMapping[str, dict[str, JudgeInfo]]):
    """kind -> name -> :class:`JudgeInfo`; setting a kind replaces its judges."""

    def __getitem__(self, kind: str) -> dict[str, JudgeInfo]:
        _ensure_loaded()
        return _kinds[kind].alternatives

    def __setitem__(self, kind: str, judges: dict[str, JudgeInfo]) -> None:
        _ensure_loaded()
        with _lock:
            entry = _kinds.get(kind) or KindEntry(kind, None)
            _kinds[kind] = replace(entry, alternatives=dict(judges))

    def __delitem__(self, kind: str) -> None:
        _ensure_loaded()
        with _lock:
            del _kinds[kind]

    def __iter__(self) -> Iterator[str]:
        _ensure_loaded()
        return iter(list(_kinds))

    def __len__(self) -> int:
        _ensure_loaded()
        return len(_kinds)


class _KindField(_View, MutableMapping[str, str]):
    """kind -> one optional field of its entry (kinds where it is unset are absent)."""

    def __init__(self, attr: str) -> None:
        self._attr = attr

    def __getitem__(self, kind: str) -> str:
        _ensure_loaded()
        value: str | None = getattr(_kinds[kind], self._attr)
        if value is None:
            raise KeyError(kind)
        return value

    def __setitem__(self, kind: str, value: str) -> None:
        _ensure_loaded()
        changes: dict[str, Any] = {self._attr: value}
        with _lock:
            _kinds[kind] = replace(_kinds.get(kind) or KindEntry(kind, None), **changes)

    def __delitem__(self, kind: str) -> None:
        if kind not in self:
            raise KeyError(kind)
        changes: dict[str, Any] = {self._attr: None}
        with _lock:
            _kinds[kind] = replace(_kinds[kind], **changes)

    def __iter__(self) -> Iterator[str]:
        _ensure_loaded()
        return iter([k for k, e in list(_kinds.items()) if getattr(e, self._attr) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Gpt4Kinds(_View, Set[str]):
    def __contains__(self, kind: object) -> bool:
        _ensure_loaded()
        entry = _kinds.get(kind) if isinstance(kind, str) else None
        return entry is not None and entry.trustllm_gpt4

    def __iter__(self) -> Iterator[str]:
        _ensure_loaded()
        return iter([k for k, e in list(_kinds.items()) if e.trustllm_gpt4])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({set(self)!r})"


#: kind -> name -> implementation (a view of the catalogue)
JUDGES: MutableMapping[str, dict[str, JudgeInfo]] = _Judges()
#: the judge used for each kind when the user names none (all offline); kinds missing here have
#: no sound offline judge and need ``--judge-model``
DEFAULT_JUDGES: MutableMapping[str, str] = _KindField("default")
#: the rubric an LLM judge of each kind uses when none is named
DEFAULT_RUBRICS: MutableMapping[str, str] = _KindField("rubric")
#: the kinds TrustLLM judged with GPT-4: in a run, ``--judge-model`` makes them use the llm judge
#: (other kinds keep their offline default unless ``--judge KIND=llm``; TrustLLM used Longformer,
#: Perspective and ada-002 for those, and an LLM judge on every refusal would be costly)
GPT4_KINDS: Set[str] = _Gpt4Kinds()


def _state() -> tuple[dict[str, KindEntry], dict[tuple[str, str], tuple[int, int]], list[str], bool]:
    """A copy of the catalogue's state (tests restore it after registering their own judges).

    Loads the built-ins first, for the reason :func:`trustgauge.tasks.registry._state` gives."""
    _ensure_loaded()
    with _lock:
        return dict(_kinds), dict(_rank), list(_plugin_errors), _loaded


def _restore(state: tuple[dict[str, KindEntry], dict[tuple[str, str], tuple[int, int]], list[str], bool]) -> None:
    global _loaded
    with _lock:
        kinds, rank, errors, loaded = state
        _kinds.clear()
        _kinds.update(kinds)
        _rank.clear()
        _rank.update(rank)
        _plugin_errors[:] = errors
        _loaded = loaded


# ---------------------------------------------------------------------------------------------
# The built-in kinds, in listing order
# ---------------------------------------------------------------------------------------------

declare_kind("refusal", default="minilm", rubric="refusal")
declare_kind("toxicity", default="minilm", rubric="toxicity")
declare_kind("similarity", default="minilm")
declare_kind("correctness", default="squad", rubric="correctness", trustllm_gpt4=True)
# TrustLLM asked GPT-4 for these and no offline judge is sound: they run only with a judge model
declare_kind("misinformation_correction", rubric="trustllm.advfact", trustllm_gpt4=True)
declare_kind("same_preference", rubric="trustllm.sycophancy_preference", trustllm_gpt4=True)
# TrustLLM asked GPT-4 to read answers its own rules could not; our tasks read them offline and
# use these only as an optional fallback with --judge-model (the answers stay invalid without)
declare_kind("stereotype_recognition", rubric="trustllm.stereotype_recognition", trustllm_gpt4=True)
declare_kind("agreement", rubric="trustllm.stereotype_agreement", trustllm_gpt4=True)
declare_kind("ethics_judgement", rubric="trustllm.ethics", trustllm_gpt4=True)
declare_kind("diagnosis", rubric="trustllm.ood_generalization", trustllm_gpt4=True)
# No task uses this one (yet): its rubric judges a JSONL file with
# ``trustgauge judge human_interest --judge-model SPEC`` (TrustLLM's later awareness-mission prompt)
declare_kind("human_interest", rubric="trustllm.awareness_mission_hard", trustllm_gpt4=True)
# Liu et al. (2023) safety: offline by default (judges/harmfulness_learned.py); ``--judge
# harmfulness=llm --judge-model SPEC`` asks with the paper's GPT-4 prompt
declare_kind("harmfulness", default="minilm", rubric="liu2023.safety")
# Attack success (issue 17, the jailbreak tasks): did the answer give what the attack asked for?
# Offline by default (judges/attack_success_offline.py, a rule cascade fitted on PyRIT's human
# labels); ``--judge attack_success=llm --judge-model SPEC`` asks with StrongREJECT's rubric
# (``rubric=harmbench``: HarmBench's classifier prompt)
declare_kind("attack_success", default="minilm", rubric="strongreject")
# Fan et al. prompt injection (fan2023.injection_indirect): did an answer follow an instruction
# injected into the data it read? BIPIA asked GPT-4; no offline judge is sound: the task checks
# what it can with rules and asks this kind (an optional slot) about the rest
declare_kind("injection_followed", rubric="bipia.injection")
