"""The model protocol every backend implements. The request/response types live in
:mod:`trustgauge.types` and are re-exported here (same objects).

A backend is thin: it turns a :class:`Request` into one call to its model and returns a
:class:`Response`, raising :class:`~trustgauge.errors.TransientModelError` for failures worth
retrying. The engine owns caching, concurrency, retries, timeouts and progress.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from trustgauge.types import ChatMessage as ChatMessage
from trustgauge.types import GenerationParams as GenerationParams
from trustgauge.types import Request as Request
from trustgauge.types import Response as Response
from trustgauge.types import ResponseFormat as ResponseFormat
from trustgauge.types import Role as Role
from trustgauge.types import Usage as Usage


class Model(ABC):
    """A model backend.

    ``generate`` takes a batch: API backends receive one request at a time (the engine fans out
    under its concurrency limit); batching backends (``hf:``) declare ``batch_size > 1`` and
    receive up to that many requests, sorted by length.
    """

    #: the spec string the model was created from, e.g. ``openai:gpt-4o-mini``
    spec: str
    #: how many requests one ``generate`` call takes; 1 for API backends
    batch_size: int = 1
    #: concurrency cap the backend can use (``None``: engine decides, adaptive)
    max_concurrency: int | None = None

    @abstractmethod
    def identity(self) -> dict[str, str]:
        """What identifies the model's answers in the cache: backend, model name, revision or
        file hash, endpoint. Never a secret."""

    @abstractmethod
    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer the requests, in order.

        Raises:
            TransientModelError: for failures worth retrying (rate limits, 5xx, timeouts).
            PermanentModelError: for failures retrying cannot fix.
        """

    async def check(self) -> None:  # noqa: B027 - optional hook
        """Fail fast with :class:`~trustgauge.errors.UsageError` if the model cannot work
        (unreachable server, unknown model, bad key). Called once before a run sends work."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections, servers or memory."""

    def describe(self) -> str:
        """A short human-readable name for progress lines and reports."""
        return self.spec
