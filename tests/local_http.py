"""A real HTTP server on 127.0.0.1 for tests: one handler class, served from a daemon thread.

:func:`serving` is the start/stop the data-download and retry tests share (each brings its own
handler); :func:`routes_handler` is the plain "path -> bytes, else 404" handler of the archive
and pinned-file tests.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a free port) from a daemon thread; yields the base URL
    ``http://127.0.0.1:PORT``. On exit the server is shut down, closed and its thread joined."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def routes_handler(
    routes: dict[str, bytes], requests: list[str] | None = None
) -> type[BaseHTTPRequestHandler]:
    """A handler answering ``GET path`` with ``routes[path]`` (200), or 404 ``not found``; each
    path asked is appended to ``requests`` when given. ``routes`` is read at each request, so a
    test may add routes while the server runs."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if requests is not None:
                requests.append(self.path)
            body = routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            payload = body if body is not None else b"not found"
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
