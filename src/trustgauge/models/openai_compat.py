"""OpenAI and any OpenAI-compatible server (vLLM, Ollama, llama.cpp, TGI, LM Studio), through
the official ``openai`` SDK. The SDK's own retries are off: the engine retries."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from trustgauge._secrets import register_secret, register_url, split_query
from trustgauge.config import ModelConfig
from trustgauge.errors import CapabilityError, ConfigError, PermanentModelError, TransientModelError
from trustgauge.models._cachekey import config_identity, query_identity
from trustgauge.models._http import (
    check_server_url,
    parse_retry_after,
    redact_url,
    short,
    split_spec,
)
from trustgauge.models.base import Model
from trustgauge.models.batch_api import BatchAPI
from trustgauge.models.registry import register_backend
from trustgauge.types import Capability, Loglikelihood, Request, Response, TokenLogprob, Usage

if TYPE_CHECKING:
    import openai

OPENAI_BASE_URL = "https://api.openai.com/v1"

#: Requests in flight per SDK client. The SDK's HTTP pool (httpx/httpcore) checks every idle
#: connection of its pool on each request, so one pool serving 64-256 concurrent requests costs
#: O(concurrency) CPU per request; the model opens one more client (own pool, same settings)
#: each time all of its clients have this many requests in flight, and sends each request
#: through the least busy one.
_POOL_SIZE = 16


def map_openai_error(exc: Exception) -> Exception:
    """Translate an ``openai`` SDK exception into a transient or permanent model error."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return TransientModelError("timeout")
    if isinstance(exc, openai.APIConnectionError):
        return TransientModelError(f"connection error: {exc.__cause__ or exc}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry_after = parse_retry_after(exc.response.headers if exc.response is not None else None)
        message = f"HTTP {status}: {short(exc.message)}"
        if status == 429:
            return TransientModelError(message, retry_after=retry_after, overload=True)
        if status in (408, 409) or status >= 500:
            return TransientModelError(message, retry_after=retry_after, overload=status in (503, 529))
        return PermanentModelError(message)
    if isinstance(exc, openai.APIResponseValidationError | ValueError):
        return TransientModelError(f"malformed response: {short(str(exc))}")
    return exc


def rejects_response_format(exc: Exception) -> bool:
    """Whether ``exc`` is a server saying it does not support ``response_format`` (a 400 or
    422 whose error mentions ``response_format`` or ``json_schema``)."""
    import openai

    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422):
        return False
    text = f"{exc.message} {exc.body}".lower()
    return "response_format" in text or "json_schema" in text


