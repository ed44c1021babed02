"""Stream one pinned file (an archive or a single data file) from a URL or a local path,
hashing as it goes; nothing is kept unless its size and SHA-256 are the pinned ones.

Used by the pinned sources (:mod:`trustgauge.data.sources.github_zip`,
:mod:`trustgauge.data.sources.pinned_file`); it knows nothing about the registry or the cache.

Retries go through :func:`trustgauge.net.retry.retry_sync` with :data:`DOWNLOAD_POLICY`: a
408/429/5xx answer (after its ``Retry-After``), a refused, dropped or timed-out connection are
tried again, from the first byte (the file is rewritten, the hash and size counted afresh, so a
retry never appends to half a file); a 4xx, a bad URL, a missing local file, a file larger than
pinned or with the wrong SHA-256 are not (one attempt, one line).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from trustgauge._secrets import public_url
from trustgauge.errors import DataError
from trustgauge.net.http import classify_status, is_transport_error
from trustgauge.net.retry import Permanent, RetryPolicy, Transient, retry_sync

_CHUNK = 1 << 16
#: three attempts, about 1 s and 2 s apart (a server's Retry-After wins, up to 30 s)
DOWNLOAD_POLICY = RetryPolicy(max_retries=2, base_delay=1.0, max_delay=30.0, timeout=60.0)
_DRIVE = re.compile(r"^[A-Za-z]:")


class Pinned(Protocol):
    """What a download needs of its source: names for messages and the pinned size and hash."""

    @property
    def id(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def sha256(self) -> str: ...

    @property
    def size_bytes(self) -> int: ...

    @property
    def url_env_var(self) -> str: ...


def download_error(source: Pinned, url: str, reason: str, hint: str) -> DataError:
    """The one-line error for a download that failed (the URL without its credentials)."""
    reason = " ".join(reason.split()) or "unknown error"
    return DataError(
        f"could not download the {source.display_name} dataset ({source.id}) from {public_url(url)} "
        f"({reason}); {hint}"
    )


def local_path(url: str) -> Path | None:
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


def download(
    source: Pinned, url: str, dest: Path, *, hint: str, noun: str = "archive", show_progress: bool
) -> None:
    """Stream ``url`` into ``dest``; raise DataError unless it has the pinned size and SHA-256.

    Args:
        source: The pinned source (its id, name, ``sha256``, ``size_bytes``, override variable).
        url: ``http(s)://`` URL, ``file://`` URL or plain path.
        dest: Where to write the bytes (a staging folder: the caller discards it on error).
        hint: How else to get the data, for the end of a download error.
        noun: What the file is in messages (``"archive"``, ``"file"``).
        show_progress: Draw a progress bar on stderr.
    """
    fatal: list[DataError] = []

    def attempt(_n: int) -> None:
        digest = hashlib.sha256()
        received = 0
        chunks = _iter_chunks(url)
        with contextlib.closing(chunks), open(dest, "wb") as out:  # "wb": a retry starts afresh
            advance(0)
            for chunk in chunks:
                received += len(chunk)
                if received > source.size_bytes:
                    raise DataError(
                        f"the {source.id} {noun} from {public_url(url)} is larger than the "
                        f"expected {source.size_bytes} bytes: not the pinned release (sha256 "
                        f"{source.sha256}); check {source.url_env_var} or pass --data-dir"
                    )
                digest.update(chunk)
                out.write(chunk)
                advance(received)
        actual = digest.hexdigest()
        if actual != source.sha256:
            raise DataError(
                f"checksum mismatch for the {source.id} {noun} from {public_url(url)}: expected "
                f"sha256 {source.sha256} ({source.size_bytes} bytes), got {actual} ({received} "
                f"bytes); nothing was cached"
            )

    def classify(exc: Exception) -> Transient | Permanent:
        if isinstance(exc, _Failed):
            return exc.verdict
        if isinstance(exc, DataError):
            fatal.append(exc)
            return Permanent(str(exc))
        reason = f"{type(exc).__name__}: {exc}"
        return Transient(reason) if is_transport_error(exc) else Permanent(reason)

    with _progress_bar(source, show_progress) as advance:
        outcome = retry_sync(attempt, classify, DOWNLOAD_POLICY)
    if fatal:
        raise fatal[0]
    if not outcome.ok:
        raise download_error(source, url, str(outcome.error), hint)


class _Failed(Exception):
    """One attempt failed, and this is what it means (its ``verdict``)."""

    def __init__(self, verdict: Transient | Permanent) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


def _iter_chunks(url: str) -> Generator[bytes, None, None]:
    """The bytes at ``url``; raises :class:`_Failed` (or an httpx transport error, mid-stream)."""
    local = local_path(url)
    if local is not None:
        try:
            handle: BinaryIO = open(local, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise _Failed(Permanent(exc.strerror or str(exc))) from exc
        with handle:
            while chunk := handle.read(_CHUNK):
                yield chunk
        return

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise _Failed(Permanent(f"unsupported URL scheme {parts.scheme!r}"))

    import httpx

    from trustgauge._version import __version__

    timeout = httpx.Timeout(DOWNLOAD_POLICY.timeout, connect=15.0)
    headers = {"User-Agent": f"trustgauge/{__version__}"}
    try:
        with httpx.stream(
            "GET", url, timeout=timeout, follow_redirects=True, headers=headers
        ) as response:
            if response.status_code >= 400:
                reason = f"HTTP {response.status_code} {response.reason_phrase}"
                raise _Failed(classify_status(response.status_code, reason, response.headers))
            yield from response.iter_bytes(_CHUNK)
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        transient = isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.UnsupportedProtocol)
        raise _Failed(Transient(reason) if transient else Permanent(reason)) from exc


@contextlib.contextmanager
def _progress_bar(source: Pinned, show: bool) -> Iterator[Callable[[int], None]]:
    """A callable taking the bytes received so far (0 again when a retry starts over)."""
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
        yield lambda done: bar.update(task, completed=done)
