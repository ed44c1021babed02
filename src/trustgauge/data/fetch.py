"""Download, verify and unpack a registered dataset into the data cache.

A fetched dataset lives in ``data_cache_dir()/<id>/<sha256[:12]>/`` laid out as
``<dimension>/<file>.json``. It is staged in a temporary folder next to that path, verified
(checksum of the archive, expected files present, each file's record count), marked complete
(the marker is the last file written) and only then moved into place with one atomic rename, so
readers never see a partial copy and concurrent fetches cannot corrupt each other.

The gated Hugging Face copy (``origin="hf"``, see :mod:`trustgauge.data.hub`) is cached the same
way in ``data_cache_dir()/<id>/hf-<revision>/``. The marker of either copy is a JSON manifest
(:func:`read_copy_info`): where the copy came from and every file's SHA-256 and record count.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from trustgauge._paths import data_cache_dir
from trustgauge._secrets import public_url
from trustgauge.data.registry import DatasetSource, get_source
from trustgauge.errors import DataError

if TYPE_CHECKING:
    import zipfile
    from collections.abc import Callable

#: Written last into a staged copy; its presence means the copy is complete.
MARKER_NAME = ".trustgauge-complete"

_CHUNK = 1 << 16
_PARTIAL_TAG = ".partial-"
_OLD_TAG = ".old-"
_STALE_AFTER_S = 24 * 3600
_JUNK_DIRS = frozenset({"__MACOSX"})
_JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_DRIVE = re.compile(r"^[A-Za-z]:")
_HF_PREFIX = "hf-"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

#: where a copy came from: the pinned release archive, or the Hugging Face dataset repository
ORIGINS = ("github", "hf")


def get_data_hint(source: DatasetSource) -> str:
    """The ways to get a dataset, as one clause for the end of an error message.

    Args:
        source: The dataset.

    Returns:
        E.g. "to get the data: run `trustgauge data fetch trustllm` once online, ...".
    """
    hf = ""
    if source.hf_repo:
        hf = (
            f", or `trustgauge data fetch {source.id} --from hf` (the gated Hugging Face copy "
            f"{source.hf_repo}, with HF_TOKEN)"
        )
    return (
        f"to get the data: run `trustgauge data fetch {source.id}` once online{hf}, or pass "
        f"--data-dir DIR (or set TRUSTGAUGE_DATA_DIR) to an unpacked copy of the release "
        f"(<dimension>/<file>.json); `--suite quick` runs offline on the packaged sample"
    )


def dataset_cache_path(source_id: str) -> Path:
    """Return where the verified copy of a dataset lives (whether or not it was fetched yet).

    Args:
        source_id: A registered dataset id.

    Returns:
        ``data_cache_dir()/<id>/<sha256[:12]>``.

    Raises:
        DataError: The id is unknown.
    """
    source = get_source(source_id)
    return data_cache_dir() / source.id / source.sha256[:12]


def hf_cache_path(source_id: str, revision: str | None = None) -> Path:
    """Return where the copy fetched from the Hugging Face hub lives (fetched or not).

    Args:
        source_id: A registered dataset id.
        revision: The hub revision (branch, tag or commit); ``None`` means ``main``.

    Returns:
        ``data_cache_dir()/<id>/hf-<revision>`` (characters other than letters, digits,
        ``.``, ``_`` and ``-`` in the revision become ``-``).

    Raises:
        DataError: The id is unknown.
    """
    source = get_source(source_id)
    name = _UNSAFE_NAME.sub("-", revision or "main").strip(".-") or "main"
    return data_cache_dir() / source.id / f"{_HF_PREFIX}{name}"


@dataclass(frozen=True)
class CachedCopy:
    """A complete copy of a dataset in the cache.

    Attributes:
        origin: ``"github"`` (the pinned release archive) or ``"hf"`` (the hub copy).
        path: The folder holding ``<dimension>/<file>.json``.
        info: Its manifest (see :func:`read_copy_info`); empty if unreadable.
    """

    origin: str
    path: Path
    info: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def cached_copies(source_id: str) -> list[CachedCopy]:
    """Return every complete cached copy of a dataset, the preferred one first.

    The pinned GitHub release comes first; hub copies follow, the most recently fetched first.

    Args:
        source_id: A registered dataset id.

    Returns:
        The copies (possibly none).

    Raises:
        DataError: The id is unknown.
    """
    source = get_source(source_id)
    copies: list[CachedCopy] = []
    github = dataset_cache_path(source_id)
    if _is_complete(github, source):
        copies.append(CachedCopy("github", github, read_copy_info(github) or {}))
    parent = github.parent
    hub: list[tuple[float, CachedCopy]] = []
    with contextlib.suppress(OSError):
        for child in parent.iterdir():
            if child.name.startswith(_HF_PREFIX) and _is_complete(child, source):
                with contextlib.suppress(OSError):
                    mtime = (child / MARKER_NAME).stat().st_mtime
                    hub.append((mtime, CachedCopy("hf", child, read_copy_info(child) or {})))
    copies.extend(copy for _, copy in sorted(hub, key=lambda item: -item[0]))
    return copies


def cached_dataset(source_id: str) -> Path | None:
    """Return the complete cached copy of a dataset, or ``None`` when it was not fetched yet.

    The pinned GitHub release is preferred; without it, the most recently fetched copy from
    the Hugging Face hub (``trustgauge data fetch ID --from hf``) is returned.

    Args:
        source_id: A registered dataset id.

    Returns:
        The folder of the complete copy, or ``None``.

    Raises:
        DataError: The id is unknown.
    """
    copies = cached_copies(source_id)
    return copies[0].path if copies else None


def read_copy_info(folder: Path) -> dict[str, Any] | None:
    """Return the manifest of a cached copy: where it came from and what it holds.

    Keys: ``id``, ``origin`` (``"github"`` or ``"hf"``), ``fetched_at``, ``files``
    (``relpath -> {"sha256", "records"}``); for ``github`` also ``url``, ``sha256`` (of the
    archive) and ``size_bytes``; for ``hf`` also ``repo``, ``revision``, ``commit`` and
    ``endpoint``. Copies fetched by older versions may lack some keys.

    Args:
        folder: A folder returned by :func:`fetch_dataset` or :func:`cached_dataset` (any
            other folder, e.g. a ``--data-dir``, has no manifest).

    Returns:
        The manifest, or ``None`` when the folder has none or it is unreadable.
    """
    try:
        info = json.loads((Path(folder) / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def fetch_dataset(
    source_id: str,
    *,
    force: bool = False,
    progress: bool = True,
    origin: str = "github",
    revision: str | None = None,
) -> Path:
    """Download, verify and unpack a dataset into the cache, unless a complete copy is there.

    Args:
        source_id: A registered dataset id, e.g. ``"trustllm"``.
        force: Download and unpack again even when a complete copy is cached.
        progress: Show a progress bar (only when stderr is a terminal).
        origin: ``"github"``: the pinned release archive (checksum-verified); ``"hf"``: the
            dataset's Hugging Face copy (:attr:`DatasetSource.hf_repo`, possibly gated: the
            token comes from ``HF_TOKEN`` or the user's hub login), each file's record count
            verified. See :func:`trustgauge.data.hub.fetch_from_hub`.
        revision: For ``origin="hf"``: the hub branch, tag or commit (default ``main``).

    Returns:
        The folder holding ``<dimension>/<file>.json``.

    Raises:
        DataError: Unknown id or origin; the download failed (the message names the URL and
            says how else to get the data); the archive fails its checksum or is malformed; a
            file's record count differs from the registry; the cache is not writable. Nothing
            partial is left in the cache.
    """
    if origin == "hf":
        from trustgauge.data.hub import fetch_from_hub

        return fetch_from_hub(source_id, revision=revision, force=force, progress=progress)
    if origin != "github":
        raise DataError(f"unknown data origin {origin!r} (known: {', '.join(ORIGINS)})")
    source = get_source(source_id)
    if revision is not None:
        raise DataError(
            f"the {source.id} release on GitHub is pinned; a revision applies to --from hf only"
        )
    target = dataset_cache_path(source_id)
    if not force and _is_complete(target, source):
        return target

    with staging_dir(target, source) as staging:
        url = source.resolved_url()
        archive = staging / "archive.zip"
        _download(source, url, archive, show_progress=progress and sys.stderr.isatty())
        unpacked = staging / "unpacked"
        _unpack(archive, unpacked, source)
        # shown and saved without the URL's credentials (user:password, query values)
        files = _verify_files(unpacked, source, f"the {source.display_name} archive from {public_url(url)}")
        info = {"origin": "github", "url": public_url(url), "sha256": source.sha256}
        _write_marker(unpacked, source, {**info, "size_bytes": source.size_bytes}, files)
        _install(unpacked, target, source, replace=force)
    return target


@contextlib.contextmanager
def staging_dir(target: Path, source: DatasetSource) -> Iterator[Path]:
    """A fresh staging folder beside ``target`` (stale ones swept first) where a copy is built
    before :func:`_install` moves it into place; removed afterwards, whatever happens. An
    OSError while making or using it is reported as a cache error (DataError)."""
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _sweep_stale(parent)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{_PARTIAL_TAG}", dir=parent))
    except OSError as exc:
        raise _cache_error(source, parent, exc) from exc
    try:
        yield staging
    except OSError as exc:
        raise _cache_error(source, parent, exc) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------- completeness


def _is_complete(path: Path, source: DatasetSource) -> bool:
    if not (path / MARKER_NAME).is_file():
        return False
    return all((path / relpath).is_file() for relpath in source.files)


def _verify_files(
    folder: Path, source: DatasetSource, where: str
) -> dict[str, dict[str, Any]]:
    """Parse every expected file of a staged copy and check its record count.

    Returns ``relpath -> {"sha256", "records"}``; raises DataError naming ``where`` (the copy)
    and the file on a malformed file or a count that differs from the registry.
    """
    from trustgauge.data.loader import parse_records, record_count_error

    files: dict[str, dict[str, Any]] = {}
    for relpath, expected in source.files.items():
        path = folder.joinpath(*relpath.split("/"))
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise DataError(f"{where}: cannot read {relpath}: {exc.strerror or exc}") from exc
        records = parse_records(raw, f"{where}: {relpath}")
        if len(records) != expected:
            raise DataError(
                record_count_error(source, f"{where}: {relpath}", len(records), expected)
                + "; nothing was cached"
            )
        files[relpath] = {"sha256": hashlib.sha256(raw).hexdigest(), "records": len(records)}
    return files


def _write_marker(
    folder: Path,
    source: DatasetSource,
    origin_info: dict[str, Any],
    files: dict[str, dict[str, Any]],
) -> None:
    info = {
        "id": source.id,
        **origin_info,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": files,
    }
    (folder / MARKER_NAME).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- download


def _download_error(source: DatasetSource, url: str, reason: str) -> DataError:
    reason = " ".join(reason.split()) or "unknown error"
    return DataError(
        f"could not download the {source.display_name} dataset ({source.id}) from {public_url(url)} "
        f"({reason}); {get_data_hint(source)}"
    )


def _cache_error(source: DatasetSource, parent: Path, exc: OSError) -> DataError:
    reason = " ".join(str(exc).split())
    return DataError(
        f"cannot write the {source.id} dataset into the data cache {parent}: {reason}; "
        f"set TRUSTGAUGE_HOME to a writable folder or pass --data-dir <unpacked folder>"
    )


def _local_path(url: str) -> Path | None:
    """The file a ``file://`` URL or plain path points at; ``None`` for network URLs."""
    from urllib.request import url2pathname  # imports http.client: keep it off import time

    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            return Path(url2pathname(f"//{parts.netloc}{parts.path}"))
        return Path(url2pathname(parts.path))
    if parts.scheme == "" or _DRIVE.match(url):
        return Path(url).expanduser()
    return None


