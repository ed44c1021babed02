"""The dataset layer: download from a real local HTTP server, verify, unpack, cache, load."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from local_http import serving
from trustgauge.data import (
    DATA_DIR_ENV,
    TRUSTLLM,
    cached_copies,
    cached_dataset,
    check_record_count,
    dataset_cache_path,
    fetch_dataset,
    get_source,
    hf_cache_path,
    load_records,
    packaged_path,
    read_copy_info,
    require_fields,
    resolve_data_dir,
    source_ids,
)
from trustgauge.data.fetch import MARKER_NAME, _unpack
from trustgauge.errors import DataError

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
UNPACKED = SHARED_DATA / "trustllm"
RELEASE_ZIP = SHARED_DATA / "trustllm-release" / "dataset.zip"


def _files_below(root: Path) -> dict[str, Path]:
    return {
        p.relative_to(root).as_posix(): p
        for p in root.rglob("*")
        if p.is_file() and p.name != MARKER_NAME
    }


@pytest.fixture
def shared_data() -> Path:
    if not (UNPACKED.is_dir() and RELEASE_ZIP.is_file()):
        pytest.skip(f"shared TrustLLM data not found under {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("TRUSTGAUGE_HOME", str(home))
    monkeypatch.delenv(TRUSTLLM.url_env_var, raising=False)
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    return home


@dataclass
class ZipServer:
    """A real HTTP server on 127.0.0.1 serving ``body`` at any path and counting GETs."""

    body: bytes
    status: int = 200
    requests: list[str] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def server(shared_data: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ZipServer]:
    state = ZipServer(body=RELEASE_ZIP.read_bytes())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            self.send_response(state.status)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as base:
        state.url = f"{base}/dataset/dataset.zip"
        monkeypatch.setenv(TRUSTLLM.url_env_var, state.url)
        yield state


def _assert_same_layout(got: Path, expected: Path) -> None:
    got_files, expected_files = _files_below(got), _files_below(expected)
    assert sorted(got_files) == sorted(expected_files)
    for relpath, path in expected_files.items():
        assert got_files[relpath].read_bytes() == path.read_bytes(), relpath


def _nothing_cached(home: Path) -> bool:
    data = home / "data"
    return not data.exists() or not any(p.is_file() for p in data.rglob("*"))


# --------------------------------------------------------------------------- registry


def test_registry_knows_trustllm() -> None:
    source = get_source("trustllm")
    assert source is TRUSTLLM
    # then the sources built-in tasks declare, once the tasks are loaded (Liu et al.'s and Fan et al.'s sets)
    assert source_ids()[0] == "trustllm" and all(s.startswith(("liu2023-", "fan2023-")) for s in source_ids()[1:])
    assert source.url.endswith("4b864211f32602fddb8cafc8d5154bed1e0ce01e/dataset/dataset.zip")
    assert source.size_bytes == 1_778_759
    assert len(source.files) == 24
    assert source.total_records == 16_441
    with pytest.raises(TypeError):
        source.files["x.json"] = 1  # type: ignore[index, unused-ignore]


def test_unknown_source_lists_known_ids() -> None:
    with pytest.raises(DataError, match="trustllm"):
        get_source("nope")


def test_registry_matches_shared_data(shared_data: Path) -> None:
    assert sorted(_files_below(UNPACKED)) == sorted(TRUSTLLM.files)
    assert hashlib.sha256(RELEASE_ZIP.read_bytes()).hexdigest() == TRUSTLLM.sha256
    assert RELEASE_ZIP.stat().st_size == TRUSTLLM.size_bytes
    for relpath, count in TRUSTLLM.files.items():
        records, sha = load_records(UNPACKED, relpath)
        assert len(records) == count, relpath
        assert sha == hashlib.sha256((UNPACKED / relpath).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- fetch


def test_fetch_over_http_unpacks_release_layout(server: ZipServer, home: Path) -> None:
    path = fetch_dataset("trustllm", progress=False)
    assert path == home / "data" / "trustllm" / TRUSTLLM.sha256[:12]
    assert path == dataset_cache_path("trustllm") == cached_dataset("trustllm")
    assert (path / MARKER_NAME).is_file()
    _assert_same_layout(path, UNPACKED)
    assert server.requests == ["/dataset/dataset.zip"]
    # nothing but the finished copy is left in the cache
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_second_fetch_makes_no_request(server: ZipServer) -> None:
    first = fetch_dataset("trustllm", progress=False)
    second = fetch_dataset("trustllm", progress=False)
    via_resolve = resolve_data_dir("trustllm", None)
    assert first == second == via_resolve
    assert len(server.requests) == 1


def test_force_fetch_downloads_again(server: ZipServer) -> None:
    fetch_dataset("trustllm", progress=False)
    path = fetch_dataset("trustllm", force=True, progress=False)
    assert len(server.requests) == 2
    _assert_same_layout(path, UNPACKED)
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_incomplete_cached_copy_is_replaced(server: ZipServer) -> None:
    path = fetch_dataset("trustllm", progress=False)
    (path / "safety" / "jailbreak.json").unlink()
    assert cached_dataset("trustllm") is None
    assert fetch_dataset("trustllm", progress=False) == path
    assert len(server.requests) == 2
    _assert_same_layout(path, UNPACKED)


def test_concurrent_fetches_agree(server: ZipServer) -> None:
    results: list[Path] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(fetch_dataset("trustllm", progress=False))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert len(set(results)) == 1 and len(results) == 4
    _assert_same_layout(results[0], UNPACKED)
    assert [p.name for p in results[0].parent.iterdir()] == [results[0].name]


def test_corrupted_archive_is_rejected_and_nothing_cached(server: ZipServer, home: Path) -> None:
    body = bytearray(server.body)
    body[len(body) // 2] ^= 0xFF
    server.body = bytes(body)
    with pytest.raises(DataError) as info:
        fetch_dataset("trustllm", progress=False)
    message = str(info.value)
    assert "checksum mismatch" in message
    assert TRUSTLLM.sha256 in message
    assert hashlib.sha256(server.body).hexdigest() in message
    assert "\n" not in message
    assert _nothing_cached(home)
    assert cached_dataset("trustllm") is None


def test_oversized_download_is_rejected(server: ZipServer, home: Path) -> None:
    server.body = server.body + b"\0" * 1024
    with pytest.raises(DataError, match="larger than"):
        fetch_dataset("trustllm", progress=False)
    assert _nothing_cached(home)


def test_http_error_status(server: ZipServer, home: Path) -> None:
    server.status = 404
    server.body = b"not found"
    with pytest.raises(DataError) as info:
        fetch_dataset("trustllm", progress=False)
    message = str(info.value)
    assert "HTTP 404" in message and server.url in message and "--data-dir" in message
    assert _nothing_cached(home)


def test_server_down(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/dataset.zip"
    monkeypatch.setenv(TRUSTLLM.url_env_var, url)
    with pytest.raises(DataError) as info:
        fetch_dataset("trustllm", progress=False)
    message = str(info.value)
    assert url in message and "\n" not in message
    _assert_says_how_to_get_data(message)
    assert _nothing_cached(home)
    # what a full run does without data: resolve, nothing cached, download fails -> same hint
    with pytest.raises(DataError) as info:
        resolve_data_dir("trustllm", None, progress=False)
    assert url in str(info.value)
    _assert_says_how_to_get_data(str(info.value))
    assert _nothing_cached(home)


def _assert_says_how_to_get_data(message: str) -> None:
    assert "\n" not in message, message
    for hint in (
        "`trustgauge data fetch trustllm`",
        "--data-dir DIR",
        "TRUSTGAUGE_DATA_DIR",
        "--from hf",
        "`--suite quick` runs offline on the packaged sample",
    ):
        assert hint in message, (hint, message)


@pytest.mark.parametrize("as_url", [True, False], ids=["file-url", "plain-path"])
def test_fetch_from_local_file(
    shared_data: Path, home: Path, monkeypatch: pytest.MonkeyPatch, as_url: bool
) -> None:
    monkeypatch.setenv(TRUSTLLM.url_env_var, RELEASE_ZIP.as_uri() if as_url else str(RELEASE_ZIP))
    path = fetch_dataset("trustllm", progress=False)
    _assert_same_layout(path, UNPACKED)


def test_missing_local_file(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere" / "dataset.zip"
    monkeypatch.setenv(TRUSTLLM.url_env_var, str(missing))
    with pytest.raises(DataError, match="--data-dir"):
        fetch_dataset("trustllm", progress=False)
    assert _nothing_cached(home)


def _write_zip(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, "[]")
    return path


@pytest.mark.parametrize(
    "bad_name", ["dataset/../../evil.json", "/etc/evil.json", "dataset/a/../../../evil.json"]
)
def test_unpack_rejects_unsafe_paths(tmp_path: Path, bad_name: str) -> None:
    archive = _write_zip(tmp_path / "bad.zip", ["dataset/ethics/awareness.json", bad_name])
    with pytest.raises(DataError, match="refusing to unpack"):
        _unpack(archive, tmp_path / "out", TRUSTLLM)
    assert not (tmp_path / "evil.json").exists()
    assert not (tmp_path.parent / "evil.json").exists()


def test_unpack_strips_root_and_skips_junk(tmp_path: Path) -> None:
    names = ["dataset/" + relpath for relpath in TRUSTLLM.files]
    names += ["__MACOSX/dataset/._x.json", "dataset/.DS_Store", "dataset/ethics/._awareness.json"]
    archive = _write_zip(tmp_path / "ok.zip", names)
    _unpack(archive, tmp_path / "out", TRUSTLLM)
    assert sorted(_files_below(tmp_path / "out")) == sorted(TRUSTLLM.files)


def test_unpack_requires_every_expected_file(tmp_path: Path) -> None:
    archive = _write_zip(tmp_path / "short.zip", ["dataset/ethics/awareness.json"])
    with pytest.raises(DataError, match=r"lacks truthfulness/internal\.json"):
        _unpack(archive, tmp_path / "out", TRUSTLLM)


# --------------------------------------------------------------------------- resolve


def test_resolve_given_data_dir(shared_data: Path, home: Path) -> None:
    assert resolve_data_dir("trustllm", UNPACKED) == UNPACKED
    assert _nothing_cached(home)


def test_resolve_accepts_folder_holding_archive_root(shared_data: Path, tmp_path: Path) -> None:
    (tmp_path / "dataset").symlink_to(UNPACKED, target_is_directory=True)
    assert resolve_data_dir("trustllm", tmp_path) == tmp_path / "dataset"


def test_resolve_empty_dir_names_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        resolve_data_dir("trustllm", tmp_path)
    message = str(info.value)
    assert "truthfulness/internal.json" in message and str(tmp_path) in message


def test_resolve_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        resolve_data_dir("trustllm", tmp_path / "absent")


def test_resolve_without_auto_fetch(home: Path) -> None:
    with pytest.raises(DataError, match="not downloaded") as info:
        resolve_data_dir("trustllm", None, auto_fetch=False)
    _assert_says_how_to_get_data(str(info.value))


def test_resolve_fetches_when_needed(server: ZipServer) -> None:
    path = resolve_data_dir("trustllm", None, progress=False)
    assert path == dataset_cache_path("trustllm")
    assert len(server.requests) == 1


# --------------------------------------------------------------------------- load


def test_load_records_malformed_json(tmp_path: Path) -> None:
    (tmp_path / "safety").mkdir()
    bad = tmp_path / "safety" / "jailbreak.json"
    bad.write_text('[{"prompt": "a"},\n {"prompt": }]', encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_records(tmp_path, "safety/jailbreak.json")
    message = str(info.value)
    assert f"{bad}:2: not valid JSON" in message and "at column" in message and "\n" not in message


def test_load_records_non_object_record(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('[{"prompt": "a"}, "oops"]', encoding="utf-8")
    with pytest.raises(DataError, match=r"record 1 is a string"):
        load_records(tmp_path, "x.json")


def test_load_records_not_a_list(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"prompt": "a"}', encoding="utf-8")
    with pytest.raises(DataError, match="list of objects"):
        load_records(tmp_path, "x.json")


def test_load_records_missing_file_and_bad_name(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_records(tmp_path, "nope.json")
    with pytest.raises(DataError, match="bad dataset file name"):
        load_records(tmp_path, "../x.json")


def test_load_records_returns_records_and_sha(tmp_path: Path) -> None:
    payload = json.dumps([{"prompt": "a"}, {"prompt": "b"}]).encode()
    (tmp_path / "x.json").write_bytes(payload)
    records, sha = load_records(tmp_path, "x.json")
    assert records == [{"prompt": "a"}, {"prompt": "b"}]
    assert sha == hashlib.sha256(payload).hexdigest()


def test_require_fields() -> None:
    records = [{"prompt": "a", "label": 1}, {"prompt": "b", "label": None}, {"prompt": "c"}]
    require_fields(records[:2], ["prompt", "label"], "x.json")
    with pytest.raises(DataError, match=r"x\.json: record 2 lacks field 'label'"):
        require_fields(records, ("prompt", "label"), "x.json")


# --------------------------------------------------------------------------- packaged


def test_packaged_path() -> None:
    readme = packaged_path("README.md")
    assert readme.is_file() and readme.parent.name == "packaged"
    with pytest.raises(DataError, match="no packaged data"):
        packaged_path("absent.json")
    assert packaged_path("trustllm_quick").is_dir()
    with pytest.raises(DataError, match="bad packaged data name"):
        packaged_path("../loader.py")


# --------------------------------------------------------------------------- TRUSTGAUGE_DATA_DIR


def test_data_dir_env_is_used_when_no_data_dir_is_given(
    shared_data: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(UNPACKED))
    assert resolve_data_dir("trustllm", None) == UNPACKED
    assert resolve_data_dir("trustllm", None, auto_fetch=False) == UNPACKED
    assert _nothing_cached(home)  # nothing downloaded
    # an explicit --data-dir wins
    (tmp_path / "given").mkdir()
    (tmp_path / "given" / "dataset").symlink_to(UNPACKED, target_is_directory=True)
    assert resolve_data_dir("trustllm", tmp_path / "given") == tmp_path / "given" / "dataset"
    # the folder holding the archive's top-level folder works from the variable too
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "given"))
    assert resolve_data_dir("trustllm", None) == tmp_path / "given" / "dataset"


def test_data_dir_env_is_validated_like_data_dir(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(DataError) as info:
        resolve_data_dir("trustllm", None)
    message = str(info.value)
    assert f"data dir {tmp_path / 'absent'} (from TRUSTGAUGE_DATA_DIR) does not exist" in message
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(DataError) as info:
        resolve_data_dir("trustllm", None, auto_fetch=False)
    message = str(info.value)
    assert "(from TRUSTGAUGE_DATA_DIR) lacks truthfulness/internal.json" in message
    assert "\n" not in message
    # a blank variable counts as unset; an explicit --data-dir is not attributed to the variable
    monkeypatch.setenv(DATA_DIR_ENV, "  ")
    with pytest.raises(DataError, match="not downloaded"):
        resolve_data_dir("trustllm", None, auto_fetch=False)
    with pytest.raises(DataError) as info:
        resolve_data_dir("trustllm", tmp_path / "absent")
    assert "TRUSTGAUGE_DATA_DIR" not in str(info.value)
    assert _nothing_cached(home)


# --------------------------------------------------------------------------- record counts


def _copy_release(dest: Path) -> Path:
    shutil.copytree(UNPACKED, dest)
    return dest


def test_record_count_is_checked_against_the_registry(shared_data: Path, tmp_path: Path) -> None:
    data = _copy_release(tmp_path / "data")
    path = data / "safety" / "jailbreak.json"
    records = json.loads(path.read_bytes())
    path.write_text(json.dumps(records[:-1]), encoding="utf-8")

    # resolving only checks presence (cheap); the count is checked as the file is read
    assert resolve_data_dir("trustllm", data) == data
    loaded, _ = load_records(data, "safety/jailbreak.json")  # no source_id: not checked
    assert len(loaded) == 1399
    with pytest.raises(DataError) as info:
        check_record_count("trustllm", "safety/jailbreak.json", loaded, root=data)
    message = str(info.value)
    assert message.startswith(f"{path} holds 1399 records, expected 1400: ")
    assert "not the pinned TrustLLM release" in message and "\n" not in message
    assert "`trustgauge data fetch trustllm`" in message
    with pytest.raises(DataError, match=r"^safety/jailbreak\.json holds 1399 records"):
        check_record_count("trustllm", "safety/jailbreak.json", 1399)
    with pytest.raises(DataError) as info2:
        load_records(data, "safety/jailbreak.json", source_id="trustllm")
    assert str(info2.value) == message

    # the untouched files pass; files the registry does not list are not checked
    for relpath, count in TRUSTLLM.files.items():
        if relpath != "safety/jailbreak.json":
            records2, _ = load_records(data, relpath, source_id="trustllm")
            assert len(records2) == count
    check_record_count("trustllm", "extra/notes.json", [])
    with pytest.raises(DataError, match="unknown dataset"):
        check_record_count("nope", "safety/jailbreak.json", [])


def test_packaged_quick_sample_is_smaller_and_not_checked() -> None:
    sample = packaged_path("trustllm_quick")
    files = sorted(p.relative_to(sample).as_posix() for p in sample.rglob("*.json"))
    files = [relpath for relpath in files if relpath in TRUSTLLM.files]
    assert files
    for relpath in files:
        records, _ = load_records(sample, relpath)  # how the quick suite reads it: no count check
        assert 0 < len(records) < TRUSTLLM.files[relpath], relpath
        with pytest.raises(DataError, match="not the pinned TrustLLM release"):
            load_records(sample, relpath, source_id="trustllm")


# --------------------------------------------------------------------------- manifest


def test_github_copy_manifest_records_checksums(server: ZipServer) -> None:
    path = fetch_dataset("trustllm", progress=False)
    info = read_copy_info(path)
    assert info is not None
    assert info["origin"] == "github" and info["id"] == "trustllm"
    assert info["sha256"] == TRUSTLLM.sha256 and info["url"] == server.url
    assert sorted(info["files"]) == sorted(TRUSTLLM.files)
    for relpath, entry in info["files"].items():
        raw = (UNPACKED / relpath).read_bytes()
        assert entry == {"sha256": hashlib.sha256(raw).hexdigest(), "records": TRUSTLLM.files[relpath]}
    assert [c.origin for c in cached_copies("trustllm")] == ["github"]
    assert read_copy_info(UNPACKED) is None


def test_unknown_origin_and_revision_for_github(home: Path) -> None:
    with pytest.raises(DataError, match="unknown data origin 'gitlab'"):
        fetch_dataset("trustllm", origin="gitlab")
    with pytest.raises(DataError, match="--from hf only"):
        fetch_dataset("trustllm", revision="v1")
    assert _nothing_cached(home)


# --------------------------------------------------------------------------- Hugging Face copy

hf_constants = pytest.importorskip("huggingface_hub.constants")

from fake_hf_hub import FakeHub, closed_port, isolated_hf_home  # noqa: E402  (tests/ is on sys.path via conftest)

HF_REPO = "TrustLLM/TrustLLM-dataset"
HF_COMMIT = "89abcdef0123456789abcdef0123456789abcdef"
HF_TOKEN = "hf_fakeTokenForTests0123456789"


def _hub_files(prefix: str = "", *, flat: bool = False) -> dict[str, bytes]:
    files = {
        prefix + (relpath.rsplit("/", 1)[-1] if flat else relpath): (UNPACKED / relpath).read_bytes()
        for relpath in TRUSTLLM.files
    }
    files["README.md"] = b"---\nlicense: apache-2.0\n---\n# TrustLLM\n"
    files[".gitattributes"] = b"*.json filter=lfs\n"
    return files


@pytest.fixture
def hf_env(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """huggingface_hub with an empty HF home, no token and no network of its own: only
    ``HF_ENDPOINT`` (set after import, which trustgauge honours) points it at a fake hub."""
    with isolated_hf_home(tmp_path / "hf_home", monkeypatch) as hf_home:
        yield hf_home


@pytest.fixture
def hub(
    shared_data: Path, hf_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., FakeHub]]:
    """Start a fake hub serving a dataset repo; ``HF_ENDPOINT`` points at it."""
    hubs: list[FakeHub] = []

    def start(files: dict[str, bytes] | None = None, **kwargs: object) -> FakeHub:
        fake = FakeHub(
            HF_REPO, _hub_files() if files is None else files, repo_type="dataset",
            commit=HF_COMMIT, **kwargs,  # type: ignore[arg-type]
        ).start()
        hubs.append(fake)
        monkeypatch.setenv("HF_ENDPOINT", fake.endpoint)
        return fake

    yield start
    for fake in hubs:
        fake.stop()


def _hf_leftovers(home: Path) -> list[str]:
    data = home / "data" / "trustllm"
    return sorted(p.name for p in data.iterdir()) if data.is_dir() else []


@pytest.mark.parametrize("layout", ["root", "folder", "flat"])
def test_fetch_from_hf_verifies_and_caches(
    hub: Callable[..., FakeHub], home: Path, layout: str
) -> None:
    prefix = "" if layout == "root" else "TrustLLM-dataset/" if layout == "folder" else "data/"
    flat = layout == "flat"
    fake = hub(_hub_files(prefix, flat=flat), lfs={prefix + ("" if flat else "ethics/") + "awareness.json"})

    path = fetch_dataset("trustllm", origin="hf", progress=False)
    assert path == hf_cache_path("trustllm") == home / "data" / "trustllm" / "hf-main"
    _assert_same_layout(path, UNPACKED)
    assert _hf_leftovers(home) == ["hf-main"]  # no staging folder left behind

    info = read_copy_info(path)
    assert info is not None
    assert info["origin"] == "hf" and info["repo"] == HF_REPO
    assert info["revision"] == "main" and info["commit"] == HF_COMMIT
    assert info["endpoint"] == fake.endpoint
    for relpath, entry in info["files"].items():
        raw = (UNPACKED / relpath).read_bytes()
        assert entry == {"sha256": hashlib.sha256(raw).hexdigest(), "records": TRUSTLLM.files[relpath]}
    # all the traffic went to the fake hub; README.md and .gitattributes were not downloaded
    assert fake.count("GET", "/revision/main") == 1
    assert fake.count("GET", "/README.md") == 0 and fake.count("GET", "/.gitattributes") == 0
    assert fake.count("GET", "/cdn/") == 1  # the LFS file, through the "CDN"

    # cached: no request the second time; a run without --data-dir finds this copy
    before = len(fake.requests)
    assert fetch_dataset("trustllm", origin="hf", progress=False) == path
    assert resolve_data_dir("trustllm", None, auto_fetch=False) == path
    assert cached_dataset("trustllm") == path
    assert len(fake.requests) == before


def test_fetch_from_hf_at_a_revision(hub: Callable[..., FakeHub], home: Path) -> None:
    hub()
    path = fetch_dataset("trustllm", origin="hf", revision=HF_COMMIT, progress=False)
    assert path == home / "data" / "trustllm" / f"hf-{HF_COMMIT}"
    info = read_copy_info(path)
    assert info is not None and info["revision"] == info["commit"] == HF_COMMIT
    with pytest.raises(DataError) as err:
        fetch_dataset("trustllm", origin="hf", revision="v9", progress=False)
    assert "has no revision 'v9'" in str(err.value) and "\n" not in str(err.value)
    assert hf_cache_path("trustllm", "refs/pr/1").name == "hf-refs-pr-1"


def test_github_copy_is_preferred_over_hf_copy(
    hub: Callable[..., FakeHub], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub()
    hf_path = fetch_dataset("trustllm", origin="hf", progress=False)
    monkeypatch.setenv(TRUSTLLM.url_env_var, str(RELEASE_ZIP))
    github_path = fetch_dataset("trustllm", progress=False)
    assert github_path != hf_path
    assert [c.origin for c in cached_copies("trustllm")] == ["github", "hf"]
    assert [c.path for c in cached_copies("trustllm")] == [github_path, hf_path]
    assert resolve_data_dir("trustllm", None) == github_path
    assert cached_dataset("trustllm") == github_path


def test_hf_copy_missing_a_file(hub: Callable[..., FakeHub], home: Path) -> None:
    files = _hub_files()
    del files["safety/jailbreak.json"]
    hub(files)
    with pytest.raises(DataError) as info:
        fetch_dataset("trustllm", origin="hf", progress=False)
    message = str(info.value)
    assert message.startswith(f"the Hugging Face copy {HF_REPO}@{HF_COMMIT[:12]} lacks ")
    assert "safety/jailbreak.json" in message and "found 23 of the 24 expected files" in message
    assert "`trustgauge data fetch trustllm`" in message and "\n" not in message
    assert _hf_leftovers(home) == []
    assert cached_dataset("trustllm") is None


def test_hf_copy_with_a_wrong_record_count(hub: Callable[..., FakeHub], home: Path) -> None:
    files = _hub_files()
    records = json.loads(files["ethics/awareness.json"])
    files["ethics/awareness.json"] = json.dumps(records[:2000]).encode()
    hub(files)
    with pytest.raises(DataError) as info:
        fetch_dataset("trustllm", origin="hf", progress=False)
    message = str(info.value)
    assert (
        f"the Hugging Face copy {HF_REPO}@{HF_COMMIT[:12]}: ethics/awareness.json holds 2000 "
        "records, expected 2666: not the pinned TrustLLM release" in message
    )
    assert message.endswith("nothing was cached") and "\n" not in message
    assert _hf_leftovers(home) == []


def test_hf_copy_with_a_malformed_file(hub: Callable[..., FakeHub], home: Path) -> None:
    files = _hub_files()
    files["privacy/privacy_leakage.json"] = b'[{"prompt": "a"},\n {"prompt": }]'
    hub(files)
    with pytest.raises(DataError) as info:
        fetch_dataset("trustllm", origin="hf", progress=False)
    message = str(info.value)
    assert "privacy/privacy_leakage.json:2: not valid JSON" in message
    assert "at column" in message and "\n" not in message
    assert _hf_leftovers(home) == []


def test_hf_copy_with_ambiguous_files(hub: Callable[..., FakeHub], home: Path) -> None:
    files = _hub_files("v1/")
    files.update(_hub_files("v2/"))
    hub(files)
    with pytest.raises(DataError, match=r"several candidates for truthfulness/internal\.json"):
        fetch_dataset("trustllm", origin="hf", progress=False)
    assert _hf_leftovers(home) == []


def _assert_gated_message(message: str) -> None:
    assert "\n" not in message, message
    assert "is gated" in message
    assert "https://huggingface.co/datasets/TrustLLM/TrustLLM-dataset" in message
    assert "HF_TOKEN" in message and "huggingface-cli login" in message
    assert HF_TOKEN not in message and "hf_wrong" not in message


def test_gated_hf_copy(
    hub: Callable[..., FakeHub], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = hub(token=HF_TOKEN)
    # no token: 401
    with pytest.raises(DataError) as info:
        fetch_dataset("trustllm", origin="hf", progress=False)
    _assert_gated_message(str(info.value))
    assert "no Hugging Face token was found (HTTP 401)" in str(info.value)
    assert _hf_leftovers(home) == []
    # a token without access: 403
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    with pytest.raises(DataError) as info:
        fetch_dataset("trustllm", origin="hf", progress=False)
    _assert_gated_message(str(info.value))
    assert "the Hugging Face token found has no access to it (HTTP 403)" in str(info.value)
    assert "hf_wrong" not in str(info.value)
    assert _hf_leftovers(home) == []
    # the right token (from HF_TOKEN): downloaded; the token is written nowhere
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    path = fetch_dataset("trustllm", origin="hf", progress=False)
    _assert_same_layout(path, UNPACKED)
    assert fake.count("GET", "/cdn/") == 0
    for file in (home / "data").rglob("*"):
        if file.is_file():
            assert HF_TOKEN.encode() not in file.read_bytes(), file


def test_hf_hub_down(hf_env: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    with pytest.raises(DataError) as info:
        fetch_dataset("trustllm", origin="hf", progress=False)
    message = str(info.value)
    assert f"cannot reach the Hugging Face hub at {endpoint}" in message
    _assert_says_how_to_get_data(message)
    assert _hf_leftovers(home) == []


def test_hf_offline(hub: Callable[..., FakeHub], home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = hub()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError) as info:
        fetch_dataset("trustllm", origin="hf", progress=False)
    assert "HF_HUB_OFFLINE is set" in str(info.value)
    _assert_says_how_to_get_data(str(info.value))
    assert fake.requests == []


def test_hf_repo_not_found(hf_env: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeHub("someone/else", {}, repo_type="dataset") as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.endpoint)
        with pytest.raises(DataError) as info:
            fetch_dataset("trustllm", origin="hf", progress=False)
    assert f"dataset repo {HF_REPO} not found on {fake.endpoint}" in str(info.value)
    assert "`trustgauge data fetch trustllm`" in str(info.value)


# --------------------------------------------------------------------------- CLI


def _tg(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    from conftest import cli_env

    environ = cli_env(home, **env)
    for var in (TRUSTLLM.url_env_var, DATA_DIR_ENV, "HF_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE"):
        if var not in env:
            environ.pop(var, None)
    return subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", *args],
        env=environ, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def _one_error_line(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def test_cli_data_help_teaches(tmp_path: Path) -> None:
    res = _tg(["data", "--help"], tmp_path)
    assert res.returncode == 0, res.stderr
    for text in (
        "trustgauge data list",
        "trustgauge data fetch trustllm",
        "--from hf",
        "--data-dir DIR",
        "TRUSTGAUGE_DATA_DIR",
        "HF_TOKEN",
    ):
        assert text in res.stdout, text
    res = _tg(["data", "fetch", "--help"], tmp_path)
    assert res.returncode == 0 and "--from" in res.stdout and "--revision" in res.stdout


def test_cli_data_fetch_and_list(shared_data: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    res = _tg(["data", "list", "--json"], home)
    assert res.returncode == 0, res.stderr
    (row,) = json.loads(res.stdout)
    assert row["id"] == "trustllm" and row["url"] == TRUSTLLM.url
    assert row["sha256"] == TRUSTLLM.sha256 and row["hf_repo"] == HF_REPO
    assert row["total_records"] == 16_441 and row["files"] == dict(TRUSTLLM.files)
    assert row["licence_short"] and "MIT" in row["licence"]
    assert row["cached"] == [] and row["in_use"] is None

    res = _tg(["data", "fetch", "trustllm"], home, TRUSTGAUGE_TRUSTLLM_URL=RELEASE_ZIP.as_uri())
    assert res.returncode == 0, res.stderr
    path = Path(res.stdout.strip())
    assert path == home / "data" / "trustllm" / TRUSTLLM.sha256[:12]
    assert "24 files, 16,441 records, verified (github" in res.stderr
    _assert_same_layout(path, UNPACKED)

    (row,) = json.loads(_tg(["data", "list", "--json"], home).stdout)
    assert [c["origin"] for c in row["cached"]] == ["github"]
    assert row["cached"][0]["path"] == str(path) and row["in_use"] == str(path)

    res = _tg(["data", "list", "--files"], home, COLUMNS="200")
    assert res.returncode == 0, res.stderr
    for text in ("trustllm", TRUSTLLM.sha256, HF_REPO, "16,441 in 24 files", str(path)):
        assert text in res.stdout, text
    assert "safety/jailbreak.json" in res.stdout and "2666" in res.stdout

    res = _tg(["data", "list", "--json"], home, TRUSTGAUGE_DATA_DIR=str(tmp_path / "absent"))
    (row,) = json.loads(res.stdout)
    assert row["in_use"] is None and "(from TRUSTGAUGE_DATA_DIR) does not exist" in row["problem"]


def test_cli_data_fetch_without_network(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/dataset.zip"
    res = _tg(["data", "fetch", "trustllm"], tmp_path / "home", TRUSTGAUGE_TRUSTLLM_URL=url)
    line = _one_error_line(res)
    assert url in line
    _assert_says_how_to_get_data(line)
    line = _one_error_line(_tg(["data", "fetch", "trustllm", "--from", "gitlab"], tmp_path))
    assert "bad --from 'gitlab'" in line


def test_cli_data_fetch_from_hf(shared_data: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"HF_HOME": str(tmp_path / "hf_home")}  # no token file, an empty HF cache
    with FakeHub(HF_REPO, _hub_files(), repo_type="dataset", commit=HF_COMMIT, token=HF_TOKEN) as fake:
        line = _one_error_line(_tg(["data", "fetch", "trustllm", "--from", "hf"], home,
                                   HF_ENDPOINT=fake.endpoint, **env))
        _assert_gated_message(line)
        res = _tg(["data", "fetch", "trustllm", "--from", "hf"], home,
                  HF_ENDPOINT=fake.endpoint, HF_TOKEN=HF_TOKEN, **env)
    assert res.returncode == 0, res.stderr
    assert HF_TOKEN not in res.stdout + res.stderr
    path = Path(res.stdout.strip())
    assert path == home / "data" / "trustllm" / "hf-main"
    assert f"verified (hf, {HF_REPO}@{HF_COMMIT[:12]})" in res.stderr
    _assert_same_layout(path, UNPACKED)
    (row,) = json.loads(_tg(["data", "list", "--json"], home).stdout)
    assert row["cached"][0]["origin"] == "hf" and row["cached"][0]["commit"] == HF_COMMIT
    assert row["in_use"] == str(path)
