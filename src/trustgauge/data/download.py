"""Stream one pinned file (an archive or a single data file) from a URL or a local path,
hashing as it goes; nothing is kept unless its size and SHA-256 are the pinned ones.

Used by the pinned sources (:mod:`trustgauge.data.sources.github_zip`,
:mod:`trustgauge.data.sources.pinned_file`); it knows nothing about the registry or the cache.
One attempt per call, as before (the shared retry primitive comes with ``net/``).
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

_CHUNK = 1 << 16
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
    digest = hashlib.sha256()
    received = 0
    chunks = _iter_chunks(source, url, hint)
    with (
        contextlib.closing(chunks),
        open(dest, "wb") as out,
        _progress_bar(source, show_progress) as advance,
    ):
        for chunk in chunks:
            received += len(chunk)
            if received > source.size_bytes:
                raise DataError(
                    f"the {source.id} {noun} from {public_url(url)} is larger than the expected "
                    f"{source.size_bytes} bytes: not the pinned release (sha256 "
                    f"{source.sha256}); check {source.url_env_var} or pass --data-dir"
                )
            digest.update(chunk)
            out.write(chunk)
            advance(len(chunk))
    actual = digest.hexdigest()
    if actual != source.sha256:
        raise DataError(
            f"checksum mismatch for the {source.id} {noun} from {public_url(url)}: expected sha256 "
            f"{source.sha256} ({source.size_bytes} bytes), got {actual} ({received} bytes); "
            f"nothing was cached"
        )


def _iter_chunks(source: Pinned, url: str, hint: str) -> Generator[bytes, None, None]:
    local = local_path(url)
    if local is not None:
        try:
            handle: BinaryIO = open(local, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise download_error(source, url, exc.strerror or str(exc), hint) from exc
        with handle:
            while chunk := handle.read(_CHUNK):
                yield chunk
        return

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise download_error(source, url, f"unsupported URL scheme {parts.scheme!r}", hint)

    import httpx

    from trustgauge._version import __version__

    timeout = httpx.Timeout(60.0, connect=15.0)
    headers = {"User-Agent": f"trustgauge/{__version__}"}
    try:
        with httpx.stream(
            "GET", url, timeout=timeout, follow_redirects=True, headers=headers
        ) as response:
            if response.status_code >= 400:
                raise download_error(
                    source, url, f"HTTP {response.status_code} {response.reason_phrase}", hint
                )
            yield from response.iter_bytes(_CHUNK)
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise download_error(source, url, f"{type(exc).__name__}: {exc}", hint) from exc


@contextlib.contextmanager
def _progress_bar(source: Pinned, show: bool) -> Iterator[Callable[[int], None]]:
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
        yield lambda n: bar.advance(task, n)
