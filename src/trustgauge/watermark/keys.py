"""Watermark keys: the secret a scheme seeds its pseudo-random choices from.

A key is any string. A decimal string is used as that integer (``15485863`` is the hash key
of Kirchenbauer et al.'s code, of transformers' ``WatermarkingConfig`` and of MarkLLM, so text
they marked can be checked); any other string is hashed to a 64-bit integer. The key is
registered as a secret (:mod:`trustgauge._secrets`): it is never written anywhere; runs record
its :func:`fingerprint`.

Where the key comes from: ``TRUSTGAUGE_WATERMARK_KEY`` when set, else :data:`PUBLIC_KEY`, a key
everyone knows. Measuring a scheme (how strong its mark is, what edits remove it, what it costs)
does not depend on the key being secret, so the public key is a fair default for evaluation; a
team marking text it ships must use its own.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from trustgauge._secrets import register_secret

#: the environment variable a key is read from
KEY_ENV = "TRUSTGAUGE_WATERMARK_KEY"
#: the default key: public, for measuring schemes, not for marking text anyone relies on
PUBLIC_KEY = "trustgauge-public-watermark-key"
_FINGERPRINT_SALT = b"trustgauge-watermark-key-id\x00"


def fingerprint(secret: str) -> str:
    """A salted SHA-256 fingerprint of ``secret`` (16 hex digits): what runs record in the key's
    place. Different keys get different fingerprints; the key cannot be read back from it
    (guessing a short key by trial stays possible, as for any hash: use a long random key)."""
    return hashlib.sha256(_FINGERPRINT_SALT + secret.encode("utf-8")).hexdigest()[:16]


def _seed(secret: str) -> int:
    text = secret.strip()
    if text.isdecimal() and len(text) <= 18:
        return int(text)
    return int.from_bytes(hashlib.sha256(secret.encode("utf-8")).digest()[:8], "big") >> 1


@dataclass(frozen=True)
class WatermarkKey:
    """A watermark key. ``seed`` is the integer the schemes use; ``fingerprint`` is what may be
    shown. ``repr`` never shows the secret."""

    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("a watermark key cannot be empty")

    @property
    def seed(self) -> int:
        """The key as a non-negative integer below 2**63."""
        return _seed(self.secret)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.secret)

    @property
    def is_public(self) -> bool:
        """Whether this is the documented public key."""
        return self.secret == PUBLIC_KEY

    def __str__(self) -> str:
        return f"watermark key {self.fingerprint}"


def key_from_environment(environ: dict[str, str] | None = None) -> WatermarkKey:
    """The key in ``TRUSTGAUGE_WATERMARK_KEY`` (registered as a secret before anything is
    written), or the public key when it is unset or blank."""
    env = os.environ if environ is None else environ
    secret = (env.get(KEY_ENV) or "").strip()
    if not secret:
        return WatermarkKey(PUBLIC_KEY)
    register_secret(secret)
    return WatermarkKey(secret)
