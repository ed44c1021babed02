"""Dataset sources as declared objects (issue 13 step 6): each kind fetched from a real local
HTTP server (or local files / a fake hub), checksum mismatches, registration by decorator and
by entry point, and the import graph of ``trustgauge.data`` (no cycle, sources above cache)."""

from __future__ import annotations

import ast
import hashlib
import importlib
import io
import json
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import trustgauge.data
from _plugins import install_dist
from local_http import routes_handler, serving
from trustgauge.data import (
    DataCache,
    GithubReleaseZip,
    HFDataset,
    PackageFiles,
    PinnedFile,
    fetch_dataset,
    get_source,
    read_copy_info,
    register_source,
    source_ids,
)
from trustgauge.data.cache import MARKER_NAME
from trustgauge.data.sources import registry
from trustgauge.errors import DataError

X_JSON = json.dumps([{"q": 1}, {"q": 2}]).encode()
Y_JSON = json.dumps([{"q": 3}]).encode()
FILES = {"a/x.json": 2, "b/y.json": 1}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _files_below(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != MARKER_NAME
    }


@dataclass
class Server:
    """A real HTTP server on 127.0.0.1 serving ``routes`` (path -> bytes), counting GETs."""

    routes: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    base: str = ""

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()
    with serving(routes_handler(state.routes, state.requests)) as base:
        state.base = base
        yield state


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataCache:
    monkeypatch.setenv("TRUSTGAUGE_HOME", str(tmp_path / "home"))
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    return DataCache(tmp_path / "cache")


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sources registered by a test are forgotten afterwards; entry points are read afresh."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_entry_points_loaded", False)


def _nothing_cached(cache: DataCache) -> bool:
    return not cache.root.exists() or not any(p.is_file() for p in cache.root.rglob("*"))


# --------------------------------------------------------------------------- GithubReleaseZip


def _release(server: Server, **overrides: object) -> GithubReleaseZip:
    body = _zip({"toy/a/x.json": X_JSON, "toy/b/y.json": Y_JSON, "__MACOSX/toy/._x": b"junk"})
    server.routes["/releases/v1/toy.zip"] = body
    fields: dict[str, object] = dict(
        id="toyzip", url=server.url("/releases/v1/toy.zip"), sha256=_sha(body),
        size_bytes=len(body), files=FILES, archive_root="toy", name="Toy",
    )
    fields.update(overrides)
    return GithubReleaseZip(**fields)  # type: ignore[arg-type]


def test_release_zip_fetched_verified_and_cached(server: Server, cache: DataCache) -> None:
    source = _release(server)
    path = source.fetch(cache, progress=False)
    assert path == cache.root / "toyzip" / source.sha256[:12]
    assert _files_below(path) == {"a/x.json": X_JSON, "b/y.json": Y_JSON}
    info = read_copy_info(path)
    assert info is not None and info["origin"] == "github" and info["id"] == "toyzip"
    assert info["sha256"] == source.sha256 and info["size_bytes"] == source.size_bytes
    assert info["files"] == {
        "a/x.json": {"sha256": _sha(X_JSON), "records": 2},
        "b/y.json": {"sha256": _sha(Y_JSON), "records": 1},
    }
    assert source.fetch(cache, progress=False) == path
    assert server.requests == ["/releases/v1/toy.zip"]  # the second fetch asked nothing
    assert [c.origin for c in source.cached_copies(cache)] == ["github"]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no staging left


def test_release_zip_checksum_mismatch(server: Server, cache: DataCache) -> None:
    good = _release(server)
    source = _release(server, sha256="0" * 64)
    with pytest.raises(DataError) as info:
        source.fetch(cache, progress=False)
    assert str(info.value) == (
        f"checksum mismatch for the toyzip archive from {source.url}: expected sha256 "
        f"{'0' * 64} ({good.size_bytes} bytes), got {good.sha256} ({good.size_bytes} bytes); "
        "nothing was cached"
    )
    assert _nothing_cached(cache)


def test_release_zip_record_count_and_revision(server: Server, cache: DataCache) -> None:
    source = _release(server, files={"a/x.json": 3, "b/y.json": 1})
    with pytest.raises(DataError) as info:
        source.fetch(cache, progress=False)
    message = str(info.value)
    assert message.startswith(
        f"the Toy archive from {source.url}: a/x.json holds 2 records, expected 3: not the pinned "
        "Toy release"
    )
    assert message.endswith("nothing was cached") and "\n" not in message
    assert _nothing_cached(cache)
    with pytest.raises(DataError, match="the toyzip release on GitHub is pinned"):
        source.fetch(cache, revision="v2")


