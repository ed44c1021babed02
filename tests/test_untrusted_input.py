"""Untrusted input (issue 20 item 5 a, b): a downloaded archive or hub copy cannot write or read
outside its staging folder even when its checksum matches, and config files, JSON and model
answers cannot execute anything or exhaust the stack or memory.

Every archive case goes through the real download path: a local HTTP server on 127.0.0.1
serves the crafted zip, and the source's pinned sha256 and size are the zip's own, so the
checksum check passes and only the unpacking stands between the archive and the disk."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_http import routes_handler, serving
from trustgauge.config import read_config_data
from trustgauge.data import DataCache, GithubReleaseZip, HFDataset
from trustgauge.data.sources.hf_dataset import _arrange
from trustgauge.errors import ConfigError, DataError

X_JSON = json.dumps([{"q": 1}, {"q": 2}]).encode()
Y_JSON = json.dumps([{"q": 3}]).encode()
FILES = {"a/x.json": 2, "b/y.json": 1}
GOOD = {"toy/a/x.json": X_JSON, "toy/b/y.json": Y_JSON}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A real HTTP server on 127.0.0.1 serving ``routes`` (path -> bytes)."""
    routes: dict[str, bytes] = {}
    with serving(routes_handler(routes)) as base:
        yield base, routes


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataCache:
    monkeypatch.setenv("TRUSTGAUGE_HOME", str(tmp_path / "home"))
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    # the cache sits two levels below tmp_path, so a '../../' member would land in tmp_path
    return DataCache(tmp_path / "deep" / "cache")


def _member(name: str, data: bytes, *, mode: int | None = None) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.create_system = 3  # unix: the high 16 bits of external_attr are st_mode
        info.external_attr = mode << 16
    return info, data


