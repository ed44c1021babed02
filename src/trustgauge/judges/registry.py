"""Judge implementations by kind and name; the offline defaults are used unless the user
picks another with ``--judge KIND=NAME``."""

from __future__ import annotations

import importlib
from typing import Any

from trustgauge.errors import ConfigError
from trustgauge.judges.base import Judge

#: kind -> name -> "module:Class"
JUDGES: dict[str, dict[str, str]] = {
    "refusal": {
        "rules": "trustgauge.judges.refusal_rules:RuleRefusalJudge",
    },
}

#: the judge used for each kind when the user names none
DEFAULT_JUDGES: dict[str, str] = {"refusal": "rules"}


def create_judge(kind: str, name: str | None = None, **options: Any) -> Judge:
    """Instantiate the judge ``name`` (default: the offline default) of ``kind``."""
    if kind not in JUDGES:
        raise ConfigError(f"unknown judge kind {kind!r}; known: {', '.join(JUDGES)}")
    name = name or DEFAULT_JUDGES[kind]
    if name not in JUDGES[kind]:
        raise ConfigError(f"unknown {kind} judge {name!r}; known: {', '.join(JUDGES[kind])}")
    module_name, _, cls_name = JUDGES[kind][name].partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    judge: Judge = cls(**options)
    return judge
