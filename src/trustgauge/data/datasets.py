"""The dataset API by id: fetch into the cache, find cached copies, resolve the folder a run
reads, and load record files with their count checked against the registered source.

The top of ``trustgauge.data``: it uses the registry (:mod:`trustgauge.data.sources`), the cache
and the record reader; nothing in ``trustgauge.data`` imports it but the package facade and the
old-path shims (``fetch``, ``hub``, ``loader``).
"""

from __future__ import annotations

import os
from collections.abc import Sized
from pathlib import Path
from typing import Any

from trustgauge.data.cache import CachedCopy, DataCache
from trustgauge.data.records import read_records, record_count_error
from trustgauge.data.sources import DataSource, HFDataset, get_source
from trustgauge.errors import DataError

#: an unpacked copy of the release to use when no data dir is given (as ``--data-dir``)
DATA_DIR_ENV = "TRUSTGAUGE_DATA_DIR"

#: where a copy comes from: the source itself (``github``, the CLI's default name for it), or
#: its Hugging Face mirror
ORIGINS = ("github", "hf")


def get_data_hint(source: DataSource) -> str:
    """The ways to get a dataset, as one clause for the end of an error message.

    Args:
        source: The dataset.

    Returns:
        E.g. "to get the data: run `trustgauge data fetch trustllm` once online, ...".
    """
    return source.data_hint()


def dataset_cache_path(source_id: str) -> Path:
    """Return where the verified copy of a dataset lives (whether or not it was fetched yet).

    Args:
        source_id: A registered dataset id.

    Returns:
        ``data_cache_dir()/<id>/<sha256[:12]>`` for a pinned source.

    Raises:
        DataError: The id is unknown.
    """
    return get_source(source_id).cache_path(DataCache.default())


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
    mirror = source.hf_mirror()
    hub = mirror if isinstance(mirror, HFDataset) else HFDataset(id=source.id, repo="")
    return hub.cache_path(DataCache.default(), revision)


def cached_copies(source_id: str) -> list[CachedCopy]:
    """Return every complete cached copy of a dataset, the preferred one first.

    The pinned release comes first; hub copies follow, the most recently fetched first.

    Args:
        source_id: A registered dataset id.

    Returns:
        The copies (possibly none).

    Raises:
        DataError: The id is unknown.
    """
    return get_source(source_id).cached_copies(DataCache.default())


def cached_dataset(source_id: str) -> Path | None:
    """Return the complete cached copy of a dataset, or ``None`` when it was not fetched yet.

    The pinned release is preferred; without it, the most recently fetched copy from the
    Hugging Face hub (``trustgauge data fetch ID --from hf``) is returned.

    Args:
        source_id: A registered dataset id.

    Returns:
        The folder of the complete copy, or ``None``.

    Raises:
        DataError: The id is unknown.
    """
    copies = cached_copies(source_id)
    return copies[0].path if copies else None


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
        origin: ``"github"``: the source itself (for TrustLLM the pinned release archive,
            checksum-verified); ``"hf"``: the dataset's Hugging Face copy (possibly gated: the
            token comes from ``HF_TOKEN`` or the user's hub login), each file's record count
            verified.
        revision: For ``origin="hf"``: the hub branch, tag or commit (default ``main``).

    Returns:
        The folder holding the dataset's files (``<dimension>/<file>.json`` for TrustLLM).

    Raises:
        DataError: Unknown id or origin; the download failed (the message names the URL and
            says how else to get the data); the archive fails its checksum or is malformed; a
            file's record count differs from the registry; the cache is not writable. Nothing
            partial is left in the cache.
    """
    if origin not in ORIGINS:
        raise DataError(f"unknown data origin {origin!r} (known: {', '.join(ORIGINS)})")
    source = get_source(source_id)
    if origin == "hf":
        mirror = source.hf_mirror()
        if mirror is None:
            raise DataError(
                f"the {source.id} dataset has no Hugging Face copy; run `trustgauge data fetch "
                f"{source.id}` (the pinned release) or pass --data-dir DIR"
            )
        source = mirror
    return source.fetch(DataCache.default(), force=force, progress=progress, revision=revision)


def fetch_from_hub(
    source_id: str,
    *,
    revision: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Download a dataset's Hugging Face copy, verify it and cache it
    (``fetch_dataset(source_id, origin="hf", ...)``)."""
    return fetch_dataset(source_id, origin="hf", revision=revision, force=force, progress=progress)


# --------------------------------------------------------------------------- resolve


def _missing_file(root: Path, source: DataSource) -> str | None:
    for relpath in source.files:
        if not root.joinpath(*relpath.split("/")).is_file():
            return relpath
    return None