def _download(source: DatasetSource, url: str, dest: Path, *, show_progress: bool) -> None:
    """Stream ``url`` into ``dest``, hashing as it goes; raise DataError unless it verifies."""
    digest = hashlib.sha256()
    received = 0
    chunks = _iter_chunks(source, url)
    with (
        contextlib.closing(chunks),
        open(dest, "wb") as out,
        _progress_bar(source, show_progress) as advance,
    ):
        for chunk in chunks:
            received += len(chunk)
            if received > source.size_bytes:
                raise DataError(
                    f"the {source.id} archive from {public_url(url)} is larger than the expected "
                    f"{source.size_bytes} bytes: not the pinned release (sha256 "
                    f"{source.sha256}); check {source.url_env_var} or pass --data-dir"
                )
            digest.update(chunk)
            out.write(chunk)
            advance(len(chunk))
    actual = digest.hexdigest()
    if actual != source.sha256:
        raise DataError(
            f"checksum mismatch for the {source.id} archive from {public_url(url)}: expected sha256 "
            f"{source.sha256} ({source.size_bytes} bytes), got {actual} ({received} bytes); "
            f"nothing was cached"
        )


def _iter_chunks(source: DatasetSource, url: str) -> Generator[bytes, None, None]:
    local = _local_path(url)
    if local is not None:
        try:
            handle: BinaryIO = open(local, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise _download_error(source, url, exc.strerror or str(exc)) from exc
        with handle:
            while chunk := handle.read(_CHUNK):
                yield chunk
        return

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise _download_error(source, url, f"unsupported URL scheme {parts.scheme!r}")

    import httpx

    from trustgauge._version import __version__

    timeout = httpx.Timeout(60.0, connect=15.0)
    headers = {"User-Agent": f"trustgauge/{__version__}"}
    try:
        with httpx.stream(
            "GET", url, timeout=timeout, follow_redirects=True, headers=headers
        ) as response:
            if response.status_code >= 400:
                raise _download_error(
                    source, url, f"HTTP {response.status_code} {response.reason_phrase}"
                )
            yield from response.iter_bytes(_CHUNK)
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise _download_error(source, url, f"{type(exc).__name__}: {exc}") from exc


@contextlib.contextmanager
def _progress_bar(source: DatasetSource, show: bool) -> Iterator[Callable[[int], None]]:
    if not show:
        yield lambda _n: None
        return

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(f"downloading {source.id}", total=source.size_bytes)
        yield lambda n: bar.advance(task, n)


# --------------------------------------------------------------------------- unpack


def _unsafe(source: DatasetSource, name: str, why: str) -> DataError:
    return DataError(f"refusing to unpack the {source.id} archive: member {name!r} {why}")


def _member_relpath(source: DatasetSource, info: zipfile.ZipInfo) -> str | None:
    """Where a member goes inside the layout, ``None`` to skip it; DataError if it is unsafe."""
    name = info.filename
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or _DRIVE.match(normalized):
        raise _unsafe(source, name, "has an absolute path")
    parts = [p for p in normalized.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _unsafe(source, name, "escapes the target folder ('..')")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise _unsafe(source, name, "is a symbolic link")
    if not parts or parts[0] in _JUNK_DIRS:
        return None
    if parts[-1] in _JUNK_NAMES or parts[-1].startswith("._"):
        return None
    root = source.archive_root
    if root is not None:
        if parts[0] != root:
            raise DataError(
                f"unexpected member {name!r} in the {source.id} archive (expected everything "
                f"under {root}/)"
            )
        parts = parts[1:]
        if not parts:
            return None
    return "/".join(parts)


def _unpack(archive: Path, dest: Path, source: DatasetSource) -> None:
    """Unpack the verified archive into ``dest`` as ``<dimension>/<file>.json``."""
    import zipfile

    dest.mkdir()
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                relpath = _member_relpath(source, info)
                if relpath is None or info.is_dir():
                    continue
                out_path = dest.joinpath(*relpath.split("/"))
                out_path.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out_path, "xb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise DataError(f"the {source.id} archive is not a valid zip: {exc}") from exc
    except FileExistsError as exc:
        raise DataError(
            f"the {source.id} archive holds conflicting entries for {exc.filename}; "
            f"refusing to unpack"
        ) from exc
    for relpath in source.files:
        if not dest.joinpath(*relpath.split("/")).is_file():
            raise DataError(f"the {source.id} archive lacks {relpath}")


# --------------------------------------------------------------------------- install


def _install(staged: Path, target: Path, source: DatasetSource, *, replace: bool) -> None:
    """Atomically move a complete staged copy to ``target``.

    If another process installed a complete copy first, keep theirs (same checksum, same
    bytes). An incomplete folder in the way (a leftover, or the old copy when ``replace``) is
    moved aside and removed.
    """
    for _attempt in range(5):
        if replace or (target.exists() and not _is_complete(target, source)):
            _move_aside(target)
            replace = False
        try:
            os.rename(staged, target)
            return
        except OSError:
            if not target.exists():
                raise
            if _is_complete(target, source):
                return  # lost the race to a concurrent fetch: its copy is as good as ours
    raise OSError(f"could not move the unpacked dataset into {target}")


def _move_aside(path: Path) -> None:
    trash = path.with_name(f".{path.name}{_OLD_TAG}{uuid.uuid4().hex[:8]}")
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def _sweep_stale(parent: Path) -> None:
    """Remove staging/trash folders left behind by fetches that were killed long ago."""
    now = time.time()
    for child in parent.iterdir():
        if not child.name.startswith(".") or not (
            _PARTIAL_TAG in child.name or _OLD_TAG in child.name
        ):
            continue
        with contextlib.suppress(OSError):
            if now - child.stat().st_mtime > _STALE_AFTER_S:
                shutil.rmtree(child, ignore_errors=True)
