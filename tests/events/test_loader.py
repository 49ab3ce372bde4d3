"""The loader on each backend: the journal moved into the store exactly once, across
restarts and outages, judged on the way, the moved segments removed."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from inkling.classify import Classifier
from inkling.classify.batch import BatchJudge
from inkling.events.journal import JournalWriter, segments
from inkling.events.loader import Judged, Loader
from inkling.model import Event, Verdict
from inkling.store import Store
from inkling.tokens import TokenCodec, new_message_id
from tests.events.test_journal import hit


def write(directory: Path, batches: int, per_batch: int = 10, start: int = 0) -> None:
    journal = JournalWriter(directory, segment_bytes=4096)
    journal.open()
    for b in range(batches):
        journal.append([hit(start + b * per_batch + k) for k in range(per_batch)])
    journal.close()


def load_all(loader: Loader) -> int:
    total = 0
    while moved := loader.run_once():
        total += moved
    return total


def test_every_hit_is_loaded_once_and_the_journal_emptied(
    store: Store, tmp_path: Path, codec: TokenCodec
) -> None:
    directory = tmp_path / "journal"
    write(directory, batches=30)
    assert len(segments(directory)) > 1
    loader = Loader(JournalWriter(directory), store.events, None, codec, batch=25)
    try:
        assert load_all(loader) == 300
        assert load_all(loader) == 0
    finally:
        loader.close()
    assert store.events.count() == 300
    assert segments(directory) == []
    ids = {e.id for e in store.events.for_message(hit(0)[1])}
    assert len(ids) == 300


def test_a_restart_goes_on_where_the_last_load_stopped(
    store: Store, tmp_path: Path, codec: TokenCodec
) -> None:
    directory = tmp_path / "journal"
    write(directory, batches=20)
    first = Loader(JournalWriter(directory), store.events, None, codec, batch=35)
    assert first.run_once() > 0  # some loaded, then the process "dies"
    first.close()
    second = Loader(JournalWriter(directory), store.events, None, codec, batch=35)  # a new start
    load_all(second)
    second.close()
    assert store.events.count() == 200


def test_a_crash_between_the_commit_and_the_removal_stores_nothing_twice(
    store: Store, tmp_path: Path, codec: TokenCodec
) -> None:
    """The segments as they were before the load, put back after it: just what a crash
    right after the load's commit, before its files were removed, leaves behind."""
    directory = tmp_path / "journal"
    write(directory, batches=12)
    before = tmp_path / "before"
    shutil.copytree(directory, before)
    loader = Loader(JournalWriter(directory), store.events, None, codec)
    assert load_all(loader) == 120
    loader.close()
    shutil.rmtree(directory)
    shutil.copytree(before, directory)
    again = Loader(JournalWriter(directory), store.events, None, codec)
    assert load_all(again) == 0
    again.close()
    assert store.events.count() == 120
    assert segments(directory) == []  # recognised as loaded, and removed


def test_the_same_journal_in_a_fresh_database_is_loaded_once(
    store: Store, tmp_path: Path, codec: TokenCodec
) -> None:
    """No progress recorded (a data dir copied to a new database, say), events already
    there: the events' own ids keep them from being stored twice."""
    directory = tmp_path / "journal"
    write(directory, batches=3)
    before = tmp_path / "before"
    shutil.copytree(directory, before)
    loader = Loader(JournalWriter(directory), store.events, None, codec)
    load_all(loader)
    loader.close()
    store.events.forget_progress(["x"])  # no-op for an unknown segment
    with store.database.begin() as connection:
        connection.exec_driver_sql("DELETE FROM journal_progress")
    shutil.rmtree(directory)
    shutil.copytree(before, directory)
    again = Loader(JournalWriter(directory), store.events, None, codec)
    load_all(again)
    again.close()
    assert store.events.count() == 30


