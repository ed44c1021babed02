"""``trustgauge data fetch`` and ``trustgauge data list``."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trustgauge.cli._errors import fail as _fail
from trustgauge.cli.app import data_app
from trustgauge.errors import UsageError

if TYPE_CHECKING:
    pass


@data_app.command("fetch")
def data_fetch(
    dataset: Annotated[str, typer.Argument(help="Dataset id, e.g. trustllm (see 'trustgauge data list').")] = "trustllm",
    origin: Annotated[str, typer.Option("--from", metavar="[github|hf]", help="github: the pinned release "
        "archive, SHA-256 verified. hf: the gated Hugging Face copy (accept its terms on the dataset page; "
        "token from HF_TOKEN or 'hf auth login'), every file's record count verified.")] = "github",
    revision: Annotated[str | None, typer.Option("--revision", help="With --from hf: the hub branch, tag or "
        "commit (default main).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Download again even if cached.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")] = False,
) -> None:
    """Download a dataset into the cache, verify it and print the folder it is in.

    The copy is verified before anything is cached (the archive's SHA-256, every file's record
    count); runs then use it without asking the network. A run records each file's SHA-256.

    Examples:

      trustgauge data fetch trustllm

      trustgauge data fetch trustllm --from hf --revision main
    """
    from trustgauge.data import fetch_dataset, read_copy_info

    if origin not in ("github", "hf"):
        _fail(f"bad --from {origin!r}: expected github (the pinned release) or hf (the Hugging Face copy)")
    try:
        path = fetch_dataset(dataset, force=force, progress=not quiet, origin=origin, revision=revision)
    except UsageError as exc:
        _fail(str(exc))
    if not quiet and read_copy_info(path) is None:
        # no copy was made: the files were verified where they are (shipped in a package)
        typer.echo(f"{dataset}: verified in place", err=True)
    elif not quiet:
        info = read_copy_info(path) or {}
        files = info.get("files")
        counts = f"{len(files)} files, {sum(f.get('records', 0) for f in files.values()):,} records" if (
            isinstance(files, dict) and all(isinstance(f, dict) for f in files.values())) else "complete"
        if info.get("origin") == "hf":
            where = f"{info.get('repo')}@{str(info.get('commit', ''))[:12]}"
        else:
            where = f"sha256 {str(info.get('sha256', ''))[:12]}"
        typer.echo(f"{dataset}: {counts}, verified ({info.get('origin', origin)}, {where})", err=True)
    typer.echo(str(path))


def _dataset_rows() -> list[dict[str, Any]]:
    """What 'trustgauge data list' shows, for every registered dataset."""
    from trustgauge.data import (
        DATA_DIR_ENV,
        cached_copies,
        get_source,
        resolve_data_dir,
        source_ids,
    )
    from trustgauge.errors import DataError

    rows: list[dict[str, Any]] = []
    for sid in source_ids():
        source = get_source(sid)
        cached = []
        for copy in cached_copies(sid):
            entry: dict[str, Any] = {"origin": copy.origin, "path": str(copy.path),
                                     "fetched_at": copy.info.get("fetched_at")}
            if copy.origin == "hf":
                entry.update(repo=copy.info.get("repo"), revision=copy.info.get("revision"),
                             commit=copy.info.get("commit"))
            else:
                entry["sha256"] = copy.info.get("sha256", source.listing()["sha256"])
            cached.append(entry)
        env_dir = os.environ.get(DATA_DIR_ENV, "").strip() or None
        in_use: str | None = None
        problem = None
        if env_dir or cached:  # else a run downloads the pinned release first
            try:
                in_use = str(resolve_data_dir(sid, None, auto_fetch=False))
            except DataError as exc:
                problem = str(exc)
        where = source.listing()  # url, url_override, sha256, size_bytes, hf_repo, hf_url
        rows.append({
            "id": source.id, "name": source.display_name, "description": source.description,
            "url": where["url"], "url_override": where["url_override"],
            "sha256": where["sha256"], "size_bytes": where["size_bytes"],
            "hf_repo": where["hf_repo"], "hf_url": where["hf_url"], "homepage": source.homepage,
            "licence_short": source.licence_short, "licence": source.licence,
            "total_records": source.total_records, "n_files": len(source.files), "files": dict(source.files),
            "cached": cached, "data_dir_env": env_dir, "in_use": in_use, "problem": problem,
        })
    return rows


@data_app.command("list")
def data_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list: id, url, sha256, hf_repo, licence, "
        "total_records, files (per-file counts), cached copies, in_use (the folder a run would read).")] = False,
    files: Annotated[bool, typer.Option("--files", help="Also list every file and its record count.")] = False,
) -> None:
    """List the known datasets: pinned source, Hugging Face alternative, licence, archive SHA-256,
    record counts, and whether and where they are cached.

    Examples:

      trustgauge data list

      trustgauge data list --files

      trustgauge data list --json
    """
    rows = _dataset_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for r in rows:
        table = Table(title=f"{r['id']}: {r['description']}", title_justify="left", show_header=False)
        table.add_column("field", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")
        table.add_row("source (pinned)", r["url"] or "-")
        if r["url_override"]:
            table.add_row("downloaded from", f"{r['url_override']} (overridden by the environment)")
        if r["sha256"]:
            table.add_row("archive sha256", f"{r['sha256']} ({r['size_bytes']:,} bytes)")
        if r["hf_repo"]:
            table.add_row("alternative", f"{r['hf_url']} (gated; --from hf)")
        table.add_row("licence", r["licence_short"] or r["licence"])
        table.add_row("records", f"{r['total_records']:,} in {r['n_files']} files")
        for copy in r["cached"]:
            what = (f"hf {copy['repo']}@{str(copy['commit'] or '')[:12]}" if copy["origin"] == "hf"
                    else f"{copy['origin']}, sha256 {str(copy['sha256'])[:12]}" if copy["sha256"]
                    else copy["origin"])
            when = f", {copy['fetched_at']}" if copy["fetched_at"] else ""
            table.add_row("cached", f"{copy['path']} ({what}{when})")
        if not r["cached"]:
            table.add_row("cached", f"no: trustgauge data fetch {r['id']}")
        if r["data_dir_env"]:
            table.add_row("TRUSTGAUGE_DATA_DIR", r["data_dir_env"])
        table.add_row("a run reads", r["in_use"] or r["problem"] or "the pinned release, downloaded on first use")
        console.print(table)
    if files:
        for r in rows:
            ftable = Table(title=f"{r['id']}: files", title_justify="left")
            ftable.add_column("file", overflow="fold")
            ftable.add_column("records", justify="right")
            for relpath, count in r["files"].items():
                ftable.add_row(relpath, str(count))
            console.print(ftable)


