"""Notices between nodes on PostgreSQL: a notice sent through one node's store reaches a
listener on another's, and the listener comes back after the database does."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest

from inkling.store import Store


@pytest.mark.postgres
def test_a_notice_reaches_another_node(pg_database_url: str) -> None:
    sender, listener = Store(pg_database_url), Store(pg_database_url)
    got: queue.Queue[str] = queue.Queue()
    stop = listener.notices.listen("inkling_test", got.put)
    try:
        assert sender.notices.shared
        payload = '{"type":"recommendation.due","data":{"ticket":"<script>"}}'
        for _ in range(50):  # until the listener is connected (it may miss the first)
            sender.notices.send("inkling_test", payload)
            try:
                assert got.get(timeout=0.2) == payload
                break
            except queue.Empty:
                continue
        else:
            pytest.fail("no notice arrived")
    finally:
        stop()
        sender.close()
        listener.close()


def test_sqlite_has_no_one_to_tell_and_a_notice_has_a_size(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'inkling.db'}")
    assert not store.notices.shared
    with pytest.raises(ValueError, match="at most"):
        store.notices.send("inkling_test", "x" * 9000)
    store.close()
