"""The model protocol every backend implements. The request/response types live in
:mod:`trustgauge.types` and are re-exported here (same objects).

A backend is thin: it turns a :class:`Request` into one call to its model and returns a
:class:`Response`, raising :class:`~trustgauge.errors.TransientModelError` for failures worth
retrying. The engine owns caching, concurrency, retries, timeouts and progress.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from trustgauge.types import Capability, Loglikelihood, Request, Response, TextTokenizer, Usage

if TYPE_CHECKING:
    from trustgauge.models.batch_api import BatchAPI


def scored_response(result: Loglikelihood) -> Response:
    """The :class:`Response` to a scoring request (:meth:`Request.scoring`): no text, the scored
    tokens in ``tokens``, ``finish_reason`` ``"length"`` when the text was cut to fit the context
    window (``"scored"`` otherwise), the tokens scored as input tokens."""
    return Response(
        text="",
        finish_reason="length" if result.truncated else "scored",
        usage=Usage(input_tokens=len(result.tokens)),
        tokens=result.tokens,
    )


def cannot_watermark(model: str) -> str:
    """The one line a backend that cannot watermark answers a watermarked request with."""
    return (
        f"{model} cannot watermark its output: a watermark is applied inside the sampling loop, "
        "token by token, and this backend only receives finished text (run the model with hf: "
        "to watermark it; an API model can be watermarked only by its provider)"
    )


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
    #: what the backend can do (docs/architecture.md §6); chat only unless it says more
    capabilities: frozenset[Capability] = frozenset({Capability.CHAT})
    #: most alternatives per generated token it returns (with ``Capability.LOGPROBS``)
    max_top_logprobs: int = 0

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

    async def respond(self, requests: Sequence[Request]) -> list[Response]:
        """Answer requests of either kind, in order: scoring requests (:meth:`Request.scoring`)
        through :meth:`loglikelihood` (one call for all of them), the rest through
        :meth:`generate`. The engine calls this; backends implement the two methods."""
        scoring = [i for i, r in enumerate(requests) if r.is_scoring]
        if not scoring:
            return await self.generate(requests)
        answers: list[Response | None] = [None] * len(requests)
        scored = await self.loglikelihood([requests[i].scoring_pair() for i in scoring])
        if len(scored) != len(scoring):
            from trustgauge.errors import TransientModelError

            raise TransientModelError(f"backend scored {len(scored)} texts of {len(scoring)}")
        for i, result in zip(scoring, scored):
            answers[i] = scored_response(result)
        chat = [i for i, r in enumerate(requests) if not r.is_scoring]
        if chat:
            for i, response in zip(chat, await self.generate([requests[i] for i in chat])):
                answers[i] = response
        return [a for a in answers if a is not None]

    async def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
        """The log-likelihood of each ``continuation`` given its ``context`` (raw text, no chat
        template: the model sees ``context + continuation``), in order.

        Raises:
            CapabilityError: the backend cannot score given text (no ``LOGLIKELIHOOD``).
        """
        from trustgauge.errors import CapabilityError

        raise CapabilityError(self.describe(), Capability.LOGLIKELIHOOD.value)

    def tokenizer(self) -> TextTokenizer:
        """The model's tokenizer, for watermark detection (``hf:``); loads it when needed.

        Raises:
            CapabilityError: the backend has no tokenizer to hand out.
        """
        from trustgauge.errors import CapabilityError

        raise CapabilityError(self.describe(), "a tokenizer", "watermark detection needs the model's tokenizer (hf: models have one)")

    async def supported(self) -> frozenset[Capability]:
        """The capabilities this model really has; after :meth:`check`. Backends that can only
        tell by asking the server (``openai-compatible:`` and vLLM's ``prompt_logprobs``)
        find out here; the default is :attr:`capabilities`."""
        return self.capabilities

    def refuse_unsupported(self, requests: Iterable[Request]) -> None:
        """Raise :class:`~trustgauge.errors.CapabilityError` if a request asks for
        log-probabilities the backend cannot give (instead of silently leaving them out)."""
        from trustgauge.errors import CapabilityError

        for request in requests:
            if request.params.watermark is not None and Capability.LOGITS_PROCESSOR not in self.capabilities:
                raise CapabilityError(
                    self.describe(), Capability.LOGITS_PROCESSOR.value, message=cannot_watermark(self.describe())
                )
            wanted = request.params.logprobs
            if wanted is None:
                continue
            if Capability.LOGPROBS not in self.capabilities:
                raise CapabilityError(self.describe(), Capability.LOGPROBS.value)
            if wanted > self.max_top_logprobs:
                raise CapabilityError(
                    self.describe(), f"{wanted} top logprobs", f"at most {self.max_top_logprobs}"
                )

    def batch_api(self) -> BatchAPI | None:
        """The provider's batch API for ``trustgauge run --batch`` (:mod:`trustgauge.models.batch_api`);
        ``None``: the backend has none (local models, scripted ones), and ``--batch`` is refused."""
        return None

    async def check(self) -> None:  # noqa: B027 - optional hook
        """Fail fast with :class:`~trustgauge.errors.UsageError` if the model cannot work
        (unreachable server, unknown model, bad key). Called once before a run sends work."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections, servers or memory."""

    def describe(self) -> str:
        """A short human-readable name for progress lines and reports."""
        return self.spec
