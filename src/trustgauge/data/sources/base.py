"""What every dataset source declares, whatever its kind (zip, package files, hub, one file)."""

from __future__ import annotations

import abc
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from trustgauge.data.cache import CachedCopy, DataCache, complete_copy
from trustgauge.errors import DataError


@dataclass(frozen=True, kw_only=True)
class DataSource(abc.ABC):
    """A dataset trustgauge can get: what it is, what a complete copy holds, how to fetch it.

    Each kind (:class:`~trustgauge.data.sources.GithubReleaseZip`,
    :class:`~trustgauge.data.sources.PackageFiles`, :class:`~trustgauge.data.sources.HFDataset`,
    :class:`~trustgauge.data.sources.PinnedFile`) says where the bytes come from and how they
    are verified; a source is made known by :func:`~trustgauge.data.sources.register_source`
    (or the ``trustgauge.data_sources`` entry point group).

    Attributes:
        id: Short name used on the command line and as the cache folder name.
        description: One line saying what the dataset is.
        files: Relative path (``/``-separated) of each JSON record file a complete copy holds
            -> its expected number of records, in a stable order. Checked on every fetch.
        checksums: Optional relative path -> expected SHA-256 (lowercase hex) of that file,
            checked on every fetch.
        licence: Licence text: what may be done with the data, and its caveats.
        homepage: Where the dataset is published.
        name: Display name used in messages (defaults to :attr:`id`).
        licence_short: A few words naming the licences, for tables.
        layout_hint: How the files are laid out, for messages about a ``--data-dir``.
        offline_hint: A last clause for "how to get the data" messages (e.g. an offline
            alternative), or empty.
    """

    id: str
    description: str = ""
    files: Mapping[str, int] = field(default_factory=dict, hash=False)
    checksums: Mapping[str, str] = field(default_factory=dict, hash=False)
    licence: str = ""
    homepage: str = ""
    name: str = ""
    licence_short: str = ""
    layout_hint: str = "<dimension>/<file>.json"
    offline_hint: str = ""

    #: the ``origin`` of this kind's copies (cache manifests, ``trustgauge data list``)
    origin: ClassVar[str] = ""

    def __post_init__(self) -> None:
        # Freeze the mappings so a shared registry entry cannot be mutated by a caller.
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))
        object.__setattr__(self, "checksums", MappingProxyType(dict(self.checksums)))
        unknown = sorted(set(self.checksums) - set(self.files))
        if unknown:
            raise ValueError(f"{self.id}: checksums for files not listed in files: {unknown}")

    @property
    def display_name(self) -> str:
        """:attr:`name`, or :attr:`id` when no name is set."""
        return self.name or self.id

    @property
    def total_records(self) -> int:
        """Sum of the expected record counts of all files."""
        return sum(self.files.values())

    @property
    def archive_root(self) -> str | None:
        """A top-level folder a hand-unpacked copy may sit in (``None``: none)."""
        return None

    # ------------------------------------------------------------------ fetching

    @abc.abstractmethod
    def cache_path(self, cache: DataCache) -> Path:
        """Where this source's verified copy lives (fetched or not)."""

    @abc.abstractmethod
    def fetch(
        self,
        cache: DataCache | None = None,
        *,
        force: bool = False,
        progress: bool = True,
        revision: str | None = None,
    ) -> Path:
        """Get a verified copy into ``cache`` (default: the user's data cache) unless a
        complete one is there, and return the folder holding :attr:`files`.

        Args:
            cache: The cache; ``None`` means :meth:`DataCache.default`.
            force: Get it again even when a complete copy is cached.
            progress: Show a progress bar (only when stderr is a terminal).
            revision: For sources that have revisions (a hub repo); pinned kinds refuse one.

        Raises:
            DataError: One line: the download failed or the copy fails verification (its
                checksum, an expected file missing or with another record count); the cache
                is not writable. Nothing partial is left in the cache.
        """

    def cached_copies(self, cache: DataCache) -> list[CachedCopy]:
        """Every complete copy of this source in ``cache``, the preferred one first."""
        copy = complete_copy(self.origin, self.cache_path(cache), self)
        copies = [copy] if copy is not None else []
        mirror = self.hf_mirror()
        if mirror is not None and mirror is not self:
            copies.extend(mirror.cached_copies(cache))
        return copies

    def hf_mirror(self) -> DataSource | None:
        """The Hugging Face copy of the same files (``--from hf``), or ``None``."""
        return None

    def refuse_revision(self, revision: str | None) -> None:
        """Raise the one-line error for a revision given to a pinned source."""
        if revision is not None:
            raise DataError(
                f"the {self.id} {self.pinned_noun} is pinned; a revision applies to --from hf only"
            )

    pinned_noun: ClassVar[str] = "dataset"

    # ------------------------------------------------------------------ messages and listing

    def data_hint(self) -> str:
        """The ways to get this dataset, as one clause for the end of an error message."""
        tail = f"; {self.offline_hint}" if self.offline_hint else ""
        return (
            f"to get the data: run `trustgauge data fetch {self.id}` once online"
            f"{self.mirror_clause()}, or pass --data-dir DIR (or set TRUSTGAUGE_DATA_DIR) to an "
            f"unpacked copy of the release ({self.layout_hint}){tail}"
        )

    def mirror_clause(self) -> str:
        """``", or <how to get the mirror>"`` for :meth:`data_hint`, or empty."""
        return ""

    def listing(self) -> dict[str, Any]:
        """Where the bytes come from, as ``trustgauge data list`` shows it: ``url``,
        ``url_override``, ``sha256``, ``size_bytes``, ``hf_repo``, ``hf_url`` (``None`` when
        the kind has no such thing)."""
        return {
            "url": None, "url_override": None, "sha256": None, "size_bytes": None,
            "hf_repo": None, "hf_url": None,
        }


@dataclass(frozen=True, kw_only=True)
class PinnedDownload(DataSource):
    """A source whose bytes are one immutable file at a URL, pinned by size and SHA-256.

    The URL may be overridden by ``TRUSTGAUGE_<ID>_URL`` (a mirror, a ``file://`` URL or a
    plain path to a local copy); the checksum is still enforced.

    Attributes:
        url: Pinned download URL.
        sha256: Expected SHA-256 of the file, lowercase hex.
        size_bytes: Expected size of the file in bytes.
    """

    url: str
    sha256: str
    size_bytes: int

    @property
    def url_env_var(self) -> str:
        """Name of the environment variable that overrides :attr:`url`."""
        return f"TRUSTGAUGE_{self.id.upper().replace('-', '_')}_URL"

    def resolved_url(self) -> str:
        """Return the download URL, honouring the ``TRUSTGAUGE_<ID>_URL`` override.

        Returns:
            The override when the environment variable is set and non-empty, else :attr:`url`.
        """
        override = os.environ.get(self.url_env_var, "").strip()
        if override:
            from trustgauge._secrets import register_url

            register_url(override)  # its user:password or ?token= never reach a file or a line
        return override or self.url

    def cache_path(self, cache: DataCache) -> Path:
        """``<cache>/<id>/<sha256[:12]>``."""
        return cache.folder(self.id, self.sha256[:12])

    def listing(self) -> dict[str, Any]:
        from trustgauge._secrets import public_url

        resolved = self.resolved_url()
        return {
            **super().listing(),
            "url": self.url,
            "url_override": public_url(resolved) if resolved != self.url else None,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
        }
