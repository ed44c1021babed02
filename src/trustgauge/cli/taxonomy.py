"""``trustgauge taxonomy``: a trustworthiness framework as a tree, with the tasks that measure
each item and the items nobody measures yet."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trustgauge.cli._errors import fail as _fail
from trustgauge.cli.app import app

if TYPE_CHECKING:
    from trustgauge.taxonomy import Coverage

NOT_MEASURED = "not measured"


def resolve_framework(value: str) -> str:
    """The framework ``value`` names: its id, or a prefix of exactly one id (``owasp-llm``)."""
    from trustgauge.taxonomy import framework_ids

    known = framework_ids()
    if value in known:
        return value
    matches = [f for f in known if f.startswith(value)] if value else []
    if len(matches) == 1:
        return matches[0]
    _fail(f"unknown framework {value!r}; known: {', '.join(known)}")


def _as_json(cov: Coverage) -> dict[str, Any]:
    fw = cov.framework
    measured, total = cov.counts()
    return {
        "framework": fw.id,
        "title": fw.title,
        "reference": fw.reference,
        "provenance": list(fw.provenance),
        "measured": measured,
        "total": total,
        "unmeasured": [item.id for item in cov.unmeasured],
        "categories": [
            {
                "id": category.id,
                "name": category.name,
                "measured": cov.counts(category.id)[0],
                "total": cov.counts(category.id)[1],
                "items": [
                    {
                        "id": row.item.id,
                        "name": row.item.name,
                        "meaning": row.item.meaning,
                        "from_liu2023": list(row.item.from_base),
                        "tasks": list(row.tasks),
                    }
                    for row in cov.in_category(category.id)
                ],
            }
            for category in fw.categories
        ],
    }


@app.command("taxonomy")
def taxonomy_cmd(
    framework_name: Annotated[str, typer.Option("--framework", "-f", help="liu2023 (default: Liu et al., "
        "7 categories, 29 sub-categories), fan2023 (Fan et al.: privacy, security, fairness, "
        "responsibility), owasp-llm-2025 (OWASP Top 10 for LLM applications) or nist-ai-600-1 "
        "(NIST's twelve GAI risks); a unique prefix will do (owasp, nist).")] = "liu2023",
    as_json: Annotated[bool, typer.Option("--json", help="Print {framework, title, reference, provenance, "
        "measured, total, unmeasured, categories: [{id, name, measured, total, items: [{id, name, "
        "meaning, from_liu2023, tasks}]}]}.")] = False,
) -> None:
    """Show a trustworthiness framework as a tree: per item, the tasks that measure it, or
    "not measured"; measured/total per category and overall.

    Tasks are tagged with the Liu et al. sub-categories they measure; the other frameworks are
    reached through a mapping from Liu sub-categories (each framework's data file says which
    sub-category evidences which item), plus extra tags for items no Liu sub-category covers.
    A category or item id also selects tasks in 'run --tasks' (docs/taxonomy.md).

    Examples:

    \b
      trustgauge taxonomy                        # Liu et al.'s tree, coverage
      trustgauge taxonomy -f owasp-llm-2025      # what of OWASP's Top 10 is untested
      trustgauge taxonomy -f nist --json         # NIST AI 600-1, as JSON
      trustgauge run -m MODEL -t reliability     # every task tagged reliability/*
      trustgauge run -m MODEL -t safety/privacy-violation
      trustgauge run -m MODEL -t liu2023:safety  # the Liu category, not the dimension
    """
    from trustgauge.tasks.registry import tags_by_task
    from trustgauge.taxonomy import coverage, framework

    cov = coverage(framework(resolve_framework(framework_name)), tags_by_task())
    if as_json:
        typer.echo(json.dumps(_as_json(cov), indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.tree import Tree

    fw = cov.framework
    measured, total = cov.counts()
    tree = Tree(f"[bold]{escape(fw.title)}[/bold] ({fw.id}): {measured}/{total} measured")
    for category in fw.categories:
        got, of = cov.counts(category.id)
        branch = tree.add(f"[bold]{escape(category.name)}[/bold] ({category.id}): {got}/{of} measured")
        for row in cov.in_category(category.id):
            tasks = ", ".join(row.tasks) if row.tasks else f"[yellow]{NOT_MEASURED}[/yellow]"
            branch.add(
                f"{escape(row.item.name)} [dim]({row.item.id})[/dim]: {escape(row.item.meaning)}\n{tasks}"
            )
    console = Console()
    console.print(tree)
    console.print(f"{measured} of {total} {fw.id} items measured; not measured: "
                  f"{', '.join(item.id for item in cov.unmeasured) or 'none'}")
