"""The dataset layer: download from a real local HTTP server, verify, unpack, cache, load."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from trustgauge.data import (
    TRUSTLLM,
    cached_dataset,
    dataset_cache_path,
    fetch_dataset,
    get_source,
    load_records,
    packaged_path,
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

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    state.url = f"http://{host!s}:{port}/dataset/dataset.zip"
    monkeypatch.setenv(TRUSTLLM.url_env_var, state.url)
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


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
    assert source_ids() == ["trustllm"]
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
    assert url in message and "--data-dir" in message and "\n" not in message
    assert _nothing_cached(home)


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
    with pytest.raises(DataError, match="not downloaded"):
        resolve_data_dir("trustllm", None, auto_fetch=False)


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
    assert str(bad) in message and "line 2 column" in message and "\n" not in message


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
