"""``openai-compatible:`` against the exact ``/v1/completions`` body a vLLM server sends for
``prompt_logprobs`` (issue 19, item 5).

The bodies below are what vLLM 0.33's server writes: ``CompletionResponse.model_dump()`` sent
by a ``JSONResponse`` (``vllm/entrypoints/openai/completion/api_router.py``), so every field of
``CompletionResponse`` / ``CompletionResponseChoice`` / ``UsageInfo`` is there, ``None`` as
``null``, and ``prompt_logprobs`` is ``list[dict[int, Logprob] | None]`` with the token ids as
JSON strings: ``null`` for the first prompt token (here a Llama-style BOS), then per token a map
``id -> {"logprob", "rank", "decoded_token"}`` with the prompt token first and the most likely
token after it when that is another one (``vllm/logprobs.py``,
``vllm/v1/engine/logprobs.py``). A stdlib HTTP server on 127.0.0.1 serves them, so the real
``openai`` SDK parses them (``prompt_logprobs`` is no field of its ``CompletionChoice``: it
arrives as an extra) and the backend's request body is checked too.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from trustgauge.config import ModelConfig
from trustgauge.models.registry import load_model
from trustgauge.types import Capability


def _lp(logprob: float, rank: int, token: str) -> dict[str, Any]:
    return {"logprob": logprob, "rank": rank, "decoded_token": token}


#: "The capital of France is Paris. Un café" as a Llama-style tokenizer with BOS and byte
#: fallback splits it: (id, decoded, logprob, rank, the most likely token when not this one)
PROMPT = "The capital of France is Paris. Un café"
TOKENS: list[tuple[int, str, float, int, tuple[int, str, float] | None]] = [
    (1, "<s>", 0.0, 0, None),  # BOS: the null entry
    (450, "The", -9.5, 31, (1576, "#", -2.25)),
    (7483, " capital", -6.0, 12, (937, " first", -1.5)),
    (310, " of", -0.125, 1, None),
    (3444, " France", -1.75, 2, (278, " the", -1.0)),
    (338, " is", -0.5, 1, None),
    (3681, " Paris", -0.25, 1, None),
    (29889, ".", -1.0, 1, None),
    (853, " Un", -7.0, 40, (13, "\n", -0.5)),
    (5777, " caf", -4.0, 3, (2107, " pour", -2.0)),
    (30203, "", -0.0625, 1, None),  # <0xC3>: a byte-fallback piece, decoded alone as ""
    (30174, "é", -0.03125, 1, None),  # <0xA9>: completes "é" (vLLM's _correct_decoded_token)
]


def prompt_logprobs_body(tokens: list[tuple[int, str, float, int, tuple[int, str, float] | None]]) -> list[Any]:
    out: list[Any] = [None]
    for token_id, text, logprob, rank, top in tokens[1:]:
        entry = {str(token_id): _lp(logprob, rank, text)}
        if top is not None:
            entry[str(top[0])] = _lp(top[2], 1, top[1])
        out.append(entry)
    return out


def completion_body(model: str, prompt_logprobs: list[Any], n_prompt: int) -> dict[str, Any]:
    """``CompletionResponse.model_dump()`` of vLLM 0.33, field for field."""
    return {
        "id": "cmpl-9f1c0d2e8a7b4c3d", "object": "text_completion", "created": 1764900000, "model": model,
        "choices": [{
            "index": 0, "text": " The", "logprobs": None, "finish_reason": "length", "stop_reason": None,
            "token_ids": None, "prompt_logprobs": prompt_logprobs, "prompt_token_ids": None,
            "routed_experts": None, "weight_versions": None,
        }],
        "service_tier": None, "system_fingerprint": None,
        "usage": {"prompt_tokens": n_prompt, "total_tokens": n_prompt + 1, "completion_tokens": 1,
                  "prompt_tokens_details": None, "completion_tokens_details": None},
        "kv_transfer_params": None, "ec_transfer_params": None, "metrics": None,
    }


class _VLLMLike(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]]

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, payload: dict[str, Any], status: int = 200) -> None:
        blob = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(blob)))
        self.end_headers()
        self.wfile.write(blob)

    def do_GET(self) -> None:
        self._send({"object": "list", "data": [{"id": "meta-llama/Llama-2-7b-hf", "object": "model",
                                                 "created": 1764900000, "owned_by": "vllm", "root": "meta-llama/Llama-2-7b-hf",
                                                 "parent": None, "max_model_len": 4096, "permission": []}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        if body["prompt"] == PROMPT:
            self._send(completion_body(body["model"], prompt_logprobs_body(TOKENS), len(TOKENS)))
        else:  # the capability probe ("Hello"): BOS + one token
            self._send(completion_body(body["model"], [None, {"15043": _lp(-8.0, 97, "Hello"), "13": _lp(-0.75, 1, "\n")}], 2))


@pytest.fixture()
def vllm_like() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []
    handler = type("Handler", (_VLLMLike,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_loglikelihood_from_vllms_exact_completion_body(vllm_like: tuple[str, list[dict[str, Any]]]) -> None:
    url, bodies = vllm_like
    model = load_model(ModelConfig(model=f"openai-compatible:meta-llama/Llama-2-7b-hf@{url}"))

    async def go() -> Any:
        try:
            caps = await model.supported()
            return caps, await model.loglikelihood([("The capital of France is", " Paris. Un café"),
                                                    ("The capital of France is Paris. Un", " café")])
        finally:
            await model.aclose()

    caps, (whole, cafe) = asyncio.run(go())
    assert Capability.LOGLIKELIHOOD in caps
    # the request: the text in one prompt, one token generated, vLLM's extra parameter at the top
    # of the body (the SDK's extra_body), so the server's CompletionRequest.prompt_logprobs gets it
    sent = bodies[-1]
    assert sent["prompt"] == PROMPT and sent["max_tokens"] == 1 and sent["prompt_logprobs"] == 1
    assert sent["temperature"] == 0.0 and "extra_body" not in sent
    # " Paris. Un café" = " Paris" "." " Un" " caf" "" "é": the byte-fallback piece "" adds no
    # text but its log-probability counts
    assert [t.token for t in whole.tokens] == [" Paris", ".", " Un", " caf", "", "é"]
    assert [t.id for t in whole.tokens] == [3681, 29889, 853, 5777, 30203, 30174]
    assert whole.logprob == -0.25 - 1.0 - 7.0 - 4.0 - 0.0625 - 0.03125
    # the prompt token, not the most likely one listed after it, with vLLM's rank
    assert [t.rank for t in whole.tokens] == [1, 1, 40, 3, 1, 1]
    assert whole.greedy is False
    assert [t.token for t in cafe.tokens] == [" caf", "", "é"] and cafe.logprob == -4.0 - 0.0625 - 0.03125
    assert all(t.top == () and t.dist_mean is None for t in whole.tokens)  # vLLM gives no distribution


def test_the_null_first_entry_is_left_out(vllm_like: tuple[str, list[dict[str, Any]]]) -> None:
    """The whole prompt as the continuation (an empty context): its first token (the BOS,
    ``null``) has no log-probability and is not counted; every other token is."""
    url, _ = vllm_like
    model = load_model(ModelConfig(model=f"openai-compatible:meta-llama/Llama-2-7b-hf@{url}"))

    async def go() -> Any:
        try:
            await model.supported()
            return (await model.loglikelihood([("", PROMPT)]))[0]
        finally:
            await model.aclose()

    ll = asyncio.run(go())
    assert len(ll.tokens) == len(TOKENS) - 1
    assert ll.logprob == sum(t[2] for t in TOKENS[1:])
    assert ll.tokens[0].token == "The" and ll.tokens[0].rank == 31