def _field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]``: SDK objects keep fields a server adds (llama.cpp's
    ``id``) as extras, plain dicts come from ``model_extra``."""
    if isinstance(obj, dict):
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None:
        extra = getattr(obj, "model_extra", None) or {}
        value = extra.get(name)
    return value


def _token_text(entry: Any) -> str:
    """A token's text: from its UTF-8 ``bytes`` when given (a token may be part of a
    character), else its ``token`` string."""
    raw = _field(entry, "bytes")
    if isinstance(raw, list) and raw:
        return bytes(raw).decode("utf-8", errors="replace")
    token = _field(entry, "token")
    return token if isinstance(token, str) else ""


def parse_chat_logprobs(logprobs: Any) -> tuple[TokenLogprob, ...] | None:
    """The ``choices[0].logprobs`` of a chat completion (``{"content": [{"token", "logprob",
    "bytes", "top_logprobs": [...]}]}``; llama.cpp adds ``id``) as tokens; ``None`` if absent."""
    content = _field(logprobs, "content") if logprobs is not None else None
    if not isinstance(content, list):
        return None
    tokens = []
    for entry in content:
        logprob = _field(entry, "logprob")
        if not isinstance(logprob, int | float):
            raise TransientModelError("malformed response: a token without its logprob")
        top = []
        for alt in _field(entry, "top_logprobs") or []:
            alt_lp = _field(alt, "logprob")
            if isinstance(alt_lp, int | float):
                alt_id = _field(alt, "id")
                top.append(
                    TokenLogprob(
                        token=_token_text(alt), logprob=float(alt_lp),
                        id=alt_id if isinstance(alt_id, int) else None,
                    )
                )
        token_id = _field(entry, "id")
        tokens.append(
            TokenLogprob(
                token=_token_text(entry), logprob=float(logprob),
                id=token_id if isinstance(token_id, int) else None, top=tuple(top),
            )
        )
    return tuple(tokens)


def parse_prompt_logprobs(entries: Any, continuation: str) -> Loglikelihood:
    """vLLM's ``prompt_logprobs`` -> the log-likelihood of the prompt's last tokens that spell
    ``continuation``.

    The shape, as vLLM 0.33 sends it (``CompletionResponseChoice.prompt_logprobs:
    list[dict[int, Logprob] | None]`` in ``vllm/entrypoints/openai/completion/protocol.py``,
    dumped by pydantic, so the token ids become JSON strings): one entry per prompt token, the
    first ``null`` (``vllm/logprobs.py: create_prompt_logprobs``: the first token has no
    context; with a BOS-adding tokenizer that is the BOS), each other a map ``token_id ->
    {"logprob", "rank", "decoded_token"}`` (``vllm.logprobs.Logprob``) holding the prompt token
    first and, with ``prompt_logprobs: 1``, the most likely token after it when that is another
    one (``append_logprobs_for_next_position``). ``rank`` is 1 + the number of other tokens at
    least as likely (``vllm/v1/sample/ops/logprobs.py``: ``(x >= values).sum(-1)``), the
    ``TokenLogprob.rank`` of ``hf:`` but for exact ties. ``decoded_token`` is the token decoded
    alone, a byte-fallback piece of a character ``""`` and the piece completing it the whole
    character (``LogprobsProcessor._correct_decoded_token``), so the pieces spell the text; a
    ``-inf`` is sent as ``-9999.0`` (``clamp_prompt_logprobs``). Early vLLM engines listed the
    prompt token last, ranked ``prompt_logprobs + 1``: the prompt token is the only entry, or
    the one not ranked first, or (a tie) the first.

    The continuation's tokens are found from the end by their decoded text; a token that
    straddles the boundary between context and continuation is counted with the continuation.
    With an empty context the prompt's first token has nothing before it (its entry is
    ``None``): it is left out, as every membership-inference reference leaves it out.
    """
    if not isinstance(entries, list) or not entries:
        raise TransientModelError("malformed response: no prompt_logprobs")
    tokens: list[TokenLogprob] = []
    greedy = True
    covered = 0
    for position, entry in zip(range(len(entries) - 1, -1, -1), reversed(entries)):
        if covered >= len(continuation):
            break
        if position == 0 and entry is None:  # the first prompt token: no context, no logprob
            break
        if not isinstance(entry, dict) or not entry:
            raise TransientModelError("malformed response: a prompt token without logprobs")
        items = list(entry.items())
        # the prompt token is the one entry, or the one not ranked first
        key, info = items[0]
        if len(items) > 1:
            key, info = next(
                ((k, v) for k, v in items if isinstance(v, dict) and v.get("rank") != 1), items[0]
            )
        if not isinstance(info, dict) or not isinstance(info.get("logprob"), int | float):
            raise TransientModelError("malformed response: a prompt token without its logprob")
        text = str(info.get("decoded_token") or "")
        rank = info.get("rank")
        rank = rank if isinstance(rank, int) and not isinstance(rank, bool) and rank >= 1 else None
        greedy = greedy and rank == 1
        tokens.append(
            TokenLogprob(
                token=text, logprob=float(info["logprob"]),
                id=int(key) if str(key).isdigit() else None, rank=rank,
            )
        )
        covered += len(text)
    tokens.reverse()
    return Loglikelihood(logprob=sum(t.logprob for t in tokens), greedy=greedy, tokens=tuple(tokens))


class OpenAICompatModel(Model):
    """A chat model behind ``/v1/chat/completions``."""

    # OpenAI's chat logprobs: at most 20 alternatives; a compatible server may give none
    # (it then answers without them and the response says so: ``tokens`` stays ``None``)
    capabilities = frozenset({Capability.CHAT, Capability.LOGPROBS})
    max_top_logprobs = 20

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None,
        config: ModelConfig,
        backend: str = "openai-compatible",
    ) -> None:
        self.name = name
        register_url(base_url)
        register_secret(api_key)
        # a query string (?api_key=...) is sent as request parameters: the SDK appends paths to
        # the base URL, and must not glue them after the query
        base_url, self._query = split_query(base_url)
        self.base_url = base_url.rstrip("/")
        self.backend = backend
        self.config = config
        self.spec = f"{backend}:{name}"
        self._api_key = api_key or "EMPTY"  # local servers ignore it; the SDK insists on one
        self._client: openai.AsyncOpenAI | None = None
        # More clients (each with its own connection pool) as concurrency grows; see _POOL_SIZE.
        self._clients: list[openai.AsyncOpenAI] = []
        self._busy: list[int] = []
        #: whether the server honours ``response_format`` (json_schema): ``None`` until known;
        #: set to ``False`` once it rejects one, and later requests are sent without it (their
        #: prompts are expected to describe the schema too)
        self.structured_output: bool | None = None
        #: whether the server returns vLLM's ``prompt_logprobs`` (log-likelihood of given
        #: text): ``None`` until asked (``supported`` or ``loglikelihood``)
        self.prompt_logprobs: bool | None = None

    def __repr__(self) -> str:
        return f"OpenAICompatModel({self.name!r}, base_url={redact_url(self.base_url)!r})"

    def identity(self) -> dict[str, str]:
        ident = {"backend": self.backend, "model": self.name, "base_url": redact_url(self.base_url)}
        # extra_body, headers and the base URL's query (api-version=...) change answers too
        return {**ident, **config_identity(self.config), **query_identity(self._query)}

    def _new_client(self) -> openai.AsyncOpenAI:
        import openai

        return openai.AsyncOpenAI(
            api_key=self._api_key,
            base_url=self.base_url,
            max_retries=0,
            timeout=self.config.timeout,
            default_headers=self.config.headers or None,
            default_query=self._query or None,
        )

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The first client (``check`` uses it; requests are spread over all of them)."""
        if self._client is None:
            self._client = self._new_client()
            self._clients = [self._client]
            self._busy = [0]
        return self._client

    def _pick_client(self) -> int:
        """Index of the least busy client; a new client when every one has _POOL_SIZE requests
        in flight."""
        if self._client is None:
            self.client  # noqa: B018 - creates the first client
        busy = self._busy
        best = min(range(len(busy)), key=busy.__getitem__)
        if busy[best] >= _POOL_SIZE:
            self._clients.append(self._new_client())
            busy.append(0)
            best = len(busy) - 1
        return best

    async def check(self) -> None:
        """List the server's models: proves it is reachable, the key works, the model exists."""
        import openai

        try:
            page = await self.client.models.list(timeout=min(self.config.timeout, 15.0))
        except openai.AuthenticationError:
            raise ConfigError(f"{self.spec}: the server at {redact_url(self.base_url)} rejected the API key") from None
        except openai.APIConnectionError:
            raise ConfigError(
                f"{self.spec}: cannot reach {redact_url(self.base_url)} (is the server running?)"
            ) from None
        except openai.APIStatusError as exc:
            if exc.status_code in (404, 405, 501):
                return  # some compatible servers have no /models; the first request will tell
            raise ConfigError(f"{self.spec}: {redact_url(self.base_url)} answered HTTP {exc.status_code}") from None
        except (openai.APIResponseValidationError, ValueError):
            return
        ids = [m.id for m in getattr(page, "data", []) or []]
        if ids and self.name not in ids and self.backend == "openai":
            raise ConfigError(f"{self.spec}: unknown model {self.name!r} (the API lists {len(ids)} models)")
        if ids and self.name not in ids and not any(self.name in i or i in self.name for i in ids):
            # llama.cpp and vLLM often serve under a path-like id; only an exact miss everywhere is an error
            shown = ", ".join(ids[:5])
            raise ConfigError(f"{self.spec}: the server does not serve {self.name!r}; it serves: {shown}")

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        return [await self._one(r) for r in requests]

    def request_kwargs(self, request: Request) -> dict[str, Any]:
        """The chat completion's arguments for ``request`` (``extra_body`` kept apart, as the SDK
        takes it); a normal call and a batch line are built by this one function.

        Raises:
            CapabilityError: log-probabilities beyond the backend's limit, a watermark.
        """
        p = request.params
        kwargs: dict[str, Any] = {
            "model": self.name,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": p.temperature,
            "max_tokens": p.max_tokens,
        }
        if p.top_p is not None:
            kwargs["top_p"] = p.top_p
        if p.seed is not None:
            kwargs["seed"] = p.seed
        if p.stop:
            kwargs["stop"] = list(p.stop)
        self.refuse_unsupported([request])  # log-probabilities beyond its limit, a watermark
        if p.logprobs is not None:
            kwargs["logprobs"] = True
            if p.logprobs > 0:
                kwargs["top_logprobs"] = p.logprobs
        extra = self.config.options.get("extra_body")
        if isinstance(extra, dict):
            kwargs["extra_body"] = extra
        rf = p.response_format
        if rf is not None and self.structured_output is not False:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": rf.name, "schema": rf.schema_dict(), "strict": rf.strict},
            }
        return kwargs

    async def _one(self, request: Request) -> Response:
        import openai

        kwargs = self.request_kwargs(request)
        try:
            try:
                completion = await self._create(kwargs)
            except openai.APIStatusError as exc:
                if "response_format" not in kwargs or not rejects_response_format(exc):
                    raise
                # The server cannot do structured output: remember, and ask in plain text.
                self.structured_output = False
                del kwargs["response_format"]
                completion = await self._create(kwargs)
            else:
                if "response_format" in kwargs:
                    self.structured_output = True
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from None
        except ValueError as exc:  # malformed JSON body
            raise TransientModelError(f"malformed response: {short(str(exc))}") from None
        return self.parse_completion(completion, request)

    def parse_completion(self, completion: Any, request: Request) -> Response:
        """The :class:`Response` in a chat completion (an SDK ``ChatCompletion``): a normal
        call's and a batch result line's.

        Raises:
            TransientModelError: a malformed completion.
            PermanentModelError: the provider filtered the content.
            CapabilityError: log-probabilities were asked for and none came.
        """
        p = request.params
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise TransientModelError("malformed response: no choices")
        message = getattr(choices[0], "message", None)
        content = getattr(message, "content", None)
        if content is None:
            refusal = getattr(message, "refusal", None)
            if isinstance(refusal, str):
                content = refusal
            elif choices[0].finish_reason == "content_filter":
                raise PermanentModelError("content filtered by the provider")
            else:
                raise TransientModelError("malformed response: message has no content")
        if not isinstance(content, str):
            raise TransientModelError("malformed response: content is not text")
        usage = completion.usage
        tokens = None
        if p.logprobs is not None:
            tokens = parse_chat_logprobs(getattr(choices[0], "logprobs", None))
            if tokens is None:
                raise CapabilityError(self.spec, "logprobs", "the server returned none")
        return Response(
            text=content,
            finish_reason=choices[0].finish_reason,
            usage=Usage(
                input_tokens=(usage.prompt_tokens or 0) if usage else 0,
                output_tokens=(usage.completion_tokens or 0) if usage else 0,
            ),
            model=getattr(completion, "model", None),
            tokens=tokens,
        )

    def batch_api(self) -> BatchAPI:
        """OpenAI's Batch API (``/v1/files`` + ``/v1/batches``); an ``openai-compatible:`` server
        is asked whether it has one (:meth:`BatchAPI.check`) before anything is sent."""
        from trustgauge.models.openai_batch import OpenAIBatchAPI

        return OpenAIBatchAPI(self)

    # -- log-likelihood of given text (vLLM's prompt_logprobs) ---------------------------------

    async def _prompt_logprobs(self, prompt: str) -> Any:
        """``choices[0].prompt_logprobs`` of a one-token completion of ``prompt`` asked with
        vLLM's ``prompt_logprobs: 1`` (``None`` when the server does not give them)."""
        import openai

        index = self._pick_client()
        busy = self._busy
        busy[index] += 1
        try:
            completion = await self._clients[index].completions.create(
                model=self.name, prompt=prompt, max_tokens=1, temperature=0.0,
                extra_body={"prompt_logprobs": 1},
            )
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from None
        except ValueError as exc:
            raise TransientModelError(f"malformed response: {short(str(exc))}") from None
        finally:
            busy[index] -= 1
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise TransientModelError("malformed response: no choices")
        return _field(choices[0], "prompt_logprobs") or _field(completion, "prompt_logprobs")

    async def supported(self) -> frozenset[Capability]:
        """``openai-compatible:`` asks the server once whether it returns vLLM's
        ``prompt_logprobs``; with them it can give the log-likelihood of given text."""
        if self.backend != "openai-compatible":
            return self.capabilities
        if self.prompt_logprobs is None:
            try:
                self.prompt_logprobs = bool(await self._prompt_logprobs("Hello"))
            except (TransientModelError, PermanentModelError):
                self.prompt_logprobs = False
        if self.prompt_logprobs:
            return self.capabilities | {Capability.LOGLIKELIHOOD, Capability.COMPLETION}
        return self.capabilities

    async def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
        """Through vLLM's ``prompt_logprobs`` (``/v1/completions`` of ``context +
        continuation``, one token generated and ignored); OpenAI's own API has none."""
        if self.backend != "openai-compatible" or self.prompt_logprobs is False:
            raise CapabilityError(self.spec, "loglikelihood", "the server returns no prompt_logprobs")
        results = []
        for context, continuation in pairs:
            entries = await self._prompt_logprobs(context + continuation)
            if not entries:
                self.prompt_logprobs = False
                raise CapabilityError(
                    self.spec, "loglikelihood", "the server returns no prompt_logprobs"
                )
            self.prompt_logprobs = True
            results.append(parse_prompt_logprobs(entries, continuation))
        return results

    async def _create(self, kwargs: dict[str, Any]) -> Any:
        """One chat completion through the least busy client (SDK errors propagate)."""
        index = self._pick_client()
        busy = self._busy  # aclose() replaces the list: then this one is just dropped
        busy[index] += 1
        try:
            return await self._clients[index].chat.completions.create(**kwargs)
        finally:
            busy[index] -= 1

    async def aclose(self) -> None:
        clients, self._clients, self._busy, self._client = self._clients, [], [], None
        for client in clients:
            await client.close()


