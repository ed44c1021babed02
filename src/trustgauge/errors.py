"""Exceptions that carry a user-facing, one-line message.

The CLI turns :class:`UsageError` (bad input: unknown backend or task, missing key, unreachable
server, unreadable config or data) into one line on stderr and exit code 2.
"""

from __future__ import annotations


class TrustgaugeError(Exception):
    """Base class of trustgauge's own errors."""


class UsageError(TrustgaugeError):
    """The user asked for something that cannot work; the message says what and how to fix it."""


class ConfigError(UsageError):
    """Unknown backend, malformed model spec, unreadable or invalid config file, missing key."""


class DataError(UsageError):
    """A dataset is missing, fails its checksum, or holds a malformed record."""


class JudgeError(UsageError):
    """A judge cannot go on, e.g. its model failed on every item of a batch (the llm judge's
    :class:`~trustgauge.judges.llm_judge.LLMJudgeError`); the judging loop stops with it."""


class ModelError(TrustgaugeError):
    """A model call failed."""


class TransientModelError(ModelError):
    """A failure worth retrying: 429, 5xx, timeout, dropped connection, malformed response."""

    def __init__(self, message: str, *, retry_after: float | None = None, overload: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        #: True when the server says it is overloaded (429/503): the engine lowers concurrency.
        self.overload = overload


class PermanentModelError(ModelError):
    """A failure that retrying will not fix (e.g. 400 bad request, content filtered)."""


class CapabilityError(PermanentModelError):
    """The model cannot do what was asked (log-probabilities, log-likelihood of a given text, ...):
    retrying cannot help; a task that needs it is reported not scored instead of run."""

    def __init__(self, model: str, capability: str, detail: str = "", *, message: str | None = None) -> None:
        super().__init__(message or f"{model} cannot give {capability}" + (f" ({detail})" if detail else ""))
        self.model = model
        self.capability = capability


def not_utf8(raw: bytes, pos: int) -> str:
    """Why ``raw`` is not UTF-8, for an error line: the byte at offset ``pos`` (a
    UnicodeDecodeError's ``start``), as every reader of a user's file words it."""
    return f"not UTF-8 text (byte 0x{raw[pos]:02x} at offset {pos})"
