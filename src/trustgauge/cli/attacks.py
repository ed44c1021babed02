"""``trustgauge attacks``: the registered attacks (:mod:`trustgauge.attacks.registry`), the
names the jailbreak probes take in their ``attacks`` parameter."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trustgauge.cli.app import app

if TYPE_CHECKING:
    from trustgauge.attacks.base import IterativeAttack, Transform


def attack_rows() -> list[dict[str, Any]]:
    """Every registered transform, then every iterative attack, each by name: {name, kind,
    version, id, family, roles, description, source}. An iterative attack's family is
    ``iterative`` (the ``attack_family`` its samples record)."""
    from trustgauge.attacks.registry import iterative, transforms

    found: list[tuple[str, str, type[Transform] | type[IterativeAttack], str]] = [
        *(("transform", name, cls, cls.family) for name, cls in sorted(transforms().items())),
        *(("iterative", name, cls, "iterative") for name, cls in sorted(iterative().items())),
    ]
    return [
        {
            "name": name,
            "kind": kind,
            "version": cls.version,
            "id": f"{name}@{cls.version}",
            "family": family,
            "roles": list(cls.roles),
            "description": cls.description,
            "source": cls.source,
        }
        for kind, name, cls, family in found
    ]


@app.command("attacks")
def attacks_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {name, kind, version, id, "
        "family, roles, description, source}; kind: transform or iterative.")] = False,
) -> None:
    """List the attacks: request transforms (templates, encodings, many-shot, payload splitting,
    translation), which chain with '+', and iterative attacks driven by a model in the attacker
    role. Each is named and versioned (samples record NAME@VERSION); roles are the models it
    calls besides the target ('run --role NAME=SPEC'); source is where its text comes from and
    its licence (empty: trustgauge's own).

    Examples:

    \b
      trustgauge attacks --json
      trustgauge run -m MODEL -t fan2023.jailbreak \\
          --task-param fan2023.jailbreak:attacks=aim+base64
    """
    rows = attack_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    if not rows:
        typer.echo("no attacks registered")
        return
    table = Table(title="trustgauge attacks")
    for col in ("name", "kind", "version", "family", "roles"):
        table.add_column(col, no_wrap=True)
    table.add_column("description", overflow="fold", ratio=1)
    table.add_column("source", overflow="fold", max_width=30)
    for r in rows:
        table.add_row(
            r["name"], r["kind"], str(r["version"]), r["family"], ", ".join(r["roles"]) or "-",
            r["description"], r["source"] or "trustgauge",
        )
    Console().print(table)
    n_iter = sum(1 for r in rows if r["kind"] == "iterative")
    Console().print(f"{len(rows) - n_iter} transforms (chain them with '+', e.g. aim+base64), {n_iter} iterative")
