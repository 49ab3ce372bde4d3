"""A real browser for end-to-end tests: Debian's Chromium driven by Playwright.

Nothing leaves the machine: every request to a host other than 127.0.0.1 is intercepted
and answered with a tiny page, and the URL the browser asked for is recorded. Pages under
test are served by :class:`PageServer`, a plain HTTP server on 127.0.0.1, so the browser
sees them exactly as bytes with a ``Content-Type`` charset, as it would a real page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # An http:// navigation must stay http://, so what the test sees is what it asked for.
    "--disable-features=HttpsUpgrades",
]
LOOPBACK = "127.0.0.1"
STUB_PAGE = b"<!DOCTYPE html><title>stub</title><p>intercepted</p>"


def is_external(url: str) -> bool:
    """True for network URLs whose host is not 127.0.0.1 (those must never leave)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != LOOPBACK


class ExternalRequests:
    """Answers every request to a host other than 127.0.0.1 with :data:`STUB_PAGE` and
    records the URLs that were asked for, in order."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def install(self, context: BrowserContext) -> None:
        context.route(is_external, self._fulfill)

    def _fulfill(self, route: Route) -> None:
        self.urls.append(route.request.url)
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=STUB_PAGE)


@contextmanager
def chromium_context(timeout_ms: float = 15_000) -> Iterator[BrowserContext]:
    """A fresh Chromium (new empty profile) and one browser context, closed on exit."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context()
            context.set_default_timeout(timeout_ms)
            context.set_default_navigation_timeout(timeout_ms)
            try:
                yield context
            finally:
                context.close()
        finally:
            browser.close()


class PageServer:
    """Serves byte strings at fixed paths on 127.0.0.1 (404 for anything else)."""

    def __init__(self) -> None:
        self._pages: dict[str, tuple[bytes, str]] = {}
        pages = self._pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, content_type = pages.get(self.path, (b"not found\n", "text/plain"))
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{LOOPBACK}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def put(self, path: str, body: bytes, charset: str) -> str:
        """Serve ``body`` as HTML in ``charset`` at ``path``; returns its URL."""
        self._pages[path] = (body, f"text/html; charset={charset}")
        return self.url + path

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
