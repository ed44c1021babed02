"""What a backend offers to run requests through its provider's *batch* API (OpenAI's Batch API,
Anthropic's Message Batches): half the price, hours of latency. The engine drives it
(:mod:`trustgauge.engine.batch`: chunking, the store's batch table, polling with backoff,
retries, resubmission); a backend only translates: a request into one entry of a batch, a batch
into an id, an id into a status, a finished batch into one result per entry, parsed exactly as a
normal call's response is (the same parsing code), so a response lands in the store as a normal
run would have stored it.

A backend that has a batch API returns one from :meth:`~trustgauge.models.base.Model.batch_api`;
the others return ``None`` and ``--batch`` is refused before anything is sent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trustgauge.types import Request, Response

__all__ = ["BatchAPI", "BatchRejectedError", "BatchResult", "BatchStatus"]


class BatchRejectedError(Exception):
    """The provider refused to create (or validate) a batch: an HTTP 4xx at creation (an invalid
    file, an unknown model, a quota), or a batch that ``failed`` validation. Retrying the same
    batch cannot help. The message is one line, secrets redacted."""


@dataclass(frozen=True)
class BatchStatus:
    """One poll of a batch.

    ``state``: ``running`` (validating, in progress, finalizing, cancelling), ``ended`` (its
    results can be downloaded: completed, expired, cancelled; some requests may be missing),
    ``failed`` (rejected at validation: no result at all; ``detail`` says why)."""

    state: str
    #: the provider's own word (``in_progress``, ``completed``, ``expired``, ``ended``, ...)
    provider_status: str
    #: requests the provider reports done (succeeded + errored) and in all
    done: int = 0
    total: int = 0
    failed: int = 0
    detail: str = ""


@dataclass(frozen=True)
class BatchResult:
    """What became of one entry: a ``response`` (parsed like a normal call's), an ``error``
    (the request failed at the provider: recorded as that sample's failure) or ``missing``
    (the batch expired or was cancelled before the request ran: it is submitted again)."""

    custom_id: str
    response: Response | None = None
    error: str | None = None
    missing: bool = False


class BatchAPI(ABC):
    """One provider's batch API, bound to one model (its client, name and settings)."""

    #: ``openai`` or ``anthropic`` (stored with each batch id)
    provider: str
    #: most requests and bytes the provider takes in one batch
    max_requests: int
    max_bytes: int

    @abstractmethod
    def entry(self, custom_id: str, request: Request) -> dict[str, Any]:
        """The batch entry for ``request`` (a JSONL line for OpenAI, a ``{custom_id, params}``
        for Anthropic), built by the same code as a normal call.

        Raises:
            PermanentModelError: the request cannot be sent to this model (e.g. log-probabilities
                it cannot give): it is recorded as a failure, as a normal call's would be.
        """

    @abstractmethod
    async def check(self) -> None:
        """Raise :class:`~trustgauge.errors.UsageError` if the server has no batch API (an
        ``openai-compatible:`` server without ``/v1/batches``); asks for nothing paid."""

    @abstractmethod
    async def submit(self, entries: Sequence[dict[str, Any]]) -> str:
        """Create a batch of ``entries``; its id.

        Raises:
            BatchRejectedError: the provider refused it (HTTP 4xx).
            TransientModelError: worth another try (429, 5xx, a connection error).
        """

    @abstractmethod
    async def status(self, batch_id: str) -> BatchStatus:
        """Poll ``batch_id`` once."""

    @abstractmethod
    async def results(self, batch_id: str, requests: Mapping[str, Request]) -> list[BatchResult]:
        """Download an ended batch's results: one per entry of ``requests`` (custom id ->
        the request it was built from; parsing needs its parameters) the provider reports on."""

    @abstractmethod
    async def cancel(self, batch_id: str) -> None:
        """Ask the provider to stop ``batch_id`` (requests already done are still returned)."""
