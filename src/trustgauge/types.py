"""The values every layer exchanges: requests and responses, samples and their scores, metric
values, judge items and judgements.

This module sits at the bottom of the layering (docs/architecture.md §2.1): it imports only
pydantic and the standard library, so the engine's store, the report readers and the tasks can
all use these types without importing each other. The old homes (``models.base``,
``tasks.base``, ``judges.base``) re-export the same objects.

Serialisation is part of the contract: ``Request.model_dump`` feeds every cache key, so a field
added here must be left out of dumps while unset (see
``GenerationParams._omit_unset_response_format``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializerFunctionWrapHandler,
    model_serializer,
)

# --- model requests and responses (from models/base.py) -----------------------------------

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    """One turn of a conversation."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


def with_system_prompt(messages: Sequence[ChatMessage], system_prompt: str | None) -> tuple[ChatMessage, ...]:
    """``messages`` with the user's system prompt (a model config's ``system_prompt``) put
    first: as a system message of its own, or, when the messages already
    open with one (a task's own, e.g. the secret of system-prompt leakage), in front of that
    message's text, a blank line between, so that the model gets one system message (chat
    templates that refuse a second or a late one do not break)."""
    if not system_prompt:
        return tuple(messages)
    if messages and messages[0].role == "system":
        merged = ChatMessage(role="system", content=f"{system_prompt}\n\n{messages[0].content}")
        return (merged, *messages[1:])
    return (ChatMessage(role="system", content=system_prompt), *messages)


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


