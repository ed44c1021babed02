"""The parts of a model config that change its answers without being part of a request.

A :class:`~trustgauge.types.Request` carries the messages (system prompt included) and the
generation parameters (temperature, max_tokens, top_p, seed, stop, response_format), so those
are in every cache key already. What a backend adds on the way to the server is not:
``options.extra_body`` (``top_k``, thinking switches, ...) and the HTTP headers a server may read
(routing, feature flags). :func:`config_identity` turns them into identity entries, added to a
backend's :meth:`~trustgauge.models.base.Model.identity` and hence to every cache key.

Compatibility: an empty ``extra_body`` and headers that are all credentials add nothing, so
the cache keys of runs without them are exactly what they were before these entries existed
(users' stores stay valid). Credential headers (``Authorization``, ``x-api-key``, anything
named like a key, token, secret, password or cookie) are left out: a rotated key must not throw
the cache away, and no secret, not even hashed, goes into the identity (it is stored and
written to ``run.json``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from trustgauge import _secrets
from trustgauge.config import ModelConfig


def is_credential_header(name: str, value: str = "") -> bool:
    """Whether a header carries a credential (the same test the redaction registry uses: a
    name like one, or a ``Bearer X`` / JWT value under any name)."""
    return _secrets.is_credential_header(name, value)


def _digest(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def answer_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers that may change an answer: every one but credentials, names lower-cased
    (HTTP header names are case-insensitive)."""
    return {k.lower(): v for k, v in headers.items() if not is_credential_header(k, v)}


def config_identity(config: ModelConfig) -> dict[str, str]:
    """Identity entries for what ``config`` adds to each request body and its headers.

    ``{}`` when there is nothing (no ``extra_body``, only credential headers), so existing cache
    keys do not change; otherwise ``extra_body_sha256`` and/or ``headers_sha256`` (hashes keep
    the identity short and keep header values out of the store's plain text)."""
    out: dict[str, str] = {}
    extra = config.options.get("extra_body")
    if isinstance(extra, Mapping) and extra:
        out["extra_body_sha256"] = _digest(dict(extra))
    headers = answer_headers(config.headers)
    if headers:
        out["headers_sha256"] = _digest(headers)
    return out


def query_identity(query: Mapping[str, str]) -> dict[str, str]:
    """Identity entry for the base URL's query parameters sent with every request
    (``?api-version=...`` picks an API version, a deployment, ...): ``query_sha256`` over all
    but credentials (named like a key, token, signature, ...), ``{}`` when there are none, so
    the cache keys of URLs without a query stay what they were."""
    kept = {k: v for k, v in query.items() if not _secrets.is_credential_param(k)}
    return {"query_sha256": _digest(kept)} if kept else {}

