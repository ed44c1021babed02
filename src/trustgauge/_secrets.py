"""Keep secrets out of everything trustgauge writes or prints.

Every credential trustgauge reads is registered here before the first request: API keys
(``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, any ``api_key_env``, ``api_key_file``), header
values that carry credentials, and the user:password and credential query parameters of every
URL it is given (model ``base_url``, ``*_BASE_URL``, ``TRUSTGAUGE_<ID>_URL``).
:func:`redact` replaces any registered secret, in every encoding a file could hold it (JSON,
HTML, URL-encoded, a Basic credential), anything shaped like a well-known key, and the
credentials of any URL, before text reaches the store, a file, a log line or an error message.
Servers do echo keys back (``Incorrect API key provided: sk-...``).

Secrets shorter than :data:`MIN_LENGTH` are not registered (redacting ``"x"`` everywhere would
destroy text), nor the placeholders local servers take as keys (:data:`PLACEHOLDERS`); a
registered secret shorter than :data:`SHORT` is redacted only where it stands as a whole token
(not inside a longer run of letters and digits), a longer one wherever it occurs.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit, urlunsplit

MARK = "<redacted>"
MIN_LENGTH = 6
SHORT = 12
#: what local servers (vLLM, llama.cpp, Ollama, LM Studio) are commonly given as a key: not
#: secrets, and redacting them would change answers that use the word
PLACEHOLDERS = frozenset({"EMPTY", "empty", "none", "None", "null", "dummy", "ollama", "lm-studio",
                          "sk-no-key-required", "not-needed", "no-key", "unused", "changeme"})

#: every registered secret and its encoded forms -> the pattern that removes it (``None``:
#: a plain substring replacement)
_SECRETS: set[str] = set()
#: the registered secrets of at least :data:`SHORT` characters (their masked echoes are redacted)
_LONG: list[str] = []
_PATTERNS: dict[str, re.Pattern[str] | None] = {}
_KEY_SHAPES = re.compile(r"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|hf_[A-Za-z0-9]{20,})")
#: ``scheme://user:password@`` (the user-info of any URL)
_USERINFO = re.compile(r"://[^\s/?#@\"'<>]+@")
#: ``://`` and the rest of a URL (up to a space, a quote or an angle bracket)
_URL_TAIL = re.compile(r"://[^\s\"'<>]*")
#: ``?api_key=...`` / ``&token=...``: the value of a query parameter named like a credential
_CREDENTIAL_NAME = r"(?:[\w.-]*(?:key|token|secret|passw|pwd|signature|credential|auth)[\w.-]*|sig)"
_QUERY_CREDENTIAL = re.compile(rf"(?i)([?&]{_CREDENTIAL_NAME}=)[^&#\s\"'<>]+")
_CREDENTIAL_KEY = re.compile(rf"(?i)^{_CREDENTIAL_NAME}$")
#: header names whose values are credentials
_CREDENTIAL_HEADER = re.compile(r"(?i)auth|key|token|secret|passw|cookie|session|signature|credential|jwt")
_AUTH_SCHEMES = ("bearer", "basic", "token", "digest", "apikey", "api-key", "key")


def _forms(secret: str) -> set[str]:
    """``secret`` as a file could hold it: as is, JSON-escaped (ASCII or not), HTML-escaped,
    URL-encoded."""
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    }
    if len(secret) >= SHORT:
        forms |= _base64_forms(secret)
    return {f for f in forms if len(f) >= MIN_LENGTH}


def _base64_forms(secret: str) -> set[str]:
    """The base64 characters that depend on ``secret`` alone, at each of the three byte
    offsets it can start at in a base64 stream: a server that reflects ``Authorization:
    Bearer KEY`` (or the key itself) base64-encoded holds one of them."""
    raw = secret.encode("utf-8")
    out = set()
    for offset in range(3):
        enc = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        out.add(enc[-(-4 * offset // 3):4 * (offset + len(raw)) // 3])
    return out


def _pattern(form: str) -> re.Pattern[str] | None:
    if len(form) >= SHORT:
        return None
    # a short secret only as a whole token: "hunter42" is redacted, "hunter420" is left alone
    left = r"(?<![A-Za-z0-9])" if form[0].isalnum() else ""
    right = r"(?![A-Za-z0-9])" if form[-1].isalnum() else ""
    return re.compile(left + re.escape(form) + right)


def register_secret(value: str | None) -> None:
    """Remember a secret so :func:`redact` removes it (its encoded forms, and masked partial
    forms) from text."""
    if not value:
        return
    value = value.strip()
    if len(value) < MIN_LENGTH or value in PLACEHOLDERS or value in _SECRETS:
        return
    _SECRETS.add(value)
    if len(value) >= SHORT:
        _LONG.append(value)
    for form in _forms(value):
        _PATTERNS.setdefault(form, _pattern(form))
    # longest first: a form inside a longer one (the base64 of user:password inside the Basic
    # credential) must not cut it and leave the rest unrecognised
    ordered = sorted(_PATTERNS.items(), key=lambda item: -len(item[0]))
    _PATTERNS.clear()
    _PATTERNS.update(ordered)


def register_basic(user: str, password: str) -> None:
    """Register a user:password and the Basic credential an HTTP client sends for it."""
    register_secret(password)
    if user or password:
        pair = f"{user}:{password}"
        register_secret(base64.b64encode(pair.encode("utf-8")).decode("ascii"))
        if len(password) < MIN_LENGTH:
            register_secret(pair)


def register_header(name: str, value: str) -> None:
    """Register a header value that carries a credential: any value of a header named like
    one (``Authorization``, ``X-Api-Key``, ``Cookie`` ...), and a token-like value of any
    other; for ``Bearer X`` / ``Basic X`` also ``X`` (and a Basic credential's password)."""
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    rest = rest.strip()
    if rest and scheme.lower() in _AUTH_SCHEMES:
        register_secret(rest)
        if scheme.lower() == "basic":
            try:
                password = base64.b64decode(rest, validate=True).decode("utf-8").partition(":")[2]
            except ValueError:
                password = ""
            register_secret(password)
        return
    if is_credential_header(name, value) or _token_like(value):
        register_secret(value)


def is_credential_param(name: str) -> bool:
    """Whether a URL query parameter is named like a credential (``api_key``, ``token``, ``sig``)."""
    return bool(_CREDENTIAL_KEY.match(name))


def is_credential_header(name: str, value: str = "") -> bool:
    """Whether a header carries a credential: named like one (``Authorization``, ``X-Api-Key``,
    ``X-Signature``, ``Cookie``, ...) or, under any name, a value in an auth scheme
    (``Bearer X``, ``Basic X``, ...) or a JWT (``eyJ...``)."""
    if _CREDENTIAL_HEADER.search(name):
        return True
    scheme, _, rest = value.strip().partition(" ")
    if rest.strip() and scheme.lower() in _AUTH_SCHEMES:
        return True
    return scheme.startswith("eyJ") and scheme.count(".") == 2


def register_headers(headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        register_header(name, value)


def _token_like(value: str) -> bool:
    """A random-looking value: 16+ characters, no space, letters and digits mixed."""
    return (
        len(value) >= 16 and not any(c.isspace() for c in value)
        and any(c.isalpha() for c in value) and any(c.isdigit() for c in value)
    )


def register_url(url: str | None) -> None:
    """Register the credentials a URL carries: its user:password (and their Basic form) and
    the values of its query parameters that are named like a credential or look like one."""
    if not url:
        return
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return
    netloc = parts.netloc
    if "@" in netloc:
        userinfo = netloc.rpartition("@")[0]
        user, _, password = userinfo.partition(":")
        # the user name alone is a credential only without a password (https://TOKEN@host)
        for raw in (password or user, userinfo):
            register_secret(raw)
            register_secret(unquote(raw))
        register_basic(unquote(user), unquote(password))
    for raw in parts.query.split("&") if parts.query else ():
        name, _, value = raw.partition("=")
        decoded = unquote(value.replace("+", " "))
        if _CREDENTIAL_KEY.match(unquote(name)) or _token_like(decoded):
            register_secret(value)  # as sent (percent-encoded) and as the server decodes it
            register_secret(decoded)
            register_secret(unquote(value))


def public_url(url: str) -> str:
    """``url`` without credentials, to show or store: no user:password, and every query value
    replaced by :data:`MARK` (the names are kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = "&".join(f"{raw.partition('=')[0]}={MARK}" for raw in parts.query.split("&") if raw) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def split_query(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without its query string, and the query's parameters (to send as request
    parameters: a client that appends paths to a base URL must never glue them after it)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", parts.fragment)), params


def redact(text: str) -> str:
    """Replace registered secrets (in every encoded form), their masked echoes, key-shaped
    tokens and URL credentials (user:password, credential query parameters) with
    :data:`MARK`."""
    for form, pattern in _PATTERNS.items():
        if form in text:
            text = text.replace(form, MARK) if pattern is None else pattern.sub(MARK, text)
    # providers often echo a masked key: "sk-abcd****wxyz", "sk-abcd...wxyz"; a fragment is
    # redacted only next to the mask, so a key ending like a word ("...similarity") cannot
    # mangle other text
    # (every test is an `in`: a single character is a memchr, far cheaper than a regex)
    if _LONG and ("*" in text or "…" in text or ".." in text):
        for secret in _LONG:
            if secret[:8] in text or secret[-6:] in text:
                text = re.sub(
                    rf"{re.escape(secret[:8])}(?=[*.…])|(?<=[*.…]){re.escape(secret[-6:])}",
                    MARK,
                    text,
                )
    # the substring checks are much faster than the regexes on big texts (a run's samples)
    if ("-" in text and "sk-" in text) or ("z" in text and "AIza" in text) or ("_" in text and "hf_" in text):
        text = _KEY_SHAPES.sub(MARK, text)
    if ":" in text and "://" in text and ("@" in text or "=" in text):
        text = _scrub_urls(text)
    return text


def _scrub_urls(text: str) -> str:
    """Drop the user:password and the credential query values of every ``scheme://`` URL in
    ``text``; the regexes run on the URLs only (a regex scan of a whole answer costs ~10 ns a
    character, the answer's URLs are a few dozen)."""
    parts: list[str] = []
    pos = 0
    while (start := text.find("://", pos)) >= 0:
        match = _URL_TAIL.match(text, start)
        end = match.end() if match else start + 3
        url = text[start:end]
        if "@" in url:
            url = _USERINFO.sub(f"://{MARK}@", url)
        if "=" in url:
            url = _QUERY_CREDENTIAL.sub(rf"\g<1>{MARK}", url)
        parts += [text[pos:start], url]
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def secrets_in_environment(names: tuple[str, ...] = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN",
                           "HUGGING_FACE_HUB_TOKEN", "PERSPECTIVE_API_KEY")) -> None:
    """Register the well-known credentials of the environment and the credentials of its
    URL overrides (``*_BASE_URL``, ``TRUSTGAUGE_*_URL``, ``HF_ENDPOINT``), whether or not
    this run reads them: a key in the environment never reaches a file."""
    import os

    for name in names:
        register_secret(os.environ.get(name))
    for name, value in os.environ.items():
        if name.endswith("_BASE_URL") or (name.startswith("TRUSTGAUGE_") and name.endswith("_URL")) or name == "HF_ENDPOINT":
            register_url(value)
