"""``inkling purge``, ``export``, ``erase`` and ``audit``, run as an operator runs them on a
data dir holding a contact's tickets, mail and events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inkling.datadir import DataDir
from inkling.store import Store
from tests.e2e.test_cli import inkling
from tests.privacy import test_erase, test_retention
from tests.privacy.test_erase import ADDRESS, LOWER, NEEDLES

pytestmark = pytest.mark.slow


@pytest.fixture
def store(data_dir: Path) -> Store:
    """The data dir's own SQLite database, as the commands open it."""
    return Store(DataDir(data_dir).sqlite_url)


def _audit(data_dir: Path) -> list[dict[str, object]]:
    done = inkling(data_dir, "audit", "--json")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_purge_says_what_it_removed_and_the_reading_keeps_the_counts(
    data_dir: Path, store: Store
) -> None:
    message = test_retention.plant(store)

    done = inkling(data_dir, "purge")

    assert done.returncode == 0, done.stderr
    summary = done.stdout.decode()
    assert summary.startswith("purged 5 events older than 180 days (before ")
    assert "their counts kept in 3 tallies" in summary and len(summary.splitlines()) == 1
    reading = json.loads(inkling(data_dir, "reading", message, "--json").stdout)
    assert reading["expired"]["opens"] == {"total": 4, "human": 1, "machine": 3, "unknown": 0}
    assert len(reading["events"]) == 1  # the young open
    again = inkling(data_dir, "purge", "--older-than", "1")
    assert again.stdout.startswith(b"purged 1 event older than 1 day ")
    assert [e["action"] for e in _audit(data_dir)] == ["events.purge", "events.purge"]


def test_purge_refuses_a_retention_of_no_days(data_dir: Path) -> None:
    done = inkling(data_dir, "purge", "--older-than", "0")
    assert done.returncode == 2
    assert b"--older-than" in done.stderr


def test_export_prints_json_of_all_that_is_held(data_dir: Path, store: Store) -> None:
    test_erase.plant(store)

    done = inkling(data_dir, "export", "--contact", ADDRESS)

    assert done.returncode == 0, done.stderr
    held = json.loads(done.stdout)
    assert held["contact"]["address"] == LOWER
    assert [t["id"] for t in held["tickets"]] == ["T-1"]
    assert len(held["messages"]) == 3
    assert all(e["ts"].endswith("Z") for m in held["messages"] for e in m["events"])
    said = b"exported a contact (1 ticket, 3 messages); recorded in the audit log"
    assert done.stderr.startswith(said) and done.stderr.count(b"\n") == 1


def test_erase_off_a_terminal_without_yes_refuses_and_changes_nothing(
    data_dir: Path, store: Store
) -> None:
    test_erase.plant(store)
    before = store.subjects.scan(NEEDLES)

    done = inkling(data_dir, "erase", "--contact", ADDRESS, stdin=b"y\n")

    assert done.returncode == 2
    assert done.stderr == (
        b"inkling: erase needs --yes when not run on a terminal; nothing was erased\n"
    )
    assert store.subjects.scan(NEEDLES) == before
    assert _audit(data_dir) == []


def test_erase_with_yes_removes_it_all_and_the_audit_holds_no_address(
    data_dir: Path, store: Store
) -> None:
    test_erase.plant(store)
    inkling(data_dir, "export", "--contact", LOWER)

    done = inkling(data_dir, "erase", "--contact", ADDRESS, "--yes")

    assert done.returncode == 0, done.stderr
    said = done.stdout.decode()
    assert said.startswith("erased a contact (1 ticket, 3 messages)\n")
    assert "1 message shared with others kept, their address taken out" in said
    assert not any(n.lower() in said.lower() for n in NEEDLES)
    assert store.subjects.scan(NEEDLES) == []
    entries = _audit(data_dir)
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("cli", "contact.export"),
        ("cli", "contact.erase"),
    ]
    assert entries[1]["target"] == "a contact (1 ticket, 3 messages)"
    logged = json.dumps(entries).lower()
    assert not any(n.lower() in logged for n in NEEDLES)
    table = inkling(data_dir, "audit")
    assert table.returncode == 0 and b"contact.erase" in table.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("export", "--contact", "ana"), b"inkling: --contact: not an email address: 'ana'\n"),
        (("erase", "--contact", "a@b, c@d", "--yes"), b"inkling: --contact: not an email"),
        (("audit", "--since", "last week"), b"inkling: --since must be ISO 8601"),
    ],
)
def test_bad_input_is_one_line_and_a_usage_error(
    data_dir: Path, args: tuple[str, ...], said: bytes
) -> None:
    done = inkling(data_dir, *args)
    assert done.returncode == 2
    assert done.stderr.startswith(said) and done.stderr.count(b"\n") == 1
