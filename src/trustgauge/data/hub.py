"""Fetch a dataset's copy from the Hugging Face hub (``trustgauge data fetch ID --from hf``).

The alternative to the pinned release archive for users who can reach the hub but not GitHub.
The repository (:attr:`DatasetSource.hf_repo`, a *dataset* repo, possibly gated) is downloaded
with ``huggingface_hub`` at one commit into a staging folder; each expected
``<dimension>/<file>.json`` is located by its relative path (the hub copy may put the files
under a folder; a unique basename also counts), parsed, and its record count checked against the
registry. No archive checksum exists for the hub copy, so the per-file SHA-256s are recorded in
the copy's manifest (:func:`trustgauge.data.fetch.read_copy_info`). The verified copy is then
installed into ``data_cache_dir()/<id>/hf-<revision>/`` with one atomic rename, as the GitHub
path does.

The token is ``huggingface_hub``'s: ``HF_TOKEN``, else the user's hub login. It is never
printed or written anywhere by trustgauge. ``HF_ENDPOINT`` is honoured (read when fetching).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from trustgauge.data.fetch import (
    _install,
    _is_complete,
    _verify_files,
    _write_marker,
    get_data_hint,
    hf_cache_path,
    staging_dir,
)
from trustgauge.data.registry import DatasetSource, get_source
from trustgauge.errors import DataError

_DEFAULT_ENDPOINT = "https://huggingface.co"
_DEFAULT_TIMEOUT_S = 10.0
#: folders huggingface_hub itself writes into a ``local_dir`` download
_HUB_METADATA_DIRS = frozenset({".cache", ".huggingface"})


def fetch_from_hub(
    source_id: str,
    *,
    revision: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Download a dataset's Hugging Face copy, verify it and cache it.

    Args:
        source_id: A registered dataset id with an :attr:`DatasetSource.hf_repo`.
        revision: Hub branch, tag or commit; ``None`` means ``main``. The commit it resolves
            to is recorded in the copy's manifest.
        force: Download again even when a complete copy of this revision is cached.
        progress: Show huggingface_hub's progress bars (only when stderr is a terminal).

    Returns:
        The cached folder holding ``<dimension>/<file>.json``.

    Raises:
        DataError: One line: the dataset has no hub copy; huggingface_hub is missing; the hub
            cannot be reached, or is asked for offline (``HF_HUB_OFFLINE``); the repo is gated
            and no token (or one without access) was found (the message says to accept the
            terms on the dataset page and set ``HF_TOKEN`` or log in); the repo or revision does
            not exist; the copy lacks an expected file, holds a malformed one, or one whose
            record count differs from the registry. Nothing partial is left in the cache.
    """
    source = get_source(source_id)
    repo = source.hf_repo
    if not repo:
        raise DataError(
            f"the {source.id} dataset has no Hugging Face copy; run `trustgauge data fetch "
            f"{source.id}` (the pinned release) or pass --data-dir DIR"
        )
    target = hf_cache_path(source_id, revision)
    if not force and _is_complete(target, source):
        return target

    try:
        import huggingface_hub  # noqa: F401 - only to fail early with a clear message
    except ImportError:  # pragma: no cover - huggingface_hub is a core dependency
        raise DataError(
            "fetching from the Hugging Face hub needs huggingface_hub: pip install "
            f"huggingface_hub; or run `trustgauge data fetch {source.id}` (the pinned release)"
        ) from None

    endpoint = _endpoint()
    _register_token()
    if _offline():
        raise DataError(
            f"cannot fetch {repo} from the Hugging Face hub: HF_HUB_OFFLINE is set; "
            f"{get_data_hint(source)}"
        )

    with staging_dir(target, source) as staging:
        download = staging / "hub"
        commit = _download(source, repo, revision, endpoint, download, progress)
        where = f"the Hugging Face copy {repo}@{commit[:12]}"
        unpacked = staging / "unpacked"
        _arrange(download, unpacked, source, where)
        files = _verify_files(unpacked, source, where)
        info: dict[str, Any] = {
            "origin": "hf",
            "repo": repo,
            "revision": revision or "main",
            "commit": commit,
            "endpoint": _without_userinfo(endpoint),
        }
        _write_marker(unpacked, source, info, files)
        _install(unpacked, target, source, replace=force)
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
    source: DatasetSource,
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
    try:
        info = HfApi(endpoint=endpoint).dataset_info(
            repo, revision=revision or "main", timeout=timeout
        )
        commit = str(info.sha or "")
        if not commit:
            raise DataError(f"the hub at {endpoint} gave no commit for {repo}")
        # only the files we need, wherever the repo keeps them (fnmatch's * also matches "/")
        patterns = sorted({"*" + relpath.rsplit("/", 1)[-1] for relpath in source.files})
        with _progress_bars(progress and sys.stderr.isatty()):
            snapshot_download(
                repo,
                repo_type="dataset",
                revision=commit,
                local_dir=str(dest),
                allow_patterns=patterns,
                endpoint=endpoint,
                etag_timeout=timeout,
            )
    except DataError:
        raise
    except Exception as exc:
        raise _hub_error(source, repo, revision, endpoint, exc, timeout) from None
    return commit


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
    source: DatasetSource,
    repo: str,
    revision: str | None,
    endpoint: str,
    exc: BaseException,
    timeout: float,
) -> DataError:
    github = f"or fetch the pinned release from GitHub instead: `trustgauge data fetch {source.id}`"
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
        return DataError(
            f"cannot download {repo}: the Hugging Face copy of {source.display_name} is gated and "
            f"{token}{f' (HTTP {status})' if status else ''}; accept its terms on "
            f"{source.hf_url} while logged in, then set HF_TOKEN or run `huggingface-cli login` "
            f"(`hf auth login` in recent huggingface_hub); {github}"
        )
    for e in errors:
        if _is_a(e, "RevisionNotFoundError"):
            return DataError(
                f"{repo} has no revision {revision or 'main'!r} on {endpoint}; {github}"
            )
        if _is_a(e, "RepositoryNotFoundError"):
            return DataError(f"dataset repo {repo} not found on {endpoint}; {github}")
        if _is_a(e, "OfflineModeIsEnabled"):
            return DataError(
                f"cannot fetch {repo}: HF_HUB_OFFLINE is set; {get_data_hint(source)}"
            )
    for e in errors:
        name = type(e).__name__
        if "Timeout" in name:
            return DataError(
                f"no answer from {endpoint} within {timeout:g} s while fetching {repo}; "
                f"{get_data_hint(source)}"
            )
        if "Connect" in name or "Proxy" in name or isinstance(e, ConnectionError):
            return DataError(
                f"cannot reach the Hugging Face hub at {endpoint} ({name}) to fetch {repo}; "
                f"{get_data_hint(source)}"
            )
    status = next((s for s in map(_status, errors) if s is not None), None)
    why = f"HTTP {status}" if status is not None else type(exc).__name__
    return DataError(f"could not download {repo} from {endpoint} ({why}); {get_data_hint(source)}")


# --------------------------------------------------------------------------- layout


def _arrange(download: Path, dest: Path, source: DatasetSource, where: str) -> None:
    """Move each expected file from the hub layout into ``dest/<dimension>/<file>.json``."""
    found: dict[str, Path] = {}
    if download.is_dir():
        for path in download.rglob("*.json"):
            rel = path.relative_to(download)
            if path.is_file() and not (set(rel.parts[:-1]) & _HUB_METADATA_DIRS):
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
        raise DataError(
            f"{where} lacks {missing[0]}{more}: found {present} of the {len(source.files)} "
            f"expected files; fetch the pinned release from GitHub instead (`trustgauge data "
            f"fetch {source.id}`) or pass --data-dir DIR; nothing was cached"
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
