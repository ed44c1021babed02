"""The data cache: where verified copies live, how they are staged and installed atomically.

A copy of a dataset lives in ``data_cache_dir()/<id>/<name>/`` (``<name>`` is chosen by the
source: ``<sha256[:12]>`` for a pinned archive or file, ``hf-<revision>`` for a hub copy). It is
built in a staging folder next to that path, verified (the source's checks, then every expected
file parsed and its record count and, when declared, its SHA-256 checked), marked complete (the
marker, a JSON manifest, is the last file written) and only then moved into place with one atomic
rename, so readers never see a partial copy and concurrent fetches cannot corrupt each other.

Sources (:mod:`trustgauge.data.sources`) use this module; it never imports them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trustgauge._paths import data_cache_dir
from trustgauge.data.records import SourceInfo, parse_records, record_count_error
from trustgauge.errors import DataError

#: Written last into a staged copy; its presence means the copy is complete.
MARKER_NAME = ".trustgauge-complete"

_PARTIAL_TAG = ".partial-"
_OLD_TAG = ".old-"
_STALE_AFTER_S = 24 * 3600
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class DataCache:
    """The folder verified copies are cached in (``data_cache_dir()`` by default).

    Attributes:
        root: The cache folder; each source gets ``root/<id>/``.
    """

    root: Path

    @classmethod
    def default(cls) -> DataCache:
        """The cache under ``$TRUSTGAUGE_HOME`` (read now, so tests can point it elsewhere)."""
        return cls(data_cache_dir())

    def folder(self, source_id: str, name: str) -> Path:
        """``root/<source_id>/<name>``: where one copy of a source lives."""
        return self.root / source_id / name


def safe_name(text: str, default: str) -> str:
    """``text`` usable as one folder name: characters other than letters, digits, ``.``, ``_``
    and ``-`` become ``-``; leading/trailing ``.``/``-`` are dropped; ``default`` if empty."""
    return _UNSAFE_NAME.sub("-", text).strip(".-") or default


@dataclass(frozen=True)
class CachedCopy:
    """A complete copy of a dataset in the cache.

    Attributes:
        origin: Where it came from: ``"github"`` (a pinned release archive), ``"hf"`` (a hub
            copy), ``"url"`` (a pinned file) or ``"package"`` (files shipped in the package).
        path: The folder holding the dataset's files.
        info: Its manifest (see :func:`read_copy_info`); empty if unreadable.
    """

    origin: str
    path: Path
    info: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def read_copy_info(folder: Path) -> dict[str, Any] | None:
    """Return the manifest of a cached copy: where it came from and what it holds.

    Keys: ``id``, ``origin`` (``"github"`` or ``"hf"``, ``"url"`` for a pinned file),
    ``fetched_at``, ``files`` (``relpath -> {"sha256", "records"}``); for ``github`` also
    ``url``, ``sha256`` (of the archive) and ``size_bytes``; for ``hf`` also ``repo``,
    ``revision``, ``commit`` and ``endpoint``. Copies fetched by older versions may lack some
    keys.

    Args:
        folder: A folder returned by a fetch or found in the cache (any other folder, e.g. a
            ``--data-dir``, has no manifest).

    Returns:
        The manifest, or ``None`` when the folder has none or it is unreadable.
    """
    try:
        info = json.loads((Path(folder) / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def is_complete(path: Path, source: SourceInfo) -> bool:
    """Whether ``path`` holds a complete copy: the marker and every expected file."""
    if not (path / MARKER_NAME).is_file():
        return False
    return all((path / relpath).is_file() for relpath in source.files)


def complete_copy(origin: str, path: Path, source: SourceInfo) -> CachedCopy | None:
    """The :class:`CachedCopy` at ``path`` if it is complete, else ``None``."""
    if not is_complete(path, source):
        return None
    return CachedCopy(origin, path, read_copy_info(path) or {})


def cache_error(source: SourceInfo, parent: Path, exc: OSError) -> DataError:
    """The one-line error for a cache folder that cannot be written."""
    reason = " ".join(str(exc).split())
    return DataError(
        f"cannot write the {source.id} dataset into the data cache {parent}: {reason}; "
        f"set TRUSTGAUGE_HOME to a writable folder or pass --data-dir <unpacked folder>"
    )


@contextlib.contextmanager
def staging_dir(target: Path, source: SourceInfo) -> Iterator[Path]:
    """A fresh staging folder beside ``target`` (stale ones swept first) where a copy is built
    before :func:`install` moves it into place; removed afterwards, whatever happens. An
    OSError while making or using it is reported as a cache error (DataError)."""
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _sweep_stale(parent)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{_PARTIAL_TAG}", dir=parent))
    except OSError as exc:
        raise cache_error(source, parent, exc) from exc
    try:
        yield staging
    except OSError as exc:
        raise cache_error(source, parent, exc) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def verify_files(folder: Path, source: SourceInfo, where: str) -> dict[str, dict[str, Any]]:
    """Parse every expected file of a staged copy and check its record count (and its SHA-256
    when the source declares one).

    Returns ``relpath -> {"sha256", "records"}``; raises DataError naming ``where`` (the copy)
    and the file on a malformed file, a count that differs from the registry or a checksum
    mismatch.
    """
    files: dict[str, dict[str, Any]] = {}
    for relpath, expected in source.files.items():
        path = folder.joinpath(*relpath.split("/"))
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise DataError(f"{where}: cannot read {relpath}: {exc.strerror or exc}") from exc
        sha256 = hashlib.sha256(raw).hexdigest()
        wanted = source.checksums.get(relpath)
        if wanted is not None and wanted != sha256:
            raise DataError(
                f"checksum mismatch for {where}: {relpath}: expected sha256 {wanted}, got "
                f"{sha256}; nothing was cached"
            )
        records = parse_records(raw, f"{where}: {relpath}")
        if len(records) != expected:
            raise DataError(
                record_count_error(source, f"{where}: {relpath}", len(records), expected)
                + "; nothing was cached"
            )
        files[relpath] = {"sha256": sha256, "records": len(records)}
    return files


def write_marker(
    folder: Path,
    source: SourceInfo,
    origin_info: dict[str, Any],
    files: dict[str, dict[str, Any]],
) -> None:
    """Write the manifest that marks a staged copy complete (the last file written)."""
    info = {
        "id": source.id,
        **origin_info,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": files,
    }
    (folder / MARKER_NAME).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def install(staged: Path, target: Path, source: SourceInfo, *, replace: bool) -> None:
    """Atomically move a complete staged copy to ``target``.

    If another process installed a complete copy first, keep theirs (same checksum, same
    bytes). An incomplete folder in the way (a leftover, or the old copy when ``replace``) is
    moved aside and removed.
    """
    for _attempt in range(5):
        if replace or (target.exists() and not is_complete(target, source)):
            _move_aside(target)
            replace = False
        try:
            os.rename(staged, target)
            return
        except OSError:
            if not target.exists():
                raise
            if is_complete(target, source):
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