def test_release_zip_hf_mirror_shares_id_files_and_hints() -> None:
    source = GithubReleaseZip(
        id="toyzip", url="https://example.invalid/t.zip", sha256="a" * 64, size_bytes=1,
        files=FILES, hf_repo="someone/toy",
    )
    mirror = source.hf_mirror()
    assert isinstance(mirror, HFDataset)
    assert (mirror.id, mirror.repo, mirror.gated, dict(mirror.files)) == (
        "toyzip", "someone/toy", True, FILES
    )
    assert mirror.data_hint() == source.data_hint()
    assert "`trustgauge data fetch toyzip --from hf`" in source.data_hint()
    assert mirror.cache_path(DataCache(Path("/c")), "refs/pr/1") == Path("/c/toyzip/hf-refs-pr-1")
    bare = GithubReleaseZip(id="b", url="u", sha256="a" * 64, size_bytes=1)
    assert bare.hf_mirror() is None and "--from hf" not in bare.data_hint()


# --------------------------------------------------------------------------- PinnedFile


def test_pinned_file_fetched_and_checked(server: Server, cache: DataCache) -> None:
    body = json.dumps([{"q": i} for i in range(3)]).encode()
    server.routes["/files/items.json"] = body
    source = PinnedFile(
        id="toyfile", url=server.url("/files/items.json"), sha256=_sha(body),
        size_bytes=len(body), files={"items.json": 3},
    )
    assert source.path == "items.json"  # the URL's last part
    path = source.fetch(cache, progress=False)
    assert path == cache.root / "toyfile" / _sha(body)[:12]
    assert _files_below(path) == {"items.json": body}
    info = read_copy_info(path)
    assert info is not None and info["origin"] == "url"
    assert info["files"] == {"items.json": {"sha256": _sha(body), "records": 3}}
    assert source.fetch(cache, progress=False) == path
    assert server.requests == ["/files/items.json"]
    assert [c.origin for c in source.cached_copies(cache)] == ["url"]

    # a file that is not records (no count declared) is kept under its given path
    server.routes["/t.csv"] = b"a,b\n1,2\n"
    csv = PinnedFile(id="toycsv", url=server.url("/t.csv"), sha256=_sha(b"a,b\n1,2\n"),
                     size_bytes=8, path="tables/t.csv")
    folder = csv.fetch(cache, progress=False)
    assert (folder / "tables" / "t.csv").read_bytes() == b"a,b\n1,2\n"
    assert read_copy_info(folder)["files"] == {"tables/t.csv": {"sha256": _sha(b"a,b\n1,2\n")}}  # type: ignore[index]


def test_pinned_file_checksum_size_and_count_errors(server: Server, cache: DataCache) -> None:
    body = json.dumps([{"q": 1}]).encode()
    server.routes["/items.json"] = body
    url = server.url("/items.json")
    wrong = PinnedFile(id="toyfile", url=url, sha256="f" * 64, size_bytes=len(body))
    with pytest.raises(DataError) as info:
        wrong.fetch(cache, progress=False)
    assert str(info.value) == (
        f"checksum mismatch for the toyfile file from {url}: expected sha256 {'f' * 64} "
        f"({len(body)} bytes), got {_sha(body)} ({len(body)} bytes); nothing was cached"
    )
    small = PinnedFile(id="toyfile", url=url, sha256=_sha(body), size_bytes=len(body) - 1)
    with pytest.raises(DataError, match=r"^the toyfile file from .* is larger than the expected"):
        small.fetch(cache, progress=False)
    counted = PinnedFile(id="toyfile", url=url, sha256=_sha(body), size_bytes=len(body),
                         files={"items.json": 2})
    with pytest.raises(DataError, match=r"items\.json holds 1 records, expected 2"):
        counted.fetch(cache, progress=False)
    missing = PinnedFile(id="toyfile", url=server.url("/gone.json"), sha256=_sha(body),
                         size_bytes=len(body))
    with pytest.raises(DataError, match=r"\(HTTP 404 Not Found\); to get the data"):
        missing.fetch(cache, progress=False)
    assert _nothing_cached(cache)
    with pytest.raises(DataError, match="the toyfile file is pinned"):
        counted.fetch(cache, revision="main")
    with pytest.raises(ValueError, match="bad file name"):
        PinnedFile(id="x", url="https://example.invalid/", sha256="a" * 64, size_bytes=1)
    with pytest.raises(ValueError, match=r"the pinned file is items\.json"):
        PinnedFile(id="x", url=url, sha256="a" * 64, size_bytes=1, files={"other.json": 1})


