"""A Hugging Face *dataset* repository as a source (possibly gated), and the hub mirror of a
pinned release (``trustgauge data fetch ID --from hf``).

The repository is downloaded with ``huggingface_hub`` at one commit into a staging folder; each
expected file is located by its relative path (the hub copy may put the files under a folder; a
unique basename also counts), parsed, and its record count (and SHA-256, when declared) checked.
No archive checksum exists for a hub copy, so the per-file SHA-256s are recorded in the copy's
manifest (:func:`trustgauge.data.cache.read_copy_info`). The verified copy is then installed into
``data_cache_dir()/<id>/hf-<revision>/`` with one atomic rename.

The token is ``huggingface_hub``'s: ``HF_TOKEN``, else the user's hub login. It is never
printed or written anywhere by trustgauge. ``HF_ENDPOINT`` is honoured (read when fetching).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from trustgauge.data.cache import (
    MARKER_NAME as _MARKER,
)
from trustgauge.data.cache import (
    CachedCopy,
    DataCache,
    complete_copy,
    install,
    is_complete,
    safe_name,
    staging_dir,
    verify_files,
    write_marker,
)
from trustgauge.data.download import DOWNLOAD_POLICY
from trustgauge.data.sources.base import DataSource
from trustgauge.errors import DataError
from trustgauge.net.http import classify_status, is_transport_error
from trustgauge.net.retry import Permanent, Transient, retry_sync

_DEFAULT_ENDPOINT = "https://huggingface.co"
_DEFAULT_TIMEOUT_S = 10.0
#: folders huggingface_hub itself writes into a ``local_dir`` download
_HUB_METADATA_DIRS = frozenset({".cache", ".huggingface"})
_HF_PREFIX = "hf-"
_COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True, kw_only=True)
class HFDataset(DataSource):
    """A Hugging Face dataset repository holding :attr:`files`.

    Attributes:
        repo: The dataset repository, ``owner/name``.
        revision: The branch, tag or commit fetched by default (``None``: ``main``); the
            commit it resolves to is recorded in the copy's manifest.
        gated: Whether users must accept terms on the dataset page (and send a token).
        primary: When this is the hub mirror of another source (a pinned release): that
            source, whose id, cache folder and hints it shares.
    """

    repo: str
    revision: str | None = None
    gated: bool = False
    primary: DataSource | None = field(default=None, compare=False, hash=False, repr=False)

    origin: ClassVar[str] = "hf"

    @property
    def hf_url(self) -> str:
        """The web page of :attr:`repo` (where its terms are accepted)."""
        return f"https://huggingface.co/datasets/{self.repo}"

    @property
    def archive_root(self) -> str | None:
        return self.primary.archive_root if self.primary is not None else None

    def hf_mirror(self) -> DataSource | None:
        return self

    def data_hint(self) -> str:
        return self.primary.data_hint() if self.primary is not None else super().data_hint()

    def alternative(self) -> str:
        """What to try when the hub copy cannot be had (the end of hub error messages)."""
        if self.primary is not None:
            return (
                f"or fetch the pinned release from GitHub instead: `trustgauge data fetch "
                f"{self.id}`"
            )
        return "or pass --data-dir DIR with a copy of its files"

    def cache_path(self, cache: DataCache, revision: str | None = None) -> Path:
        """``<cache>/<id>/hf-<revision>`` (characters other than letters, digits, ``.``,
        ``_`` and ``-`` in the revision become ``-``)."""
        name = safe_name(revision or self.revision or "main", "main")
        return cache.folder(self.id, f"{_HF_PREFIX}{name}")

    def cached_copies(self, cache: DataCache) -> list[CachedCopy]:
        """Every complete hub copy (any revision), the most recently fetched first."""
        hub: list[tuple[float, CachedCopy]] = []
        with contextlib.suppress(OSError):
            for child in (cache.root / self.id).iterdir():
                if not child.name.startswith(_HF_PREFIX):
                    continue
                copy = complete_copy(self.origin, child, self)
                if copy is not None:
                    with contextlib.suppress(OSError):
                        hub.append((child.joinpath(_MARKER).stat().st_mtime, copy))
        return [copy for _, copy in sorted(hub, key=lambda item: -item[0])]

    def listing(self) -> dict[str, Any]:
        return {**super().listing(), "url": self.hf_url, "hf_repo": self.repo, "hf_url": self.hf_url}

    def fetch(
        self,
        cache: DataCache | None = None,
        *,
        force: bool = False,
        progress: bool = True,
        revision: str | None = None,
    ) -> Path:
        """Download the repository at ``revision`` (default :attr:`revision`, else ``main``),
        verify it and cache it.

        Raises:
            DataError: One line: huggingface_hub is missing; the hub cannot be reached, or is
                asked for offline (``HF_HUB_OFFLINE``); the repo is gated and no token (or one
                without access) was found (the message says to accept the terms on the dataset
                page and set ``HF_TOKEN`` or log in); the repo or revision does not exist; the
                copy lacks an expected file, holds a malformed one, or one whose record count
                differs from :attr:`files`. Nothing partial is left in the cache.
        """
        cache = cache or DataCache.default()
        revision = revision if revision is not None else self.revision
        repo = self.repo
        target = self.cache_path(cache, revision)
        if not force and is_complete(target, self):
            return target

        try:
            import huggingface_hub  # noqa: F401 - only to fail early with a clear message
        except ImportError:  # pragma: no cover - huggingface_hub is a core dependency
            raise DataError(
                "fetching from the Hugging Face hub needs huggingface_hub: pip install "
                f"huggingface_hub; {self.alternative()}"
            ) from None

        endpoint = _endpoint()
        _register_token()
        if _offline():
            raise DataError(
                f"cannot fetch {repo} from the Hugging Face hub: HF_HUB_OFFLINE is set; "
                f"{self.data_hint()}"
            )

        with staging_dir(target, self) as staging:
            download = staging / "hub"
            commit = _download(self, repo, revision, endpoint, download, progress)
            where = f"the Hugging Face copy {repo}@{commit[:12]}"
            unpacked = staging / "unpacked"
            _arrange(download, unpacked, self, where)
            files = verify_files(unpacked, self, where)
            info: dict[str, Any] = {
                "origin": "hf",
                "repo": repo,
                "revision": revision or "main",
                "commit": commit,
                "endpoint": _without_userinfo(endpoint),
            }
            write_marker(unpacked, self, info, files)
            install(unpacked, target, self, replace=force)
        return target


# --------------------------------------------------------------------------- download


def _endpoint() -> str:
    """``$HF_ENDPOINT`` read now (huggingface_hub reads it once, at import), else its default."""
    env = os.environ.get("HF_ENDPOINT", "").strip()
    if env:
        return env.rstrip("/")
    try:
        from huggingface_hub import constants

        return str(constants.ENDPOINT).rstrip("/")
    except (ImportError, AttributeError):  # pragma: no cover - very old huggingface_hub
        return _DEFAULT_ENDPOINT


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(getattr(constants, "HF_HUB_OFFLINE", False)) or any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _timeout() -> float:
    try:
        value = float(os.environ.get("HF_HUB_ETAG_TIMEOUT") or _DEFAULT_TIMEOUT_S)
    except ValueError:
        return _DEFAULT_TIMEOUT_S
    return value if value > 0 else _DEFAULT_TIMEOUT_S


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _download(
    source: HFDataset,
    repo: str,
    revision: str | None,
    endpoint: str,
    dest: Path,
    progress: bool,
) -> str:
    """Resolve the revision to a commit (with a timeout) and download the wanted files of it
    into ``dest``; return the commit. Hub errors become one-line DataErrors."""
    from huggingface_hub import HfApi, snapshot_download

    timeout = _timeout()
    # only the files we need, wherever the repo keeps them (fnmatch's * also matches "/")
    patterns = sorted({"*" + relpath.rsplit("/", 1)[-1] for relpath in source.files})
    failures: list[Exception] = []

    def attempt(_n: int) -> str:
        info = HfApi(endpoint=endpoint).dataset_info(
            repo, revision=revision or "main", timeout=timeout
        )
        commit = str(info.sha or "")
        if not commit:
            raise DataError(f"the hub at {endpoint} gave no commit for {repo}")
        if not _COMMIT.fullmatch(commit):
            # it names folders and files of huggingface_hub's: a hex id, nothing else
            raise DataError(
                f"the hub at {endpoint} gave {repo} a malformed commit id {commit[:80]!r} "
                f"(expected 40 hex digits); {source.data_hint()}"
            )
        with _progress_bars(progress and sys.stderr.isatty()):
            # a retry downloads into the same folder: huggingface_hub skips the files it
            # finished and resumes the one it did not; every file is verified afterwards
            snapshot_download(
                repo,
                repo_type="dataset",
                revision=commit,
                local_dir=str(dest),
                allow_patterns=patterns,
                endpoint=endpoint,
                etag_timeout=timeout,
            )
        return commit

    def classify(exc: Exception) -> Transient | Permanent:
        failures[:] = [exc]
        return _classify_hub_error(exc)

    outcome = retry_sync(attempt, classify, DOWNLOAD_POLICY)
    if outcome.value is not None:
        return outcome.value
    exc = failures[0]
    if isinstance(exc, DataError):
        raise exc
    raise _hub_error(source, repo, revision, endpoint, exc, timeout) from None


def _classify_hub_error(exc: Exception) -> Transient | Permanent:
    """Timeouts, failed connections and 408/429/5xx answers are worth another attempt; a gated,
    missing or offline repo, another status or anything else is not."""
    errors = list(_chain(exc))
    permanent = ("GatedRepoError", "RevisionNotFoundError", "RepositoryNotFoundError",
                 "EntryNotFoundError", "OfflineModeIsEnabled")
    if isinstance(exc, DataError) or any(_is_a(e, name) for e in errors for name in permanent):
        return Permanent(str(exc))
    status = next((s for s in map(_status, errors) if s is not None), None)
    if status is not None:
        response = next(getattr(e, "response", None) for e in errors if _status(e) is not None)
        return classify_status(status, f"HTTP {status}", getattr(response, "headers", None))
    if any(is_transport_error(e) for e in errors):
        return Transient(type(exc).__name__)
    return Permanent(type(exc).__name__)


@contextlib.contextmanager
def _progress_bars(show: bool) -> Iterator[None]:
    """huggingface_hub's tqdm bars only when asked for (they are global state there)."""
    import huggingface_hub.utils as hf_utils

    disable = getattr(hf_utils, "disable_progress_bars", None)
    enable = getattr(hf_utils, "enable_progress_bars", None)
    disabled = getattr(hf_utils, "are_progress_bars_disabled", None)
    if show or disable is None or enable is None or (disabled is not None and disabled()):
        yield
        return
    disable()
    try:
        yield
    finally:
        enable()


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_a(exc: BaseException, name: str) -> bool:
    """Whether ``exc`` is a huggingface_hub error of this class name (its module moved across
    versions: ``huggingface_hub.utils`` before 0.23, ``huggingface_hub.errors`` since)."""
    return any(cls.__name__ == name for cls in type(exc).__mro__)


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _register_token() -> None:
    """Register the token huggingface_hub will send (``HF_TOKEN`` or the user's hub login) and
    the endpoint's credentials for redaction, before the first request."""
    from trustgauge._secrets import register_secret, register_url

    register_url(os.environ.get("HF_ENDPOINT"))
    try:
        from huggingface_hub import get_token

        register_secret(get_token())
    except Exception:  # no token, or an old huggingface_hub: nothing to register
        return


