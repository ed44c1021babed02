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
#: an archive may unpack to at most this many times its own size (or :data:`_UNPACKED_FLOOR`,
#: whichever is larger) unless its source says otherwise; JSON releases compress ~5-10x (the
#: TrustLLM release: 7.3x overall, 68x for its most repetitive file), a zip bomb ~1000x
_MAX_RATIO = 200
_UNPACKED_FLOOR = 256 << 20
#: member types other than these (symbolic links, devices, FIFOs, sockets) are refused
_PLAIN_TYPES = (0, stat.S_IFREG, stat.S_IFDIR)


@dataclass(frozen=True, kw_only=True)
class GithubReleaseZip(PinnedDownload):
    """A zip archive pinned by URL, size and SHA-256, laid out as :attr:`files` below
    :attr:`archive_root`.

    The archive is verified before it is unpacked; unsafe members are refused even when the
    checksum matches (absolute, drive or UNC paths, ``..`` with either slash, symbolic links
    and other non-regular members, names given twice, a file where a folder is, an archive
    that would unpack to more than ``max_unpacked_bytes``), OS junk (``__MACOSX``,
    ``.DS_Store``, ``._*``) is skipped, and every expected file must be present with its record
    count.

    Attributes:
        archive_root: Top-level folder inside the archive whose contents form the layout, or
            ``None`` when the members are already laid out at the archive root.
        hf_repo: A Hugging Face *dataset* repository holding the same files (gated), fetched
            with ``--from hf`` (see :meth:`hf_mirror`), or ``None``.
        max_unpacked_bytes: The most the archive may unpack to (the sum of its members' sizes);
            ``None``: 200 times :attr:`size_bytes`, at least 256 MiB (a zip bomb is refused
            before anything is written).
    """

    archive_root: str | None = None
    hf_repo: str | None = None
    max_unpacked_bytes: int | None = None

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
    if "\0" in name or any(ord(c) < 32 for c in name):
        raise _unsafe(source, name, "has a control character in its name")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _unsafe(source, name, "is a symbolic link")
    if stat.S_IFMT(mode) not in _PLAIN_TYPES:
        raise _unsafe(source, name, "is not a regular file or folder")
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


def _relative(filename: object, dest: Path) -> str:
    try:
        return Path(str(filename)).relative_to(dest).as_posix()
    except ValueError:
        return str(filename)


def _unpacked_limit(source: DataSource) -> int:
    limit = getattr(source, "max_unpacked_bytes", None)
    if isinstance(limit, int) and limit > 0:
        return limit
    size = getattr(source, "size_bytes", 0) or 0
    return max(_UNPACKED_FLOOR, _MAX_RATIO * int(size))


def unpack(archive: Path, dest: Path, source: DataSource) -> None:
    """Unpack a verified archive into ``dest`` as :attr:`DataSource.files` (below its
    ``archive_root``); DataError on an unsafe or malformed archive or a missing file.

    Every member is checked before the first byte is written (see :func:`_member_relpath`),
    and the declared sizes together must stay under the source's limit (zipfile never returns
    more than a member declares: the rest fails its CRC check). Files are created exclusively
    (``xb``), so a name given twice, or a file where a folder is, is refused rather than
    overwritten or followed."""
    import zipfile

    dest.mkdir()
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [(info, _member_relpath(source, info)) for info in zf.infolist()]
            total = sum(info.file_size for info, _ in members)
            limit = _unpacked_limit(source)
            if total > limit:
                raise DataError(
                    f"refusing to unpack the {source.id} archive: it would unpack to "
                    f"{total} bytes, more than the {limit} allowed for it (a zip bomb?)"
                )
            for info, relpath in members:
                if relpath is None or info.is_dir():
                    continue
                out_path = dest.joinpath(*relpath.split("/"))
                out_path.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out_path, "xb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise DataError(f"the {source.id} archive is not a valid zip: {exc}") from exc
    except (FileExistsError, IsADirectoryError, NotADirectoryError) as exc:
        where = _relative(exc.filename, dest)
        raise DataError(
            f"the {source.id} archive holds conflicting entries for {where}; "
            f"refusing to unpack"
        ) from exc
    for relpath in source.files:
        if not dest.joinpath(*relpath.split("/")).is_file():
            raise DataError(f"the {source.id} archive lacks {relpath}")
