"""What an HTTP failure means for :mod:`trustgauge.net.retry`: the statuses and transport errors
worth another attempt, the server's ``Retry-After``, and a hub probe built on them.

Each caller still writes its own ``classify`` (it knows which answers are its permanent
errors and what its messages say); these are the pieces they share. ``httpx`` is imported
only inside the functions that need it, so importing this module costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Final

from trustgauge.net.retry import Permanent, RetryPolicy, Transient, retry_sync

#: statuses worth another attempt: timeouts, conflicts, rate limits, server errors
TRANSIENT_STATUSES: Final = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
#: statuses that mean the server is overloaded (a limiter should back off)
OVERLOAD_STATUSES: Final = frozenset({429, 503, 529})


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


def classify_status(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> Transient | Permanent:
    """An HTTP error status: :data:`TRANSIENT_STATUSES` are :class:`Transient` (with the
    server's ``Retry-After``), every other one :class:`Permanent`."""
    if status in TRANSIENT_STATUSES:
        return Transient(
            message, retry_after=parse_retry_after(headers), overload=status in OVERLOAD_STATUSES
        )
    return Permanent(message)


def is_transport_error(exc: BaseException) -> bool:
    """A timeout or a connection that failed or dropped (httpx, requests or the standard
    library), judged by class name so no client library need be imported."""
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    for cls in type(exc).__mro__:
        name = cls.__name__
        if "Timeout" in name or name in {
            "TransportError", "NetworkError", "ConnectError", "ReadError", "WriteError",
            "RemoteProtocolError", "ProxyError", "ConnectionError", "ChunkedEncodingError",
            "IncompleteRead",
        }:
            return True
    return False


def classify_exception(exc: BaseException, message: str | None = None) -> Transient | Permanent:
    """An exception from any HTTP client (httpx, requests, huggingface_hub): by the status of
    the response it carries (:func:`classify_status`), else :class:`Transient` for a transport
    error, else :class:`Permanent`. ``message``: the verdict's text (default the class name)."""
    message = message if message is not None else type(exc).__name__
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        return classify_status(status, message, getattr(response, "headers", None))
    return Transient(message) if is_transport_error(exc) else Permanent(message)


def is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or any("Timeout" in c.__name__ for c in type(exc).__mro__)


#: the hub probe: one more try after a timeout or a refused connection, half a second later
PROBE_POLICY: Final = RetryPolicy(max_retries=1, base_delay=0.5, max_delay=5.0, timeout=5.0)


def probe(url: str, *, name: str, timeout: float, policy: RetryPolicy = PROBE_POLICY) -> str | None:
    """``HEAD url``: ``None`` once the server answers (any HTTP status), else why it does not
    (``"no answer from NAME within T s"``, ``"cannot reach NAME: ..."``, with ``" (gave up after
    N attempts)"``) after the retries of ``policy``: timeouts and connection errors are
    retried, a malformed URL is not. ``name``: the server as messages show it."""
    import httpx

    def attempt(_n: int) -> None:
        httpx.head(url, timeout=timeout, follow_redirects=False)

    def classify(exc: Exception) -> Transient | Permanent:
        if isinstance(exc, httpx.TimeoutException):
            return Transient(f"no answer from {name} within {timeout:g} s", overload=True)
        text = str(exc).strip()
        why = f"cannot reach {name}: {text.splitlines()[0] if text else type(exc).__name__}"
        return Transient(why) if is_transport_error(exc) else Permanent(why)

    return retry_sync(attempt, classify, policy).error