def _has_token() -> bool:
    """Whether huggingface_hub will send a token (never the token itself)."""
    try:
        from huggingface_hub import get_token

        return bool(get_token())
    except Exception:
        return False


def _hub_error(
    source: HFDataset,
    repo: str,
    revision: str | None,
    endpoint: str,
    exc: BaseException,
    timeout: float,
) -> DataError:
    github = source.alternative()
    errors = list(_chain(exc))
    gated = next(
        (e for e in errors if _is_a(e, "GatedRepoError") or _status(e) in (401, 403)), None
    )
    if gated is not None:
        status = _status(gated)
        token = (
            "the Hugging Face token found has no access to it"
            if _has_token()
            else "no Hugging Face token was found"
        )
        gated_or_private = "gated" if source.gated else "gated or private"
        return DataError(
            f"cannot download {repo}: the Hugging Face copy of {source.display_name} is "
            f"{gated_or_private} and "
            f"{token}{f' (HTTP {status})' if status else ''}; accept its terms on "
            f"{source.hf_url} while logged in, then set HF_TOKEN or run `huggingface-cli login` "
            f"(`hf auth login` in recent huggingface_hub); {github}"
        )
    for e in errors:
        if isinstance(e, ValueError) and str(e).startswith("Invalid filename"):
            # huggingface_hub refused a name that would land outside the folder ('..', absolute)
            why = " ".join(str(e).split(". ")[0].split())[:300]
            return DataError(
                f"refusing the Hugging Face copy {repo}: {why}; nothing was cached; {github}"
            )
        if _is_a(e, "RevisionNotFoundError"):
            return DataError(
                f"{repo} has no revision {revision or 'main'!r} on {endpoint}; {github}"
            )
        if _is_a(e, "RepositoryNotFoundError"):
            return DataError(f"dataset repo {repo} not found on {endpoint}; {github}")
        if _is_a(e, "OfflineModeIsEnabled"):
            return DataError(
                f"cannot fetch {repo}: HF_HUB_OFFLINE is set; {source.data_hint()}"
            )
    for e in errors:
        name = type(e).__name__
        if "Timeout" in name:
            return DataError(
                f"no answer from {endpoint} within {timeout:g} s while fetching {repo}; "
                f"{source.data_hint()}"
            )
        if "Connect" in name or "Proxy" in name or isinstance(e, ConnectionError):
            return DataError(
                f"cannot reach the Hugging Face hub at {endpoint} ({name}) to fetch {repo}; "
                f"{source.data_hint()}"
            )
    status = next((s for s in map(_status, errors) if s is not None), None)
    why = f"HTTP {status}" if status is not None else type(exc).__name__
    return DataError(f"could not download {repo} from {endpoint} ({why}); {source.data_hint()}")