def resolve_data_dir(
    source_id: str,
    data_dir: Path | None,
    *,
    auto_fetch: bool = True,
    progress: bool = True,
) -> Path:
    """Return the folder holding a dataset's ``<dimension>/<file>.json`` files.

    A dataset shipped inside a package (a :class:`~trustgauge.data.sources.PackageFiles`
    source) is always read from there: ``data_dir`` and ``$TRUSTGAUGE_DATA_DIR`` name a copy of
    a downloaded release. Otherwise, in order: ``data_dir``; else the folder named by
    ``$TRUSTGAUGE_DATA_DIR``; else the cached
    copy (the pinned GitHub release, or else one fetched with ``--from hf``); else the pinned
    release is downloaded (``auto_fetch``). A full release is never replaced by something
    smaller: when none of these works, the error says how to get the data.

    Only the files' presence is checked here; their record counts are checked as each file is
    read (:func:`check_record_count`, or :func:`load_records` with ``source_id``).

    Args:
        source_id: A registered dataset id, e.g. ``"trustllm"``.
        data_dir: A user-supplied unpacked copy (``--data-dir``), or ``None`` to use
            ``$TRUSTGAUGE_DATA_DIR`` or the cache. A folder holding the archive's top-level
            folder (e.g. ``dataset/`` for TrustLLM, as left by unzipping the release by hand) is
            accepted too.
        auto_fetch: When no folder is given and nothing is cached, download the dataset
            (otherwise raise).
        progress: Show a download progress bar on a terminal.

    Returns:
        The folder to read files from.

    Raises:
        DataError: The given folder (the message says if it came from
            ``TRUSTGAUGE_DATA_DIR``) does not exist or lacks an expected file (the message names
            the first missing one); nothing is cached and ``auto_fetch`` is false; or the
            download fails. Each message says how to get the data.
    """
    source = get_source(source_id)
    if source.origin == "package":
        # shipped inside the package (Liu et al.'s frozen prompt sets, a plugin's files):
        # --data-dir and $TRUSTGAUGE_DATA_DIR name a copy of the downloaded release, not these
        cached = cached_dataset(source_id)
        if cached is None:
            raise DataError(f"the {source.display_name} files ({source.id}) are missing from their package")
        return cached
    origin = ""
    if data_dir is None:
        env = os.environ.get(DATA_DIR_ENV, "").strip()
        if env:
            data_dir, origin = Path(env), f" (from {DATA_DIR_ENV})"
    if data_dir is not None:
        return _check_data_dir(source, Path(data_dir).expanduser(), origin)

    cached = cached_dataset(source_id)
    if cached is not None:
        return cached
    if not auto_fetch:
        raise DataError(
            f"the {source.display_name} dataset ({source.id}) is not downloaded yet; "
            f"{get_data_hint(source)}"
        )
    return fetch_dataset(source_id, progress=progress)


def _check_data_dir(source: DataSource, root: Path, origin: str) -> Path:
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise DataError(f"data dir {root}{origin} {what}")
    missing = _missing_file(root, source)
    if missing is None:
        return root
    if source.archive_root is not None:
        nested = root / source.archive_root
        if nested.is_dir() and _missing_file(nested, source) is None:
            return nested
    raise DataError(
        f"data dir {root}{origin} lacks {missing}: expected the unpacked {source.id} release laid "
        f"out as {source.layout_hint} ({len(source.files)} files)"
    )


# --------------------------------------------------------------------------- load


def check_record_count(
    source_id: str, relpath: str, records: Sized | int, *, root: Path | None = None
) -> None:
    """Check that a file of a full dataset copy holds as many records as the pinned release.

    Call it for files read from ``--data-dir``, ``$TRUSTGAUGE_DATA_DIR`` or the cache, never
    for the deliberately smaller packaged samples (the demo / quick suite).

    Args:
        source_id: A registered dataset id, e.g. ``"trustllm"``.
        relpath: The file, ``/``-separated below the dataset folder, e.g.
            ``"safety/jailbreak.json"``. Files the registry does not list are not checked.
        records: The file's records (anything with a length) or their number.
        root: The dataset folder, so the message names the full path.

    Raises:
        DataError: The count differs; one line naming the file, the count found and expected.
    """
    source = get_source(source_id)
    expected = source.files.get(relpath)
    if expected is None:
        return
    found = records if isinstance(records, int) else len(records)
    if found != expected:
        where = str(Path(root).joinpath(*relpath.split("/"))) if root is not None else relpath
        raise DataError(record_count_error(source, where, found, expected))


def load_records(
    root: Path, relpath: str, *, source_id: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Read one JSON file that must hold a list of objects.

    Args:
        root: The dataset folder (see :func:`resolve_data_dir`).
        relpath: ``/``-separated path below ``root``, e.g. ``"safety/jailbreak.json"``.
        source_id: When given, also check the record count against this dataset's registry
            entry (:func:`check_record_count`). Leave it out for the packaged samples.

    Returns:
        The records and the SHA-256 (lowercase hex) of the file's bytes.

    Raises:
        DataError: The file is missing or unreadable, is not valid JSON (the message gives
            the line and column), is not a list of JSON objects (the message names the
            record), or (with ``source_id``) holds another number of records than the release.
    """
    data, sha256 = read_records(root, relpath)
    if source_id is not None:
        parts = relpath.replace("\\", "/").split("/")
        check_record_count(source_id, "/".join(parts), data, root=Path(root))
    return data, sha256
