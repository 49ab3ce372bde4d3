"""``fetch_and_update``: the operators' own publications, fetched from a local server that
serves them in each operator's format, checked, merged and installed, or refused whole."""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import json
import random
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from inkling.classify import ranges
from inkling.classify.fetch import (
    Source,
    fetch_and_update,
    load_sources,
    mirrored,
    parse_overrides,
    with_urls,
)
from inkling.classify.ranges import Networks
from inkling.errors import RangesError
from tests.conftest import FIXTURES

SOURCES = FIXTURES / "ranges-sources"
SHIPPED = Path(ranges.__file__).parent / "data" / "ranges"
#: URL path of each source (as sources.toml has it) -> the fixture served there.
PATHS = {
    "/egress-ip-ranges.csv": "egress-ip-ranges.csv",
    "/ipranges/goog.json": "goog.json",
    "/ipranges/cloud.json": "cloud.json",
    "/static/search/apis/ipranges/googlebot.json": "googlebot.json",
    "/endpoints/worldwide": "endpoints-worldwide.json",
    "/ip-ranges.json": "ip-ranges.json",
    "/download/ServiceTags_Public_20260817.json": "ServiceTags_Public_20260817.json",
}
APPLE = "/egress-ip-ranges.csv"
AZURE = "/download/ServiceTags_Public_20260817.json"
TODAY = datetime.now(UTC).date().isoformat()


@dataclass
class Reply:
    """What the server answers on one path: ``length`` is the Content-Length it declares
    (None: the body's; -1: none, the end of the body is the end of the connection)."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    length: int | None = None
    trickle: float = 0.0  # seconds between 1 kB pieces of the body


class Operators(ThreadingHTTPServer):
    """A stand-in for Apple's, Google's, Microsoft's and Amazon's servers on 127.0.0.1."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies = {path: Reply((SOURCES / name).read_bytes()) for path, name in PATHS.items()}
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.sources = mirrored(load_sources(), self.url)


class _Handler(BaseHTTPRequestHandler):
    server: Operators

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        reply = self.server.replies.get(self.path.partition("?")[0], Reply(b"no", 404))
        self.server.stopping.wait(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        length = len(reply.body) if reply.length is None else reply.length
        if length >= 0:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        piece = 1024 if reply.trickle else max(len(reply.body), 1)
        with contextlib.suppress(OSError):  # the client gave up (a timeout test)
            for start in range(0, len(reply.body), piece):
                self.wfile.write(reply.body[start : start + piece])
                if reply.trickle and self.server.stopping.wait(reply.trickle):
                    break

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Operators]:
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    server = Operators()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def installed(site: Operators, data_dir: Path) -> dict[str, bytes]:
    """A first, good fetch (snapshot 2026-11-01): what a failed fetch must leave alone."""
    fetch_and_update(data_dir, sources=site.sources, snapshot="2026-11-01")
    site.requests.clear()
    return _contents(data_dir / "ranges")


