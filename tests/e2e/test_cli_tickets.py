"""``inkling tickets import``, ``inkling queue``, ``inkling messages list`` and ``inkling
parse --record``, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import inkling

EML = b"""From: Sam <sam@help.example>\r
To: Ana <ana@customer.example>\r
Subject: Your refund [#4123]\r
Message-ID: <refund-1@help.example>\r
Date: Mon, 16 Nov 2026 10:00:00 +0000\r
MIME-Version: 1.0\r
Content-Type: text/html; charset=utf-8\r
\r
<p>See <a href="https://help.example/articles/refunds">the guide</a>.</p>\r
"""

REPLY = b"""From: Ana <ana@customer.example>\r
To: Sam <sam@help.example>\r
Subject: Re: Your refund [#4123]\r
Message-ID: <reply-1@customer.example>\r
In-Reply-To: <refund-1@help.example>\r
References: <refund-1@help.example>\r
Date: Tue, 17 Nov 2026 08:30:00 +0000\r
Content-Type: text/plain; charset=utf-8\r
\r
Thanks, that worked.\r
"""


def _ticket(**fields: object) -> bytes:
    body = {"id": "4123", "priority": "urgent", "created_at": "2026-11-16T09:00:00Z"} | fields
    return json.dumps(body).encode() + b"\n"


def test_import_queue_and_a_reply_recorded_from_a_file(data_dir: Path, tmp_path: Path) -> None:
    tickets = tmp_path / "tickets.jsonl"
    tickets.write_bytes(_ticket() + b'{"id": "9", "status": "maybe", "created_at": 1}\n')
    imported = inkling(data_dir, "tickets", "import", str(tickets))
    assert imported.returncode == 1
    assert f"{tickets}:2: status must be one of".encode() in imported.stderr
    assert b"1 ticket(s) stored" in imported.stderr

    eml = tmp_path / "refund.eml"
    eml.write_bytes(EML)
    sent = inkling(
        data_dir,
        "instrument",
        str(eml),
        "--base-url",
        "https://t.example",
        "--sent-at",
        "2026-11-16T10:00:00Z",
    )
    assert sent.returncode == 0, sent.stderr

    queue = inkling(data_dir, "queue", "--json", "--at", "2026-11-17T10:00:00Z")
    (item,) = json.loads(queue.stdout)
    assert (item["ticket"], item["action"], item["due_now"]) == ("4123", "escalate", True)
    assert item["message"] == "<refund-1@help.example>"  # joined by the [#4123] subject

    reply = tmp_path / "reply.eml"
    reply.write_bytes(REPLY)
    for _ in range(2):  # recording the same file twice records one event
        parsed = inkling(data_dir, "parse", "--record", str(reply))
        assert parsed.returncode == 0, parsed.stderr
        line = json.loads(parsed.stdout)
        assert line["kind"] == "reply" and line["recorded"]["event"]
    reading = json.loads(inkling(data_dir, "reading", "--json", "<refund-1@help.example>").stdout)
    assert [e["kind"] for e in reading["events"]] == ["reply"]
    assert reading["events"][0]["ts"] == "2026-11-17T08:30:00Z"
    assert reading["state"] == "replied"

    after = inkling(data_dir, "queue", "--json", "--all", "--at", "2026-11-17T10:00:00Z")
    assert [i["action"] for i in json.loads(after.stdout)] == ["none"]
    table = inkling(data_dir, "queue", "--all", "--at", "2026-11-17T10:00:00Z")
    assert b"The customer replied" in table.stdout and b"4123" in table.stdout

    listed = inkling(data_dir, "messages", "list", "--ticket", "4123", "--json")
    (message,) = json.loads(listed.stdout)["messages"]
    assert message["recipients"][0]["state"] == "replied"


def test_nothing_from_outside_reaches_the_terminal_raw(data_dir: Path, tmp_path: Path) -> None:
    tickets = tmp_path / "t.jsonl"
    tickets.write_bytes(
        _ticket(id="\x1b]0;pwned\x07")  # refused: an id is printable
        + _ticket(id="4124", assignee="\x1b]0;pwned\x07\x1b[31mred@x.example")
    )
    imported = inkling(data_dir, "tickets", "import", str(tickets))
    assert b"id must be at most 200 printable characters" in imported.stderr
    table = inkling(data_dir, "queue", "--all")
    assert b"\x1b]0" not in table.stdout and b"\x1b[31m" not in table.stdout
    assert b"\\x1b" in table.stdout


def test_bad_options_get_one_line(data_dir: Path) -> None:
    bad = inkling(data_dir, "queue", "--at", "soon")
    assert bad.returncode != 0 and b"--at must be ISO 8601" in bad.stderr
    state = inkling(data_dir, "messages", "list", "--state", "read")
    assert state.returncode != 0 and b"state must be one of" in state.stderr
    missing = inkling(data_dir, "tickets", "import", "/nonexistent.jsonl")
    assert missing.returncode != 0 and b"cannot read /nonexistent.jsonl" in missing.stderr
