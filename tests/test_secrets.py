"""Secret redaction: registered keys, masked echoes of them, key-shaped tokens."""

from __future__ import annotations


def test_redact_keys_masked_echoes_and_not_words() -> None:
    from trustgauge import _secrets

    saved = set(_secrets._SECRETS)
    try:
        _secrets.register_secret("sk-test-similarity")
        _secrets.register_secret("zz-Ab3dE5gH7jK9")
        text = "key zz-Ab3dE5gH7jK9 or masked zz-Ab3dE****** / ...gH7jK9 in similarity_gap"
        out = _secrets.redact(text)
        assert "Ab3dE5gH7jK9" not in out and "zz-Ab3dE*" not in out and "gH7jK9" not in out
        assert out.count("<redacted>") == 3
        # a registered key's fragments are removed only next to a mask, never inside words
        assert _secrets.redact("similarity_gap is 0.2") == "similarity_gap is 0.2"
        assert _secrets.redact("sk-proj-abcdefgh12345") == "<redacted>"  # key-shaped token
    finally:
        _secrets._SECRETS.clear()
        _secrets._SECRETS.update(saved)
