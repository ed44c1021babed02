"""Small HTTP helpers shared by the API backends: URL redaction and checking, Retry-After, short
messages."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from trustgauge.errors import ConfigError


def redact_url(url: str) -> str:
    """Drop user:password and the query string (they may hold credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


_SPEC_URL = re.compile(r"@(https?://.*)$", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def split_spec(name: str) -> tuple[str, str]:
    """``NAME@URL`` -> (NAME, URL) at the first ``@http(s)://`` (a URL's user:password may
    hold an ``@``); ``(name, "")`` without one (``NAME@rest`` splits at its last ``@``)."""
    match = _SPEC_URL.search(name)
    if match is not None:
        return name[: match.start()], match.group(1)
    model_name, _, rest = name.rpartition("@")
    return (model_name, rest) if model_name else (name, "")


def public_spec(spec: str) -> str:
    """The model spec without credentials: the ``@URL`` of ``openai-compatible:NAME@URL``
    loses any user:password and query string (as :func:`redact_url`)."""
    match = _SPEC_URL.search(spec)
    if match is None:
        return spec
    return f"{spec[: match.start()]}@{redact_url(match.group(1))}"


def short(text: object, limit: int = 200) -> str:
    """``text`` on one line, at most ``limit`` characters, secrets redacted first (a key cut
    in half by the limit would no longer be recognised)."""
    from trustgauge._secrets import redact

    # control characters (ESC ...) from a server never reach a terminal
    flat = _CONTROL.sub("\ufffd", " ".join(redact(str(text)).split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (number or HTTP date)."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


#: user-info of a URL (may hold a password): dropped from messages
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


def _shown(url: str) -> str:
    """The URL as a message may show it: no user-info, query or fragment (they may hold
    credentials); works on URLs that do not parse."""
    return _USERINFO.sub(r"\1", url).split("?", 1)[0].split("#", 1)[0]


def check_server_url(url: str, what: str = "server URL") -> None:
    """An ``http(s)://host[:port]/...`` URL that parses (a :class:`ConfigError` otherwise, before
    any client is built): a bracket left open (``http://[::1``), a port that is not a number
    or out of range, no host."""
    shown = _shown(url)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"bad {what} {shown!r}: it must start with http:// or https://")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number or out of range
        host = parts.hostname
    except ValueError as exc:
        raise ConfigError(f"bad {what} {shown!r}: {exc}") from None
    if not host:
        raise ConfigError(f"bad {what} {shown!r}: no host name")
    if port == 0:
        raise ConfigError(f"bad {what} {shown!r}: port 0")
    if any(c.isspace() for c in url):
        raise ConfigError(f"bad {what} {shown!r}: it contains white space")
