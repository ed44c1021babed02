"""A pinned release archive (a zip at a fixed commit, e.g. on GitHub), checksum-verified and
unpacked into the cache; optionally with a Hugging Face mirror of the same files."""

from __future__ import annotations

import re
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from trustgauge._secrets import public_url
from trustgauge.data.cache import (
    DataCache,
    install,
    is_complete,
    staging_dir,
    verify_files,
    write_marker,
)
from trustgauge.data.download import download
from trustgauge.data.records import SourceInfo
from trustgauge.data.sources.base import DataSource, PinnedDownload
from trustgauge.data.sources.hf_dataset import HFDataset
from trustgauge.errors import DataError

if TYPE_CHECKING:
    import zipfile

_CHUNK = 1 << 16
_JUNK_DIRS = frozenset({"__MACOSX"})
_JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, kw_only=True)
class GithubReleaseZip(PinnedDownload):
    """A zip archive pinned by URL, size and SHA-256, laid out as :attr:`files` below
    :attr:`archive_root`.

    The archive is verified before it is unpacked; unsafe members (absolute paths, ``..``,
    symbolic links) are refused, OS junk (``__MACOSX``, ``.DS_Store``, ``._*``) is skipped, and
    every expected file must be present with its record count.

    Attributes:
        archive_root: Top-level folder inside the archive whose contents form the layout, or
            ``None`` when the members are already laid out at the archive root.
        hf_repo: A Hugging Face *dataset* repository holding the same files (gated), fetched
            with ``--from hf`` (see :meth:`hf_mirror`), or ``None``.
    """

    archive_root: str | None = None
    hf_repo: str | None = None

    origin: ClassVar[str] = "github"
    pinned_noun: ClassVar[str] = "release on GitHub"

    @property
    def hf_url(self) -> str | None:
        """The web page of :attr:`hf_repo` (where its terms are accepted), or ``None``."""
        return f"https://huggingface.co/datasets/{self.hf_repo}" if self.hf_repo else None

    def hf_mirror(self) -> HFDataset | None:
        """The gated hub copy of the same files, sharing this source's id, files and hints."""
        if not self.hf_repo:
            return None
        return HFDataset(
            id=self.id, description=self.description, files=self.files,
            checksums=self.checksums, licence=self.licence, homepage=self.homepage,
            name=self.name, licence_short=self.licence_short, layout_hint=self.layout_hint,
            offline_hint=self.offline_hint, repo=self.hf_repo, gated=True, primary=self,
        )

    def mirror_clause(self) -> str:
        if not self.hf_repo:
            return ""
        return (
            f", or `trustgauge data fetch {self.id} --from hf` (the gated Hugging Face copy "
            f"{self.hf_repo}, with HF_TOKEN)"
        )

    def listing(self) -> dict[str, Any]:
        return {**super().listing(), "hf_repo": self.hf_repo, "hf_url": self.hf_url}

    def fetch(
        self,
        cache: DataCache | None = None,
        *,
        force: bool = False,
        progress: bool = True,
        revision: str | None = None,
    ) -> Path:
        """Download, verify and unpack the archive into ``<cache>/<id>/<sha256[:12]>/``."""
        self.refuse_revision(revision)
        cache = cache or DataCache.default()
        target = self.cache_path(cache)
        if not force and is_complete(target, self):
            return target

        with staging_dir(target, self) as staging:
            url = self.resolved_url()
            archive = staging / "archive.zip"
            download(
                self, url, archive, hint=self.data_hint(),
                show_progress=progress and sys.stderr.isatty(),
            )
            unpacked = staging / "unpacked"
            unpack(archive, unpacked, self)
            # shown and saved without the URL's credentials (user:password, query values)
            where = f"the {self.display_name} archive from {public_url(url)}"
            files = verify_files(unpacked, self, where)
            info = {"origin": "github", "url": public_url(url), "sha256": self.sha256}
            write_marker(unpacked, self, {**info, "size_bytes": self.size_bytes}, files)
            install(unpacked, target, self, replace=force)
        return target


def _unsafe(source: SourceInfo, name: str, why: str) -> DataError:
    return DataError(f"refusing to unpack the {source.id} archive: member {name!r} {why}")


def _member_relpath(source: DataSource, info: zipfile.ZipInfo) -> str | None:
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


def unpack(archive: Path, dest: Path, source: DataSource) -> None:
    """Unpack a verified archive into ``dest`` as :attr:`DataSource.files` (below its
    ``archive_root``); DataError on an unsafe or malformed archive or a missing file."""
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