#: the model options these backends read: extra_body (merged into each request), and the batch
#: API's limits (models/openai_batch.py)
_OPTIONS = ("extra_body", "batch_max_requests", "batch_max_bytes")


@register_backend("openai", options=_OPTIONS)
@register_backend("openai-compatible", options=_OPTIONS)
def create(name: str, config: ModelConfig) -> Model:
    """``openai:<model>`` or ``openai-compatible:<model>@<base_url>``."""
    backend = config.model.partition(":")[0]
    if backend == "openai":
        base_url = config.base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL
        check_server_url(base_url, "OpenAI base URL")
        register_url(base_url)
        key = config.resolve_api_key("OPENAI_API_KEY", required=True)
        return OpenAICompatModel(name, base_url, key, config, backend="openai")
    model_name, base_url = split_spec(name)
    if not base_url:
        model_name, base_url = name, config.base_url or ""
    if not base_url:
        shown = " ".join(name.split())  # one line, whatever the spec holds
        raise ConfigError(
            f"openai-compatible needs a server URL: openai-compatible:{shown}@http://127.0.0.1:8000/v1"
        )
    check_server_url(base_url)
    register_url(base_url)
    # a key variable or file the user named is required: falling back to OPENAI_API_KEY would
    # send their OpenAI key to this other server (or no key at all, a 401 once the run started)
    key = config.resolve_api_key(None, required=True) if config.api_key_env or config.api_key_file else None
    if key is None:
        # stripped like every other key: a trailing newline (a key pasted from a file) is not
        # a valid header value, and the request would fail as "cannot reach" the server
        key = (os.environ.get("OPENAI_API_KEY") or "").strip() or None
        register_secret(key)
    return OpenAICompatModel(model_name, base_url, key, config, backend="openai-compatible")
