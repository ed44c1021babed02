"""The model protocol every backend implements, and the request/response types.

A backend is thin: it turns a :class:`Request` into one call to its model and returns a
:class:`Response`, raising :class:`~trustgauge.errors.TransientModelError` for failures worth
retrying. The engine owns caching, concurrency, retries, timeouts and progress.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    """One turn of a conversation."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class ResponseFormat(BaseModel):
    """Ask for a JSON answer that follows a JSON Schema (structured output).

    The schema is kept as compact JSON text, so the format is hashable (requests group by
    their parameters) and serialises the same way every time (it is part of the cache key).
    Key order is kept, not sorted: under strict structured output the model writes the
    properties in schema order (e.g. a ``reason`` before the ``label``).
    Backends with native structured output use it (``openai``/``openai-compatible``:
    ``response_format`` of type ``json_schema``; ``anthropic``: a forced tool); the others
    ignore it, so callers should also describe the schema in the prompt.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: a short name for the schema (OpenAI: ``[a-zA-Z0-9_-]``, at most 64 characters)
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    #: the JSON Schema as compact JSON text (see :meth:`from_schema`)
    schema_text: str
    #: ask the server to enforce the schema exactly (OpenAI ``strict``)
    strict: bool = True

    @classmethod
    def from_schema(cls, name: str, schema: Mapping[str, Any], *, strict: bool = True) -> ResponseFormat:
        """A format from a JSON Schema given as a mapping."""
        text = json.dumps(schema, separators=(",", ":"), ensure_ascii=False)
        return cls(name=name, schema_text=text, strict=strict)

    def schema_dict(self) -> dict[str, Any]:
        """The JSON Schema as a fresh dict."""
        schema: dict[str, Any] = json.loads(self.schema_text)
        return schema


class GenerationParams(BaseModel):
    """Sampling parameters; part of the cache key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=1)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    stop: tuple[str, ...] | None = None
    #: structured output (JSON following a schema); ``None``: free text
    response_format: ResponseFormat | None = None
    #: return the log-probability of each generated token with this many most likely
    #: alternatives (0: the chosen tokens only); ``None``: no log-probabilities
    logprobs: int | None = Field(default=None, ge=0, le=20)

    @model_serializer(mode="wrap")
    def _omit_unset_response_format(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave ``response_format`` and ``logprobs`` out of every dump when they are unset, so
        the cache keys and stored requests of plain requests are what they were before the
        fields existed."""
        data: dict[str, Any] = handler(self)
        for key in ("response_format", "logprobs"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    def merged(self, **overrides: Any) -> GenerationParams:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        data = self.model_dump()
        data.update({k: v for k, v in overrides.items() if v is not None})
        return GenerationParams(**data)


class Request(BaseModel):
    """Everything that determines a model's answer, apart from the model itself."""

    model_config = ConfigDict(frozen=True)

    messages: tuple[ChatMessage, ...]
    params: GenerationParams = GenerationParams()

    @classmethod
    def user(cls, prompt: str, params: GenerationParams | None = None) -> Request:
        """A single user turn, as TrustLLM sends every prompt."""
        return cls(
            messages=(ChatMessage(role="user", content=prompt),),
            params=params or GenerationParams(),
        )

    @property
    def prompt(self) -> str:
        """The text of the last user turn."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""

    def cache_key(self, model_identity: dict[str, str]) -> str:
        """SHA-256 over the model identity, the full request and its generation parameters."""
        payload = {"model": model_identity, "request": self.model_dump(mode="json")}
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Usage(BaseModel):
    """Token counts reported by the model (0 when unknown)."""

    input_tokens: int = 0
    output_tokens: int = 0


class Capability(str, Enum):
    """What a backend can do beyond answering a chat turn (``Model.capabilities``; a task
    names what it needs in ``Task.requires``)."""

    #: answer chat turns (every backend)
    CHAT = "chat"
    #: continue a raw text prompt, no chat template
    COMPLETION = "completion"
    #: log-probabilities of the generated tokens, with top-k alternatives
    #: (``GenerationParams.logprobs``; at most ``Model.max_top_logprobs`` alternatives)
    LOGPROBS = "logprobs"
    #: the log-likelihood of a given continuation of a given text (``Model.loglikelihood``)
    LOGLIKELIHOOD = "loglikelihood"
    #: a hook that edits the logits while generating (e.g. watermarking)
    LOGITS_PROCESSOR = "logits_processor"
    #: reproducible sampling from ``GenerationParams.seed``
    SEED = "seed"

    @classmethod
    def parse(cls, name: str) -> Capability | None:
        """The capability a ``Task.requires`` entry names (``"text"`` is a chat turn);
        ``None`` for a name no backend declares."""
        name = name.strip().lower().replace("-", "_").replace(" ", "_")
        if name == "text":
            return cls.CHAT
        try:
            return cls(name)
        except ValueError:
            return None


class TokenLogprob(BaseModel):
    """One token with its natural-log probability and, when asked, its most likely
    alternatives at that position (best first; they include the token itself when it is
    among them)."""

    model_config = ConfigDict(frozen=True)

    token: str
    logprob: float
    #: the token's id in the model's vocabulary, when the backend reports it
    id: int | None = None
    top: tuple[TokenLogprob, ...] = ()


class Loglikelihood(BaseModel):
    """``Model.loglikelihood`` of one continuation given its context."""

    model_config = ConfigDict(frozen=True)

    #: sum of the continuation tokens' log-probabilities (nats)
    logprob: float
    #: every continuation token was the most likely one (greedy decoding would produce it);
    #: ``None`` when the backend does not say
    greedy: bool | None = None
    #: the continuation's tokens, each with its log-probability given everything before it
    tokens: tuple[TokenLogprob, ...] = ()


class Response(BaseModel):
    """A model's answer to one request."""

    text: str
    finish_reason: str | None = None
    usage: Usage = Usage()
    #: the model name the server reported, when it reports one
    model: str | None = None
    #: the generated tokens with their log-probabilities (requests with ``params.logprobs``)
    tokens: tuple[TokenLogprob, ...] | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_tokens(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave ``tokens`` out of dumps when unset: stored responses stay byte-identical."""
        data: dict[str, Any] = handler(self)
        if data.get("tokens") is None:
            data.pop("tokens", None)
        return data


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

    async def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
        """The log-likelihood of each ``continuation`` given its ``context`` (raw text, no chat
        template: the model sees ``context + continuation``), in order.

        Raises:
            CapabilityError: the backend cannot score given text (no ``LOGLIKELIHOOD``).
        """
        from trustgauge.errors import CapabilityError

        raise CapabilityError(self.describe(), Capability.LOGLIKELIHOOD.value)

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
            wanted = request.params.logprobs
            if wanted is None:
                continue
            if Capability.LOGPROBS not in self.capabilities:
                raise CapabilityError(self.describe(), Capability.LOGPROBS.value)
            if wanted > self.max_top_logprobs:
                raise CapabilityError(
                    self.describe(), f"{wanted} top logprobs", f"at most {self.max_top_logprobs}"
                )

    async def check(self) -> None:  # noqa: B027 - optional hook
        """Fail fast with :class:`~trustgauge.errors.UsageError` if the model cannot work
        (unreachable server, unknown model, bad key). Called once before a run sends work."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections, servers or memory."""

    def describe(self) -> str:
        """A short human-readable name for progress lines and reports."""
        return self.spec
