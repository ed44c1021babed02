"""Keep secrets out of everything trustgauge writes or prints.

Every API key trustgauge reads is registered here; :func:`redact` replaces any registered key
(and anything shaped like a well-known key format) in text before it reaches a file, a log
line or an error message. Servers do echo keys back (``Incorrect API key provided: sk-...``).
"""

from __future__ import annotations

import re

_SECRETS: set[str] = set()
_KEY_SHAPES = re.compile(r"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|hf_[A-Za-z0-9]{20,})")


def register_secret(value: str | None) -> None:
    """Remember a secret so :func:`redact` removes it (and its partial forms) from text."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Replace registered secrets, their long prefixes/suffixes, and key-shaped tokens."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "<redacted>")
        # providers often echo a masked key: "sk-abcd****wxyz"
        if len(secret) >= 12:
            for part in (secret[:8], secret[-6:]):
                text = text.replace(part, "<redacted>")
    return _KEY_SHAPES.sub("<redacted>", text)