def _contents(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


#: What ``ipaddress.ip_network`` returns.
AnyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(path: Path) -> list[AnyNetwork]:
    lines = path.read_text().splitlines()
    return [ipaddress.ip_network(line) for line in lines if not line.startswith("#")]


# --- The happy path ------------------------------------------------------------------------


def test_fetch_installs_every_file_with_the_snapshot_of_the_day(
    site: Operators, data_dir: Path
) -> None:
    counts = fetch_and_update(data_dir, sources=site.sources)
    assert sorted(counts) == sorted(ranges.range_files())
    assert counts["apple-proxy-ipv4.txt"] == 400 and counts["apple-proxy-ipv6.txt"] == 1200
    snapshot = (data_dir / "ranges" / "SNAPSHOT").read_text().splitlines()
    assert snapshot[0] == f"{TODAY} fetched from the operators' publications"
    assert f"apple {site.url}/egress-ip-ranges.csv" in snapshot
    networks = Networks.load(data_dir / "ranges")
    assert networks.snapshot == TODAY
    assert networks.locate("104.28.28.10")[0] == "apple_relay"
    assert networks.locate("2a02:26f7:b00a:4000::1")[0] == "apple_relay"
    assert networks.locate("8.8.8.8")[0] == "google"
    assert networks.locate("40.96.1.1")[0] == "microsoft"
    assert networks.locate("81.2.69.1")[0] is None


def test_every_network_gets_its_operator_and_ranges_are_merged_and_sorted(
    site: Operators, data_dir: Path
) -> None:
    fetch_and_update(data_dir, sources=site.sources, snapshot="2026-11-01")
    for name in ranges.range_files():
        spans = [
            (int(n.network_address), int(n.broadcast_address))
            for n in _networks(data_dir / "ranges" / name)
        ]
        assert spans, name
        # sorted, none overlapping (adjacent ones are joined, but a span that is not one
        # CIDR range stays as several)
        assert all(end < start for (_, end), (start, _) in itertools.pairwise(spans)), name
    # Apple's finer ranges and AWS's one-line-per-service come out as the shipped ranges.
    apple = _networks(data_dir / "ranges" / "apple-proxy-ipv4.txt")
    shipped = (SHIPPED / "apple-proxy-ipv4.txt").read_text().split()[:400]
    assert sorted(apple) == sorted(ipaddress.ip_network(c) for c in shipped)
    assert len(_networks(data_dir / "ranges" / "amazon-ipv4.txt")) == 250
    googlebot = Networks.load(data_dir / "ranges")
    first_crawler = (SHIPPED / "googlebot-ipv4.txt").read_text().split()[0]
    address = str(ipaddress.ip_network(first_crawler)[1])
    assert googlebot.locate(address)[0] == "googlebot"


def test_progress_names_each_source_and_the_one_without_a_url(
    site: Operators, data_dir: Path
) -> None:
    lines: list[str] = []
    fetch_and_update(data_dir, sources=site.sources, progress=lines.append)
    assert [line.split(":")[0] for line in lines] == [s.name for s in site.sources]
    assert lines[0].startswith(f"apple: 400 IPv4 and 1200 IPv6 ranges from {site.url}/")
    assert "azure: skipped (no URL; name one with --source azure=URL)" in lines


def test_a_given_snapshot_date_is_recorded(site: Operators, data_dir: Path) -> None:
    fetch_and_update(data_dir, sources=site.sources, snapshot="2026-11-01")
    assert Networks.load(data_dir / "ranges").snapshot == "2026-11-01"


def test_microsoft_gets_a_fresh_client_request_id(site: Operators, data_dir: Path) -> None:
    fetch_and_update(data_dir, sources=site.sources)
    fetch_and_update(data_dir, sources=site.sources)
    asked = [p for p in site.requests if p.startswith("/endpoints/worldwide")]
    ids = [p.split("clientrequestid=")[1] for p in asked]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert all(re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", i) for i in ids)


def test_azure_service_tags_are_fetched_when_an_operator_names_the_file(
    site: Operators, data_dir: Path
) -> None:
    azure_only = "4.150.0.1"  # in 4.128.0.0/9, an Azure range not in Microsoft 365's list
    fetch_and_update(data_dir, sources=site.sources)
    assert Networks.load(data_dir / "ranges").locate(azure_only)[0] is None
    overrides = parse_overrides([f"azure={site.url}{AZURE}"])
    fetch_and_update(data_dir, sources=site.sources, overrides=overrides)
    assert Networks.load(data_dir / "ranges").locate(azure_only)[0] == "microsoft"
    assert AZURE in site.requests


def test_a_redirect_within_the_host_is_followed(site: Operators, data_dir: Path) -> None:
    site.replies["/moved.csv"] = site.replies[APPLE]
    site.replies[APPLE] = Reply(status=301, headers={"Location": "/moved.csv"})
    counts = fetch_and_update(data_dir, sources=site.sources)
    assert counts["apple-proxy-ipv4.txt"] == 400
    assert "/moved.csv" in site.requests


def test_update_from_a_directory_still_installs_checked_files(data_dir: Path) -> None:
    counts = ranges.update(SHIPPED, data_dir, snapshot="2026-08-22")
    assert counts["apple-proxy-ipv6.txt"] == 10455
    assert Networks.load(data_dir / "ranges").snapshot == "2026-08-22"


# --- Every failure: one line naming the source, and nothing replaced -----------------------


def _json(document: object) -> bytes:
    return json.dumps(document).encode()


def _aws(v4: list[str], v6: list[str]) -> bytes:
    prefixes = [{"ip_prefix": c, "region": "eu-west-1", "service": "AMAZON"} for c in v4]
    ipv6 = [{"ipv6_prefix": c, "region": "eu-west-1", "service": "AMAZON"} for c in v6]
    return _json({"syncToken": "1", "createDate": "x", "prefixes": prefixes, "ipv6_prefixes": ipv6})


AWS_V4 = (SHIPPED / "amazon-ipv4.txt").read_text().split()
AWS_V6 = (SHIPPED / "amazon-ipv6.txt").read_text().split()

FAILURES = {
    "HTTP error": (
        "aws",
        "/ip-ranges.json",
        Reply(b"busy", 503),
        "answered HTTP 503 'Service Unavailable'",
    ),
    "not UTF-8": (
        "google",
        "/ipranges/goog.json",
        Reply(b'{"prefixes": [{"ipv4Prefix": "8.8.8.0/24"}], "note": "caf\xe9"}'),
        "the body is not UTF-8 text (byte 0xe9 at offset 57)",
    ),
    "malformed JSON": (
        "microsoft-365",
        "/endpoints/worldwide",
        Reply(b'[{"id": 1, "ips": ["13.107.6.152/31"'),
        "the body is not JSON (line 1, column 37",
    ),
    "JSON nested without end": (
        "google-cloud",
        "/ipranges/cloud.json",
        Reply(b"[" * 100_000),
        "JSON nested too deep",
    ),
    "JSON of another shape": (
        "googlebot",
        "/static/search/apis/ipranges/googlebot.json",
        Reply(b'{"creationTime": "2026-11-30T00:00:00"}'),
        "the document has no 'prefixes'",
    ),
    "an error document instead of the list": (
        "microsoft-365",
        "/endpoints/worldwide",
        Reply(b'{"error": "Invalid clientrequestid"}'),
        "the document is not a list of endpoint sets (it says 'Invalid clientrequestid')",
    ),
    "a prefix that is not a string": (
        "googlebot",
        "/static/search/apis/ipranges/googlebot.json",
        Reply(b'{"prefixes": [{"ipv4Prefix": "66.249.64.0/27"}, {"ipv6Prefix": 42}]}'),
        "prefixes[1].ipv6Prefix is not a string but int",
    ),
    "malformed CSV line": (
        "apple",
        APPLE,
        Reply(b"17.0.0.0/27,US,US-CA,Cupertino,\n\n17.0.0.0/33,US,US-CA,Cupertino,\n"),
        "line 3: '17.0.0.0/33' is not a CIDR range",
    ),
    "CSV field past the limit": (
        "apple",
        APPLE,
        Reply(b"17.0.0.0/27,US,US-CA,Cupertino,\n" + b"1" * 200_000 + b"\n"),
        "line 2 is not CSV (field larger than field limit",
    ),
    "terminal escapes in a bad line": (
        "apple",
        APPLE,
        Reply(b"\x1b[2J\x1b]0;pwned\x07,US,,,\n"),
        r"line 1: '\x1b[2J\x1b]0;pwned\x07' is not a CIDR range",
    ),
    "a family missing": (
        "aws",
        "/ip-ranges.json",
        Reply(_aws(AWS_V4[:300], [])),
        "it holds no IPv6 ranges, and the publication has both",
    ),
    "too few ranges": (
        "aws",
        "/ip-ranges.json",
        Reply(_aws(AWS_V4[:300], AWS_V6[:5])),
        "it holds only 5 IPv6 ranges after merging (at least 200 expected)",
    ),
    "a range in the wrong family": (
        "aws",
        "/ip-ranges.json",
        Reply(_aws(["2600:1f14::/35"], AWS_V6)),
        "prefixes[0].ip_prefix: '2600:1f14::/35' is not an IPv4 range",
    ),
    "a redirect to another host": (
        "apple",
        APPLE,
        Reply(status=302, headers={"Location": "http://localhost:9/egress-ip-ranges.csv"}),
        "redirected to 'http://localhost:9/egress-ip-ranges.csv'; only redirects within",
    ),
    "a redirect to a port that is not one": (
        "apple",
        APPLE,
        Reply(status=307, headers={"Location": "http://127.0.0.1:99999/x.csv"}),
        "redirected to 'http://127.0.0.1:99999/x.csv'; only redirects within",
    ),
    "a body cut short": (
        "googlebot",
        "/static/search/apis/ipranges/googlebot.json",
        Reply((SOURCES / "googlebot.json").read_bytes()[:2000], length=7103),
        "the body ended after 2,000 of its 7,103 bytes",
    ),
}


@pytest.mark.parametrize("case", FAILURES.values(), ids=list(FAILURES))
def test_a_bad_source_fails_the_whole_update_and_changes_nothing(
    site: Operators, data_dir: Path, installed: dict[str, bytes], case: tuple[str, str, Reply, str]
) -> None:
    name, path, reply, problem = case
    site.replies[path] = reply
    with pytest.raises(RangesError) as caught:
        fetch_and_update(data_dir, sources=site.sources)
    _assert_one_line(str(caught.value), name, problem)
    assert _contents(data_dir / "ranges") == installed
    assert Networks.load(data_dir / "ranges").snapshot == "2026-11-01"
    assert not (data_dir / "ranges.new").exists()


def _assert_one_line(message: str, source: str, problem: str) -> None:
    assert message.startswith(f"ranges source {source} (http://127.0.0.1:")
    assert problem in message
    assert message.endswith("; the installed ranges are unchanged")
    assert message.isprintable(), message


def test_a_source_that_does_not_answer_in_time(
    site: Operators, data_dir: Path, installed: dict[str, bytes]
) -> None:
    site.replies["/ipranges/goog.json"].delay = 5.0
    with pytest.raises(RangesError) as caught:
        fetch_and_update(data_dir, sources=site.sources, timeout=0.3)
    _assert_one_line(str(caught.value), "google", "timed out after 0.3 s")
    assert _contents(data_dir / "ranges") == installed


def test_a_source_that_trickles_is_cut_off_at_the_deadline(
    site: Operators, data_dir: Path, installed: dict[str, bytes]
) -> None:
    """Each piece comes well within the timeout; the whole body would take 2 s."""
    site.replies["/static/search/apis/ipranges/googlebot.json"].trickle = 0.25
    with pytest.raises(RangesError) as caught:
        fetch_and_update(data_dir, sources=site.sources, timeout=0.6)
    _assert_one_line(str(caught.value), "googlebot", "timed out after 0.6 s")
    assert _contents(data_dir / "ranges") == installed


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
def test_an_oversized_body_is_refused(
    site: Operators, data_dir: Path, installed: dict[str, bytes], declared: bool
) -> None:
    site.replies[APPLE].length = None if declared else -1
    with pytest.raises(RangesError) as caught:
        fetch_and_update(data_dir, sources=site.sources, max_bytes=50_000)
    size = f"the body is {len(site.replies[APPLE].body):,} bytes, more than"
    problem = size if declared else "the body is more than the 50,000 bytes allowed"
    _assert_one_line(str(caught.value), "apple", problem)
    assert _contents(data_dir / "ranges") == installed


def test_a_host_that_refuses_connections(
    site: Operators, data_dir: Path, installed: dict[str, bytes]
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    overrides = {"aws": f"http://127.0.0.1:{port}/ip-ranges.json"}
    with pytest.raises(RangesError) as caught:
        fetch_and_update(data_dir, sources=site.sources, overrides=overrides)
    assert "ranges source aws (http://127.0.0.1:" in str(caught.value)
    assert "could not be reached (Connection refused)" in str(caught.value)
    assert _contents(data_dir / "ranges") == installed


# --- Dates, overrides and the sources file -------------------------------------------------

TOMORROW = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("snapshot", "problem"),
    [
        ("2026-13-01", "is not a calendar date"),
        ("2026-02-30", "is not a calendar date"),
        ("20261101", "is not a date (YYYY-MM-DD"),
        ("2026-W44-7", "is not a date (YYYY-MM-DD"),
        ("last tuesday", "is not a date (YYYY-MM-DD"),
        (TOMORROW, "is in the future (today is"),
    ],
)
def test_a_snapshot_must_be_a_past_calendar_date(
    site: Operators, data_dir: Path, snapshot: str, problem: str
) -> None:
    with pytest.raises(RangesError, match=re.escape(problem)):
        fetch_and_update(data_dir, sources=site.sources, snapshot=snapshot)
    assert site.requests == []  # refused before anything was downloaded
    with pytest.raises(RangesError, match=re.escape(problem)):
        ranges.update(SHIPPED, data_dir, snapshot=snapshot)
    assert not (data_dir / "ranges").exists()


def test_snapshot_dates_that_are_fine() -> None:
    today = datetime(2026, 12, 1, tzinfo=UTC).date()
    assert ranges.snapshot_date("2026-12-01", today=today) == "2026-12-01"
    assert ranges.snapshot_date("2024-02-29", today=today) == "2024-02-29"
    assert ranges.snapshot_date(None, today=today) == "2026-12-01"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        (
            {"icloud": "https://mirror.example/x.csv"},
            "there is no source named 'icloud' (the sources are apple, google,",
        ),
        (
            {"apple": "file:///etc/passwd"},
            "the URL of apple must be an http or https URL, not 'file:///etc/passwd'",
        ),
        (
            {"apple": "http://127.0.0.1:99999/egress-ip-ranges.csv"},
            "the URL of apple has a port that is not a port",
        ),
        (
            {"apple": "https://mirror.example/a b.csv"},
            "the URL of apple holds spaces or control characters",
        ),
    ],
)
def test_bad_overrides_are_refused_before_any_download(
    site: Operators, data_dir: Path, overrides: dict[str, str], problem: str
) -> None:
    with pytest.raises(RangesError, match=re.escape(problem)):
        fetch_and_update(data_dir, sources=site.sources, overrides=overrides)
    assert site.requests == []


