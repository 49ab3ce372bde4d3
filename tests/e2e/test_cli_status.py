"""``inkling status`` as an operator reads it: on a fresh data dir, and on one whose hits
were recorded while the database was unreachable (a backlog in the journal)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import FIXTURES
from tests.e2e.server import ServerProcess
from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow

#: Nothing listens on port 9 (discard) here: the database is unreachable, at once.
UNREACHABLE = "postgresql+psycopg://x@127.0.0.1:9/none"
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _status(data_dir: Path, env: dict[str, str] | None = None) -> tuple[list[str], dict[str, Any]]:
    """The text and the JSON ``inkling status`` prints for ``data_dir``."""
    text = inkling(data_dir, "status", env=env)
    assert text.returncode == 0, text.stderr
    assert text.stderr == b""  # what status found is its output, on stdout
    as_json = inkling(data_dir, "status", "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    found: dict[str, Any] = json.loads(as_json.stdout)
    return text.stdout.decode().splitlines(), found


def test_a_fresh_data_dir(data_dir: Path) -> None:
    lines, found = _status(data_dir)
    assert lines == [
        "database: reachable",
        "journal: 0 segments, 0 hits not yet loaded (0 bytes)",
        f"data dir: {data_dir}",
    ]
    assert found["database"] == {"reachable": True, "error": None}
    journal = found["journal"]
    assert (journal["segments"], journal["backlog_events"], journal["oldest"]) == (0, 0, None)
    assert journal["in_use"] is False


def test_hits_recorded_while_the_database_is_unreachable_wait_and_are_counted(
    data_dir: Path,
) -> None:
    server = ServerProcess(data_dir, UNREACHABLE)  # its tracker answers all the same
    try:
        registered = inkling(
            data_dir,
            "instrument",
            str(FIXTURES / "eml" / "single_part_html.eml"),
            env={"INKLING_BASE_URL": server.url},  # registered in the SQLite database
        )
        assert registered.returncode == 0, registered.stderr
        pixel = re.search(rb"/t/o/[0-9a-f]+\.gif", registered.stdout)
        ident = re.search(rb" as ([0-9a-f]{20}) ", registered.stderr)
        assert pixel and ident
        for _ in range(2):
            answer = httpx.get(server.url + pixel.group(0).decode(), headers={"User-Agent": "x"})
            assert answer.status_code == 200
        lines, found = _status(data_dir, {"INKLING_DATABASE_URL": UNREACHABLE})
        assert found["journal"]["in_use"] is True and found["journal"]["backlog_events"] == 2
        assert lines[1].endswith("; a server is running on it")
        assert lines[2] == (
            "  they are safe in the journal; the running server loads them once the "
            "database is reachable"
        )
    finally:
        assert server.terminate() in (0, -15)

    lines, found = _status(data_dir, {"INKLING_DATABASE_URL": UNREACHABLE})
    database, journal = found["database"], found["journal"]
    assert database["reachable"] is False
    assert "127.0.0.1" in database["error"] and "9" in database["error"]
    assert journal["backlog_events"] == 2 and journal["segments"] == 1
    assert journal["backlog_bytes"] > 0 and journal["in_use"] is False
    assert ISO_UTC.fullmatch(journal["oldest"])
    assert lines[0].startswith("database: unreachable (the database postgresql+psycopg://")
    assert re.fullmatch(
        r"journal: 1 segment, 2 hits not yet loaded \(\d+ bytes\), the oldest from "
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
        lines[1],
    )
    assert lines[2] == (
        "  they are safe in the journal; inkling serve loads them once the database is reachable"
    )
    assert lines[3] == f"data dir: {data_dir}"

    # With its database back, a server loads them: nothing was lost.
    server = ServerProcess(data_dir)
    try:
        server.wait_loaded()
    finally:
        assert server.terminate() in (0, -15)
    lines, found = _status(data_dir)
    assert found["journal"]["backlog_events"] == 0 and lines[0] == "database: reachable"
    reading = inkling(data_dir, "reading", "--json", ident.group(1).decode())
    assert json.loads(reading.stdout)["opens"]["total"] == 2


def test_the_database_error_is_shown_escaped(data_dir: Path) -> None:
    hostile = UNREACHABLE + "\x1b]0;owned\x07\u009b2J"
    lines, found = _status(data_dir, {"INKLING_DATABASE_URL": hostile})
    assert "\\x1b]0;owned\\x07\\x9b2J" in lines[0]
    assert not any(c in "\n".join(lines) for c in "\x1b\x07\u009b")
    assert found["database"]["error"].count("\x1b]0;owned\x07\u009b2J") == 1


def test_the_work_one_node_at_a_time_does_and_who_holds_it(data_dir: Path) -> None:
    server = ServerProcess(data_dir)
    try:
        found: dict[str, Any] = {}
        for _ in range(100):  # the leases are taken as the server starts
            lines, found = _status(data_dir)
            if len(found["leases"]) == 3:
                break
            time.sleep(0.1)
        assert [lease["name"] for lease in found["leases"]] == ["due", "purge", "webhooks"]
        holders = {lease["holder"] for lease in found["leases"]}
        assert len(holders) == 1 and all(lease["held"] for lease in found["leases"])
        (holder,) = holders
        assert f":{server.process.pid}:" in holder
        assert f"webhooks: held by {holder} until " in "\n".join(lines)
    finally:
        assert server.terminate() in (0, -15)
    _lines, found = _status(data_dir)
    assert found["leases"] == []  # a clean stop gives them up at once
