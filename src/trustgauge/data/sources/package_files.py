"""Files shipped inside an installed Python package (no download; verified where they are)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from trustgauge.data.cache import CachedCopy, DataCache, verify_files
from trustgauge.data.records import package_resource
from trustgauge.data.sources.base import DataSource
from trustgauge.errors import DataError


@dataclass(frozen=True, kw_only=True)
class PackageFiles(DataSource):
    """A folder of data files inside a package, e.g. a benchmark's small sample.

    Attributes:
        package: The importable package holding the folder, e.g. ``"trustgauge.data"``.
        path: The folder, ``/``-separated below the package, e.g. ``"packaged/trustllm_quick"``.
    """

    package: str
    path: str

    origin: ClassVar[str] = "package"
    pinned_noun: ClassVar[str] = "packaged copy"

    def __post_init__(self) -> None:
        super().__post_init__()
        parts = self.path.replace("\\", "/").split("/")
        if not self.path or self.path.startswith("/") or ".." in parts:
            raise ValueError(f"{self.id}: bad package folder {self.path!r}")

    def _folder(self) -> Path | None:
        return package_resource(self.package, [p for p in self.path.split("/") if p])

    def listing(self) -> dict[str, Any]:
        return {**super().listing(), "url": f"package {self.package}: {self.path}/"}

    def folder(self) -> Path:
        """The folder inside the package.

        Raises:
            DataError: the package does not ship it."""
        folder = self._folder()
        if folder is None:
            raise DataError(f"package {self.package} ships no {self.path}/ (the {self.id} files)")
        return folder

    def cache_path(self, cache: DataCache) -> Path:
        """The folder inside the package (nothing is copied into the cache)."""
        return self.folder()

    def cached_copies(self, cache: DataCache) -> list[CachedCopy]:
        folder = self._folder()
        if folder is None or not all(
            folder.joinpath(*relpath.split("/")).is_file() for relpath in self.files
        ):
            return []
        return [CachedCopy(self.origin, folder, {"id": self.id, "origin": self.origin})]

    def fetch(
        self,
        cache: DataCache | None = None,
        *,
        force: bool = False,
        progress: bool = True,
        revision: str | None = None,
    ) -> Path:
        """Verify the shipped files (each present, its record count and declared SHA-256) and
        return their folder. ``cache``, ``force`` and ``progress`` do not apply."""
        self.refuse_revision(revision)
        folder = self.cache_path(cache or DataCache.default())
        verify_files(folder, self, f"the {self.id} files shipped in {self.package}/{self.path}")
        return folder