class WatermarkSpec(BaseModel):
    """Watermark the generated text (``GenerationParams.watermark``): which scheme
    (:mod:`trustgauge.watermark`), its parameters and the key.

    The key is a secret: it is held as a :class:`~pydantic.SecretStr` and never dumped, so it is
    in no cache key, stored request, run record or report; the dump holds ``key_id`` (a salted
    fingerprint, :func:`trustgauge.watermark.keys.fingerprint`) in its place, which keeps the
    cache apart for different keys. Build one with :func:`trustgauge.watermark.make_spec`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: a registered scheme's name, e.g. ``kgw`` or ``synthid``
    scheme: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    #: the scheme's parameters as sorted ``(name, value)`` strings (hashable, stable dumps)
    params: tuple[tuple[str, str], ...] = ()
    #: the secret key (never dumped)
    key: SecretStr = Field(exclude=True, repr=False)
    #: the key's fingerprint (what dumps and cache keys hold)
    key_id: str = Field(pattern=r"^[0-9a-f]{8,64}$")

    def param_dict(self) -> dict[str, str]:
        """The parameters as a dict."""
        return dict(self.params)

    def __hash__(self) -> int:  # SecretStr hashes by value; keep hashing by the public fields
        return hash((self.scheme, self.params, self.key_id))


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
    #: score given text instead of generating (:meth:`Request.scoring`): the answer is the
    #: log-probability of each token of the request's last message given everything before it
    #: (``Model.loglikelihood``), in ``Response.tokens``, with no text
    loglikelihood: bool = False
    #: watermark the generated text (backends with ``Capability.LOGITS_PROCESSOR``; the others
    #: refuse the request); ``None``: no watermark
    watermark: WatermarkSpec | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_response_format(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave ``response_format``, ``logprobs`` and ``loglikelihood`` out of every dump when
        they are unset, so the cache keys and stored requests of plain requests are what they
        were before the fields existed."""
        data: dict[str, Any] = handler(self)
        for key in ("response_format", "logprobs", "watermark"):
            if data.get(key) is None:
                data.pop(key, None)
        if not data.get("loglikelihood"):
            data.pop("loglikelihood", None)
        return data

    def merged(self, **overrides: Any) -> GenerationParams:
        """A copy with the given fields replaced (``None`` values are ignored). Built from the
        fields themselves, not a dump: a dump leaves out the watermark's key."""
        data = {name: getattr(self, name) for name in type(self).model_fields}
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

    @classmethod
    def scoring(cls, continuation: str, context: str = "") -> Request:
        """Ask for the log-likelihood of ``continuation`` given ``context`` (raw text, no chat
        template; an empty context: the text from its start), not for an answer. The engine
        caches, retries and batches it like any request; the backend's
        ``Model.loglikelihood`` answers it (a backend without ``LOGLIKELIHOOD`` refuses)."""
        return cls(
            messages=(ChatMessage(role="user", content=context), ChatMessage(role="assistant", content=continuation)),
            params=GenerationParams(max_tokens=1, loglikelihood=True),
        )

    @property
    def is_scoring(self) -> bool:
        """Whether this asks for a log-likelihood (:meth:`scoring`), not an answer."""
        return self.params.loglikelihood

    def scoring_pair(self) -> tuple[str, str]:
        """``(context, continuation)`` of a scoring request."""
        if not self.is_scoring or len(self.messages) != 2:
            raise ValueError("not a scoring request (Request.scoring)")
        return self.messages[0].content, self.messages[1].content

    @property
    def prompt(self) -> str:
        """The text of the last user turn (of a scoring request: the text scored)."""
        if self.is_scoring:
            return self.messages[-1].content
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""

    @property
    def conversation_key(self) -> str:
        """The whole conversation as one string (each message's role and content), or just
        :attr:`prompt` when it is one user turn: what ``scripted:oracle`` looks an answer up by,
        so that one question asked about different documents (BIPIA's e-mails, sent in the
        system message) can have different right answers."""
        if len(self.messages) == 1 and self.messages[0].role == "user":
            return self.messages[0].content
        return "\x1e".join(f"{m.role}\x1f{m.content}" for m in self.messages)

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
    #: the mean and standard deviation of the log-probability under the model's whole
    #: next-token distribution at this position (``sum p log p`` and its spread; Min-K%++
    #: standardises by them), when the backend has the full distribution (``hf:``)
    dist_mean: float | None = None
    dist_std: float | None = None
    #: the token's rank in the model's next-token distribution (1 = the most likely; ties share
    #: the best rank: 1 + the number of tokens strictly more likely), when the backend has the
    #: full distribution (``hf:``); log-rank detection reads it
    rank: int | None = None
    #: the cross-entropy ``-sum_v p_obs(v) log p(v)`` between an observer model's next-token
    #: distribution and this model's at this position (``hf:`` with the ``observer`` option);
    #: Binoculars reads it
    cross_entropy: float | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_moments(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave the distribution moments, rank and cross-entropy out of dumps when unset:
        stored tokens stay as they were."""
        data: dict[str, Any] = handler(self)
        for key in ("dist_mean", "dist_std", "rank", "cross_entropy"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


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
    #: tokens of the continuation left out at its end because context and continuation did not
    #: fit the model's context window (``tokens`` then holds the first ones only)
    truncated: int = 0


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


# --- samples, scores and metrics (from tasks/base.py) -------------------------------------

Direction = Literal["higher", "lower"]
#: how a headline metric without a value enters the dimension score (``scores.json``
#: ``undefined_as``): ``failure`` (the responses leave it undefined: task score 0),
#: ``not_scored`` (no judge model: left out, shown as not scored), ``nothing_to_score`` (every
#: answer was read and no item needed scoring: the task's :attr:`~trustgauge.tasks.base.Task.nothing_to_score`, or
#: left out when it has none)
UndefinedAs = Literal["failure", "not_scored", "nothing_to_score"]


class Sample(BaseModel):
    """One item of a task. ``group`` ties items that must be sampled together (AdvGLUE's
    original/modified pairs, AdvInstruction's 12 variants of one instruction)."""

    model_config = ConfigDict(frozen=True)

    id: str
    prompt: str
    target: Any = None
    group: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class SampleScore(BaseModel):
    """A sample's outcome: the label the scorer read from the response (``None`` when the
    response was unusable), whether it counts (``valid``), and per-metric contributions."""

    label: str | None = None
    valid: bool = True
    values: dict[str, float | None] = Field(default_factory=dict)
    note: str | None = None


def split_metric(name: str) -> tuple[str, str | None]:
    """A metric name's base and group: ``"accuracy[squad]"`` -> ``("accuracy", "squad")``,
    ``"accuracy"`` -> ``("accuracy", None)``. The name splits at its first ``[`` and one closing
    ``]`` is dropped, so a group may hold brackets (``"rate[a[b]]"`` -> ``("rate", "a[b]")``)
    and a name has a group exactly when it holds a ``[``."""
    base, sep, rest = name.partition("[")
    if not sep:
        return name, None
    return base, rest[:-1] if rest.endswith("]") else rest


class MetricValue(BaseModel):
    """One metric of one task. ``value`` is ``None`` with a ``reason`` when undefined.

    A per-group metric (a category, a source) is named ``metric[group]``: that name is what is
    stored (``scores.json`` schema 2); :attr:`group` and :attr:`base_metric` are derived from it
    and never written."""

    metric: str
    value: float | None
    direction: Direction
    ci: tuple[float, float] | None = None
    n: int
    n_invalid: int = 0
    reason: str | None = None

    @property
    def group(self) -> str | None:
        """The group of a ``metric[group]`` name, ``None`` for a headline metric."""
        return split_metric(self.metric)[1]

    @property
    def base_metric(self) -> str:
        """The name without its group: ``accuracy`` for ``accuracy[squad]``."""
        return split_metric(self.metric)[0]


class DataRef(BaseModel):
    """Where a task's records come from: a registered dataset and a file inside it."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    path: str


# --- judge slots (from tasks/base.py) ------------------------------------------------------

@dataclass(frozen=True)
class JudgeSlot:
    """One judgement a task needs per sample (an entry of :attr:`Task.judges
    <trustgauge.tasks.base.Task.judges>`): the judge ``kind``; a ``role`` when one kind is asked
    twice about a sample (persona sycophancy: ``similarity#honest``, ``similarity#sycophantic``);
    ``optional`` when it runs only if its kind has a judge in the run (an LLM fallback).

    ``str(slot)`` is its storage key, ``kind``, ``kind#role``, ``kind?`` or ``kind#role?``, as
    the slots were written before they were typed: judgements are handed to
    :meth:`Task.score <trustgauge.tasks.base.Task.score>` and written to ``samples.jsonl``
    under it, so runs and stored records are unchanged. :meth:`parse` reads it back.

    A slot equals only a slot (never its storage key): compare ``slot.kind`` / ``slot.role``,
    or convert explicitly with ``str(slot)`` / :meth:`parse`.
    """

    kind: str
    role: str | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        for part, value in (("kind", self.kind), ("role", self.role)):
            if value is not None and (not value or "#" in value or "?" in value):
                raise ValueError(f"judge slot {part} {value!r}: must be non-empty, without '#' or '?'")

    def __str__(self) -> str:
        role = "" if self.role is None else f"#{self.role}"
        return f"{self.kind}{role}{'?' if self.optional else ''}"

    @classmethod
    def parse(cls, slot: str | JudgeSlot) -> JudgeSlot:
        """The slot a storage key names (``"similarity#honest"``, ``"ethics_judgement?"``); a
        slot is returned as it is. Raises ValueError on an empty kind or role."""
        if isinstance(slot, JudgeSlot):
            return slot
        optional = slot.endswith("?")
        kind, sep, role = (slot[:-1] if optional else slot).partition("#")
        return cls(kind=kind, role=role if sep else None, optional=optional)


def judge_kind(slot: str | JudgeSlot) -> str:
    """The judge kind of a slot: ``"similarity#honest"`` -> ``"similarity"``,
    ``"ethics_judgement?"`` -> ``"ethics_judgement"``."""
    return JudgeSlot.parse(slot).kind


def is_optional(slot: str | JudgeSlot) -> bool:
    """Whether a slot is optional (``"kind?"``)."""
    return JudgeSlot.parse(slot).optional


# --- what judges see and say (from judges/base.py) ----------------------------------------

class JudgeItem(BaseModel):
    """What a judge looks at: the prompt (optional for most judges), the response, and for
    correctness judges a reference answer."""

    model_config = ConfigDict(frozen=True)

    prompt: str = ""
    response: str
    reference: Any = None

    def cache_key(self, judge_id: str) -> str:
        blob = json.dumps(
            {"judge": judge_id, "item": self.model_dump(mode="json")},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Judgement(BaseModel):
    """A judge's verdict on one item.

    ``label`` is the judge's class (for refusal: ``refusal`` or ``compliance``; ``unparsed`` when
    an LLM judge's output could not be read). ``score`` is in 0..1 (for refusal: how confident the
    judge is that the response refuses). ``raw`` is the judge's own output, kept for audits.
    """

    label: str
    score: float | None = None
    raw: str | None = None
    judge: str



class Judge(Protocol):
    """What the judging loop (:mod:`trustgauge.engine.judging`) needs of a judge: its kind, its
    id (recorded with every judgement), the id its judgements are cached under, and a batched
    :meth:`judge`. :class:`trustgauge.judges.base.Judge` is the abstract class every built-in
    judge derives from; anything with these members can be judged with. Optional members the
    judging loop uses when present: ``async check()`` (fail fast before anything is sent),
    ``prepare(expected: int)`` (a hint that about that many items are coming) and
    ``async aclose()``."""

    @property
    def kind(self) -> str:
        """What it judges: ``refusal``, ``toxicity``, ..."""
        ...

    @property
    def id(self) -> str:
        """``name@version`` plus its settings."""
        ...

    @property
    def cache_id(self) -> str:
        """``kind/id``: what its judgements are cached under."""
        ...

    async def judge(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        """Judge the items, in order."""
        ...


# --- conversations: tasks that talk back (docs/architecture.md step 12b) ------------------

#: the role of the model under evaluation; other roles (``attacker``, ``judge``,
#: ``paraphraser``, ``reference``) are models given with ``--role NAME=SPEC``
TARGET = "target"


class Turn(BaseModel):
    """One call a conversation made: to which role, the last user message it sent, and the
    answer (``cached``: replayed from the store, not sent)."""

    model_config = ConfigDict(frozen=True)

    role: str
    prompt: str
    response: Response
    cached: bool = False


class Transcript(BaseModel):
    """What a conversational task (:meth:`~trustgauge.tasks.base.Task.run`) returns.

    ``response`` is the text the judges see and :meth:`~trustgauge.tasks.base.Task.score`
    reads (usually the target's last answer); ``messages`` is the target conversation as the
    task held it; ``notes`` are the task's own findings (rounds used, why it stopped), for
    :meth:`~trustgauge.tasks.base.Task.score_transcript`. ``turns`` is filled by the pipeline
    with every call the conversation made, in order."""

    model_config = ConfigDict(frozen=True)

    response: str
    messages: tuple[ChatMessage, ...] = ()
    notes: dict[str, Any] = Field(default_factory=dict)
    turns: tuple[Turn, ...] = ()
    finish_reason: str | None = None

    @property
    def prompt(self) -> str:
        """The last user message of the target conversation (``samples.jsonl`` ``prompt``)."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""


@runtime_checkable
class Chat(Protocol):
    """How a task talks to models: one call per :meth:`send`, through the engine (cache,
    retries, concurrency, progress, token accounting per role).

    Each call is one cached request keyed by the model and the full ``messages`` history, so a
    conversation run again after a crash replays its stored turns and sends only the rest; task
    code must therefore be deterministic given the responses it gets (seed any randomness from
    the sample id). A call that still fails after its retries raises, which ends the
    conversation: the sample is recorded as failed, like a failed single-turn request."""

    def has_role(self, role: str) -> bool:
        """Whether the run has a model in ``role`` (``target`` always)."""
        ...

    async def send(
        self, role: str, messages: Sequence[ChatMessage], params: GenerationParams | None = None
    ) -> Response:
        """Send ``messages`` (the whole history) to the model in ``role`` and return its answer.
        For ``target``, the user's generation overrides and system prompt are applied, as for
        single-turn tasks."""
        ...

    async def score(self, role: str, continuation: str, context: str = "") -> Response:
        """The log-likelihood of ``continuation`` given ``context`` under the model in ``role``
        (raw text, no chat template, no system prompt): a cached call like :meth:`send`, whose
        response holds no text and the scored tokens in ``tokens`` (``finish_reason``
        ``"length"`` when the text was cut to fit the model's context window). The model must
        give log-likelihoods (a task calling this lists ``loglikelihood`` in ``requires``)."""
        ...

    def tokenizer(self, role: str) -> TextTokenizer:
        """The tokenizer of the model in ``role`` (watermark detection needs it); raises
        ``CapabilityError`` when the backend has none to hand out (only ``hf:`` has)."""
        ...


@runtime_checkable
class TextTokenizer(Protocol):
    """A tokenizer as watermark detection uses it (:mod:`trustgauge.watermark.tokenizer`)."""

    #: what identifies it (a model name or path)
    name: str
    #: the size of the vocabulary the model's logits range over (token ids are below it)
    vocab_size: int

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """The token ids of each text, without special tokens (no start token)."""
        ...


class Conversation:
    """A conversation with one role, kept as a message history: ``await conv.say(text)``
    appends the user turn, sends the whole history, appends and returns the answer.

    >>> conv = Conversation(chat, params=GenerationParams(max_tokens=64))   # doctest: +SKIP
    >>> first = await conv.say("Hello")                                    # doctest: +SKIP
    """

    def __init__(
        self,
        chat: Chat,
        role: str = TARGET,
        *,
        params: GenerationParams | None = None,
        system: str | None = None,
    ) -> None:
        self.chat = chat
        self.role = role
        self.params = params
        self.messages: list[ChatMessage] = [ChatMessage(role="system", content=system)] if system else []
        self.last: Response | None = None

    async def say(self, text: str, params: GenerationParams | None = None) -> str:
        """Send ``text`` as the next user turn; the answer's text (also kept in the history)."""
        self.messages.append(ChatMessage(role="user", content=text))
        response = await self.chat.send(self.role, tuple(self.messages), params or self.params)
        self.messages.append(ChatMessage(role="assistant", content=response.text))
        self.last = response
        return response.text

    def transcript(self, response: str | None = None, **notes: Any) -> Transcript:
        """The conversation as a :class:`Transcript` (``response``: default the last answer)."""
        last = self.last.text if self.last is not None else ""
        return Transcript(
            response=last if response is None else response,
            messages=tuple(self.messages),
            notes=notes,
            finish_reason=self.last.finish_reason if self.last is not None else None,
        )