def test_loaded_hits_are_judged(store: Store, tmp_path: Path, codec: TokenCodec) -> None:
    directory = tmp_path / "journal"
    journal = JournalWriter(directory)
    journal.open()
    mpp = ("open", "cd" * 10, 1_796_000_100.0, 1_796_000_000, None, "GET", "17.58.0.0",
           "apple_relay", [(b"user-agent", b"Mozilla/5.0")])  # fmt: skip
    journal.append([mpp])
    journal.close()
    loader = Loader(JournalWriter(directory), store.events, BatchJudge(Classifier()), codec)
    load_all(loader)
    loader.close()
    [event] = store.events.for_message(mpp[1])  # type: ignore[arg-type]
    assert event.verdict == Verdict.MACHINE and event.reasons


def test_a_judge_that_fails_keeps_the_hits_unknown(
    store: Store, tmp_path: Path, codec: TokenCodec
) -> None:
    class Broken:
        def judge(self, batch: Sequence[Event], now: float) -> Judged:
            raise RuntimeError("a bug")

    directory = tmp_path / "journal"
    write(directory, batches=1)
    loader = Loader(JournalWriter(directory), store.events, Broken(), codec)
    load_all(loader)
    loader.close()
    assert loader.status.judge_errors == 1
    assert {e.verdict for e in store.events.for_message(hit(0)[1])} == {Verdict.UNKNOWN}


def test_while_the_database_is_away_hits_wait_and_then_load(
    tmp_path: Path, codec: TokenCodec
) -> None:
    """The database file's directory cannot be made while a plain file stands in its
    way (the database is unavailable); once it can, the running loader catches up."""
    blocker = tmp_path / "db"
    blocker.write_text("not a directory")
    store = Store(f"sqlite:///{blocker / 'inkling.db'}")
    directory = tmp_path / "journal"
    write(directory, batches=5)
    writer = JournalWriter(directory)
    loader = Loader(writer, store.events, None, codec, interval=0.02)
    loader.start()
    try:
        deadline = time.monotonic() + 5
        while loader.status.database_reachable is not False and time.monotonic() < deadline:
            time.sleep(0.02)
        assert loader.status.database_reachable is False
        assert loader.status.loaded == 0
        blocker.unlink()
        deadline = time.monotonic() + 15
        while loader.status.loaded < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        loader.stop()
    assert loader.status.database_reachable is True
    assert store.events.count() == 50
    store.close()


def test_a_pixel_token_is_checked_here_and_a_forged_one_dropped(
    store: Store, tmp_path: Path, codec: TokenCodec
) -> None:
    """The tracker leaves a pixel's token to the loader: a good one becomes an open of its
    message, a forged or altered one is dropped, and the ids stay those of the positions."""
    directory = tmp_path / "journal"
    message = new_message_id()
    good = codec.open_token(message, 1_796_000_000)
    altered = good[:-2] + ("00" if good[-2:] != "00" else "11")
    journal = JournalWriter(directory)
    journal.open()
    journal.append([("pixel", token, 1_796_000_100.0, 0, None, "GET", "198.51.100.0", "", [])
                    for token in (altered, good, "0" * len(good))])  # fmt: skip
    [segment] = segments(directory)
    journal.close()
    loader = Loader(JournalWriter(directory), store.events, None, codec)
    load_all(loader)
    loader.close()
    [event] = store.events.for_message(message)
    assert (event.kind.value, event.sent_at, event.id) == (
        "open",
        1_796_000_000,
        segment.event_id(1),
    )
    assert store.events.count() == 1


def test_hits_on_mail_past_retention_are_dropped_and_the_journal_still_empties(
    store: Store, tmp_path: Path, codec: TokenCodec
) -> None:
    directory = tmp_path / "journal"
    write(directory, batches=30)  # mail sent at 1_796_000_000: older than an hour
    loader = Loader(
        JournalWriter(directory), store.events, None, codec, batch=25, retention_seconds=3600
    )
    try:
        for _ in range(5):
            loader.run_once()
        assert loader.backlog_events() == 0
    finally:
        loader.close()
    assert store.events.count() == 0
    assert segments(directory) == []