def _zip(members: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info, data in members:
            if info.filename in zf.NameToInfo:
                # zipfile warns about a name given twice; a crafted archive does it on purpose
                with pytest.warns(UserWarning, match="Duplicate name"):
                    zf.writestr(info, data)
            else:
                zf.writestr(info, data)
    return buf.getvalue()


def _fetch(
    server: tuple[str, dict[str, bytes]], cache: DataCache, body: bytes, **overrides: object
) -> Path:
    base, routes = server
    path = f"/releases/{hashlib.sha256(body).hexdigest()[:16]}.zip"
    routes[path] = body
    fields: dict[str, object] = dict(
        id="toyzip", url=base + path, sha256=hashlib.sha256(body).hexdigest(),
        size_bytes=len(body), files=FILES, archive_root="toy", name="Toy",
    )
    fields.update(overrides)
    return GithubReleaseZip(**fields).fetch(cache, progress=False)  # type: ignore[arg-type]


def _everything_below(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def _cache_is_empty(cache: DataCache) -> bool:
    return not cache.root.exists() or not any(p.is_file() for p in cache.root.rglob("*"))


# --------------------------------------------------------------------------- release zips

#: (member name, what the one line says): every way out of the folder a zip name can try
ESCAPING_NAMES = [
    ("toy/../../escaped.json", "escapes the target folder"),
    ("toy/a/../../../escaped.json", "escapes the target folder"),
    ("../escaped.json", "escapes the target folder"),
    ("toy\\..\\..\\escaped.json", "escapes the target folder"),  # Windows separators
    ("toy/a\\..\\..\\..\\escaped.json", "escapes the target folder"),
    ("/tmp/escaped.json", "has an absolute path"),
    ("\\tmp\\escaped.json", "has an absolute path"),
    ("\\\\attacker\\share\\escaped.json", "has an absolute path"),  # UNC
    ("C:/escaped.json", "has an absolute path"),
    ("C:escaped.json", "has an absolute path"),  # drive-relative
    ("c:\\windows\\escaped.json", "has an absolute path"),
    ("toy/a/escaped\r.json", "has a control character"),
]


@pytest.mark.parametrize(("name", "why"), ESCAPING_NAMES, ids=[n for n, _ in ESCAPING_NAMES])
def test_a_zip_member_cannot_escape_even_with_a_matching_checksum(
    server: tuple[str, dict[str, bytes]], cache: DataCache, tmp_path: Path, name: str, why: str
) -> None:
    before = _everything_below(tmp_path)
    body = _zip([_member(n, d) for n, d in GOOD.items()] + [_member(name, b"[1]")])
    with pytest.raises(DataError) as info:
        _fetch(server, cache, body)
    message = str(info.value)
    assert message.startswith("refusing to unpack the toyzip archive: member ") and why in message
    assert "\n" not in message
    assert _cache_is_empty(cache)
    created = _everything_below(tmp_path) - before
    assert not [p for p in created if "escaped" in p], created
    assert not Path("/tmp/escaped.json").exists()


@pytest.mark.parametrize(
    ("members", "why"),
    [
        # a symbolic link to a file outside, named as an expected file
        ([("toy/a/x.json", b"/etc/passwd", stat.S_IFLNK | 0o777), ("toy/b/y.json", Y_JSON, None)],
         "is a symbolic link"),
        # a folder symlink first, then a regular file written "through" it
        ([("toy/a", b"../../../outside", stat.S_IFLNK | 0o755), ("toy/a/x.json", X_JSON, None),
          ("toy/b/y.json", Y_JSON, None)], "is a symbolic link"),
        # devices and FIFOs are no files either (zipfile would write them as plain files)
        ([("toy/a/x.json", X_JSON, stat.S_IFCHR | 0o644), ("toy/b/y.json", Y_JSON, None)],
         "is not a regular file or folder"),
        ([("toy/a/x.json", X_JSON, stat.S_IFIFO | 0o644), ("toy/b/y.json", Y_JSON, None)],
         "is not a regular file or folder"),
    ],
    ids=["file-symlink", "dir-symlink-then-file", "char-device", "fifo"],
)
def test_links_and_special_members_are_refused(
    server: tuple[str, dict[str, bytes]], cache: DataCache, tmp_path: Path,
    members: list[tuple[str, bytes, int | None]], why: str,
) -> None:
    body = _zip([_member(n, d, mode=m) for n, d, m in members])
    with pytest.raises(DataError, match=why) as info:
        _fetch(server, cache, body)
    assert "\n" not in str(info.value)
    assert _cache_is_empty(cache)
    assert not (tmp_path / "outside").exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_symlink()]


def test_a_regular_unix_member_is_accepted(
    server: tuple[str, dict[str, bytes]], cache: DataCache
) -> None:
    """The type check looks at the type bits only: a zip made on Linux (mode 0o100644) and one
    made on Windows (no mode) both unpack."""
    body = _zip([_member("toy/a/x.json", X_JSON, mode=stat.S_IFREG | 0o644),
                 _member("toy/b/", b"", mode=stat.S_IFDIR | 0o755),
                 _member("toy/b/y.json", Y_JSON)])
    path = _fetch(server, cache, body)
    assert (path / "a" / "x.json").read_bytes() == X_JSON
    assert (path / "b" / "y.json").read_bytes() == Y_JSON


@pytest.mark.parametrize(
    ("members", "conflict"),
    [
        # the same name twice: the second (here: the checked one) must not replace the first
        ([("toy/a/x.json", b'[{"evil": 1}, {"evil": 2}]'), ("toy/a/x.json", X_JSON),
          ("toy/b/y.json", Y_JSON)], "a/x.json"),
        # the same name with the other slash
        ([("toy/a/x.json", X_JSON), ("toy\\a\\x.json", X_JSON), ("toy/b/y.json", Y_JSON)],
         "a/x.json"),
        # a file where a folder is, both ways round
        ([("toy/a", b"[]"), ("toy/a/x.json", X_JSON), ("toy/b/y.json", Y_JSON)], "a"),
        ([("toy/a/x.json", X_JSON), ("toy/a", b"[]"), ("toy/b/y.json", Y_JSON)], "a"),
    ],
    ids=["duplicate", "duplicate-backslash", "file-then-folder", "folder-then-file"],
)
def test_duplicate_and_conflicting_names_are_refused(
    server: tuple[str, dict[str, bytes]], cache: DataCache,
    members: list[tuple[str, bytes]], conflict: str,
) -> None:
    body = _zip([_member(n, d) for n, d in members])
    with pytest.raises(DataError) as info:
        _fetch(server, cache, body)
    assert str(info.value) == (
        f"the toyzip archive holds conflicting entries for {conflict}; refusing to unpack"
    )
    assert _cache_is_empty(cache)


def test_a_zip_bomb_is_refused_before_anything_is_written(
    server: tuple[str, dict[str, bytes]], cache: DataCache, tmp_path: Path
) -> None:
    """64 MiB of zeros deflate to ~64 KB (ratio ~1000); the source allows 200x its size (at
    least 256 MiB by default, here lowered to keep the test small) and refuses it from the
    sizes the archive declares, before writing a byte."""
    bomb = b"\0" * (64 << 20)
    body = _zip([_member(n, d) for n, d in GOOD.items()] + [_member("toy/c/bomb.json", bomb)])
    del bomb
    assert len(body) < (1 << 20)
    limit = 200 * len(body)
    with pytest.raises(DataError) as info:
        _fetch(server, cache, body, max_unpacked_bytes=limit)
    assert str(info.value) == (
        f"refusing to unpack the toyzip archive: it would unpack to {(64 << 20) + len(X_JSON) + len(Y_JSON)} "
        f"bytes, more than the {limit} allowed for it (a zip bomb?)"
    )
    assert _cache_is_empty(cache)
    assert not [p for p in tmp_path.rglob("bomb.json")]


def test_a_member_larger_than_it_declares_is_not_written_past_its_size(
    server: tuple[str, dict[str, bytes]], cache: DataCache
) -> None:
    """The size limit trusts the declared sizes: a member whose data inflates to more than it
    declares is cut at its declared size by zipfile and then fails its CRC check."""
    body = bytearray(_zip([_member(n, d) for n, d in GOOD.items()]))
    real = len(X_JSON)
    # declare x.json one byte shorter in the local header and the central directory
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = body.find(sig)
        assert int.from_bytes(body[at + offset : at + offset + 4], "little") == real
        body[at + offset : at + offset + 4] = (real - 1).to_bytes(4, "little")
    with pytest.raises(DataError, match="the toyzip archive is not a valid zip: Bad CRC-32"):
        _fetch(server, cache, bytes(body))
    assert _cache_is_empty(cache)


def test_the_default_limit_is_200_times_the_archive_and_at_least_256_mib() -> None:
    from trustgauge.data.sources.github_zip import _unpacked_limit
    from trustgauge.data.trustllm import TRUSTLLM

    small = GithubReleaseZip(id="s", url="http://x/s.zip", sha256="a" * 64, size_bytes=1000)
    assert _unpacked_limit(small) == 256 << 20
    big = GithubReleaseZip(id="b", url="http://x/b.zip", sha256="a" * 64, size_bytes=10 << 20)
    assert _unpacked_limit(big) == 200 * (10 << 20)
    # the real release (12.9 MB unpacked from 1.78 MB) is far inside its limit
    assert _unpacked_limit(TRUSTLLM) == 200 * 1_778_759 > 12_936_629


# --------------------------------------------------------------------------- hub copies


@pytest.fixture
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from fake_hf_hub import isolated_hf_home

    with isolated_hf_home(tmp_path / "hf_home", monkeypatch):
        yield


def _hub_fetch(
    files: dict[str, bytes], cache: DataCache, monkeypatch: pytest.MonkeyPatch,
    commit: str = "0123456789abcdef0123456789abcdef01234567",
) -> Path:
    from fake_hf_hub import FakeHub

    with FakeHub("someone/toy", files, repo_type="dataset", commit=commit) as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.endpoint)
        source = HFDataset(id="toyhub", repo="someone/toy", files=FILES)
        return source.fetch(cache, progress=False)


