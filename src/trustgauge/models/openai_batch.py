"""OpenAI's Batch API for ``openai:`` and ``openai-compatible:`` models, through the official SDK
(``client.files`` and ``client.batches``, against the model's own base URL and client).

A batch is one JSONL file (``{"custom_id", "method": "POST", "url": "/v1/chat/completions",
"body"}`` per line; the body is what :meth:`OpenAICompatModel.request_kwargs` builds for a normal
call) uploaded with ``purpose="batch"`` (from memory: nothing is written to disk), then
``POST /v1/batches`` (``completion_window="24h"``). ``GET /v1/batches/{id}`` is polled until
``completed``/``expired``/``cancelled`` (``failed``: rejected at validation); the output file
(successful lines) and the error file (failed lines, and those the batch never ran:
``batch_expired``/``batch_cancelled``) are read back and each line is parsed by
:meth:`OpenAICompatModel.parse_completion`, the normal call's parser. Limits (OpenAI's
documentation): 50,000 requests and 200 MB per batch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from trustgauge.errors import ConfigError, ModelError, TransientModelError, UsageError
from trustgauge.models._http import redact_url, short
from trustgauge.models.batch_api import BatchAPI, BatchRejectedError, BatchResult, BatchStatus
from trustgauge.models.openai_compat import map_openai_error
from trustgauge.types import Request

if TYPE_CHECKING:
    from trustgauge.models.openai_compat import OpenAICompatModel

ENDPOINT: Final = "/v1/chat/completions"
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
_RUNNING = {"validating", "in_progress", "finalizing", "cancelling"}
_ENDED = {"completed", "expired", "cancelled"}
#: error codes of the lines a batch never ran (they are submitted again)
_NOT_RUN = {"batch_expired", "batch_cancelled"}


def _limit(options: dict[str, Any], name: str, cap: int) -> int:
    """``options[name]`` (a model config may ask for smaller batches), at most ``cap``."""
    value = options.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return min(value, cap)
    return cap


def rejected(provider: str, exc: Exception) -> Exception:
    """A creation error as :class:`BatchRejectedError` when the provider refused the batch
    (a 4xx other than 408/409/429), else as the backend maps it (transient or permanent)."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if 400 <= status < 500 and status not in (408, 409, 429):
            body = exc.body if isinstance(exc.body, dict) else {}
            message = body.get("message") if isinstance(body.get("message"), str) else exc.message
            return BatchRejectedError(f"{provider} rejected the batch: HTTP {status}: {short(message)}")
    return map_openai_error(exc)