# --------------------------------------------------------------------------- PackageFiles


@pytest.fixture
def toy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"toypkg_{uuid.uuid4().hex[:8]}"
    root = tmp_path / "site" / name
    (root / "data" / "a").mkdir(parents=True)
    (root / "data" / "b").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "data" / "a" / "x.json").write_bytes(X_JSON)
    (root / "data" / "b" / "y.json").write_bytes(Y_JSON)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return name


def test_package_files_verified_in_place(toy_package: str, cache: DataCache) -> None:
    source = PackageFiles(id="toypkg", package=toy_package, path="data", files=FILES,
                          checksums={"a/x.json": _sha(X_JSON)})
    folder = source.fetch(cache)
    assert _files_below(folder) == {"a/x.json": X_JSON, "b/y.json": Y_JSON}
    assert folder.name == "data" and folder.parent.name == toy_package
    assert [c.origin for c in source.cached_copies(cache)] == ["package"]
    assert _nothing_cached(cache)  # nothing is copied into the cache


def test_package_files_checksum_and_count_errors(toy_package: str, cache: DataCache) -> None:
    wrong = PackageFiles(id="toypkg", package=toy_package, path="data", files=FILES,
                         checksums={"b/y.json": "e" * 64})
    with pytest.raises(DataError) as info:
        wrong.fetch(cache)
    assert str(info.value) == (
        f"checksum mismatch for the toypkg files shipped in {toy_package}/data: b/y.json: "
        f"expected sha256 {'e' * 64}, got {_sha(Y_JSON)}; nothing was cached"
    )
    counted = PackageFiles(id="toypkg", package=toy_package, path="data", files={"a/x.json": 5})
    with pytest.raises(DataError, match=r"a/x\.json holds 2 records, expected 5"):
        counted.fetch(cache)
    absent = PackageFiles(id="toypkg", package=toy_package, path="nowhere", files=FILES)
    with pytest.raises(DataError, match=f"package {toy_package} ships no nowhere/"):
        absent.fetch(cache)
    assert absent.cached_copies(cache) == []
    with pytest.raises(ValueError, match="checksums for files not listed"):
        PackageFiles(id="t", package=toy_package, path="data", checksums={"c.json": "a" * 64})


# --------------------------------------------------------------------------- HFDataset

hf_constants = pytest.importorskip("huggingface_hub.constants")

from fake_hf_hub import FakeHub, isolated_hf_home  # noqa: E402  (tests/ is on sys.path via conftest)

HUB_REPO = "someone/toy-bench"
HUB_COMMIT = "0123456789abcdef0123456789abcdef01234567"
HUB_TOKEN = "hf_fakeTokenForSourceTests0123"