def test_overrides_are_name_equals_url() -> None:
    assert parse_overrides(["azure=https://download.example/ST.json?a=b"]) == {
        "azure": "https://download.example/ST.json?a=b"
    }
    for bad in ("azure", "=https://x.example/", "azure="):
        with pytest.raises(RangesError, match="is not NAME=URL"):
            parse_overrides([bad])


def test_the_shipped_sources_are_the_operators_own_and_cover_every_file() -> None:
    sources = load_sources()
    assert {s.file for s in sources} == set(ranges.NETWORKS.values())
    assert [s.name for s in sources if not s.url] == ["azure"]
    hosts = {s.name: s.url.split("/")[2] for s in sources if s.url}
    assert hosts == {
        "apple": "mask-api.icloud.com",
        "google": "www.gstatic.com",
        "google-cloud": "www.gstatic.com",
        "googlebot": "developers.google.com",
        "microsoft-365": "endpoints.office.com",
        "aws": "ip-ranges.amazonaws.com",
    }
    assert all("https://" in s.documentation for s in sources)
    assert with_urls(sources, {}) == sources


def test_merging_gives_what_ipaddress_gives() -> None:
    """``ranges.span`` and ``ranges.cidrs`` (inet_pton and integers, for speed) against
    ``ipaddress.collapse_addresses`` on random overlapping sets of both families."""
    rng = random.Random(7)
    for _ in range(200):
        version = rng.choice([4, 6])
        bits = 32 if version == 4 else 128
        region = rng.getrandbits(bits) >> 14 << 14  # crowded, so they overlap and touch
        networks: list[AnyNetwork] = []
        for _ in range(rng.randint(1, 40)):
            host_bits = rng.randint(0, 10)
            start = (region + rng.randrange(1 << 14)) >> host_bits << host_bits
            networks.append(ipaddress.ip_network((start, bits - host_bits)))
        ours = ranges.cidrs([ranges.span(str(n)) for n in networks], version)
        assert [ipaddress.ip_network(c) for c in ours] == _collapsed(networks)


