"""Refuse a single-value option given twice (``--suite quick --suite full``).

Click keeps the last value silently, so a command line assembled from pieces (a Makefile variable
plus an override) would run with a setting its author may not have meant. Options that take
several values (``--task-param``, ``--judge``, ...) and on/off flags may repeat. Pure: it reads the
command tree and the argument list, nothing else. Duck-typed on Click's command and option
attributes (Typer carries its own copy of Click, so ``isinstance(x, click.Group)`` is false)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _leaf(command: Any, args: Sequence[str]) -> tuple[Any, list[str]]:
    """The (sub)command the arguments select, and the arguments after its name."""
    rest = list(args)
    while isinstance(getattr(command, "commands", None), dict):
        i = next((k for k, a in enumerate(rest) if not a.startswith("-")), None)
        if i is None or rest[i] not in command.commands:
            break
        command, rest = command.commands[rest[i]], rest[i + 1:]
    return command, rest


def may_repeat(args: Sequence[str]) -> bool:
    """Whether an option-like word occurs twice before ``--`` (cheap: decides whether the command
    tree is worth building for :func:`repeated_option`)."""
    names: set[str] = set()
    for token in args:
        if token == "--":
            break
        if token.startswith("-") and token != "-":
            name = token.split("=", 1)[0] if token.startswith("--") else token[:2]
            if name in names:
                return True
            names.add(name)
    return False


def repeated_option(command: Any, args: Sequence[str]) -> str | None:
    """The first single-value option of the selected command given more than once in ``args``
    (its names, ``-n/--limit``), or None. Values are skipped (``--prompt --suite`` is one
    option and its value); nothing after ``--`` is read."""
    leaf, rest = _leaf(command, args)
    single: dict[str, Any] = {}
    for param in leaf.params:
        if getattr(param, "param_type_name", "") == "option" and not (param.multiple or param.count or param.is_flag):
            for name in (*param.opts, *param.secondary_opts):
                single[name] = param
    seen: dict[str, int] = {}
    i = 0
    while i < len(rest):
        token = rest[i]
        i += 1
        if token == "--":
            break
        if not token.startswith("-") or token == "-":
            continue
        name, has_value = (token.split("=", 1)[0], True) if token.startswith("--") and "=" in token else (token, False)
        if name not in single and not name.startswith("--") and name[:2] in single:
            name, has_value = name[:2], True  # a short option with its value attached: -n5
        param = single.get(name)
        if param is None:
            continue
        if not has_value:
            i += max(param.nargs, 1)  # its value(s) follow
        seen[param.name] = seen.get(param.name, 0) + 1
        if seen[param.name] > 1:
            return "/".join(sorted(param.opts, key=len))
    return None
