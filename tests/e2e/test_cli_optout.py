"""``inkling optout`` as an operator uses it when a customer asks, and what it does to the
next ``inkling instrument`` of mail to that customer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow

PUBLIC = {"INKLING_BASE_URL": "https://t.help.example"}
MAIL = (
    b"From: Sam <sam@help.example>\r\n"
    b"To: Ana <Ana@Customer.Example>\r\n"
    b"Message-ID: <opt-1@help.example>\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b'<p>See <a href="https://help.example/articles/refunds">refunds</a></p>\r\n'
)


def test_an_opted_out_customer_gets_the_mail_exactly_as_written(data_dir: Path) -> None:
    added = inkling(data_dir, "optout", "add", "ana@customer.example")
    assert added.returncode == 0, added.stderr
    assert b"ana@customer.example is now opted out" in added.stderr
    again = inkling(data_dir, "optout", "add", "ANA@customer.example")
    assert b"was already opted out" in again.stderr

    done = inkling(data_dir, "instrument", "-", stdin=MAIL, env=PUBLIC)
    assert done.returncode == 0, done.stderr
    assert done.stdout == MAIL
    assert b"not tracked: opt_out" in done.stderr

    reading = json.loads(inkling(data_dir, "reading", "--json", "<opt-1@help.example>").stdout)
    assert (reading["tracking"], reading["untracked"]) == ("none", "opt_out")


def test_a_domain_opt_out_lists_and_removes(data_dir: Path) -> None:
    assert inkling(data_dir, "optout", "add", "@customer.example").returncode == 0
    listed = inkling(data_dir, "optout", "list", "--json")
    [entry] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (entry["target"], entry["scope"], entry["source"]) == (
        "@customer.example",
        "domain",
        "cli",
    )
    assert inkling(data_dir, "optout", "remove", "@customer.example").returncode == 0
    tracked = inkling(data_dir, "instrument", "-", stdin=MAIL, env=PUBLIC)
    assert tracked.returncode == 0 and b"/t/c/" in tracked.stdout
    missing = inkling(data_dir, "optout", "remove", "@customer.example")
    assert missing.returncode == 1
    assert missing.stderr.decode().strip() == "inkling: @customer.example has no opt-out"


@pytest.mark.parametrize("target", ["not an address", "ana@", "<ana@x.example>", "\x1b[31m@x"])
def test_a_bad_target_is_refused_in_one_line(data_dir: Path, target: str) -> None:
    done = inkling(data_dir, "optout", "add", target)
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and "neither an address" in lines[0] and "\x1b" not in lines[0]