def _collapsed(networks: list[AnyNetwork]) -> list[AnyNetwork]:
    """``ipaddress.collapse_addresses`` of one family's networks (it takes no mixed list,
    and its type says so: the family is narrowed here, not cast)."""
    v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
    assert not (v4 and v6), "one family at a time"
    return [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "17.0.0",
        "17.0.0.0/33",
        "::/129",
        "17.0.0.0/-1",
        "17.0.0.0/8/8",
        "17.0.0.0/0x8",
        "fe80::1%eth0/64",
        "\uff11\uff17.0.0.0/8",
    ],
)
def test_what_is_not_a_cidr_range(text: str) -> None:
    with pytest.raises(ValueError):
        ranges.span(text)


def test_a_file_left_without_a_source_is_refused(site: Operators, data_dir: Path) -> None:
    sources = [s for s in site.sources if s.file != "amazon"]
    with pytest.raises(RangesError, match=re.escape("no source with a URL feeds amazon-ipv4.txt")):
        fetch_and_update(data_dir, sources=sources)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('name = "x"', "sources.toml, source 1 needs file as a string"),
        (
            'name = "x"\nfile = "yahoo"\nformat = "aws-json"\nurl = ""\ndocumentation = ""',
            "sources.toml, source 1: file 'yahoo' is not one of the range files",
        ),
        (
            'name = "x"\nfile = "amazon"\nformat = "xml"\nurl = ""\ndocumentation = ""',
            "sources.toml, source 1: format 'xml' is not one of apple-egress-csv",
        ),
        (
            'name = "x"\nfile = "amazon"\nformat = "aws-json"\nurl = ""\ndocumentation = ""\n'
            "minimum = { ipv4 = 1 }",
            "sources.toml, source 1 needs minimum = { ipv4 = N, ipv6 = N }",
        ),
    ],
)
def test_a_malformed_sources_file_names_the_entry(entry: str, problem: str) -> None:
    with pytest.raises(RangesError, match=re.escape(problem)):
        load_sources(f"[[source]]\n{entry}\n")


def test_a_sources_file_with_a_name_twice_is_refused() -> None:
    apple = (SHIPPED.parent / "sources.toml").read_text().split("\n[[source]]\n")[1]
    with pytest.raises(RangesError, match="two sources named 'apple'"):
        load_sources(f"[[source]]\n{apple}\n[[source]]\n{apple}")


def test_a_source_can_be_given_directly(site: Operators, data_dir: Path) -> None:
    """Callers (the CLI, a mirror) may pass their own list of sources."""
    extra = Source(
        name="apple-mirror",
        file="apple-proxy",
        format="apple-egress-csv",
        url=f"{site.url}/extra.csv",
        minimum={"ipv4": 1, "ipv6": 1},
        documentation="a test mirror",
    )
    site.replies["/extra.csv"] = Reply(b"198.51.100.0/24,ZZ,,,\n2001:db8::/32,ZZ,,,\n")
    fetch_and_update(data_dir, sources=[*site.sources, extra])
    assert Networks.load(data_dir / "ranges").locate("198.51.100.7")[0] == "apple_relay"
