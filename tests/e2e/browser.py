"""A real browser for end-to-end tests: Debian's Chromium driven by Playwright.

Nothing leaves the machine. Chromium is started with host resolver rules that send every
host name to :class:`LocalWeb`, one server on 127.0.0.1 that speaks both plain HTTP and
TLS (with a throwaway self-signed certificate the browser context is told to accept), so
no DNS query is made and no connection goes anywhere but loopback. ``LocalWeb`` serves
the pages under test at its own address and answers every other request with a tiny stub
page, recording the URL the browser asked for (scheme, ``Host`` header and request target).

Playwright's ``route`` is not used for this on purpose: it does not see a navigation that
follows a redirect (its handler "will only be called for the first url if the response is
a redirect"), and following the tracker's redirect is exactly what these tests do.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import BrowserContext, sync_playwright

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
STUB_PAGE = b"<!DOCTYPE html><title>stub</title><p>answered on this machine</p>"


class LocalWeb:
    """Serves registered pages on 127.0.0.1 and stands in for every other web host."""

    def __init__(self, cert_dir: Path) -> None:
        self._pages: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._external: list[str] = []
        self._server = _SniffingServer(_tls_context(cert_dir), self)
        self.port = int(self._server.server_address[1])
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def resolver_rules(self) -> str:
        """The ``--host-resolver-rules`` value sending every host name here."""
        return f"MAP * {LOOPBACK}:{self.port}, EXCLUDE {LOOPBACK}"

    def put(self, path: str, body: bytes, charset: str) -> str:
        """Serve ``body`` as HTML in ``charset`` at ``path``; returns its URL."""
        self._pages[path] = (body, f"text/html; charset={charset}")
        return self.url + path

    def requested(self) -> list[str]:
        """The URLs requested from other hosts so far, in order (no fragments: those
        never reach a server)."""
        with self._lock:
            return list(self._external)

    def _answer(self, scheme: str, host: str, path: str) -> tuple[int, bytes, str]:
        if scheme == "http" and host == f"{LOOPBACK}:{self.port}":
            page = self._pages.get(path)
            if page is None:
                return 404, b"not found\n", "text/plain; charset=utf-8"
            return 200, *page
        with self._lock:
            self._external.append(f"{scheme}://{host}{path}")
        return 200, STUB_PAGE, "text/html; charset=utf-8"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: _SniffingServer

    def do_GET(self) -> None:
        self._reply(with_body=True)

    def do_HEAD(self) -> None:
        self._reply(with_body=False)

    def _reply(self, *, with_body: bool) -> None:
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        status, body, content_type = self.server.web._answer(
            scheme, self.headers.get("Host", ""), self.path
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _SniffingServer(ThreadingHTTPServer):
    """HTTP on one port, with TLS when the first byte is a TLS handshake record."""

    def __init__(self, tls: ssl.SSLContext, web: LocalWeb) -> None:
        self.tls = tls
        self.web = web
        super().__init__((LOOPBACK, 0), _Handler)

    # ``self: Self``: typeshed types the handler's server argument as ``Self``, which a
    # plain ``self`` in a subclass is not
    def finish_request(self: Self, request: Any, client_address: Any) -> None:
        sock: socket.socket = request
        try:
            sock.settimeout(10)
            first = sock.recv(1, socket.MSG_PEEK)
            if first == b"\x16":
                with self.tls.wrap_socket(sock, server_side=True) as tls_sock:
                    self.RequestHandlerClass(tls_sock, client_address, self)
                return
        except OSError:  # the client went away, or the handshake failed
            return
        if first:
            self.RequestHandlerClass(sock, client_address, self)


def _tls_context(cert_dir: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate (the browser context is told
    to accept any certificate, so one serves every host name)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "inkling test stub")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = cert_dir / "stub-cert.pem", cert_dir / "stub-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


@contextmanager
def chromium_context(web: LocalWeb, timeout_ms: float = 15_000) -> Iterator[BrowserContext]:
    """A fresh Chromium (new empty profile) whose every host name resolves to ``web``,
    and one browser context; both closed on exit."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules={web.resolver_rules}"],
            headless=True,
        )
        try:
            context = browser.new_context(ignore_https_errors=True)
            context.set_default_timeout(timeout_ms)
            context.set_default_navigation_timeout(timeout_ms)
            try:
                yield context
            finally:
                context.close()
        finally:
            browser.close()
