"""Work one node at a time does, on two holders sharing one database: only the lease
holder runs it; a clean stop hands it over at once; a holder that dies (stops renewing,
its work gone with it) is replaced once its lease has run out; never both at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inkling.leased import LeasedWork
from inkling.store import Store

SECONDS = 0.9  # short leases: a turn every 0.3 s


class Work:
    """Counts how many holders run the work at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: list[str] = []
        self.most_at_once = 0

    def starter(self, node: str) -> Callable[[], Callable[[], None]]:
        def start() -> Callable[[], None]:
            with self.lock:
                self.running.append(node)
                self.most_at_once = max(self.most_at_once, len(self.running))

            def stop() -> None:
                with self.lock:
                    self.running.remove(node)

            return stop

        return start


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'inkling.db'}")
    yield store
    store.close()


def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


def test_one_holder_runs_the_work_and_a_clean_stop_hands_it_over(shared: Store) -> None:
    work = Work()
    a = LeasedWork(shared.leases, "webhooks", work.starter("a"), holder="a", seconds=SECONDS)
    b = LeasedWork(shared.leases, "webhooks", work.starter("b"), holder="b", seconds=SECONDS)
    stop_a = a.start()
    _until(lambda: a.running)
    stop_b = b.start()
    time.sleep(3 * SECONDS)  # a renews all along: b never gets it
    assert work.running == ["a"]
    stop_a()
    _until(lambda: b.running, seconds=SECONDS)  # released: b takes it at its next turn
    stop_b()
    assert work.running == []
    assert work.most_at_once == 1


def test_a_dead_holder_is_replaced_once_its_lease_runs_out(shared: Store) -> None:
    work = Work()
    a = LeasedWork(shared.leases, "due", work.starter("a"), holder="a", seconds=SECONDS)
    b = LeasedWork(shared.leases, "due", work.starter("b"), holder="b", seconds=SECONDS)
    a.start()
    _until(lambda: a.running)
    stop_b = b.start()
    died = time.monotonic()
    a._halt.set()  # a dies: no more renewals, no release, its work gone with it
    a._thread.join()
    a._stop()
    _until(lambda: b.running)
    waited = time.monotonic() - died
    stop_b()
    assert work.most_at_once == 1
    assert waited <= SECONDS * 4 / 3 + 1.0  # the lease, a turn, and slack for a busy machine