# --------------------------------------------------------------------------- layout


def _arrange(download: Path, dest: Path, source: HFDataset, where: str) -> None:
    """Move each expected file from the hub layout into ``dest/<dimension>/<file>.json``.

    The names come from the hub: huggingface_hub refuses a ``..`` or absolute file name
    before writing it; here a symbolic link (to a file or a folder) anywhere in the download,
    or a file that resolves outside it, is refused too, so nothing outside the staging folder
    is read into the cache."""
    found: dict[str, Path] = {}
    if download.is_dir():
        root = download.resolve()
        for path in download.rglob("*"):
            rel = path.relative_to(download)
            if set(rel.parts[:-1]) & _HUB_METADATA_DIRS or rel.parts[0] in _HUB_METADATA_DIRS:
                continue
            if path.is_symlink() or not path.resolve().is_relative_to(root):
                raise DataError(
                    f"{where} holds a symbolic link or a path outside its folder "
                    f"({rel.as_posix()!r}); refusing it; nothing was cached"
                )
            if path.suffix == ".json" and path.is_file():
                found[rel.as_posix()] = path
    dest.mkdir()
    missing: list[str] = []
    for relpath in source.files:
        located = _locate(relpath, found, where)
        if located is None:
            missing.append(relpath)
            continue
        out = dest.joinpath(*relpath.split("/"))
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(located), str(out))
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        present = len(source.files) - len(missing)
        instead = (
            f"fetch the pinned release from GitHub instead (`trustgauge data fetch {source.id}`) "
            f"or pass --data-dir DIR" if source.primary is not None else "pass --data-dir DIR"
        )
        raise DataError(
            f"{where} lacks {missing[0]}{more}: found {present} of the {len(source.files)} "
            f"expected files; {instead}; nothing was cached"
        )


def _locate(relpath: str, found: dict[str, Path], where: str) -> Path | None:
    """The downloaded file for ``relpath``: the same relative path, else one ending in
    ``/<relpath>``, else the only file with its basename."""
    if relpath in found:
        return found[relpath]
    suffix = [name for name in found if name.endswith("/" + relpath)]
    if not suffix:
        base = relpath.rsplit("/", 1)[-1]
        suffix = [name for name in found if name.rsplit("/", 1)[-1] == base]
    if len(suffix) > 1:
        raise DataError(
            f"{where} holds several candidates for {relpath} ({', '.join(sorted(suffix))}); "
            f"pass --data-dir DIR with the intended copy; nothing was cached"
        )
    return found[suffix[0]] if suffix else None
