"""Anthropic's Message Batches for ``anthropic:`` models, through the official SDK
(``client.messages.batches``).

A batch is ``POST /v1/messages/batches`` with ``requests: [{custom_id, params}]`` (``params``:
what :meth:`AnthropicModel._build` makes for a normal call, its ``extra_body`` merged in);
``GET /v1/messages/batches/{id}`` is polled until ``processing_status`` is ``ended``; the results
(JSONL at the batch's ``results_url``, streamed by the SDK) are one per request: ``succeeded``
(the message, parsed by the normal call's :func:`_parse_message`), ``errored`` (that sample's
failure), ``canceled``/``expired`` (never ran: submitted again). Limits (Anthropic's
documentation): 100,000 requests and 256 MB per batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from trustgauge.errors import ConfigError, ModelError, TransientModelError, UsageError
from trustgauge.models._http import redact_url, short
from trustgauge.models.anthropic import _parse_message, map_anthropic_error
from trustgauge.models.batch_api import BatchAPI, BatchRejectedError, BatchResult, BatchStatus
from trustgauge.models.openai_batch import _limit
from trustgauge.types import Request

if TYPE_CHECKING:
    from trustgauge.models.anthropic import AnthropicModel

MAX_REQUESTS = 100_000
MAX_BYTES = 256 * 1024 * 1024


class AnthropicBatchAPI(BatchAPI):
    provider = "anthropic"

    def __init__(self, model: AnthropicModel) -> None:
        self.model = model
        options = model.config.options
        self.max_requests = _limit(options, "batch_max_requests", MAX_REQUESTS)
        self.max_bytes = _limit(options, "batch_max_bytes", MAX_BYTES)

    def entry(self, custom_id: str, request: Request) -> dict[str, Any]:
        self.model.refuse_unsupported([request])  # the Messages API has no log-probabilities
        kwargs = self.model._build(request)
        params = {k: v for k, v in kwargs.items() if k not in ("extra_body", "timeout")}
        params.update(kwargs.get("extra_body") or {})
        return {"custom_id": custom_id, "params": params}

    async def check(self) -> None:
        import anthropic

        where = redact_url(self.model.base_url)
        try:
            await self.model.client.messages.batches.list(limit=1, timeout=min(self.model.config.timeout, 15.0))
        except anthropic.AuthenticationError:
            raise ConfigError(f"{self.model.spec}: {where} rejected the API key (HTTP 401)") from None
        except anthropic.APIConnectionError:
            raise ConfigError(f"{self.model.spec}: cannot reach {where} (is the server running?)") from None
        except anthropic.APIStatusError as exc:
            if exc.status_code in (404, 405, 501):
                raise UsageError(
                    f"--batch: {where} has no Message Batches API (/v1/messages/batches answered HTTP "
                    f"{exc.status_code}); run without --batch"
                ) from None
            if exc.status_code == 429 or exc.status_code >= 500:
                return
            raise ConfigError(f"{self.model.spec}: {where} answered HTTP {exc.status_code} to GET /v1/messages/batches") from None
        except (anthropic.APIResponseValidationError, ValueError):
            return

    async def submit(self, entries: Sequence[dict[str, Any]]) -> str:
        import anthropic

        try:
            batch = await self.model.client.messages.batches.create(requests=list(entries))  # type: ignore[arg-type]
        except anthropic.APIStatusError as exc:
            status = exc.status_code
            if 400 <= status < 500 and status not in (408, 409, 429):
                raise BatchRejectedError(
                    f"{self.provider} rejected the batch: HTTP {status}: {short(exc.message)}"
                ) from None
            raise map_anthropic_error(exc) from None
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc) from None
        except ValueError as exc:
            raise TransientModelError(f"malformed response: {short(exc)}") from None
        return str(batch.id)

    async def status(self, batch_id: str) -> BatchStatus:
        import anthropic

        try:
            batch = await self.model.client.messages.batches.retrieve(batch_id)
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc) from None
        except ValueError as exc:
            raise TransientModelError(f"malformed response: {short(exc)}") from None
        c = batch.request_counts
        finished = c.succeeded + c.errored + c.canceled + c.expired
        total = finished + c.processing
        state = "ended" if batch.processing_status == "ended" else "running"
        return BatchStatus(state, str(batch.processing_status), finished, total, c.errored)

    async def results(self, batch_id: str, requests: Mapping[str, Request]) -> list[BatchResult]:
        import anthropic

        out: list[BatchResult] = []
        try:
            decoder = await self.model.client.messages.batches.results(batch_id)
            async for item in decoder:
                if item.custom_id in requests:
                    out.append(self._result(item))
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc) from None
        except ValueError as exc:
            raise TransientModelError(f"malformed batch results: {short(exc)}") from None
        return out

    def _result(self, item: Any) -> BatchResult:
        result = item.result
        kind = getattr(result, "type", None)
        if kind == "succeeded":
            try:
                return BatchResult(item.custom_id, response=_parse_message(result.message))
            except ModelError as exc:
                return BatchResult(item.custom_id, error=str(exc))
        if kind in ("canceled", "expired"):
            return BatchResult(item.custom_id, missing=True)
        error = getattr(getattr(result, "error", None), "error", None)
        etype = getattr(error, "type", None) or "error"
        message = getattr(error, "message", None) or "the batch returned no message"
        return BatchResult(item.custom_id, error=f"{etype}: {short(message)}")

    async def cancel(self, batch_id: str) -> None:
        import anthropic

        try:
            await self.model.client.messages.batches.cancel(batch_id)
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc) from None
