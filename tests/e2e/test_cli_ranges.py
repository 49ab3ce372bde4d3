"""``inkling ranges update --fetch`` as an operator runs it, every ``--source`` pointed at
a local server that serves the operators' publications (tests/fixtures/ranges-sources/),
and the arguments it refuses before it fetches anything."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow

SOURCES = FIXTURES / "ranges-sources"
#: Each source's name, the path it is served at here, and the fixture served there.
PUBLICATIONS = {
    "apple": ("/egress-ip-ranges.csv", "egress-ip-ranges.csv"),
    "google": ("/ipranges/goog.json", "goog.json"),
    "google-cloud": ("/ipranges/cloud.json", "cloud.json"),
    "googlebot": ("/ipranges/googlebot.json", "googlebot.json"),
    "microsoft-365": ("/endpoints/worldwide", "endpoints-worldwide.json"),
    "azure": ("/ServiceTags_Public_20260817.json", "ServiceTags_Public_20260817.json"),
    "aws": ("/ip-ranges.json", "ip-ranges.json"),
}
APPLE_RELAY = "104.28.28.10"  # in the first 400 Apple ranges the fixture holds
NO_PROXY = {"no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"}


class Publications(ThreadingHTTPServer):
    """The operators' servers, on 127.0.0.1: each publication at its path, and a record
    of every path asked for."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.files = {path: SOURCES / name for path, name in PUBLICATIONS.values()}
        self.asked: list[str] = []

    def sources(self, **urls: str) -> list[str]:
        """``--source NAME=URL`` for every source (never the real hosts), ``urls`` (by
        name, ``_`` for ``-``) replacing some."""
        chosen = {name: self.url + path for name, (path, _) in PUBLICATIONS.items()}
        chosen |= {name.replace("_", "-"): url for name, url in urls.items()}
        return [arg for name, url in chosen.items() for arg in ("--source", f"{name}={url}")]


class _Handler(BaseHTTPRequestHandler):
    server: Publications

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        self.server.asked.append(path)
        file = self.server.files.get(path)
        body = file.read_bytes() if file else b"not here"
        self.send_response(200 if file else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def publications() -> Iterator[Publications]:
    server = Publications()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _classify_apple_relay_open(data_dir: Path) -> list[str]:
    hit = {"message": "m1", "kind": "open", "ts": 1_796_000_002, "sent_at": 1_796_000_000}
    hit |= {"ip": APPLE_RELAY, "ua": "Mozilla/5.0"}
    judged = inkling(data_dir, "classify", "--jsonl", "-", stdin=json.dumps(hit).encode())
    assert judged.returncode == 0, judged.stderr
    reasons: list[str] = json.loads(judged.stdout)["reasons"]
    return reasons


def test_fetch_installs_every_source_and_verdicts_name_the_snapshot(
    data_dir: Path, publications: Publications
) -> None:
    args = ("ranges", "update", "--fetch", *publications.sources(), "--snapshot", "2026-11-30")
    done = inkling(data_dir, *args, env=NO_PROXY)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.decode().splitlines()
    # one line per source, in order, naming what it gave and where from
    assert [line.split(":")[0] for line in lines[:-1]] == list(PUBLICATIONS)
    assert lines[0].startswith(
        f"apple: 400 IPv4 and 1200 IPv6 ranges from {publications.url}/egress-ip-ranges.csv ("
    )
    assert lines[-1].startswith("installed ") and lines[-1].endswith(
        "(snapshot 2026-11-30); restart inkling serve to use them"
    )
    assert sorted(publications.asked) == sorted(path for path, _ in PUBLICATIONS.values())
    snapshot = (data_dir / "ranges" / "SNAPSHOT").read_text()
    assert snapshot.startswith("2026-11-30 fetched from the operators' publications")
    assert f"azure {publications.url}/ServiceTags_Public_20260817.json" in snapshot
    reasons = _classify_apple_relay_open(data_dir)
    assert any("Private Relay" in r and "2026-11-30" in r for r in reasons), reasons


def test_a_source_that_fails_changes_nothing_and_says_which(
    data_dir: Path, publications: Publications
) -> None:
    first = ("ranges", "update", "--fetch", *publications.sources(), "--snapshot", "2026-11-01")
    assert inkling(data_dir, *first, env=NO_PROXY).returncode == 0
    before = {p.name: p.read_bytes() for p in (data_dir / "ranges").iterdir()}
    gone = publications.url + "/moved-away.json"
    done = inkling(
        data_dir, "ranges", "update", "--fetch", *publications.sources(aws=gone), env=NO_PROXY
    )
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    last = done.stderr.decode().splitlines()[-1]
    assert last.startswith(f"inkling: ranges source aws ({gone}): ")
    assert "404" in last and last.endswith("the installed ranges are unchanged")
    assert {p.name: p.read_bytes() for p in (data_dir / "ranges").iterdir()} == before


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--fetch", "DIR"), "give a DIRECTORY or --fetch, not both"),
        ((), "give a DIRECTORY of range files, or --fetch to download them"),
        (("DIR", "--source", "apple=URL/x"), "--source goes with --fetch"),
        (("--fetch", "--source", "apple"), "--source 'apple' is not NAME=URL"),
        (("--fetch", "--source", "icloud=URL/x"), "there is no source named 'icloud'"),
    ],
)
def test_arguments_that_do_not_fit_together_fetch_nothing(
    data_dir: Path, publications: Publications, args: tuple[str, ...], says: str
) -> None:
    directory = data_dir.parent / "fresh"
    directory.mkdir()
    given = [a.replace("DIR", str(directory)).replace("URL", publications.url) for a in args]
    done = inkling(data_dir, "ranges", "update", *given, env=NO_PROXY)
    assert done.returncode == 2
    assert done.stderr.startswith(f"inkling: {says}".encode())
    assert done.stderr.count(b"\n") == 1 and b"Traceback" not in done.stderr
    assert publications.asked == []
    assert not (data_dir / "ranges").exists()