@pytest.fixture
def hub_env(tmp_path: Path, cache: DataCache, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """huggingface_hub with an empty HF home and no token (as in tests/test_data.py)."""
    with isolated_hf_home(tmp_path / "hf_home", monkeypatch):
        yield


@pytest.fixture
def toy_hub(hub_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    files = {"bench/a/x.json": X_JSON, "bench/b/y.json": Y_JSON, "README.md": b"# toy\n"}
    with FakeHub(HUB_REPO, files, repo_type="dataset", commit=HUB_COMMIT, token=HUB_TOKEN) as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.endpoint)
        yield fake


def _hub_source(**overrides: object) -> HFDataset:
    fields: dict[str, object] = dict(
        id="toyhub", repo=HUB_REPO, gated=True, files=FILES,
        checksums={"a/x.json": _sha(X_JSON), "b/y.json": _sha(Y_JSON)},
    )
    fields.update(overrides)
    return HFDataset(**fields)  # type: ignore[arg-type]


def test_hf_dataset_gated_then_fetched(
    toy_hub: FakeHub, cache: DataCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _hub_source()
    with pytest.raises(DataError) as info:
        source.fetch(cache, progress=False)
    message = str(info.value)
    assert message.startswith(
        f"cannot download {HUB_REPO}: the Hugging Face copy of toyhub is gated and no Hugging "
        "Face token was found (HTTP 401); accept its terms on "
        f"https://huggingface.co/datasets/{HUB_REPO} while logged in"
    )
    # a standalone hub dataset has no GitHub release to fall back on
    assert message.endswith("or pass --data-dir DIR with a copy of its files")
    assert "GitHub" not in message and "\n" not in message
    assert _nothing_cached(cache)

    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    path = source.fetch(cache, progress=False)
    assert path == cache.root / "toyhub" / "hf-main"
    assert _files_below(path) == {"a/x.json": X_JSON, "b/y.json": Y_JSON}
    info_ = read_copy_info(path)
    assert info_ is not None and info_["commit"] == HUB_COMMIT and info_["repo"] == HUB_REPO
    assert [c.origin for c in source.cached_copies(cache)] == ["hf"]
    # the declared revision is the default one
    pinned = _hub_source(revision=HUB_COMMIT)
    assert pinned.fetch(cache, progress=False) == cache.root / "toyhub" / f"hf-{HUB_COMMIT}"


def test_hf_dataset_checksum_mismatch(
    toy_hub: FakeHub, cache: DataCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    source = _hub_source(checksums={"a/x.json": "d" * 64})
    with pytest.raises(DataError) as info:
        source.fetch(cache, progress=False)
    assert str(info.value) == (
        f"checksum mismatch for the Hugging Face copy {HUB_REPO}@{HUB_COMMIT[:12]}: a/x.json: "
        f"expected sha256 {'d' * 64}, got {_sha(X_JSON)}; nothing was cached"
    )
    assert not (cache.root / "toyhub").exists() or not any((cache.root / "toyhub").iterdir())


# --------------------------------------------------------------------------- registry


def _write_module(folder: Path, name: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(body, encoding="utf-8")


@pytest.mark.usefixtures("clean_registry")
def test_register_by_decorator_from_a_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"toy_sources_{uuid.uuid4().hex[:8]}"
    _write_module(tmp_path / "mods", name, (
        "from trustgauge.data.sources import PinnedFile, register_source\n\n"
        "@register_source\n"
        "def toy_decorated() -> PinnedFile:\n"
        "    return PinnedFile(id='toy-decorated', url='https://example.invalid/t.json',\n"
        "                      sha256='a' * 64, size_bytes=10)\n"
    ))
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    module = importlib.import_module(name)
    source = get_source("toy-decorated")
    assert source is module.toy_decorated and isinstance(source, PinnedFile)
    # the sources built-in tasks declare (Liu et al.'s and Fan et al.'s packaged sets) may be registered too
    assert [s for s in source_ids() if not s.startswith(("liu2023-", "fan2023-"))] == ["trustllm", "toy-decorated"]
    importlib.reload(module)  # the same declaration again: no error, the first object stays
    assert get_source("toy-decorated") is source
    with pytest.raises(DataError, match="'toy-decorated' is registered twice"):
        register_source(PinnedFile(id="toy-decorated", url="https://example.invalid/other.json",
                                   sha256="b" * 64, size_bytes=10))
    with pytest.raises(TypeError, match="expected a DataSource"):
        register_source(lambda: "not a source")  # type: ignore[arg-type, return-value]


def _plugin(site: Path, dist: str, module: str, body: str, entry: str) -> None:
    """An installed distribution ``dist`` (a dist-info folder on ``site``) whose entry point
    ``toy`` in group trustgauge.data_sources is ``entry``."""
    install_dist(site, dist, "trustgauge.data_sources", {"toy": entry}, {module: body}, version="0.1")


@pytest.mark.usefixtures("clean_registry")
def test_register_by_entry_point_and_fetch_by_id(
    tmp_path: Path, server: Server, cache: DataCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.dumps([{"q": 1}, {"q": 2}]).encode()
    server.routes["/plugin/items.json"] = body
    module = f"toyplugin_{uuid.uuid4().hex[:8]}"
    _plugin(tmp_path / "site", module.replace("_", "-"), module, (
        "from trustgauge.data.sources import PinnedFile\n\n"
        f"SOURCE = PinnedFile(id='toy-plugin', url={server.url('/plugin/items.json')!r},\n"
        f"                    sha256={_sha(body)!r}, size_bytes={len(body)},\n"
        "                    files={'items.json': 2}, name='Toy plugin')\n"
    ), f"{module}:SOURCE")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()

    source = get_source("toy-plugin")  # not registered yet: found through the entry point
    assert isinstance(source, PinnedFile) and source.display_name == "Toy plugin"
    assert "toy-plugin" in source_ids()
    path = fetch_dataset("toy-plugin", progress=False)  # the id API, into the user's cache
    assert _files_below(path) == {"items.json": body}
    assert trustgauge.data.load_records(path, "items.json", source_id="toy-plugin")[0] == [
        {"q": 1}, {"q": 2}
    ]
    assert trustgauge.data.resolve_data_dir("toy-plugin", None, auto_fetch=False) == path


@pytest.mark.usefixtures("clean_registry")
def test_broken_entry_point_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"toybroken_{uuid.uuid4().hex[:8]}"
    _plugin(tmp_path / "site", module.replace("_", "-"), module, "raise RuntimeError('boom')\n",
            f"{module}:SOURCE")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()
    assert get_source("trustllm").id == "trustllm"  # known ids never read entry points
    with pytest.raises(DataError, match=rf"cannot load data source entry point 'toy' \({module}:SOURCE\): RuntimeError: boom"):
        get_source("nope")


def test_cli_lists_and_fetches_a_plugin_source(tmp_path: Path, server: Server) -> None:
    from conftest import cli_env

    body = json.dumps([{"q": 1}]).encode()
    server.routes["/cli/items.json"] = body
    module = f"toycli_{uuid.uuid4().hex[:8]}"
    site = tmp_path / "site"
    _plugin(site, module.replace("_", "-"), module, (
        "from trustgauge.data.sources import PinnedFile, register_source\n\n"
        "@register_source\n"
        "def toy() -> PinnedFile:\n"
        f"    return PinnedFile(id='toy-cli', url={server.url('/cli/items.json')!r},\n"
        f"                      sha256={_sha(body)!r}, size_bytes={len(body)},\n"
        "                      files={'items.json': 1}, description='a toy')\n"
    ), module)  # the entry point names the module: importing it registers the source
    env = cli_env(tmp_path / "home")
    env["PYTHONPATH"] = f"{site}:{env.get('PYTHONPATH', '')}"

    def tg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "trustgauge.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    res = tg("data", "list", "--json")
    assert res.returncode == 0, res.stderr
    rows = {row["id"]: row for row in json.loads(res.stdout)}
    assert list(rows) == ["trustllm", "toy-cli"]
    assert rows["toy-cli"]["url"] == server.url("/cli/items.json")
    assert rows["toy-cli"]["sha256"] == _sha(body) and rows["toy-cli"]["files"] == {"items.json": 1}
    res = tg("data", "fetch", "toy-cli")
    assert res.returncode == 0, res.stderr
    assert f"toy-cli: 1 files, 1 records, verified (url, sha256 {_sha(body)[:12]})" in res.stderr
    assert Path(res.stdout.strip()) == tmp_path / "home" / "data" / "toy-cli" / _sha(body)[:12]
    res = tg("data", "list")
    assert res.returncode == 0 and "toy-cli: a toy" in res.stdout


# --------------------------------------------------------------------------- import graph

DATA = Path(trustgauge.data.__file__).resolve().parent
#: the old import paths, kept as re-exporting shims: nothing inside data/ may import them
SHIMS = {f"trustgauge.data.{name}" for name in ("fetch", "hub", "loader", "registry")}


def _module_name(path: Path, package_root: Path, package: str) -> str:
    rel = path.relative_to(package_root).with_suffix("")
    parts = [package, *rel.parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_graph(package_root: Path, package: str) -> dict[str, set[str]]:
    """module -> the modules of ``package`` it imports, every import counted (inside
    functions and under ``TYPE_CHECKING`` too); ``from pkg import name`` counts as an import
    of ``pkg.name`` when that is a module."""
    files = {
        _module_name(p, package_root, package): p for p in sorted(package_root.rglob("*.py"))
    }
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor if is_package else anchor[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                ]
            for target in targets:
                while target and target not in files and "." in target:
                    target = target.rsplit(".", 1)[0]  # import a.b.c.func -> module a.b.c
                if target in files and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_the_old_fetch_hub_cycle(tmp_path: Path) -> None:
    """What the check below would have said before step 6 (fetch.py -> hub lazily, hub.py ->
    fetch at import time, loader.py -> fetch, fetch.py -> loader)."""
    pkg = tmp_path / "olddata"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from olddata.fetch import fetch_dataset\n")
    (pkg / "fetch.py").write_text(
        "def fetch_dataset():\n    from olddata.hub import fetch_from_hub\n"
        "    from olddata.loader import parse_records\n"
    )
    (pkg / "hub.py").write_text("from olddata.fetch import _install, staging_dir\n")
    (pkg / "loader.py").write_text("def resolve():\n    from olddata.fetch import cached_dataset\n")
    (pkg / "registry.py").write_text("import os\n")
    assert _cycles(_import_graph(pkg, "olddata")) == [
        ["olddata.fetch", "olddata.hub", "olddata.loader"]
    ]


def test_no_import_cycle_in_data() -> None:
    graph = _import_graph(DATA, "trustgauge.data")
    assert "trustgauge.data.sources.github_zip" in graph  # the walk sees the subpackage
    assert _cycles(graph) == []


def test_sources_use_the_cache_never_the_reverse() -> None:
    graph = _import_graph(DATA, "trustgauge.data")
    above_cache = {m for m in graph if m.startswith("trustgauge.data.sources")} | {
        "trustgauge.data", "trustgauge.data.datasets", "trustgauge.data.trustllm", *SHIMS
    }
    for low in ("trustgauge.data.cache", "trustgauge.data.records", "trustgauge.data.download"):
        assert not graph[low] & above_cache, (low, graph[low] & above_cache)
    for module, imported in graph.items():
        if module.startswith("trustgauge.data.sources"):
            assert not imported & {"trustgauge.data.datasets", "trustgauge.data.trustllm"}, module
        if module not in SHIMS:
            assert not imported & SHIMS, (module, imported & SHIMS)
    # the old layering: cache and download need only records below them
    assert graph["trustgauge.data.records"] == set()
    assert graph["trustgauge.data.cache"] == {"trustgauge.data.records"}
    assert graph["trustgauge.data.download"] == set()


def test_old_import_paths_still_work() -> None:
    from trustgauge.data.fetch import MARKER_NAME as marker
    from trustgauge.data.fetch import _unpack, fetch_dataset, staging_dir  # noqa: F401
    from trustgauge.data.hub import _register_token, fetch_from_hub  # noqa: F401
    from trustgauge.data.loader import parse_records, record_count_error, resolve_data_dir  # noqa: F401
    from trustgauge.data.registry import TRUSTLLM, DatasetSource
    from trustgauge.data.registry import get_source as old_get_source

    assert marker == MARKER_NAME
    assert isinstance(TRUSTLLM, DatasetSource) and isinstance(TRUSTLLM, GithubReleaseZip)
    assert old_get_source("trustllm") is TRUSTLLM is get_source("trustllm")



@pytest.mark.usefixtures("clean_registry")
def test_data_list_shows_a_package_source(toy_package: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trustgauge.cli import app

    register_source(PackageFiles(id="toypkg", package=toy_package, path="data", files=FILES,
                                 description="shipped toy"))
    res = CliRunner().invoke(app, ["data", "list"], env={"TRUSTGAUGE_HOME": str(tmp_path / "h"),
                                                         "COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "toypkg: shipped toy" in res.output
    assert f"package {toy_package}: data/" in res.output
    assert "data (package)" in res.output and "None" not in res.output


@pytest.mark.usefixtures("clean_registry")
def test_data_fetch_of_a_package_source_says_it_was_verified_in_place(toy_package: str, tmp_path: Path) -> None:
    """A package source has no cached copy: `data fetch` said 'verified (github, sha256 )'."""
    from typer.testing import CliRunner

    from trustgauge.cli import app

    register_source(PackageFiles(id="toypkg", package=toy_package, path="data", files=FILES,
                                 description="shipped toy"))
    res = CliRunner().invoke(app, ["data", "fetch", "toypkg"], env={"TRUSTGAUGE_HOME": str(tmp_path / "h")})
    assert res.exit_code == 0, res.output
    assert "toypkg: verified in place" in res.output
    assert "github" not in res.output and "sha256" not in res.output
