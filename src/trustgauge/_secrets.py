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
        # providers often echo a masked key: "sk-abcd****wxyz"; a fragment is redacted only next
        # to the mask, so a key ending like a word ("...similarity") cannot mangle other text
        if len(secret) >= 12 and (secret[:8] in text or secret[-6:] in text):
            text = re.sub(
                rf"{re.escape(secret[:8])}(?=[*.…])|(?<=[*.…]){re.escape(secret[-6:])}",
                "<redacted>",
                text,
            )
    # the substring checks are much faster than the regex on big texts (a run's samples)
    if "sk-" in text or "AIza" in text or "hf_" in text:
        return _KEY_SHAPES.sub("<redacted>", text)
    return text