@pytest.mark.parametrize(
    "evil",
    ["bench/../../../escaped/x.json", "../escaped/x.json", "bench/..\\..\\..\\escaped\\x.json"],
)
def test_a_hub_file_named_with_dotdot_stays_inside(
    hub_env: None, cache: DataCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, evil: str
) -> None:
    """A hub repo listing a file named with ``..`` (it matches the ``*x.json`` pattern the
    fetch asks for): huggingface_hub refuses it before writing; one line, nothing cached,
    nothing written outside."""
    files = {"bench/b/y.json": Y_JSON, evil: X_JSON}
    with pytest.raises(DataError) as info:
        _hub_fetch(files, cache, monkeypatch)
    message = str(info.value)
    assert message.startswith("refusing the Hugging Face copy someone/toy: Invalid filename '"), message
    assert "cannot contain a '..' path segment; nothing was cached" in message and "\n" not in message
    assert _cache_is_empty(cache)
    assert not list(tmp_path.rglob("escaped"))


def test_a_malformed_commit_id_from_the_hub_is_refused(
    hub_env: None, cache: DataCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit the hub reports names folders of huggingface_hub's; only 40 hex digits pass."""
    files = {"bench/a/x.json": X_JSON, "bench/b/y.json": Y_JSON}
    with pytest.raises(DataError) as info:
        _hub_fetch(files, cache, monkeypatch, commit="../../../escaped")
    assert "gave someone/toy a malformed commit id '../../../escaped' (expected 40 hex digits)" in str(info.value)
    assert _cache_is_empty(cache)
    assert not list(tmp_path.rglob("escaped"))


def test_a_clean_hub_copy_still_arrives(
    hub_env: None, cache: DataCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _hub_fetch({"bench/a/x.json": X_JSON, "bench/b/y.json": Y_JSON}, cache, monkeypatch)
    assert (path / "a" / "x.json").read_bytes() == X_JSON
    assert not [p for p in path.rglob("*") if p.is_symlink()]


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_symlink_in_a_hub_download_is_refused(tmp_path: Path, kind: str) -> None:
    """huggingface_hub writes plain files into a ``local_dir``; should a symbolic link be found
    there anyway (an older client, a cache-mode download), the copy is refused instead of
    moving the link (and what it points at) into the cache."""
    outside = tmp_path / "outside"
    (outside / "a").mkdir(parents=True)
    (outside / "a" / "x.json").write_bytes(X_JSON)
    download = tmp_path / "hub"
    (download / "bench" / "b").mkdir(parents=True)
    (download / "bench" / "b" / "y.json").write_bytes(Y_JSON)
    if kind == "file":
        (download / "bench" / "a").mkdir()
        (download / "bench" / "a" / "x.json").symlink_to(outside / "a" / "x.json")
    else:
        (download / "bench" / "a").symlink_to(outside / "a", target_is_directory=True)
    source = HFDataset(id="toyhub", repo="someone/toy", files=FILES)
    with pytest.raises(DataError) as info:
        _arrange(download, tmp_path / "dest", source, "the Hugging Face copy someone/toy@0123")
    assert str(info.value) == (
        "the Hugging Face copy someone/toy@0123 holds a symbolic link or a path outside its "
        "folder ('bench/a/x.json'); refusing it; nothing was cached"
        if kind == "file" else
        "the Hugging Face copy someone/toy@0123 holds a symbolic link or a path outside its "
        "folder ('bench/a'); refusing it; nothing was cached"
    )
    assert (outside / "a" / "x.json").read_bytes() == X_JSON  # not moved away


def test_no_tar_handling_and_no_unsafe_loader_in_the_product() -> None:
    """Nothing in the product unpacks a tar (whose members can be links and devices) or
    loads YAML, pickles or marshal data unsafely; a new use must come with its own checks."""
    src = Path(__file__).resolve().parents[1] / "src" / "trustgauge"
    offenders = []
    for path in src.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("tarfile", "shutil.unpack_archive", "yaml.load(", "yaml.unsafe_load",
                       "yaml.full_load", "yaml.Loader", "pickle.load", "marshal.load",
                       "torch.load(", "extractall("):
            if needle in text:
                offenders.append(f"{path.relative_to(src)}: {needle}")
    # the one use, with its own check below: a judge's helper process and its parent unpickle what
    # the other wrote on a pipe between the two (nothing read from a file, a socket or a user)
    assert offenders == ["judges/_worker_process.py: pickle.load"]


def test_the_only_unpickling_is_between_a_helper_process_and_its_parent() -> None:
    import ast

    path = Path(__file__).resolve().parents[1] / "src" / "trustgauge" / "judges" / "_worker_process.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    loads = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and ast.unparse(node.func) == "pickle.load"]
    # what is read: the child's stdout (parent side), this process's stdin (child side)
    assert sorted(ast.unparse(node.args[0]) for node in loads) == ["inp", "inp", "stdout"]
    source = ast.unparse(tree)
    assert "stdout = self._proc.stdout" in source and "inp: IO[bytes] = sys.stdin.buffer" in source
    assert "stdin=subprocess.PIPE, stdout=subprocess.PIPE" in path.read_text(encoding="utf-8")
    # and nothing that could hand it other bytes: no files, sockets, paths or pickles.loads of data
    import re

    for needle in (r"(?<![\w.])open\(", r"\bsocket\b", r"\bPath\(", r"urlopen"):
        assert not re.search(needle, source), needle
    # one pickle.loads: the child checks that an exception it pickled itself can be rebuilt
    assert re.findall(r"pickle\.loads\((\w+)\)", source) == ["data"]
    assert "data = pickle.dumps((call_id, False, exc))\n                pickle.loads(data)" in source


# --------------------------------------------------------------------------- YAML and JSON


def _tg(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(TRUSTGAUGE_HOME=str(home), PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run(
        [sys.executable, "-m", "trustgauge", *args], capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL, cwd=cwd, env=env,
    )


PAYLOAD_YAML = {
    "apply": "model: !!python/object/apply:os.system ['touch {marker}']\n",
    "new": "model: openai:gpt-4o-mini\nheaders: !!python/object/new:os.system ['touch {marker}']\n",
    "name": "model: !!python/name:os.system\n",
    "module": "model: !!python/module:os\n",
}


@pytest.mark.parametrize("kind", sorted(PAYLOAD_YAML))
def test_a_python_object_tag_in_a_model_config_runs_nothing(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "pwned"
    config = tmp_path / "model.yaml"
    config.write_text(PAYLOAD_YAML[kind].format(marker=marker))
    res = _tg(["run", "--model-config", str(config), "--suite", "quick", "-o", str(tmp_path / "out")],
              tmp_path / "home", tmp_path)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert lines[0].startswith(f"error: cannot parse config {config}: could not determine a constructor for the tag")
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_a_python_object_tag_in_a_models_file_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    models = tmp_path / "models.yaml"
    models.write_text(f"- scripted:refuse\n- !!python/object/apply:os.system ['touch {marker}']\n")
    res = _tg(["run", "--models-file", str(models), "--suite", "quick", "-o", str(tmp_path / "out")],
              tmp_path / "home", tmp_path)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "could not determine a constructor" in res.stderr
    assert not marker.exists()


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9)
)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("laughs.yaml", BILLION_LAUGHS, "holds more than 1000000 values once its aliases are expanded"),
        ("self.yaml", "model: scripted:refuse\nheaders: &h {X-A: *h}\n",
         "refers to itself (a YAML alias inside its anchor)"),
        ("self-list.yaml", "model: scripted:refuse\nstop: &s [a, *s]\n",
         "refers to itself (a YAML alias inside its anchor)"),
        ("deep.json", "{\"model\": " + "[" * 100 + "]" * 100 + "}", "is nested more than 64 levels deep"),
        ("deeper.json", "[" * 200_000 + "]" * 200_000, "cannot parse config"),
        ("deep.yaml", "model: " + "[" * 100 + "]" * 100 + "\n", "is nested more than 64 levels deep"),
        ("deep.toml", "model = " + "[" * 100 + "]" * 100 + "\n", "is nested more than 64 levels deep"),
        # a setting given twice: YAML and JSON parsers keep the last silently, TOML refuses it
        ("dup.yaml", "model: scripted:refuse\nmax_tokens: 5\nmodel: openai:gpt-4o\n",
         "duplicate key 'model' at line 3 (first at line 1)"),
        ("dup-nested.yaml", "model: scripted:refuse\nheaders:\n  X-A: one\n  X-A: two\n",
         "duplicate key 'X-A' at line 4 (first at line 3)"),
        ("dup-flow.yaml", "model: scripted:refuse\nheaders: {X-A: 1, X-A: 2}\n", "duplicate key 'X-A' at line 2"),
        ("dup.json", '{"model": "scripted:refuse", "model": "openai:gpt-4o"}', "duplicate key 'model'"),
        ("dup.toml", 'model = "scripted:refuse"\nmodel = "openai:gpt-4o"\n', "cannot parse config"),
    ],
)
def test_hostile_config_shapes_are_one_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_config_data(path)
    assert message in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_shared_aliases_within_bounds_still_load(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(
        "defaults: &d {generation: {max_tokens: 64}, headers: {X-Team: evals}}\n"
        "models:\n  - {<<: *d, model: 'openai:a'}\n  - {<<: *d, model: 'openai:b'}\n"
    )
    data = read_config_data(path)
    assert [m["model"] for m in data["models"]] == ["openai:a", "openai:b"]
    assert data["models"][1]["generation"] == {"max_tokens": 64}


def test_a_deeply_nested_model_config_through_the_cli_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "model.json"
    config.write_text("{\"model\": \"scripted:refuse\", \"headers\": " + "[" * 50_000 + "]" * 50_000 + "}")
    res = _tg(["run", "--model-config", str(config), "--suite", "quick", "-o", str(tmp_path / "out")],
              tmp_path / "home", tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and f"config {config}" in res.stderr


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_model_answers_nested_thousands_deep_do_not_crash_the_attack_parsers(depth: int) -> None:
    """An attacker or judge model's answer is untrusted: JSON nested past the interpreter's
    recursion limit is unreadable (``None`` / the raw text), never a RecursionError that would
    end the run."""
    from trustgauge.attacks._iterative import parse_attacker, parse_on_topic, parse_rating
    from trustgauge.attacks.crescendo import parse_refusal
    from trustgauge.judges.llm_judge import extract_json_object

    nested = '{"prompt": ' + "[" * depth + "]" * depth + "}"
    reply = parse_attacker(nested)
    assert reply.how in ("raw", "empty", "truncated")
    assert parse_refusal(nested) is None
    assert extract_json_object(nested) is None
    assert parse_rating(nested) is None
    assert parse_on_topic(nested) is None
    cut = '{"a": ' + "{" * depth  # unbalanced: every '{' is tried by the fallback decoder
    assert parse_attacker(cut + " }").how in ("raw", "empty", "truncated")


def test_the_same_key_in_different_mappings_and_a_merge_override_are_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nfirst: {x: 5}\nsecond:\n  <<: *b\n  x: 3\n1: int\n'1': str\n")
    assert read_config_data(path) == {"base": {"x": 1, "y": 2}, "first": {"x": 5}, "second": {"x": 3, "y": 2},
                                      1: "int", "1": "str"}
    listed = tmp_path / "models.yaml"
    listed.write_text("- scripted:refuse\n- scripted:refuse\n")  # a list may repeat (many.py reports it)
    assert read_config_data(listed) == ["scripted:refuse", "scripted:refuse"]
