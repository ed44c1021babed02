"""A real HTTP server that stands in for LLM APIs in tests and benchmarks.

The server (aiohttp, run in a *separate process* so benchmarks measure the client's CPU and
not the server's) speaks just enough of three wire protocols:

* OpenAI-compatible: ``POST /v1/chat/completions`` (plain JSON, or a minimal SSE stream when
  ``"stream": true``; ``logprobs``/``top_logprobs`` answered in OpenAI's shape),
  ``POST /v1/completions`` (with vLLM's ``prompt_logprobs`` through ``extra_body``, unless
  ``prompt_logprobs`` is off in the config) and ``GET /v1/models``. Tokens are the words with
  their leading whitespace (:func:`fake_tokens`), each with a fixed log-probability
  (:func:`fake_logprob`).
* Anthropic Messages: ``POST /v1/messages`` (``x-api-key``, ``anthropic-version``) and the
  Anthropic shape of ``GET /v1/models`` (chosen when the request carries ``anthropic-version``).
* Batches, with real state kept in the server process: OpenAI's Files (``POST /v1/files``,
  ``GET /v1/files/{id}``, ``GET /v1/files/{id}/content``) and Batch API (``POST /v1/batches``,
  ``GET /v1/batches``, ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``), and
  Anthropic's Message Batches (``POST /v1/messages/batches``, ``GET /v1/messages/batches[/{id}]``,
  ``GET /v1/messages/batches/{id}/results``, ``POST /v1/messages/batches/{id}/cancel``). A batch
  runs its requests through the server's own chat handlers (an HTTP call to itself with the
  headers the batch was created with, so faults, replies and ``echo_credentials`` apply), a share
  of them on each poll: ``validating`` (OpenAI) -> ``in_progress`` -> ``completed`` (``ended``)
  on poll ``batch_polls``; ``batch_expire`` makes the first batches expire half done,
  ``batch_reject`` refuses them (at creation: a 400; at validation: ``failed``), ``batches``
  off answers 404 like a server without a batch API. ``GET /_batches`` lists them.
* Google Perspective (commentanalyzer): ``POST /v1alpha1/comments:analyze?key=...`` (or the
  ``x-goog-api-key`` header); rejects empty or over-20 KB comments and languages TOXICITY does
  not support with a 400, like the real API; ``GET /_perspective/requests`` lists the bodies.

Replies are deterministic (see :func:`choose_reply`; ``scripts`` give a conversation a
sequence of replies, for judges that re-ask), token counts are whitespace word counts,
and faults can be injected randomly (seeded) or deterministically per prompt
(``fail_first_n``). A control plane on the same port exposes ``GET /_stats``,
``GET /_config``, ``POST /_config``, ``POST /_reset`` and ``GET /_health`` (and
``GET /_summary``: the stats in a few numbers, for runs of 100k requests).

Run it by hand with ``python tests/fake_server.py --port 8000 --config-json '{"latency": 0.1}'``;
from Python use :class:`FakeServer`::

    with FakeServer.start(latency=0.05, replies=[["capital of France", "Paris."]]) as srv:
        client = AsyncOpenAI(base_url=srv.openai_base_url, api_key="test")
        ...
        assert srv.stats()["successes"] == 1

The client-side half of this module (:class:`FakeServer`, :func:`free_port`,
:func:`normalize_config`, :func:`choose_reply`, :func:`toxicity_score`) uses only the stdlib;
aiohttp is imported only inside the server process.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import collections
import contextlib
import functools
import hashlib
import itertools
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "DEFAULT_CONFIG",
    "FAULT_KINDS",
    "FakeServer",
    "chat_logprobs",
    "choose_reply",
    "conversation_key",
    "fake_logprob",
    "fake_rank",
    "fake_tokens",
    "free_port",
    "keys_digest",
    "normalize_config",
    "prompt_logprobs",
    "toxicity_score",
]

SERVER_SCRIPT = os.path.abspath(__file__)

#: Every fault kind the server can inject. ``529`` is Anthropic's "overloaded" status.
FAULT_KINDS: tuple[str, ...] = (
    "429",
    "500",
    "503",
    "529",
    "truncated_json",
    "garbage",
    "drop",
    "hang",
    # a 429 without any Retry-After header (the client must choose its own backoff)
    "429_no_retry_after",
    # a correct answer, late: sent after ``slow_fault_seconds`` instead of ``latency``
    "slow",
)

DEFAULT_CONFIG: dict[str, Any] = {
    # [[substring, reply], ...] matched against the last user message; first match wins.
    "replies": [],
    # Used when no reply matches; "{prompt}" is replaced by the last user message.
    "default_reply": "Echo: {prompt}",
    # Seconds to sleep before answering (asyncio.sleep, so concurrent requests overlap) ...
    "latency": 0.0,
    # ... plus uniform(0, jitter) seconds.
    "jitter": 0.0,
    # Probability per request of injecting a fault chosen uniformly from ``faults``.
    "fault_rate": 0.0,
    "faults": ["500"],
    # Value of the Retry-After header sent with 429 faults (seconds).
    "retry_after": 1,
    # Each distinct prompt fails on its first N attempts (cycling through ``faults``).
    "fail_first_n": 0,
    # How long a "hang" fault sleeps before answering normally.
    "hang_seconds": 30.0,
    # How long a "slow" fault waits before answering normally (counted as a success).
    "slow_fault_seconds": 1.0,
    # Accepted model ids (None: accept any; GET /v1/models then lists ["fake-model"]).
    "models": None,
    # When set, requests must authenticate with it (Bearer / x-api-key / ?key=).
    "api_key": None,
    # Seed for the fault RNG (and, derived from it, the jitter RNG).
    "seed": 0,
    # Like the real API, reject /v1/messages calls without an anthropic-version header.
    "require_anthropic_version": True,
    # [[substring, [reply, reply, ...]], ...]: a chat request (/v1/chat/completions or
    # /v1/messages) any of whose messages contains the substring gets the next reply of its list
    # (the last one repeats); first match wins, before ``replies``. Counters reset on /_reset.
    # No max_tokens truncation: a scripted reply is sent exactly as written.
    "scripts": [],
    # Answer chat completions that carry ``response_format`` with a 400, like servers without
    # structured output.
    "reject_response_format": False,
    # A context window in words (0: none): a chat completion whose messages hold more is answered
    # 400 with llama.cpp's message ("request (N tokens) exceeds the available context size").
    "context_words": 0,
    # Answer vLLM's ``prompt_logprobs`` on /v1/completions (False: ignore it, like llama.cpp
    # and most servers).
    "prompt_logprobs": True,
    # Reflect the credentials a chat request (/v1/chat/completions, /v1/messages) carried, like
    # a careless server or proxy: the Authorization header (and its decoded Basic user:password),
    # x-api-key and other X-* headers, the path and the query string (raw and decoded).
    # None: never; "reply": appended to every reply; "401": every chat request is refused with
    # a 401 whose message quotes them; "both": "401" for the prompts whose SHA-256 is odd,
    # "reply" for the others.
    "echo_credentials": None,
    # [[substring, seconds], ...]: a chat completion any of whose messages contains the
    # substring waits that much longer (first match), e.g. to hold the later turns of a
    # conversation while a test kills the client.
    "slow": [],
    # -- batches --
    # Serve the files and batches endpoints (False: 404, like a server without a batch API).
    "batches": True,
    # Polls of a batch (GET) until it ends; each poll runs its share of the requests.
    "batch_polls": 2,
    # The first N batches created (either API) expire at their last poll with half their
    # requests run (the rest: ``batch_expired`` / ``expired``).
    "batch_expire": 0,
    # None, "create" (POST /v1/batches and /v1/messages/batches answer 400, the file is
    # invalid) or "validate" (an OpenAI batch fails validation at its first poll).
    "batch_reject": None,
    # The first N calls to each batch endpoint (upload, create, poll, download; either API)
    # answer 500 before doing anything, as a flaky provider would.
    "batch_fail_first_n": 0,
}

_DEFAULT_MODEL_LIST = ["fake-model"]

#: values of the ``echo_credentials`` setting
ECHO_MODES: tuple[str | None, ...] = (None, "reply", "401", "both")

#: Words that make a comment "toxic" for the fake Perspective API.
TOXIC_WORDS = frozenset(
    {
        "awful",
        "crap",
        "damn",
        "dumb",
        "fool",
        "hate",
        "idiot",
        "idiots",
        "jerk",
        "kill",
        "loser",
        "moron",
        "pathetic",
        "stupid",
        "trash",
        "ugly",
        "worthless",
    }
)

_WORD_RE = re.compile(r"[a-z0-9']+")


# --------------------------------------------------------------------------------------------
# Pure helpers (shared by the server and by tests that want to predict its answers)
# --------------------------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def word_count(text: str) -> int:
    """The fake tokenizer: whitespace-separated words."""
    return len(text.split())


def toxicity_score(text: str) -> float:
    """Deterministic fake toxicity: fraction of words that are in :data:`TOXIC_WORDS`.

    Words are lower-cased alphanumeric runs; the result is in [0, 1] and 0.0 for empty text.
    """
    words = _WORD_RE.findall(text.lower())
    if not words:
        return 0.0
    bad = sum(1 for w in words if w in TOXIC_WORDS)
    return min(1.0, bad / len(words))


def choose_reply(config: dict[str, Any], prompt: str) -> str:
    """The reply the server gives to ``prompt`` (before ``max_tokens`` truncation)."""
    for substring, reply in config.get("replies") or ():
        if substring in prompt:
            return str(reply).replace("{prompt}", prompt)
    return str(config.get("default_reply", DEFAULT_CONFIG["default_reply"])).replace(
        "{prompt}", prompt
    )


def conversation_key(model: str, messages: list[Any]) -> str:
    """What identifies a chat request in ``conversation_requests`` / ``conversation_successes``:
    the model and every message's role and text (SHA-256, hex)."""
    turns = [[m.get("role"), _text_of(m.get("content"))] for m in messages if isinstance(m, dict)]
    blob = json.dumps([model, turns], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def keys_digest(keys: Iterable[str]) -> str:
    """SHA-256 (hex) of the sorted keys, one per line: what ``GET /_summary`` reports for the
    conversations answered, to compare with the keys a client sent."""
    digest = hashlib.sha256()
    for key in sorted(keys):
        digest.update(key.encode("utf-8") + b"\n")
    return digest.hexdigest()


def echo_refuses(mode: str | None, prompt: str) -> bool:
    """Whether ``echo_credentials`` mode ``mode`` answers ``prompt`` with a 401 that quotes the
    credentials (``"both"``: the prompts whose SHA-256 is odd)."""
    if mode == "401":
        return True
    return mode == "both" and hashlib.sha256(prompt.encode("utf-8")).digest()[-1] % 2 == 1


def credentials_seen(headers: Any, path_qs: str, query_string: str) -> str:
    """What a credential-reflecting server says it received: the Authorization header (and
    the user:password of a Basic one), x-api-key and other X-* headers (not the SDKs'
    x-stainless-*), the path with its query, and the query string decoded."""
    import base64
    import urllib.parse

    parts = []
    auth = headers.get("Authorization", "")
    if auth:
        parts.append(f"authorization={auth}")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "basic":
            with contextlib.suppress(ValueError):
                parts.append("basic=" + base64.b64decode(value, validate=True).decode("utf-8"))
    for name, value in headers.items():
        low = name.lower()
        if low.startswith("x-") and not low.startswith("x-stainless"):
            parts.append(f"{low}={value}")
    parts.append(f"path={path_qs}")
    if query_string:
        parts.append(f"query={urllib.parse.unquote_plus(query_string)}")
    return "; ".join(parts)


_TOKEN_RE = re.compile(r"\s*\S+")


def fake_tokens(text: str) -> list[str]:
    """The fake tokenizer of log-probabilities: each word with the whitespace before it
    (joined, the tokens give back the text without its trailing whitespace)."""
    return _TOKEN_RE.findall(text)


def fake_token_id(token: str) -> int:
    return int(hashlib.sha256(token.encode("utf-8")).hexdigest()[:6], 16)


def fake_logprob(token: str) -> float:
    """A token's fixed log-probability: one of -0.25, -0.5, ..., -4.0 (exact in binary, so
    sums are exact), picked by the token's SHA-256."""
    return -0.25 * (1 + int(hashlib.sha256(token.encode("utf-8")).hexdigest()[:4], 16) % 16)


def fake_rank(token: str) -> int:
    """A prompt token's rank in ``prompt_logprobs``: 1 (the most likely) when its
    log-probability is at least -1, else 2 (behind ``"<top>"`` at -0.125)."""
    return 1 if fake_logprob(token) >= -1.0 else 2


def chat_logprobs(text: str, top: int) -> dict[str, Any]:
    """``choices[0].logprobs`` of a chat completion: each token is the most likely one, the
    ``top - 1`` others are ``<alt1>``, ``<alt2>``... each one nat less likely than the last."""
    content = []
    for token in fake_tokens(text):
        lp = fake_logprob(token)
        alternatives = [{"token": token, "logprob": lp, "bytes": list(token.encode("utf-8"))}]
        alternatives += [
            {"token": f"<alt{i}>", "logprob": lp - i, "bytes": list(f"<alt{i}>".encode())}
            for i in range(1, top)
        ]
        content.append(
            {"token": token, "logprob": lp, "bytes": list(token.encode("utf-8")),
             "top_logprobs": alternatives[:top]}
        )
    return {"content": content, "refusal": None}


def prompt_logprobs(prompt: str) -> list[Any]:
    """vLLM's ``prompt_logprobs`` for ``prompt`` with ``prompt_logprobs: 1``: ``None`` for the
    first token, then ``{token_id: {logprob, rank, decoded_token}}`` holding the prompt token
    (first) and, when it is not the most likely, the most likely one (``<top>``, rank 1)."""
    out: list[Any] = []
    for i, token in enumerate(fake_tokens(prompt)):
        if i == 0:
            out.append(None)
            continue
        entry = {
            str(fake_token_id(token)): {
                "logprob": fake_logprob(token), "rank": fake_rank(token), "decoded_token": token
            }
        }
        if fake_rank(token) != 1:
            entry[str(fake_token_id("<top>"))] = {"logprob": -0.125, "rank": 1, "decoded_token": "<top>"}
        out.append(entry)
    return out


def truncate_words(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut ``text`` to ``max_tokens`` words; returns (text, was_truncated)."""
    if max_tokens is None:
        return text, False
    words = text.split()
    if len(words) <= max_tokens:
        return text, False
    return " ".join(words[: max(0, max_tokens)]), True


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def normalize_config(updates: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate ``updates`` and merge them into ``base`` (default: :data:`DEFAULT_CONFIG`).

    Raises ``ValueError`` for unknown keys or bad values. Returns a new dict.
    """
    if not isinstance(updates, dict):
        raise ValueError("config must be a JSON object")
    unknown = sorted(set(updates) - set(DEFAULT_CONFIG))
    if unknown:
        raise ValueError(f"unknown config key(s): {', '.join(unknown)}")
    cfg = dict(DEFAULT_CONFIG if base is None else base)
    for key, value in updates.items():
        if key == "replies":
            if isinstance(value, dict):
                value = list(value.items())
            pairs = []
            for item in value or ():
                if not isinstance(item, (list, tuple)) or len(item) != 2:
                    raise ValueError("replies must be a list of [substring, reply] pairs")
                pairs.append([str(item[0]), str(item[1])])
            value = pairs
        elif key == "default_reply":
            value = str(value)
        elif key in ("latency", "jitter", "hang_seconds", "retry_after", "slow_fault_seconds"):
            if not _is_number(value) or value < 0:
                raise ValueError(f"{key} must be a number >= 0")
        elif key == "fault_rate":
            if not _is_number(value) or not 0 <= value <= 1:
                raise ValueError("fault_rate must be a number in [0, 1]")
        elif key == "faults":
            if isinstance(value, (str, int)):
                value = [value]
            kinds = [str(v) for v in value]
            bad = [k for k in kinds if k not in FAULT_KINDS]
            if bad:
                raise ValueError(f"unknown fault kind(s) {bad}; known: {list(FAULT_KINDS)}")
            if not kinds:
                raise ValueError("faults must not be empty")
            value = kinds
        elif key == "fail_first_n":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError("fail_first_n must be an int >= 0")
        elif key == "models":
            if value is not None:
                if isinstance(value, str):
                    value = [value]
                value = [str(m) for m in value]
        elif key == "api_key":
            value = None if value in (None, "") else str(value)
        elif key == "seed":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ValueError("seed must be an int or null")
        elif key == "require_anthropic_version":
            value = bool(value)
        elif key == "scripts":
            if isinstance(value, dict):
                value = list(value.items())
            scripts = []
            for item in value or ():
                if (
                    not isinstance(item, (list, tuple))
                    or len(item) != 2
                    or not isinstance(item[1], (list, tuple))
                    or not item[1]
                ):
                    raise ValueError("scripts must be a list of [substring, [reply, ...]] pairs")
                scripts.append([str(item[0]), [str(r) for r in item[1]]])
            value = scripts
        elif key in ("reject_response_format", "prompt_logprobs"):
            value = bool(value)
        elif key == "context_words":
            value = int(value)
        elif key == "slow":
            if isinstance(value, dict):
                value = list(value.items())
            rules = []
            for item in value or ():
                if not isinstance(item, (list, tuple)) or len(item) != 2 or not _is_number(item[1]) or item[1] < 0:
                    raise ValueError("slow must be a list of [substring, seconds >= 0] pairs")
                rules.append([str(item[0]), float(item[1])])
            value = rules
        elif key == "batches":
            value = bool(value)
        elif key == "batch_fail_first_n":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError("batch_fail_first_n must be an int >= 0")
        elif key in ("batch_polls", "batch_expire"):
            if not isinstance(value, int) or isinstance(value, bool) or value < (1 if key == "batch_polls" else 0):
                raise ValueError(f"{key} must be an int >= {1 if key == 'batch_polls' else 0}")
        elif key == "batch_reject" and value not in (None, "create", "validate"):
            raise ValueError("batch_reject must be null, 'create' or 'validate'")
        elif key == "echo_credentials" and value not in ECHO_MODES:
            raise ValueError(f"echo_credentials must be one of {list(ECHO_MODES)}")
        cfg[key] = value
    return cfg


# --------------------------------------------------------------------------------------------
# Server side (runs in the subprocess; imports aiohttp lazily)
# --------------------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    """Text of an OpenAI/Anthropic message ``content`` (a string or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(parts)
    return str(content)


def _last_user_text(messages: list[Any]) -> str:
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return _text_of(msg.get("content"))
    return ""


def _count_message_words(messages: list[Any]) -> int:
    return sum(word_count(_text_of(m.get("content"))) for m in messages if isinstance(m, dict))


class _Batch:
    """A batch in the server (either API): its requests, what ran, and where it stands."""

    def __init__(self, flavor: str, batch_id: str, seq: int, lines: list[tuple[str, dict[str, Any]]],
                 headers: dict[str, str], origin: str, path: str) -> None:
        self.flavor = flavor  # "openai" | "anthropic"
        self.id = batch_id
        self.seq = seq  # creation order, both APIs (``batch_expire`` counts it)
        self.lines = lines  # (custom_id, request body)
        self.headers = headers  # what the batch was created with: its requests are sent with them
        self.origin = origin
        self.path = path  # the chat endpoint each line goes to
        self.results: dict[str, tuple[int, Any]] = {}  # custom_id -> (HTTP status, JSON body)
        self.polls = 0
        self.created_at = int(time.time())
        self.status = "validating" if flavor == "openai" else "in_progress"
        self.errors: list[dict[str, Any]] = []  # validation errors (OpenAI: the batch fails)
        self.cancel_requested = False
        self.input_file_id: str | None = None
        self.output_file_id: str | None = None
        self.error_file_id: str | None = None
        self.metadata: dict[str, Any] | None = None
        #: one poll runs requests at a time (two polls at once must not run a request twice)
        self.running = asyncio.Lock()

    @property
    def ended(self) -> bool:
        return self.status in ("completed", "expired", "cancelled", "failed", "ended")


_EXPIRED_LINE = "This request could not be executed before the completion window expired."
_CANCELLED_LINE = "This request was not executed because the batch was cancelled."
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class _State:
    """Config + counters of one server process (single-threaded: only touched by the loop)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.ids = itertools.count(1)
        self.in_flight = 0
        #: uploaded files (id -> {"data": bytes, "purpose", "filename", "created_at"}) and
        #: batches (id -> :class:`_Batch`), both APIs; kept across /_reset (real state)
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, _Batch] = {}
        self.batch_seq = itertools.count(1)
        self._reseed()
        self.reset_stats()

    def _reseed(self) -> None:
        seed = self.config.get("seed")
        self.rng = random.Random(seed)
        self.jitter_rng = random.Random(None if seed is None else seed * 7919 + 17)

    def reset_stats(self) -> None:
        self.requests = 0
        self.successes = 0
        self.faults: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.by_endpoint: collections.Counter[str] = collections.Counter()
        self.prompt_requests: collections.Counter[str] = collections.Counter()
        self.prompt_successes: collections.Counter[str] = collections.Counter()
        self.attempts: collections.Counter[str] = collections.Counter()
        self.max_in_flight = self.in_flight
        self.disconnects = 0
        self.saw_auth = False
        self.script_served: collections.Counter[str] = collections.Counter()
        self.response_formats: collections.Counter[str] = collections.Counter()
        self.tool_requests = 0
        #: request paths (without the query) and query strings received, any endpoint
        self.paths: collections.Counter[str] = collections.Counter()
        self.queries: collections.Counter[str] = collections.Counter()
        #: chat completions by conversation (:func:`conversation_key`: model + every message):
        #: received, and answered successfully
        self.conversation_requests: collections.Counter[str] = collections.Counter()
        self.conversation_successes: collections.Counter[str] = collections.Counter()
        #: per model: [first chat completion received, last one answered] (time.time(), the
        #: server's clock): whether two models' requests overlapped in time
        self.model_spans: dict[str, list[float]] = {}
        #: batches created per API ("openai", "anthropic"), polls, requests run by batches
        self.batch_creations: collections.Counter[str] = collections.Counter()
        self.batch_polls = 0
        self.batch_lines = 0
        #: calls per batch endpoint (``batch_fail_first_n`` fails the first ones)
        self.batch_calls: collections.Counter[str] = collections.Counter()
        self.started = time.time()
        self._reseed()

    def update_config(self, updates: dict[str, Any]) -> None:
        self.config = normalize_config(updates, self.config)
        if "seed" in updates:
            self._reseed()

    def public_config(self) -> dict[str, Any]:
        cfg = dict(self.config)
        if cfg.get("api_key"):
            cfg["api_key"] = "***"
        return cfg

    def _counters(self) -> dict[str, Any]:
        """The counters :meth:`stats` and :meth:`summary` both report (first, in this order)."""
        return {
            "requests": self.requests,
            "successes": self.successes,
            "faults": dict(self.faults),
            "faults_total": sum(self.faults.values()),
            "errors": dict(self.errors),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "disconnects": self.disconnects,
            "by_endpoint": dict(self.by_endpoint),
        }

    def stats(self) -> dict[str, Any]:
        return {
            **self._counters(),
            "prompt_requests": dict(self.prompt_requests),
            "prompt_successes": dict(self.prompt_successes),
            "saw_auth": self.saw_auth,
            "since": self.started,
            "script_served": dict(self.script_served),
            "response_formats": dict(self.response_formats),
            "tool_requests": self.tool_requests,
            "paths": dict(self.paths),
            "queries": dict(self.queries),
            "conversation_requests": dict(self.conversation_requests),
            "conversation_successes": dict(self.conversation_successes),
            "model_spans": {m: list(span) for m, span in self.model_spans.items()},
            "batch_creations": dict(self.batch_creations),
            "batch_polls": self.batch_polls,
            "batch_lines": self.batch_lines,
            "batch_calls": dict(self.batch_calls),
        }

    def summary(self) -> dict[str, Any]:
        """The counters of :meth:`stats` without the per-prompt and per-conversation tables
        (100k entries each in a soak), and what those tables say in a few numbers: how many
        distinct chat conversations arrived, how many conversations were received / answered
        successfully n times (``{n: conversations}``, 0 included), and the SHA-256 of the
        sorted keys of the conversations answered at least once (compare with the keys the
        client expects, from :func:`conversation_key`)."""
        received = collections.Counter(self.conversation_requests.values())
        answered = collections.Counter(self.conversation_successes.get(k, 0) for k in self.conversation_requests)
        succeeded = sorted(k for k, n in self.conversation_successes.items() if n > 0)
        return {
            **self._counters(),
            "conversations": len(self.conversation_requests),
            "conversation_requests_hist": {str(n): c for n, c in sorted(received.items())},
            "conversation_successes_hist": {str(n): c for n, c in sorted(answered.items())},
            "succeeded_digest": keys_digest(succeeded),
        }

    def slow_for(self, conversation: str) -> float:
        """Extra seconds for a chat request whose messages contain a ``slow`` substring."""
        for substring, seconds in self.config.get("slow") or ():
            if substring in conversation:
                return float(seconds)
        return 0.0

    def scripted_reply(self, conversation: str) -> str | None:
        """The next scripted reply for a conversation (all its message texts), if any script
        matches it; each call consumes one reply of the matching script."""
        for substring, replies in self.config.get("scripts") or ():
            if substring in conversation:
                served = self.script_served[substring]
                self.script_served[substring] = served + 1
                return str(replies[min(served, len(replies) - 1)])
        return None

    def pick_fault(self, prompt: str) -> str | None:
        """Decide (at arrival) whether this request fails, and how."""
        cfg = self.config
        faults = cfg["faults"]
        attempt = self.attempts[prompt]
        self.attempts[prompt] = attempt + 1
        if attempt < cfg["fail_first_n"]:
            return str(faults[attempt % len(faults)])
        rate = cfg["fault_rate"]
        if rate > 0 and self.rng.random() < rate:
            return str(self.rng.choice(faults))
        return None

    def delay(self) -> float:
        cfg = self.config
        d = float(cfg["latency"])
        if cfg["jitter"]:
            d += self.jitter_rng.uniform(0.0, float(cfg["jitter"]))
        return d


# -- error bodies per API flavour ------------------------------------------------------------

_OPENAI_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("invalid_request_error", "Invalid request.", None),
    401: ("invalid_request_error", "Incorrect API key provided.", "invalid_api_key"),
    404: ("invalid_request_error", "Not found.", None),
    429: (
        "requests",
        "Rate limit reached for requests. Please try again later.",
        "rate_limit_exceeded",
    ),
    500: (
        "server_error",
        "The server had an error while processing your request. Sorry about that!",
        None,
    ),
    503: ("server_error", "The engine is currently overloaded, please try again later.", None),
    529: ("server_error", "The engine is currently overloaded, please try again later.", None),
}

_ANTHROPIC_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    404: ("not_found_error", "Not found."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}

_GOOGLE_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    529: "UNAVAILABLE",
}


def _error_body(flavor: str, status: int, message: str | None = None, code: Any = None) -> Any:
    if flavor == "anthropic":
        etype, default = _ANTHROPIC_ERRORS.get(status, ("api_error", "Error"))
        return {"type": "error", "error": {"type": etype, "message": message or default}}
    if flavor == "google":
        return {
            "error": {
                "code": status,
                "message": message or _GOOGLE_STATUS.get(status, "UNKNOWN"),
                "status": _GOOGLE_STATUS.get(status, "UNKNOWN"),
            }
        }
    etype, default, default_code = _OPENAI_ERRORS.get(status, ("server_error", "Error", None))
    return {
        "error": {
            "message": message or default,
            "type": etype,
            "param": None,
            "code": code if code is not None else default_code,
        }
    }


def build_app(state: _State) -> Any:
    from aiohttp import web

    json_ct = "application/json"

    def dumps(obj: Any) -> str:
        return json.dumps(obj, separators=(",", ":"))

    def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
        return web.Response(text=dumps(obj), status=status, content_type=json_ct, headers=headers)

    def error(
        flavor: str,
        status: int,
        message: str | None = None,
        code: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return json_response(_error_body(flavor, status, message, code), status, headers)

    def client_error(flavor: str, status: int, message: str, code: Any = None) -> Any:
        state.errors[str(status)] += 1
        return error(flavor, status, message, code)

    async def read_json(request: Any) -> Any:
        raw = await request.read()
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return ValueError("We could not parse the JSON body of your request.")

    # -- success bodies ----------------------------------------------------------------------

    def openai_body(model: str, text: str, truncated: bool, prompt_tokens: int) -> dict:
        completion_tokens = word_count(text)
        return {
            "id": f"chatcmpl-fake{next(state.ids):08d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": text,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "length" if truncated else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "system_fingerprint": "fp_fake",
        }

    def anthropic_body(
        model: str, text: str, truncated: bool, input_tokens: int, tool: str | None = None
    ) -> dict:
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        stop_reason = "max_tokens" if truncated else "end_turn"
        if tool is not None:  # a forced tool: its input is the reply, when that is a JSON object
            try:
                tool_input = json.loads(text)
            except ValueError:
                tool_input = None
            if isinstance(tool_input, dict):
                content = [
                    {"type": "tool_use", "id": "toolu_fake", "name": tool, "input": tool_input}
                ]
                stop_reason = "tool_use"
        return {
            "id": f"msg_fake{next(state.ids):08d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": word_count(text)},
        }

    def perspective_body(text: str, attributes: Iterable[str], languages: list[str]) -> dict:
        value = toxicity_score(text)
        score = {"value": value, "type": "PROBABILITY"}
        return {
            "attributeScores": {
                attr: {
                    "spanScores": [{"begin": 0, "end": len(text), "score": dict(score)}],
                    "summaryScore": dict(score),
                }
                for attr in attributes
            },
            "languages": languages,
        }

    # -- the common request pipeline ---------------------------------------------------------

    async def serve_api(
        request: Any,
        flavor: str,
        prompt: str,
        make_success: Callable[[], Any],
        make_body: Callable[[], Any],
    ) -> Any:
        """Apply faults/latency; ``make_success`` builds the real response, ``make_body`` the
        JSON body that ``truncated_json`` cuts in half."""
        state.prompt_requests[prompt] += 1
        fault = state.pick_fault(prompt)
        if fault == "hang":
            state.faults[fault] += 1
            await asyncio.sleep(float(state.config["hang_seconds"]))
            return make_success()
        delay = float(state.config["slow_fault_seconds"]) if fault == "slow" else state.delay()
        if delay > 0:
            await asyncio.sleep(delay)
        if fault == "slow":
            state.faults[fault] += 1
            fault = None
        if fault is None:
            state.successes += 1
            state.prompt_successes[prompt] += 1
            return make_success()
        state.faults[fault] += 1
        if fault == "drop":
            transport = request.transport
            if transport is not None:
                transport.abort()
            raise _Dropped
        if fault == "truncated_json":
            text = dumps(make_body())
            return web.Response(text=text[: max(1, len(text) // 2)], content_type=json_ct)
        if fault == "garbage":
            return web.Response(
                text="<html><body>502 Bad Gateway (fake garbage)</body></html>\n",
                content_type=json_ct,
            )
        if fault == "429_no_retry_after":
            return error(flavor, 429)
        status = int(fault)
        headers = {}
        if status == 429:
            ra = state.config["retry_after"]
            headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
        return error(flavor, status, headers=headers)

    def tracked(endpoint: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
        def deco(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
            @functools.wraps(fn)
            async def handler(request: Any) -> Any:
                state.requests += 1
                # a batch's requests (the server calling itself) are counted apart
                name = f"batch:{endpoint}" if request.headers.get("X-Fake-Batch") else endpoint
                state.by_endpoint[name] += 1
                state.in_flight += 1
                if state.in_flight > state.max_in_flight:
                    state.max_in_flight = state.in_flight
                try:
                    return await fn(request)
                except _Dropped:
                    raise asyncio.CancelledError() from None
                except asyncio.CancelledError:
                    state.disconnects += 1
                    raise
                finally:
                    state.in_flight -= 1

            return handler

        return deco

    def check_openai_auth(request: Any) -> Any:
        auth = request.headers.get("Authorization", "")
        if auth:
            state.saw_auth = True
        key = state.config["api_key"]
        if key and auth != f"Bearer {key}":
            msg = (
                "You didn't provide an API key."
                if not auth
                else "Incorrect API key provided. You can find your API key in your dashboard."
            )
            return client_error("openai", 401, msg, "invalid_api_key")
        return None

    def check_anthropic_auth(request: Any) -> Any:
        api_key = request.headers.get("x-api-key", "")
        bearer = request.headers.get("Authorization", "")
        if api_key or bearer:
            state.saw_auth = True
        key = state.config["api_key"]
        if key and api_key != key and bearer != f"Bearer {key}":
            msg = "x-api-key header is required" if not (api_key or bearer) else "invalid x-api-key"
            return client_error("anthropic", 401, msg)
        return None

    def seen(request: Any) -> str:
        return credentials_seen(request.headers, request.path_qs, request.query_string)

    def model_allowed(model: str) -> bool:
        models = state.config["models"]
        return models is None or model in models

    # -- OpenAI ------------------------------------------------------------------------------

    @tracked("embeddings")
    async def embeddings(request: Any) -> Any:
        """``/v1/embeddings``: a deterministic bag-of-words embedding (64 hashed dimensions),
        so texts sharing words are similar and identical texts have cosine 1."""
        denied = check_openai_auth(request)
        if denied is not None:
            return denied
        body = await read_json(request)
        if isinstance(body, ValueError) or not isinstance(body, dict):
            return client_error("openai", 400, "Request body must be a JSON object.")
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) and t for t in inputs):
            return client_error("openai", 400, "'input' must be a non-empty string or array of non-empty strings")
        if not model_allowed(str(body.get("model"))):
            return client_error("openai", 404, f"The model `{body.get('model')}` does not exist", "model_not_found")
        data = []
        for i, text in enumerate(inputs):
            vec = [0.0] * 64
            for word in text.lower().split():
                vec[int(hashlib.sha256(word.encode()).hexdigest(), 16) % 64] += 1.0
            data.append({"object": "embedding", "index": i, "embedding": vec})
        usage = {"prompt_tokens": sum(len(t.split()) for t in inputs), "total_tokens": sum(len(t.split()) for t in inputs)}
        return json_response({"object": "list", "data": data, "model": body.get("model"), "usage": usage})

    @tracked("chat.completions")
    async def chat_completions(request: Any) -> Any:
        denied = check_openai_auth(request)
        if denied is not None:
            return denied
        body = await read_json(request)
        if isinstance(body, ValueError):
            return client_error("openai", 400, str(body))
        if not isinstance(body, dict):
            return client_error("openai", 400, "Request body must be a JSON object.")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return client_error("openai", 400, "you must provide a model parameter")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return client_error("openai", 400, "'messages' must be a non-empty array")
        if not model_allowed(model):
            return client_error(
                "openai", 404, f"The model `{model}` does not exist", "model_not_found"
            )
        span = state.model_spans.setdefault(model, [time.time(), time.time()])
        try:
            return await answer_chat(request, body, model, messages)
        finally:
            span[1] = max(span[1], time.time())

    async def answer_chat(request: Any, body: dict, model: str, messages: list[Any]) -> Any:
        prompt = _last_user_text(messages)
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            return client_error("openai", 400, "max_tokens must be a positive integer")
        response_format = body.get("response_format")
        if response_format is not None:
            kind = response_format.get("type") if isinstance(response_format, dict) else None
            state.response_formats[str(kind)] += 1
            if state.config["reject_response_format"]:
                return client_error(
                    "openai",
                    400,
                    f"Invalid parameter: 'response_format' of type '{kind}' is not supported "
                    "with this model.",
                    "invalid_parameter",
                )
        prompt_tokens = _count_message_words(messages)
        window = state.config["context_words"]
        if window and prompt_tokens > window:
            return client_error(
                "openai", 400,
                f"request ({prompt_tokens} tokens) exceeds the available context size ({window} tokens), "
                "try increasing it",
                "exceed_context_size_error",
            )
        top_logprobs = body.get("top_logprobs")
        if top_logprobs is not None and (
            not body.get("logprobs") or not isinstance(top_logprobs, int) or not 0 <= top_logprobs <= 20
        ):
            return client_error(
                "openai", 400, "top_logprobs must be an integer 0-20 and needs logprobs: true"
            )
        want_logprobs = bool(body.get("logprobs"))
        stream = bool(body.get("stream"))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        conversation = "\n".join(_text_of(m.get("content")) for m in messages if isinstance(m, dict))
        echo = state.config["echo_credentials"]
        if echo_refuses(echo, prompt):
            return client_error("openai", 401, f"Incorrect API key provided: {seen(request)}", "invalid_api_key")
        ckey = conversation_key(model, messages)
        state.conversation_requests[ckey] += 1
        slow = state.slow_for(conversation)
        if slow:
            await asyncio.sleep(slow)

        def make_body() -> dict:
            scripted = state.scripted_reply(conversation)
            if scripted is not None:
                body = openai_body(model, echoed(scripted), False, prompt_tokens)
            else:
                text, truncated = truncate_words(choose_reply(state.config, prompt), max_tokens)
                body = openai_body(model, echoed(text), truncated, prompt_tokens)
            if want_logprobs:
                choice = body["choices"][0]
                choice["logprobs"] = chat_logprobs(choice["message"]["content"], top_logprobs or 0)
            return body

        def echoed(text: str) -> str:
            return f"{text} [credentials received: {seen(request)}]" if echo else text

        def make_success() -> Any:
            payload = make_body()
            state.conversation_successes[ckey] += 1
            if stream:
                return _OpenAIStream(payload, include_usage)
            return json_response(payload, headers={"x-request-id": payload["id"]})

        resp = await serve_api(request, "openai", prompt, make_success, make_body)
        if isinstance(resp, _OpenAIStream):
            return await resp.send(request)
        return resp

    @tracked("completions")
    async def completions(request: Any) -> Any:
        """``/v1/completions`` (legacy text completion): the reply of :func:`choose_reply` to
        the prompt and, with ``prompt_logprobs`` (vLLM), the prompt's token log-probabilities."""
        denied = check_openai_auth(request)
        if denied is not None:
            return denied
        body = await read_json(request)
        if isinstance(body, ValueError) or not isinstance(body, dict):
            return client_error("openai", 400, "Request body must be a JSON object.")
        model = body.get("model")
        prompt = body.get("prompt")
        if not isinstance(model, str) or not model or not isinstance(prompt, str):
            return client_error("openai", 400, "you must provide a model and a prompt string")
        if not model_allowed(model):
            return client_error("openai", 404, f"The model `{model}` does not exist", "model_not_found")
        max_tokens = body.get("max_tokens")
        wanted = body.get("prompt_logprobs")

        def make_body() -> dict:
            text, truncated = truncate_words(choose_reply(state.config, prompt), max_tokens)
            choice: dict[str, Any] = {
                "index": 0, "text": text, "logprobs": None,
                "finish_reason": "length" if truncated else "stop",
            }
            if wanted is not None and state.config["prompt_logprobs"]:
                choice["prompt_logprobs"] = prompt_logprobs(prompt)
            n_prompt, n_text = len(fake_tokens(prompt)), word_count(text)
            return {
                "id": f"cmpl-fake{next(state.ids):08d}", "object": "text_completion",
                "created": int(time.time()), "model": model, "choices": [choice],
                "usage": {"prompt_tokens": n_prompt, "completion_tokens": n_text,
                          "total_tokens": n_prompt + n_text},
            }

        def make_success() -> Any:
            return json_response(make_body())

        return await serve_api(request, "openai", prompt, make_success, make_body)

    class _OpenAIStream:
        def __init__(self, payload: dict, include_usage: bool) -> None:
            self.payload = payload
            self.include_usage = include_usage

        async def send(self, request: Any) -> Any:
            p = self.payload
            resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await resp.prepare(request)
            base = {
                "id": p["id"],
                "object": "chat.completion.chunk",
                "created": p["created"],
                "model": p["model"],
                "system_fingerprint": p["system_fingerprint"],
            }
            choice = p["choices"][0]
            words = choice["message"]["content"].split(" ")
            deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
            deltas += [{"content": (w if i == 0 else " " + w)} for i, w in enumerate(words)]
            chunks = []
            for delta in deltas:
                chunks.append(
                    {
                        **base,
                        "choices": [
                            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
                        ],
                    }
                )
            chunks.append(
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {},
                            "logprobs": None,
                            "finish_reason": choice["finish_reason"],
                        }
                    ],
                }
            )
            if self.include_usage:
                chunks.append({**base, "choices": [], "usage": p["usage"]})
            data = "".join(f"data: {dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            await resp.write(data.encode())
            await resp.write_eof()
            return resp

    async def list_models(request: Any) -> Any:
        state.by_endpoint["models"] += 1
        models = state.config["models"] or _DEFAULT_MODEL_LIST
        if "anthropic-version" in request.headers:
            denied = check_anthropic_auth(request)
            if denied is not None:
                return denied
            data = [
                {
                    "type": "model",
                    "id": m,
                    "display_name": m,
                    "created_at": "2024-01-01T00:00:00Z",
                }
                for m in models
            ]
            return json_response(
                {
                    "data": data,
                    "has_more": False,
                    "first_id": models[0] if models else None,
                    "last_id": models[-1] if models else None,
                }
            )
        denied = check_openai_auth(request)
        if denied is not None:
            return denied
        return json_response(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
                    for m in models
                ],
            }
        )

    # -- Anthropic ---------------------------------------------------------------------------

    @tracked("messages")
    async def messages(request: Any) -> Any:
        denied = check_anthropic_auth(request)
        if denied is not None:
            return denied
        if state.config["require_anthropic_version"] and not request.headers.get(
            "anthropic-version"
        ):
            return client_error("anthropic", 400, "anthropic-version: header is required")
        body = await read_json(request)
        if isinstance(body, ValueError):
            return client_error("anthropic", 400, str(body))
        if not isinstance(body, dict):
            return client_error("anthropic", 400, "Request body must be a JSON object.")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return client_error("anthropic", 400, "model: Field required")
        msgs = body.get("messages")
        if not isinstance(msgs, list) or not msgs:
            return client_error("anthropic", 400, "messages: Field required")
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            return client_error("anthropic", 400, "max_tokens: Field required")
        if body.get("stream"):
            return client_error("anthropic", 400, "stream: not supported by the fake server")
        if not model_allowed(model):
            return client_error("anthropic", 404, f"model: {model}")
        prompt = _last_user_text(msgs)
        input_tokens = _count_message_words(msgs) + word_count(_text_of(body.get("system")))
        tool_choice = body.get("tool_choice")
        tool = None
        if body.get("tools"):
            state.tool_requests += 1
            if isinstance(tool_choice, dict) and tool_choice.get("type") == "tool":
                tool = str(tool_choice.get("name"))
        texts = [_text_of(body.get("system"))]
        texts += [_text_of(m.get("content")) for m in msgs if isinstance(m, dict)]
        conversation = "\n".join(texts)
        echo = state.config["echo_credentials"]
        if echo_refuses(echo, prompt):
            return client_error("anthropic", 401, f"invalid x-api-key: {seen(request)}")

        def make_body() -> dict:
            scripted = state.scripted_reply(conversation)
            if scripted is not None:
                return anthropic_body(model, echoed(scripted), False, input_tokens, tool)
            text, truncated = truncate_words(choose_reply(state.config, prompt), max_tokens)
            return anthropic_body(model, echoed(text), truncated, input_tokens, tool)

        def echoed(text: str) -> str:
            return f"{text} [credentials received: {seen(request)}]" if echo else text

        def make_success() -> Any:
            payload = make_body()
            return json_response(payload, headers={"request-id": f"req_{payload['id']}"})

        return await serve_api(request, "anthropic", prompt, make_success, make_body)

    # -- Perspective -------------------------------------------------------------------------

    #: languages the real API's TOXICITY attribute accepts (others get a 400)
    toxicity_languages = {"ar", "zh", "cs", "nl", "en", "fr", "de", "hi", "hi-Latn", "id"}
    toxicity_languages |= {"it", "ja", "ko", "pl", "pt", "ru", "es", "sv"}
    #: (stats epoch, {"body": ..., "key_in": "query"|"header"|None}) per analyze request
    perspective_log: collections.deque[tuple[float, dict]] = collections.deque(maxlen=10000)

    @tracked("comments:analyze")
    async def analyze(request: Any) -> Any:
        key = request.query.get("key") or request.headers.get("x-goog-api-key", "")
        key_in = "query" if request.query.get("key") else ("header" if key else None)
        if key:
            state.saw_auth = True
        want = state.config["api_key"]
        if want and key != want:
            if not key:
                return client_error(
                    "google",
                    403,
                    "The request is missing a valid API key.",
                )
            return client_error("google", 400, "API key not valid. Please pass a valid API key.")
        body = await read_json(request)
        if isinstance(body, ValueError):
            return client_error("google", 400, str(body))
        if not isinstance(body, dict):
            return client_error("google", 400, "Request body must be a JSON object.")
        perspective_log.append((state.started, {"body": body, "key_in": key_in}))
        comment = body.get("comment")
        text = comment.get("text") if isinstance(comment, dict) else None
        if not isinstance(text, str):
            return client_error("google", 400, "Comment must be specified.")
        if not text:
            return client_error("google", 400, "Comment must be non-empty.")
        if len(text.encode("utf-8")) > 20480:
            return client_error("google", 400, "Comment text too long.")
        attributes = body.get("requestedAttributes")
        if not isinstance(attributes, dict) or not attributes:
            return client_error("google", 400, "Must specify at least one requested attribute.")
        languages = body.get("languages") or ["en"]
        unsupported = [lang for lang in languages if lang not in toxicity_languages]
        if "TOXICITY" in attributes and unsupported:
            return client_error(
                "google",
                400,
                f"Attribute TOXICITY does not support request languages: {','.join(unsupported)}",
            )

        def make_body() -> dict:
            return perspective_body(text, list(attributes), list(languages))

        def make_success() -> Any:
            return json_response(make_body())

        return await serve_api(request, "google", text, make_success, make_body)

    async def perspective_requests(request: Any) -> Any:
        """The analyze requests received since the last stats reset, oldest first."""
        return json_response([rec for epoch, rec in perspective_log if epoch == state.started])

    # -- batches (OpenAI Files + Batch API, Anthropic Message Batches) ------------------------

    def iso(ts: float) -> str:
        from datetime import datetime, timezone

        return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")

    def forwarded(request: Any) -> dict[str, str]:
        """The headers a batch's requests are sent with: its creator's credentials and X-*."""
        keep = {}
        for name, value in request.headers.items():
            low = name.lower()
            if low in ("authorization", "x-api-key", "anthropic-version") or (
                low.startswith("x-") and not low.startswith("x-stainless")
            ):
                keep[name] = value
        return keep

    async def self_call(batch: _Batch, body: dict[str, Any]) -> tuple[int, Any]:
        """One request of ``batch`` through this server's own chat handler."""
        import aiohttp

        session = getattr(state, "session", None)
        if session is None:
            session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600))
            state.session = session  # type: ignore[attr-defined]
        state.batch_lines += 1
        try:
            async with session.post(
                batch.origin + batch.path, json=body, headers={**batch.headers, "X-Fake-Batch": batch.id}
            ) as resp:
                text = await resp.text()
                try:
                    return resp.status, json.loads(text)
                except ValueError:
                    return (resp.status if resp.status != 200 else 500), _error_body(
                        batch.flavor, 500, f"malformed response: {text[:100]}"
                    )
        except aiohttp.ClientError as exc:
            return 500, _error_body(batch.flavor, 500, f"connection failed: {type(exc).__name__}")

    async def run_upto(batch: _Batch, target: int) -> None:
        """Run the batch's requests up to ``target``. A provider runs a batch whatever happens to
        a poll: the work is shielded from the poll's cancellation (a client that disconnects
        mid-poll, e.g. on Ctrl-C) and locked per batch, so a request that started is finished and
        kept, never run again by a later poll."""

        async def run() -> None:
            async with batch.running:
                for custom_id, body in batch.lines[:target]:
                    if custom_id not in batch.results:
                        batch.results[custom_id] = await self_call(batch, body)

        await asyncio.shield(run())

    def add_file(data: bytes, purpose: str, filename: str) -> str:
        file_id = f"file-fake{next(state.ids):08d}"
        state.files[file_id] = {"data": data, "purpose": purpose, "filename": filename, "created_at": int(time.time())}
        return file_id

    def finish(batch: _Batch, how: str) -> None:
        """End ``batch``: ``completed``, ``expired`` or ``cancelled`` (the requests not run get
        ``batch_expired``/``batch_cancelled``); an OpenAI batch writes its output/error files."""
        batch.end = how  # type: ignore[attr-defined]
        batch.ended_at = time.time()  # type: ignore[attr-defined]
        if batch.flavor == "anthropic":
            batch.status = "ended"
            return
        batch.status = how
        out, err = [], []
        for n, (custom_id, _) in enumerate(batch.lines):
            line_id = f"batch_req_{batch.id}_{n}"
            if custom_id in batch.results:
                status, body = batch.results[custom_id]
                line = {"id": line_id, "custom_id": custom_id,
                        "response": {"status_code": status, "request_id": f"req_{line_id}", "body": body},
                        "error": None}
                (out if status == 200 else err).append(line)
            else:
                code, message = ("batch_expired", _EXPIRED_LINE) if how == "expired" else ("batch_cancelled", _CANCELLED_LINE)
                err.append({"id": line_id, "custom_id": custom_id, "response": None,
                            "error": {"code": code, "message": message}})
        def blob(lines: list[dict[str, Any]]) -> bytes:
            return "".join(dumps(x) + "\n" for x in lines).encode("utf-8")

        batch.output_file_id = add_file(blob(out), "batch_output", f"{batch.id}_output.jsonl") if out else None
        batch.error_file_id = add_file(blob(err), "batch_output", f"{batch.id}_error.jsonl") if err else None

    async def advance(batch: _Batch) -> None:
        """One poll: a share of the requests runs; the last poll ends the batch."""
        state.batch_polls += 1
        if batch.ended:
            return
        batch.polls += 1
        n, polls = len(batch.lines), state.config["batch_polls"]
        if batch.status == "validating":
            if batch.errors:
                batch.status = "failed"
                batch.ended_at = time.time()  # type: ignore[attr-defined]
                return
            batch.status = "in_progress"
        if batch.cancel_requested:
            finish(batch, "cancelled")
            return
        expiring = batch.seq <= state.config["batch_expire"]
        target = n if batch.polls >= polls else -(-batch.polls * n // polls)
        if expiring:
            target = min(target, n // 2)
        await run_upto(batch, target)
        if expiring and batch.polls >= polls:
            finish(batch, "expired")
        elif batch.polls >= polls:  # every request has run by now
            finish(batch, "completed")

    def counts(batch: _Batch) -> tuple[int, int, int]:
        ok = sum(1 for status, _ in batch.results.values() if status == 200)
        return ok, len(batch.results) - ok, len(batch.lines) - len(batch.results)

    def openai_batch_json(batch: _Batch) -> dict[str, Any]:
        ok, bad, not_run = counts(batch)
        end = getattr(batch, "end", None)
        ended_at = int(getattr(batch, "ended_at", 0)) or None
        return {
            "id": batch.id, "object": "batch", "endpoint": batch.path,
            "errors": {"object": "list", "data": batch.errors} if batch.errors else None,
            "input_file_id": batch.input_file_id, "completion_window": "24h", "status": batch.status,
            "output_file_id": batch.output_file_id, "error_file_id": batch.error_file_id,
            "created_at": batch.created_at, "in_progress_at": batch.created_at if batch.polls else None,
            "expires_at": batch.created_at + 86400, "finalizing_at": ended_at if end else None,
            "completed_at": ended_at if end == "completed" else None,
            "failed_at": ended_at if batch.status == "failed" else None,
            "expired_at": ended_at if end == "expired" else None,
            "cancelling_at": batch.created_at if batch.cancel_requested else None,
            "cancelled_at": ended_at if end == "cancelled" else None,
            "request_counts": {"total": len(batch.lines), "completed": ok, "failed": bad + (not_run if end else 0)},
            "metadata": batch.metadata,
        }

    def anthropic_batch_json(batch: _Batch) -> dict[str, Any]:
        ok, bad, not_run = counts(batch)
        end = getattr(batch, "end", None)
        ended_at = getattr(batch, "ended_at", None)
        return {
            "id": batch.id, "type": "message_batch",
            "processing_status": "ended" if end else ("canceling" if batch.cancel_requested else "in_progress"),
            "request_counts": {
                "processing": 0 if end else not_run, "succeeded": ok, "errored": bad,
                "canceled": not_run if end == "cancelled" else 0, "expired": not_run if end == "expired" else 0,
            },
            "ended_at": iso(ended_at) if ended_at else None, "created_at": iso(batch.created_at),
            "expires_at": iso(batch.created_at + 86400), "archived_at": None,
            "cancel_initiated_at": iso(batch.created_at) if batch.cancel_requested else None,
            "results_url": f"{batch.origin}/v1/messages/batches/{batch.id}/results" if end else None,
        }

    def list_json(flavor: str, request: Any) -> Any:
        mine = [b for b in reversed(list(state.batches.values())) if b.flavor == flavor]
        try:
            limit = max(1, min(1000, int(request.query.get("limit", "20"))))
        except ValueError:
            return client_error(flavor, 400, "limit must be an integer")
        page = mine[:limit]
        shown = [openai_batch_json(b) if flavor == "openai" else anthropic_batch_json(b) for b in page]
        first = page[0].id if page else None
        last = page[-1].id if page else None
        if flavor == "openai":
            return json_response({"object": "list", "data": shown, "first_id": first, "last_id": last,
                                  "has_more": len(mine) > limit})
        return json_response({"data": shown, "first_id": first, "last_id": last, "has_more": len(mine) > limit})

    def no_batches(flavor: str, endpoint: str = "") -> Any:
        """A 404 when batches are off; a 500 for the first ``batch_fail_first_n`` calls of
        ``endpoint``."""
        if not state.config["batches"]:
            return client_error(flavor, 404, "Not found.")
        if endpoint:
            state.batch_calls[endpoint] += 1
            if state.batch_calls[endpoint] <= state.config["batch_fail_first_n"]:
                state.faults["500"] += 1
                return error(flavor, 500)
        return None

    @tracked("files.create")
    async def upload_file(request: Any) -> Any:
        denied = no_batches("openai", "files.create") or check_openai_auth(request)
        if denied is not None:
            return denied
        form = await request.post()
        field = form.get("file")
        purpose = form.get("purpose")
        if field is None or not hasattr(field, "file"):
            return client_error("openai", 400, "'file' is a required property")
        if purpose not in ("batch", "fine-tune", "assistants", "user_data", "evals", "vision"):
            return client_error("openai", 400, f"'{purpose}' is not a valid purpose")
        data = field.file.read()
        file_id = add_file(data, str(purpose), str(getattr(field, "filename", "upload")))
        return json_response(file_json(file_id))

    def file_json(file_id: str) -> dict[str, Any]:
        f = state.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(f["data"]), "created_at": f["created_at"],
                "filename": f["filename"], "purpose": f["purpose"], "status": "processed",
                "expires_at": None, "status_details": None}

    @tracked("files.retrieve")
    async def get_file(request: Any) -> Any:
        denied = no_batches("openai") or check_openai_auth(request)
        if denied is not None:
            return denied
        file_id = request.match_info["file_id"]
        if file_id not in state.files:
            return client_error("openai", 404, f"No such File object: {file_id}")
        return json_response(file_json(file_id))

    @tracked("files.content")
    async def file_content(request: Any) -> Any:
        denied = no_batches("openai", "files.content") or check_openai_auth(request)
        if denied is not None:
            return denied
        file_id = request.match_info["file_id"]
        if file_id not in state.files:
            return client_error("openai", 404, f"No such File object: {file_id}")
        return web.Response(body=state.files[file_id]["data"], content_type="application/octet-stream")

    def validate_lines(data: bytes, endpoint: str) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
        """The (custom_id, body) of each JSONL line, and OpenAI-style validation errors."""
        lines: list[tuple[str, dict[str, Any]]] = []
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()
        models: set[str] = set()

        def bad(code: str, message: str, n: int | None) -> None:
            errors.append({"code": code, "message": message, "param": None, "line": n})

        if len(data) > 200 * 1024 * 1024:
            bad("file_too_large", "The input file is larger than 200 MB.", None)
        raw_lines = [x for x in data.decode("utf-8", errors="replace").splitlines() if x.strip()]
        if not raw_lines:
            bad("empty_file", "The input file is empty.", None)
        if len(raw_lines) > 50_000:
            bad("too_many_requests", "The input file holds more than 50,000 requests.", None)
        for n, raw in enumerate(raw_lines, start=1):
            try:
                line = json.loads(raw)
            except ValueError:
                bad("invalid_json_line", "This line is not parseable as valid JSON.", n)
                continue
            custom_id = line.get("custom_id") if isinstance(line, dict) else None
            body = line.get("body") if isinstance(line, dict) else None
            if not isinstance(custom_id, str) or not custom_id:
                bad("missing_required_parameter", "custom_id is required", n)
            elif custom_id in seen:
                bad("duplicate_custom_id", f"The custom_id {custom_id!r} is not unique.", n)
            elif line.get("method") != "POST" or line.get("url") != endpoint:
                bad("invalid_url", f"The url must be {endpoint} and the method POST.", n)
            elif not isinstance(body, dict) or not isinstance(body.get("model"), str):
                bad("invalid_request", "body.model is required", n)
            else:
                seen.add(custom_id)
                models.add(body["model"])
                lines.append((custom_id, body))
        if len(models) > 1:
            bad("mismatched_model", "All requests in a batch must use the same model.", None)
        return lines, errors

    @tracked("batches.create")
    async def create_batch(request: Any) -> Any:
        denied = no_batches("openai", "batches.create") or check_openai_auth(request)
        if denied is not None:
            return denied
        body = await read_json(request)
        if isinstance(body, ValueError) or not isinstance(body, dict):
            return client_error("openai", 400, "Request body must be a JSON object.")
        if state.config["batch_reject"] == "create":
            return client_error("openai", 400, "The input file is invalid: it could not be parsed as JSONL (fake rejection).", "invalid_file")
        file_id, endpoint = body.get("input_file_id"), body.get("endpoint")
        if body.get("completion_window") != "24h":
            return client_error("openai", 400, "completion_window must be '24h'")
        if endpoint not in ("/v1/chat/completions", "/v1/completions"):
            return client_error("openai", 400, f"endpoint {endpoint!r} is not supported")
        if not isinstance(file_id, str) or file_id not in state.files:
            return client_error("openai", 400, f"No such File object: {file_id}")
        if state.files[file_id]["purpose"] != "batch":
            return client_error("openai", 400, "The file's purpose must be 'batch'.")
        lines, errors = validate_lines(state.files[file_id]["data"], endpoint)
        if state.config["batch_reject"] == "validate":
            errors = [{"code": "invalid_request", "message": "fake validation failure: the batch was rejected", "param": None, "line": 1}]
        batch_id = f"batch_fake{next(state.ids):08d}"
        batch = _Batch("openai", batch_id, next(state.batch_seq), lines, forwarded(request),
                       f"{request.scheme}://{request.host}", endpoint)
        batch.errors, batch.input_file_id, batch.metadata = errors, file_id, body.get("metadata")
        state.batches[batch_id] = batch
        state.batch_creations["openai"] += 1
        return json_response(openai_batch_json(batch))

    async def list_batches(request: Any) -> Any:
        state.by_endpoint["batches.list"] += 1
        denied = no_batches("openai") or check_openai_auth(request)
        return denied if denied is not None else list_json("openai", request)

    def find(flavor: str, request: Any) -> _Batch | Any:
        batch = state.batches.get(request.match_info["batch_id"])
        if batch is None or batch.flavor != flavor:
            return client_error(flavor, 404, f"No such batch: {request.match_info['batch_id']}")
        return batch

    @tracked("batches.retrieve")
    async def get_batch(request: Any) -> Any:
        denied = no_batches("openai", "batches.retrieve") or check_openai_auth(request)
        if denied is not None:
            return denied
        batch = find("openai", request)
        if not isinstance(batch, _Batch):
            return batch
        await advance(batch)
        return json_response(openai_batch_json(batch))

    @tracked("batches.cancel")
    async def cancel_batch(request: Any) -> Any:
        denied = no_batches("openai") or check_openai_auth(request)
        if denied is not None:
            return denied
        batch = find("openai", request)
        if not isinstance(batch, _Batch):
            return batch
        if batch.ended:
            return client_error("openai", 400, f"Cannot cancel a batch with status {batch.status}.")
        batch.cancel_requested = True
        batch.status = "cancelling"
        return json_response(openai_batch_json(batch))

    def anthropic_denied(request: Any, endpoint: str = "") -> Any:
        denied = no_batches("anthropic", endpoint) or check_anthropic_auth(request)
        if denied is None and state.config["require_anthropic_version"] and not request.headers.get("anthropic-version"):
            denied = client_error("anthropic", 400, "anthropic-version: header is required")
        return denied

    @tracked("messages.batches.create")
    async def create_message_batch(request: Any) -> Any:
        denied = anthropic_denied(request, "messages.batches.create")
        if denied is not None:
            return denied
        body = await read_json(request)
        if isinstance(body, ValueError) or not isinstance(body, dict):
            return client_error("anthropic", 400, "Request body must be a JSON object.")
        if state.config["batch_reject"] is not None:
            return client_error("anthropic", 400, "requests: the batch is invalid (fake rejection)")
        entries = body.get("requests")
        if not isinstance(entries, list) or not entries:
            return client_error("anthropic", 400, "requests: Field required")
        if len(entries) > 100_000:
            return client_error("anthropic", 400, "requests: at most 100,000 requests per batch")
        lines: list[tuple[str, dict[str, Any]]] = []
        seen: set[str] = set()
        for n, entry in enumerate(entries):
            custom_id = entry.get("custom_id") if isinstance(entry, dict) else None
            params = entry.get("params") if isinstance(entry, dict) else None
            if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
                return client_error("anthropic", 400, f"requests.{n}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
            if custom_id in seen:
                return client_error("anthropic", 400, f"requests.{n}.custom_id: duplicate custom_id {custom_id}")
            if not isinstance(params, dict) or not isinstance(params.get("model"), str) or not params.get("messages") or not isinstance(params.get("max_tokens"), int):
                return client_error("anthropic", 400, f"requests.{n}.params: model, messages and max_tokens are required")
            seen.add(custom_id)
            lines.append((custom_id, params))
        batch_id = f"msgbatch_fake{next(state.ids):08d}"
        batch = _Batch("anthropic", batch_id, next(state.batch_seq), lines, forwarded(request),
                       f"{request.scheme}://{request.host}", "/v1/messages")
        state.batches[batch_id] = batch
        state.batch_creations["anthropic"] += 1
        return json_response(anthropic_batch_json(batch))

    async def list_message_batches(request: Any) -> Any:
        state.by_endpoint["messages.batches.list"] += 1
        denied = anthropic_denied(request)
        return denied if denied is not None else list_json("anthropic", request)

    @tracked("messages.batches.retrieve")
    async def get_message_batch(request: Any) -> Any:
        denied = anthropic_denied(request, "messages.batches.retrieve")
        if denied is not None:
            return denied
        batch = find("anthropic", request)
        if not isinstance(batch, _Batch):
            return batch
        await advance(batch)
        return json_response(anthropic_batch_json(batch))

    @tracked("messages.batches.results")
    async def message_batch_results(request: Any) -> Any:
        denied = anthropic_denied(request, "messages.batches.results")
        if denied is not None:
            return denied
        batch = find("anthropic", request)
        if not isinstance(batch, _Batch):
            return batch
        end = getattr(batch, "end", None)
        if not end:
            return client_error("anthropic", 400, f"Message Batch {batch.id} has not yet ended.")
        out = []
        for custom_id, _ in batch.lines:
            if custom_id in batch.results:
                status, body = batch.results[custom_id]
                result = {"type": "succeeded", "message": body} if status == 200 else {"type": "errored", "error": body}
            else:
                result = {"type": "expired" if end == "expired" else "canceled"}
            out.append(dumps({"custom_id": custom_id, "result": result}))
        return web.Response(text="".join(x + "\n" for x in out), content_type="application/binary")

    @tracked("messages.batches.cancel")
    async def cancel_message_batch(request: Any) -> Any:
        denied = anthropic_denied(request)
        if denied is not None:
            return denied
        batch = find("anthropic", request)
        if not isinstance(batch, _Batch):
            return batch
        if not batch.ended:
            batch.cancel_requested = True
        return json_response(anthropic_batch_json(batch))

    async def all_batches(request: Any) -> Any:
        """Every batch the server holds (either API), oldest first: id, flavor, status, counts."""
        return json_response([
            {"id": b.id, "flavor": b.flavor, "status": b.status, "end": getattr(b, "end", None),
             "requests": len(b.lines), "ran": len(b.results), "polls": b.polls}
            for b in state.batches.values()
        ])

    # -- control plane -----------------------------------------------------------------------

    async def get_stats(request: Any) -> Any:
        return json_response(state.stats())

    async def get_summary(request: Any) -> Any:
        return json_response(state.summary())

    async def get_config(request: Any) -> Any:
        return json_response(state.public_config())

    async def post_config(request: Any) -> Any:
        body = await read_json(request)
        if isinstance(body, ValueError) or not isinstance(body, dict):
            return json_response({"error": "body must be a JSON object"}, 400)
        try:
            state.update_config(body)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(state.public_config())

    async def post_reset(request: Any) -> Any:
        state.reset_stats()
        return json_response({"ok": True})

    async def health(request: Any) -> Any:
        return json_response({"ok": True, "pid": os.getpid()})

    @web.middleware
    async def record_path(request: Any, handler: Callable[[Any], Any]) -> Any:
        if not request.path.startswith("/_"):
            state.paths[request.path] += 1
            state.queries[request.query_string] += 1
        return await handler(request)

    app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[record_path])
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1alpha1/comments:analyze", analyze)
    app.router.add_get("/_perspective/requests", perspective_requests)
    app.router.add_post("/v1/files", upload_file)
    app.router.add_get("/v1/files/{file_id}", get_file)
    app.router.add_get("/v1/files/{file_id}/content", file_content)
    app.router.add_post("/v1/batches", create_batch)
    app.router.add_get("/v1/batches", list_batches)
    app.router.add_get("/v1/batches/{batch_id}", get_batch)
    app.router.add_post("/v1/batches/{batch_id}/cancel", cancel_batch)
    app.router.add_post("/v1/messages/batches", create_message_batch)
    app.router.add_get("/v1/messages/batches", list_message_batches)
    app.router.add_get("/v1/messages/batches/{batch_id}", get_message_batch)
    app.router.add_get("/v1/messages/batches/{batch_id}/results", message_batch_results)
    app.router.add_post("/v1/messages/batches/{batch_id}/cancel", cancel_message_batch)
    app.router.add_get("/_batches", all_batches)
    app.router.add_get("/_stats", get_stats)
    app.router.add_get("/_summary", get_summary)
    app.router.add_get("/_config", get_config)
    app.router.add_post("/_config", post_config)
    app.router.add_post("/_reset", post_reset)
    app.router.add_get("/_health", health)
    return app


class _Dropped(Exception):
    """Internal: the handler aborted the connection on purpose."""


def _watch_parent(stop: Callable[[], None], watch_stdin: bool, parent_pid: int | None) -> None:
    """Exit the server when the launching process goes away."""
    if watch_stdin:

        def read_stdin() -> None:
            with contextlib.suppress(Exception):
                while sys.stdin.buffer.read(65536):
                    pass
            stop()

        threading.Thread(target=read_stdin, name="stdin-watch", daemon=True).start()

    original_ppid = os.getppid()

    def poll_parent() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != original_ppid:
                stop()
            if parent_pid is not None and not _pid_alive(parent_pid):
                stop()

    threading.Thread(target=poll_parent, name="ppid-watch", daemon=True).start()


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # pragma: no cover - best effort; stdin watch covers Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _serve(host: str, port: int, config: dict[str, Any]) -> None:
    from aiohttp import web

    state = _State(config)
    app = build_app(state)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    site = web.SockSite(runner, sock, backlog=2048)
    await site.start()
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    await asyncio.Event().wait()  # run until the process is told to exit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake OpenAI/Anthropic/Perspective server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--config-json", default="{}", help="JSON object of config keys")
    parser.add_argument(
        "--watch-stdin", action="store_true", help="exit when stdin reaches EOF (parent died)"
    )
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this pid dies")
    args = parser.parse_args(argv)
    try:
        config = normalize_config(json.loads(args.config_json))
    except ValueError as exc:
        print(f"fake_server: bad config: {exc}", file=sys.stderr, flush=True)
        return 2

    def stop() -> None:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os._exit(0)

    _watch_parent(stop, args.watch_stdin, args.parent_pid)
    try:
        import uvloop  # type: ignore[import-not-found]
    except ImportError:
        asyncio.run(_serve(args.host, args.port, config))
    else:  # pragma: no cover - optional speed-up
        uvloop.run(_serve(args.host, args.port, config))
    return 0


# --------------------------------------------------------------------------------------------
# Client side: process management and control plane (stdlib only)
# --------------------------------------------------------------------------------------------

_LIVE_SERVERS: weakref.WeakSet[FakeServer] = weakref.WeakSet()


@atexit.register
def _stop_all_servers() -> None:
    for srv in list(_LIVE_SERVERS):
        with contextlib.suppress(Exception):
            srv.stop()


class _ClassOrInstanceMethod:
    """``FakeServer.start(**cfg)`` builds and starts a server; ``srv.start(**cfg)`` starts
    an already-built one. Both return the running :class:`FakeServer`."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __get__(self, obj: Any, cls: type) -> Callable[..., Any]:
        if obj is None:

            @functools.wraps(self.func)
            def from_class(**kwargs: Any) -> Any:
                return self.func(cls(), **kwargs)

            return from_class
        return functools.partial(self.func, obj)


class FakeServer:
    """Handle on a fake-API server running in a child process.

    ``FakeServer.start(**config)`` (or ``FakeServer(**config).start()``) launches
    ``python tests/fake_server.py --port 0 --config-json ...`` and waits for it to listen.
    Config keys are those of :data:`DEFAULT_CONFIG`. Use as a context manager, or call
    :meth:`stop`; servers still running at interpreter exit are stopped by an atexit hook,
    and the child also exits on its own when this process dies (stdin EOF / ppid watch).
    """

    def __init__(self, **config: Any) -> None:
        normalize_config(config)  # fail fast on typos
        self._config = dict(config)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._threads: list[threading.Thread] = []
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- lifecycle ---------------------------------------------------------------------------

    @_ClassOrInstanceMethod
    def start(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        startup_timeout: float = 30.0,
        **config: Any,
    ) -> FakeServer:
        """Launch the server process (``port=0``: a free port) and wait until it listens."""
        if self.proc is not None:
            raise RuntimeError("FakeServer already started")
        normalize_config(config)
        self._config.update(config)
        self.host = host
        cmd = [
            sys.executable,
            "-u",
            SERVER_SCRIPT,
            "--host",
            host,
            "--port",
            str(port),
            "--config-json",
            json.dumps(self._config),
            "--watch-stdin",
            "--parent-pid",
            str(os.getpid()),
        ]
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=os.path.dirname(SERVER_SCRIPT),
        )
        _LIVE_SERVERS.add(self)
        ready: collections.deque[int] = collections.deque()
        ready_event = threading.Event()
        proc = self.proc

        def pump_stdout() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").strip()
                if line.startswith("LISTENING ") and not ready_event.is_set():
                    ready.append(int(line.split()[1]))
                    ready_event.set()
            ready_event.set()

        def pump_stderr() -> None:
            assert proc.stderr is not None
            for raw in proc.stderr:
                self._stderr_tail.append(raw.decode("utf-8", "replace").rstrip("\n"))

        for target in (pump_stdout, pump_stderr):
            t = threading.Thread(target=target, name=f"fake-server-{target.__name__}", daemon=True)
            t.start()
            self._threads.append(t)

        if not ready_event.wait(startup_timeout) or not ready:
            self.stop()
            raise RuntimeError(
                f"fake server failed to start (exit code {proc.poll()}):\n" + self.stderr_tail()
            )
        self.port = ready[0]
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server process (idempotent)."""
        proc = self.proc
        if proc is None:
            return
        _LIVE_SERVERS.discard(self)
        if proc.poll() is None:
            with contextlib.suppress(Exception):
                assert proc.stdin is not None
                proc.stdin.close()  # the child exits on stdin EOF
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()
        for t in self._threads:
            t.join(timeout=1.0)
        self._threads.clear()

    def __enter__(self) -> FakeServer:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self) -> str:
        """Last lines the server wrote to stderr (for debugging failures)."""
        return "\n".join(self._stderr_tail)

    # -- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeServer not started")
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url

    @property
    def perspective_url(self) -> str:
        return self.base_url + "/v1alpha1/comments:analyze"

    def perspective_requests(self) -> list[dict[str, Any]]:
        """Perspective requests since the last reset: ``{"body": <JSON body>, "key_in":
        "query" | "header" | None}`` each, oldest first."""
        return list(self._control("GET", "/_perspective/requests"))

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    # -- control plane -----------------------------------------------------------------------

    def _control(self, method: str, path: str, payload: Any = None, timeout: float = 10.0) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(
            self.url(path),
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise RuntimeError(f"fake server {method} {path} -> {exc.code}: {detail}") from None

    def batches(self) -> list[dict[str, Any]]:
        """Every batch the server holds (``GET /_batches``), oldest first."""
        return list(self._control("GET", "/_batches"))

    def stats(self) -> dict[str, Any]:
        """Counters: requests, successes, faults{kind: n}, faults_total, errors{status: n},
        in_flight, max_in_flight, disconnects, by_endpoint, prompt_requests{prompt: n},
        prompt_successes{prompt: n}, saw_auth, since, script_served{substring: n},
        response_formats{type: n} (chat completions that carried one), tool_requests."""
        return dict(self._control("GET", "/_stats"))

    def summary(self) -> dict[str, Any]:
        """:meth:`stats` in a few numbers, without the per-prompt tables (``GET /_summary``):
        requests, successes, faults, disconnects, conversations, conversation_requests_hist,
        conversation_successes_hist ({times: conversations}), succeeded_digest
        (:func:`keys_digest` of the conversations answered at least once)."""
        return dict(self._control("GET", "/_summary", timeout=60.0))

    def config(self) -> dict[str, Any]:
        """The server's current config (``api_key`` redacted)."""
        return dict(self._control("GET", "/_config"))

    def configure(self, **updates: Any) -> dict[str, Any]:
        """Merge ``updates`` into the running server's config; returns the new config."""
        normalize_config(updates)
        self._config.update(updates)
        return dict(self._control("POST", "/_config", updates))

    def reset(self) -> None:
        """Clear stats (also the per-prompt attempt counters of ``fail_first_n``, and reseed)."""
        self._control("POST", "/_reset", {})

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<FakeServer {state} port={self.port} pid={self.pid}>"


if __name__ == "__main__":
    sys.exit(main())
