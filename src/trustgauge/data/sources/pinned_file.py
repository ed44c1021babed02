"""One file at a pinned URL (size and SHA-256), cached as ``<cache>/<id>/<sha256[:12]>/<path>``."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from trustgauge._secrets import public_url
from trustgauge.data.cache import (
    CachedCopy,
    DataCache,
    complete_copy,
    install,
    is_complete,
    staging_dir,
    verify_files,
    write_marker,
)
from trustgauge.data.download import download
from trustgauge.data.sources.base import PinnedDownload
from trustgauge.errors import DataError


@dataclass(frozen=True, kw_only=True)
class PinnedFile(PinnedDownload):
    """A single file pinned by URL, size and SHA-256 (any format).

    Attributes:
        path: Its name inside the dataset folder (``/``-separated); empty means the last part
            of the URL's path. List it in :attr:`files` with its record count when it is a
            JSON list of records, so every fetch also checks the count.
    """

    path: str = ""

    origin: ClassVar[str] = "url"
    pinned_noun: ClassVar[str] = "file"

    def __post_init__(self) -> None:
        super().__post_init__()
        relpath = self.path or urlsplit(self.url).path.rsplit("/", 1)[-1]
        parts = relpath.replace("\\", "/").split("/")
        if not relpath or relpath.startswith("/") or ".." in parts or "" in parts:
            raise ValueError(f"{self.id}: bad file name {relpath!r} (give path=)")
        object.__setattr__(self, "path", relpath)
        extra = sorted(set(self.files) - {relpath})
        if extra:
            raise ValueError(f"{self.id}: files lists {extra}, but the pinned file is {relpath}")

    def _complete(self, folder: Path) -> bool:
        return is_complete(folder, self) and folder.joinpath(*self.path.split("/")).is_file()

    def cached_copies(self, cache: DataCache) -> list[CachedCopy]:
        folder = self.cache_path(cache)
        copy = complete_copy(self.origin, folder, self) if self._complete(folder) else None
        return [copy] if copy is not None else []

    def fetch(
        self,
        cache: DataCache | None = None,
        *,
        force: bool = False,
        progress: bool = True,
        revision: str | None = None,
    ) -> Path:
        """Download and verify the file into ``<cache>/<id>/<sha256[:12]>/``; return that
        folder."""
        self.refuse_revision(revision)
        cache = cache or DataCache.default()
        target = self.cache_path(cache)
        if not force and self._complete(target):
            return target

        with staging_dir(target, self) as staging:
            url = self.resolved_url()
            unpacked = staging / "unpacked"
            dest = unpacked.joinpath(*self.path.split("/"))
            dest.parent.mkdir(parents=True)
            download(
                self, url, dest, hint=self.data_hint(), noun="file",
                show_progress=progress and sys.stderr.isatty(),
            )
            where = f"the {self.display_name} file from {public_url(url)}"
            files = verify_files(unpacked, self, where)
            files.setdefault(self.path, {"sha256": self.sha256})
            info = {"origin": self.origin, "url": public_url(url), "sha256": self.sha256}
            write_marker(unpacked, self, {**info, "size_bytes": self.size_bytes}, files)
            install(unpacked, target, self, replace=force)
        if not self._complete(target):  # pragma: no cover - install guarantees it
            raise DataError(f"the {self.id} file is missing from {target} after install")
        return target
