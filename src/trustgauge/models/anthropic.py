"""Anthropic's Messages API through the official ``anthropic`` SDK.

The SDK's own retries are off (``max_retries=0``): the engine retries, using the
:class:`~trustgauge.errors.TransientModelError` this backend raises.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from trustgauge._secrets import register_secret, register_url, split_query
from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError, PermanentModelError, TransientModelError
from trustgauge.models._cachekey import config_identity, query_identity
from trustgauge.models._http import check_server_url, parse_retry_after, redact_url, short
from trustgauge.models.base import Model
from trustgauge.models.batch_api import BatchAPI
from trustgauge.models.registry import register_backend
from trustgauge.types import Request, Response, Usage

if TYPE_CHECKING:
    import anthropic

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
INSTALL_HINT = "anthropic: backend needs: pip install 'trustgauge[anthropic]'"


def _error_body_type(exc: anthropic.APIStatusError) -> str | None:
    """The ``error.type`` of an Anthropic-shaped error body, if the body is one."""
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("type"), str):
            return str(error["type"])
    return None


def map_anthropic_error(exc: Exception) -> Exception:
    """Translate an ``anthropic`` SDK exception into a transient or permanent model error."""
    import anthropic

    if isinstance(exc, anthropic.APITimeoutError):
        return TransientModelError("timeout")
    if isinstance(exc, anthropic.APIConnectionError):
        return TransientModelError(f"connection error: {short(exc.__cause__ or exc)}")
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        headers = exc.response.headers if exc.response is not None else None
        retry_after = parse_retry_after(headers)
        message = f"HTTP {status}: {short(exc.message)}"
        if status == 429:
            return TransientModelError(message, retry_after=retry_after, overload=True)
        if status in (408, 409) or status >= 500:
            overload = status in (503, 529) or _error_body_type(exc) == "overloaded_error"
            return TransientModelError(message, retry_after=retry_after, overload=overload)
        return PermanentModelError(message)
    if isinstance(exc, anthropic.APIResponseValidationError | ValueError):
        return TransientModelError(f"malformed response: {short(exc)}")
    return exc


class AnthropicModel(Model):
    """A Claude model behind ``POST /v1/messages``."""

    def __init__(self, name: str, base_url: str, api_key: str, config: ModelConfig) -> None:
        self.name = name
        register_url(base_url)
        register_secret(api_key)
        # a query string is sent as request parameters, never glued before the request path
        base_url, self._query = split_query(base_url)
        self.base_url = base_url.rstrip("/")
        self.config = config
        self.spec = f"anthropic:{name}"
        self._api_key = api_key
        self._client: anthropic.AsyncAnthropic | None = None

    def __repr__(self) -> str:
        return f"AnthropicModel({self.name!r}, base_url={redact_url(self.base_url)!r})"

    def identity(self) -> dict[str, str]:
        ident = {"backend": "anthropic", "model": self.name, "base_url": redact_url(self.base_url)}
        # extra_body, headers and the base URL's query (api-version=...) change answers too
        return {**ident, **config_identity(self.config), **query_identity(self._query)}

    @property
    def client(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            try:
                import anthropic
            except ImportError:
                raise ConfigError(INSTALL_HINT) from None
            self._client = anthropic.AsyncAnthropic(
                api_key=self._api_key,
                base_url=self.base_url,
                max_retries=0,
                timeout=self.config.timeout,
                default_headers=self.config.headers or None,
                default_query=self._query or None,
            )
        return self._client

    async def check(self) -> None:
        """Retrieve the model's metadata: proves the server is reachable, the key works and the
        model exists, without paying for a generation."""
        import anthropic

        where = redact_url(self.base_url)
        try:
            await self.client.models.retrieve(self.name, timeout=min(self.config.timeout, 15.0))
        except anthropic.AuthenticationError:
            raise ConfigError(f"{self.spec}: {where} rejected the API key (HTTP 401)") from None
        except anthropic.PermissionDeniedError:
            raise ConfigError(
                f"{self.spec}: {where} denied access with this API key (HTTP 403)"
            ) from None
        except anthropic.NotFoundError as exc:
            if _error_body_type(exc) == "not_found_error":
                raise ConfigError(f"{self.spec}: unknown model {self.name!r} at {where}") from None
            return  # a compatible server without /v1/models: the first request will tell
        except anthropic.APIConnectionError:  # includes timeouts
            raise ConfigError(
                f"{self.spec}: cannot reach {where} (is the server running?)"
            ) from None
        except anthropic.APIStatusError as exc:
            if exc.status_code in (405, 501) or exc.status_code == 429 or exc.status_code >= 500:
                return  # no such endpoint, or a passing overload: the engine's retries handle it
            raise ConfigError(f"{self.spec}: {where} answered HTTP {exc.status_code}") from None
        except (anthropic.APIResponseValidationError, ValueError):
            return

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.refuse_unsupported(requests)  # the Messages API has no log-probabilities
        return [await self._one(r) for r in requests]

    def _build(self, request: Request) -> dict[str, Any]:
        p = request.params
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        messages = [
            {"role": m.role, "content": m.content} for m in request.messages if m.role != "system"
        ]
        # Sampling parameters travel in the body: recent SDKs no longer list them as arguments.
        body: dict[str, Any] = {"temperature": p.temperature}
        if p.top_p is not None:
            body["top_p"] = p.top_p
        extra = self.config.options.get("extra_body")
        if isinstance(extra, dict):
            body.update(extra)
        kwargs: dict[str, Any] = {
            "model": self.name,
            "max_tokens": p.max_tokens,
            "messages": messages,
            "extra_body": body,
            "timeout": self.config.timeout,
        }
        if system:
            kwargs["system"] = system
        if p.stop:
            kwargs["stop_sequences"] = list(p.stop)
        rf = p.response_format
        if rf is not None:
            # Structured output the Anthropic way: one tool whose input is the answer, forced.
            kwargs["tools"] = [
                {
                    "name": rf.name,
                    "description": "Record your answer. Its input must follow the schema exactly.",
                    "input_schema": rf.schema_dict(),
                }
            ]
            kwargs["tool_choice"] = {"type": "tool", "name": rf.name}
        return kwargs

    async def _one(self, request: Request) -> Response:
        import anthropic

        try:
            message = await self.client.messages.create(**self._build(request))
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc) from None
        except ValueError as exc:  # malformed JSON body
            raise TransientModelError(f"malformed response: {short(exc)}") from None
        return _parse_message(message)

    def batch_api(self) -> BatchAPI:
        """Anthropic's Message Batches (``/v1/messages/batches``)."""
        from trustgauge.models.anthropic_batch import AnthropicBatchAPI

        return AnthropicBatchAPI(self)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _parse_message(message: Any) -> Response:
    content = getattr(message, "content", None)
    if not isinstance(content, list):
        raise TransientModelError("malformed response: no content list")
    texts: list[str] = []
    tool_inputs: list[str] = []
    for block in content:
        block_type = getattr(block, "type", None)
        if block_type == "text":
            text = getattr(block, "text", None)
            if not isinstance(text, str):
                raise TransientModelError("malformed response: text block without text")
            texts.append(text)
        elif block_type == "tool_use":  # a forced tool: structured output (see _build)
            tool_input = getattr(block, "input", None)
            if not isinstance(tool_input, dict):
                raise TransientModelError("malformed response: tool_use block without input")
            tool_inputs.append(json.dumps(tool_input, ensure_ascii=False))
    if tool_inputs:
        texts = tool_inputs[:1]  # the answer is the tool's input, not any text around it
    stop_reason = getattr(message, "stop_reason", None)
    if not texts and stop_reason not in ("refusal", "end_turn", "stop_sequence", "max_tokens"):
        raise TransientModelError("malformed response: no text content")
    usage = getattr(message, "usage", None)
    model = getattr(message, "model", None)
    return Response(
        text="".join(texts),
        finish_reason=stop_reason if isinstance(stop_reason, str) else None,
        usage=Usage(
            input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
        ),
        model=model if isinstance(model, str) else None,
    )


@register_backend("anthropic", options=("extra_body", "batch_max_requests", "batch_max_bytes"))
def create(name: str, config: ModelConfig) -> Model:
    """``anthropic:<model>``; the key comes from ``ANTHROPIC_API_KEY`` (or the config's
    ``api_key_env`` / ``api_key_file``), the endpoint from ``base_url`` or ``ANTHROPIC_BASE_URL``."""
    base_url = config.base_url or os.environ.get("ANTHROPIC_BASE_URL") or ANTHROPIC_BASE_URL
    check_server_url(base_url, "Anthropic base URL")
    register_url(base_url)
    key = config.resolve_api_key("ANTHROPIC_API_KEY", required=True)
    assert key is not None  # required=True raises instead
    return AnthropicModel(name, base_url, key, config)