class OpenAIBatchAPI(BatchAPI):
    provider = "openai"

    def __init__(self, model: OpenAICompatModel) -> None:
        self.model = model
        options = model.config.options
        self.max_requests = _limit(options, "batch_max_requests", MAX_REQUESTS)
        self.max_bytes = _limit(options, "batch_max_bytes", MAX_BYTES)

    def entry(self, custom_id: str, request: Request) -> dict[str, Any]:
        kwargs = self.model.request_kwargs(request)
        body = {k: v for k, v in kwargs.items() if k != "extra_body"}
        body.update(kwargs.get("extra_body") or {})  # the SDK merges extra_body into the body too
        return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}

    async def check(self) -> None:
        import openai

        where = redact_url(self.model.base_url)
        try:
            await self.model.client.batches.list(limit=1, timeout=min(self.model.config.timeout, 15.0))
        except openai.AuthenticationError:
            raise ConfigError(f"{self.model.spec}: the server at {where} rejected the API key") from None
        except openai.APIConnectionError:
            raise ConfigError(f"{self.model.spec}: cannot reach {where} (is the server running?)") from None
        except openai.APIStatusError as exc:
            if exc.status_code in (404, 405, 501):
                raise UsageError(
                    f"--batch: the server at {where} has no batch API (/v1/batches answered HTTP "
                    f"{exc.status_code}); run without --batch"
                ) from None
            if exc.status_code == 429 or exc.status_code >= 500:
                return  # a passing overload: polling retries
            raise ConfigError(f"{self.model.spec}: {where} answered HTTP {exc.status_code} to GET /v1/batches") from None
        except (openai.APIResponseValidationError, ValueError):
            return

    async def submit(self, entries: Sequence[dict[str, Any]]) -> str:
        import openai

        data = b"".join(
            json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n" for e in entries
        )
        client = self.model.client
        try:
            # the JSONL goes from memory: no batch file on disk
            uploaded = await client.files.create(file=("trustgauge-batch.jsonl", data, "application/jsonl"), purpose="batch")
            batch = await client.batches.create(
                input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h",
                metadata={"created_by": "trustgauge"},
            )
        except openai.OpenAIError as exc:
            raise rejected(self.provider, exc) from None
        except ValueError as exc:
            raise TransientModelError(f"malformed response: {short(str(exc))}") from None
        return str(batch.id)

    async def status(self, batch_id: str) -> BatchStatus:
        import openai

        try:
            batch = await self.model.client.batches.retrieve(batch_id)
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from None
        except ValueError as exc:
            raise TransientModelError(f"malformed response: {short(str(exc))}") from None
        counts = batch.request_counts
        done = (counts.completed + counts.failed) if counts else 0
        total = counts.total if counts else 0
        failed = counts.failed if counts else 0
        status = str(batch.status)
        if status in _RUNNING:
            return BatchStatus("running", status, done, total, failed)
        if status in _ENDED:
            return BatchStatus("ended", status, done, total, failed)
        errors = getattr(getattr(batch, "errors", None), "data", None) or []
        detail = "; ".join(
            f"{getattr(e, 'code', None) or 'error'}"
            + (f" (line {e.line})" if getattr(e, "line", None) else "")
            + f": {getattr(e, 'message', '')}"
            for e in errors[:3]
        )
        return BatchStatus("failed", status, done, total, failed, short(detail or status))

    async def _file_lines(self, file_id: str | None) -> list[dict[str, Any]]:
        import openai

        if not file_id:
            return []
        try:
            content = await self.model.client.files.content(file_id)
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from None
        lines = []
        for raw in content.text.splitlines():
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except (ValueError, RecursionError):
                raise TransientModelError(f"malformed batch result file {file_id}: a line is not JSON") from None
            if isinstance(line, dict) and isinstance(line.get("custom_id"), str):
                lines.append(line)
        return lines

    async def results(self, batch_id: str, requests: Mapping[str, Request]) -> list[BatchResult]:
        import openai

        try:
            batch = await self.model.client.batches.retrieve(batch_id)
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from None
        lines = await self._file_lines(batch.output_file_id) + await self._file_lines(batch.error_file_id)
        return [self._result(line, requests[line["custom_id"]]) for line in lines if line["custom_id"] in requests]

    def _result(self, line: dict[str, Any], request: Request) -> BatchResult:
        from openai.types.chat import ChatCompletion
        from pydantic import ValidationError

        custom_id = line["custom_id"]
        error = line.get("error")
        if isinstance(error, dict) and error.get("code") in _NOT_RUN:
            return BatchResult(custom_id, missing=True)
        response = line.get("response")
        status = response.get("status_code") if isinstance(response, dict) else None
        body = response.get("body") if isinstance(response, dict) else None
        if status == 200 and isinstance(body, dict):
            try:
                completion = ChatCompletion.model_validate(body)
                return BatchResult(custom_id, response=self.model.parse_completion(completion, request))
            except ValidationError as exc:
                return BatchResult(custom_id, error=f"malformed response: {short(str(exc).splitlines()[0])}")
            except ModelError as exc:
                return BatchResult(custom_id, error=str(exc))
        message = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            message = body["error"].get("message")
        if message is None and isinstance(error, dict):
            message = error.get("message") or error.get("code")
        prefix = f"HTTP {status}: " if isinstance(status, int) else ""
        return BatchResult(custom_id, error=f"{prefix}{short(message or 'the batch returned no response')}")

    async def cancel(self, batch_id: str) -> None:
        import openai

        try:
            await self.model.client.batches.cancel(batch_id)
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from None
