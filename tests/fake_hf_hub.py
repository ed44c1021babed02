"""A local stand-in for the Hugging Face hub: a real HTTP server (aiohttp) on 127.0.0.1.

It serves one repository (a model, or with ``repo_type="dataset"`` a dataset: then every
``/api/models/`` below reads ``/api/datasets/`` and file URLs start with ``/datasets/``) at one
commit, with the endpoints ``huggingface_hub``'s ``snapshot_download`` / ``hf_hub_download``
call (checked against huggingface_hub 2.4):

* ``GET /api/models/{repo}/revision/{revision}``: the repo info (``sha``, ``siblings``); what
  ``HfApi.repo_info`` asks to turn a branch into a commit. Also without ``/revision/...``, and
  as ``HEAD`` (trustgauge probes the hub that way before downloading).
* ``GET /api/models/{repo}/tree/{revision}?recursive=...``: the file listing (``type``, ``path``,
  ``size``, ``oid`` and, for LFS files, ``lfs: {oid, size, pointerSize}``); ``snapshot_download``
  filters it with ``allow_patterns`` and caches it under ``trees/<commit>.json``.
* ``HEAD`` / ``GET /{repo}/resolve/{revision}/{path}``: a regular file is answered directly
  (``ETag`` = git blob id, ``X-Repo-Commit``, ``Content-Length``); an LFS file gets a 302 to a
  second origin (the "CDN", another port), with ``X-Linked-Etag`` = its sha256 and
  ``X-Linked-Size``, as the real hub does. The CDN serves ``GET``/``HEAD /cdn/{sha256}``.

* ``GET /api/agent-harnesses``: the registry of AI coding agents that huggingface_hub fetches
  (at most daily, cached in ``HF_HOME``) to tag its user agent; served empty.

Unknown repos answer 404 with ``X-Error-Code: RepoNotFound``, unknown revisions 404 with
``X-Error-Code: RevisionNotFound``, unknown files 404 with ``X-Error-Code: EntryNotFound``.

A gated repo (``token="hf_..."``) answers its repo info to anyone, as the real hub does, but
its tree and files only to ``Authorization: Bearer <token>``: without a token 401, with another
token 403, both with ``X-Error-Code: GatedRepo``.
No Xet headers are sent, so clients take the plain HTTP download path.

Every request is recorded (:attr:`FakeHub.requests`, as ``(method, path)``) so tests can
assert what was fetched and how often. The server runs on its own event loop in a daemon
thread of the test process::

    with FakeHub("org/model", {"config.json": b"{}", "model.safetensors": blob}) as hub:
        os.environ["HF_ENDPOINT"] = hub.endpoint
        ...
        assert hub.count("GET", "/cdn/") == 1
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    import pytest

#: files stored in LFS on the real hub (by suffix, as ``.gitattributes`` says)
LFS_SUFFIXES = (".safetensors", ".bin", ".onnx", ".h5", ".msgpack", ".ot", ".pt")


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(data: bytes) -> bytes:
    return (
        b"version https://git-lfs.github.com/spec/v1\n"
        b"oid sha256:" + hashlib.sha256(data).hexdigest().encode() + b"\n"
        b"size %d\n" % len(data)
    )


@contextlib.contextmanager
def isolated_hf_home(hf_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """huggingface_hub with an empty HF home at ``hf_home`` (created here), no token and no
    network of its own: only ``HF_ENDPOINT`` (set after import, which trustgauge honours) points
    it at a fake hub. Its HTTP session is closed before and after. The body of the ``hub_env``
    fixtures of tests/test_data_sources.py and tests/test_untrusted_input.py and of ``hf_env``
    in tests/test_data.py (each fixture names its own home/cache fixture first)."""
    from huggingface_hub import close_session
    from huggingface_hub import constants as hf_constants

    hf_home.mkdir()
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("HF_HUB_CACHE", str(hf_home / "hub"))
    monkeypatch.setattr(hf_constants, "HF_HOME", str(hf_home))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(hf_home / "hub"))
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(hf_home / "token"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    # huggingface_hub 2.4 fetches a registry of AI agents once a day: a fresh cached copy
    agents = hf_home / ".agent_harnesses.json"
    agents.write_text(json.dumps({"standardEnvVars": [], "harnesses": {}}))
    monkeypatch.setattr(hf_constants, "AGENT_HARNESSES_PATH", str(agents), raising=False)
    try:
        import huggingface_hub.utils._detect_agent as detect_agent

        monkeypatch.setattr(detect_agent, "_registry", None)
    except ImportError:  # pragma: no cover - older huggingface_hub
        pass
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE", "HF_HUB_OFFLINE",
                "TRANSFORMERS_OFFLINE", "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT"):
        monkeypatch.delenv(var, raising=False)
    close_session()
    yield hf_home
    close_session()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class FakeHub:
    """One repository at one commit; see the module doc."""

    def __init__(
        self,
        repo: str,
        files: Mapping[str, bytes],
        *,
        commit: str = "0123456789abcdef0123456789abcdef01234567",
        lfs: Iterable[str] | None = None,
        repo_type: str = "model",
        token: str | None = None,
    ) -> None:
        if repo_type not in ("model", "dataset"):
            raise ValueError(f"repo_type must be 'model' or 'dataset', not {repo_type!r}")
        self.repo = repo
        self.repo_type = repo_type
        self.token = token
        self.commit = commit
        self.files = dict(files)
        self.lfs = set(lfs) if lfs is not None else {f for f in files if f.endswith(LFS_SUFFIXES)}
        self._sha256 = {f: hashlib.sha256(self.files[f]).hexdigest() for f in self.lfs}
        self._by_sha256 = {sha: f for f, sha in self._sha256.items()}
        self.requests: list[tuple[str, str]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.cdn_port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeHub:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fake-hf-hub", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        api = f"/api/{self.repo_type}s"
        files = "/datasets" if self.repo_type == "dataset" else ""
        app.router.add_route("GET", "/api/agent-harnesses", self._agent_harnesses)
        app.router.add_route("GET", api + "/{owner}/{name}", self._repo_info)
        app.router.add_route("HEAD", api + "/{owner}/{name}", self._repo_info)
        app.router.add_route("GET", api + "/{owner}/{name}/revision/{revision}", self._repo_info)
        app.router.add_route("GET", api + "/{owner}/{name}/tree/{revision}", self._tree)
        resolve = files + "/{owner}/{name}/resolve/{revision}/{path:.+}"
        app.router.add_route("HEAD", resolve, self._resolve)
        app.router.add_route("GET", resolve, self._resolve)
        app.router.add_route("HEAD", "/cdn/{sha256}", self._cdn)
        app.router.add_route("GET", "/cdn/{sha256}", self._cdn)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        ports = []
        for _ in range(2):  # the hub, and the "CDN" LFS files redirect to (another origin)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
            await web.SockSite(self._runner, sock).start()
        self.port, self.cdn_port = ports

    def stop(self) -> None:
        """Stop serving (idempotent); afterwards connections to the ports are refused."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what was asked ----------------------------------------------------------------------

    def count(self, method: str, path_part: str) -> int:
        """Requests with this method whose path contains ``path_part``."""
        return sum(1 for m, p in self.requests if m == method and path_part in p)

    # -- handlers ----------------------------------------------------------------------------

    def _record(self, request: web.Request) -> None:
        self.requests.append((request.method, request.path))

    def _check_repo(self, request: web.Request, *, content: bool = False) -> web.Response | None:
        """An error response for an unknown repo or revision, or (``content``: the tree and
        files) a gated repo asked without its token; ``None`` when the request may proceed."""
        if f"{request.match_info['owner']}/{request.match_info['name']}" != self.repo:
            return _error(404, "RepoNotFound", "Repository not found")
        if request.match_info.get("revision", "main") not in ("main", self.commit):
            return _error(404, "RevisionNotFound", "Invalid rev id")
        if content and self.token is not None:
            auth = request.headers.get("Authorization", "")
            if not auth:
                return _error(
                    401, "GatedRepo", f"Access to {self.repo_type} {self.repo} is restricted. "
                    "You must have access to it and be authenticated to access it."
                )
            if auth != f"Bearer {self.token}":
                return _error(
                    403, "GatedRepo", f"Access to {self.repo_type} {self.repo} is restricted "
                    "and you are not in the authorized list."
                )
        return None

    async def _agent_harnesses(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        return web.json_response({"standardEnvVars": ["AI_AGENT", "AGENT"], "harnesses": {}})

    async def _repo_info(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        if (error := self._check_repo(request)) is not None:
            return error
        info: dict[str, Any] = {
            "_id": "fake",
            "id": self.repo,
            "sha": self.commit,
            "private": False,
            "gated": "manual" if self.token is not None else False,
            "disabled": False,
            "lastModified": "2024-11-01T10:00:00.000Z",
            "tags": ["sentence-transformers"] if self.repo_type == "model" else [],
            "siblings": [{"rfilename": f} for f in sorted(self.files)],
        }
        if self.repo_type == "model":
            info["modelId"] = self.repo
        return web.json_response(info)

    async def _tree(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        if (error := self._check_repo(request, content=True)) is not None:
            return error
        entries: list[dict[str, Any]] = []
        recursive = request.query.get("recursive", "false").lower() == "true"
        # every folder (and its parents) when recursive, else the top-level ones
        folders = sorted(
            {"/".join(f.split("/")[:depth]) for f in self.files for depth in range(1, f.count("/") + 1)}
        )
        for folder in folders:
            if "/" in folder and not recursive:
                continue
            entries.append(
                {
                    "type": "directory",
                    "oid": git_blob_id(folder.encode()),
                    "size": 0,
                    "path": folder,
                }
            )
        for name in sorted(self.files):
            if "/" in name and not recursive:
                continue
            data = self.files[name]
            entry: dict[str, Any] = {"type": "file", "path": name, "size": len(data)}
            if name in self.lfs:
                pointer = lfs_pointer(data)
                entry["oid"] = git_blob_id(pointer)
                entry["lfs"] = {
                    "oid": self._sha256[name],
                    "size": len(data),
                    "pointerSize": len(pointer),
                }
            else:
                entry["oid"] = git_blob_id(data)
            entries.append(entry)
        return web.json_response(entries)

    async def _resolve(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        if (error := self._check_repo(request, content=True)) is not None:
            return error
        name = request.match_info["path"]
        if name not in self.files:
            return _error(404, "EntryNotFound", "Entry not found", commit=self.commit)
        data = self.files[name]
        headers = {"X-Repo-Commit": self.commit, "Accept-Ranges": "bytes"}
        if name in self.lfs:
            sha = self._sha256[name]
            headers.update(
                {
                    "ETag": f'"{sha}"',
                    "X-Linked-Etag": f'"{sha}"',
                    "X-Linked-Size": str(len(data)),
                    "Location": f"http://127.0.0.1:{self.cdn_port}/cdn/{sha}",
                }
            )
            return web.Response(status=302, headers=headers)
        headers["ETag"] = f'"{git_blob_id(data)}"'
        return _content(request, data, headers)

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        name = self._by_sha256.get(request.match_info["sha256"])
        if name is None or request.url.port != self.cdn_port:
            return web.Response(status=404, text="NoSuchKey")
        return _content(
            request, self.files[name], {"ETag": f'"{self._sha256[name]}"', "Accept-Ranges": "bytes"}
        )

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        return _error(404, "NotFound", f"fake hub has no route for {request.method} {request.path}")


def _error(status: int, code: str, message: str, *, commit: str | None = None) -> web.Response:
    headers = {"X-Error-Code": code, "X-Error-Message": message}
    if commit is not None:
        headers["X-Repo-Commit"] = commit
    return web.json_response({"error": message}, status=status, headers=headers)


def _content(request: web.Request, data: bytes, headers: dict[str, str]) -> web.Response:
    """The body (or, for HEAD, only its length), honouring a ``Range: bytes=N-`` resume."""
    start = 0
    status = 200
    range_ = request.headers.get("Range", "")
    if range_.startswith("bytes=") and range_.endswith("-") and range_[6:-1].isdigit():
        start = min(int(range_[6:-1]), len(data))
        status = 206
        headers = {**headers, "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
    # aiohttp sends no body in answer to HEAD, but keeps the Content-Length of the body given
    body = data[start:] if start else data
    return web.Response(
        status=status, body=body, headers=headers, content_type="application/octet-stream"
    )
