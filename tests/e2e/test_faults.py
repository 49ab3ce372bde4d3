"""Nothing acknowledged is lost, under every fault: the real server, the real PostgreSQL
stopped and started, a real disk that fills up.

Every hit carries a user agent of its own, so what is stored is matched hit for hit:
each acknowledged hit stored exactly once, none answered with an error, and the whole
client address (sent through a trusted proxy's X-Forwarded-For) written nowhere.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inkling.store import Store
from inkling.tokens import TokenCodec, new_message_id
from tests.e2e.load import Load, hit_paths
from tests.e2e.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.alone]

OUTAGE_SECONDS = 20.0
CLIENT = "198.51.100.77"  # the customer's whole address: never to be written down
BEHIND_PROXY = {"INKLING_TRUSTED_PROXIES": '["127.0.0.1"]'}


class Postgres:
    """The machine's PostgreSQL cluster, stopped and started for real."""

    def __init__(self) -> None:
        versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
        self._cluster = [versions[-1], "main"]

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def start(self) -> None:
        if not self._ready():
            self._ctl("start")
        deadline = time.monotonic() + 30
        while not self._ready():
            if time.monotonic() > deadline:
                raise TimeoutError("PostgreSQL did not come back")
            time.sleep(0.2)

    @staticmethod
    def _ready() -> bool:
        ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"])
        return ready.returncode == 0

    def _ctl(self, action: str, *options: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *self._cluster, action, *options],
            check=True,
            capture_output=True,
        )


@pytest.fixture
def postgres(pg_database_url: str) -> Iterator[Postgres]:
    if not Path("/etc/postgresql").is_dir():
        pytest.skip("no local PostgreSQL cluster to stop")
    cluster = Postgres()
    try:
        yield cluster
    finally:
        cluster.start()  # whatever happened, the rest of the suite gets it back


def stored_agents(database_url: str, message: str) -> Counter[str]:
    store = Store(database_url)
    try:
        return Counter(e.user_agent or "" for e in store.events.for_message(message))  # type: ignore[arg-type]
    finally:
        store.close()


def assert_exactly_once(load: Load, stored: Counter[str]) -> None:
    lost = load.acknowledged - set(stored)
    assert not lost, f"{len(lost)} acknowledged hits lost, e.g. {sorted(lost)[:3]}"
    twice = [agent for agent, n in stored.items() if n > 1]
    assert not twice, f"{len(twice)} hits stored more than once, e.g. {twice[:3]}"


def assert_whole_address_nowhere(data_dir: Path, database_url: str) -> None:
    needle = CLIENT.encode()
    for path in data_dir.rglob("*"):
        if path.is_file() and path.name != "serve.log":
            assert needle not in path.read_bytes(), f"the whole client address is in {path}"
    if database_url.startswith("postgresql"):
        dump = subprocess.run(
            ["pg_dump", "--data-only", database_url.replace("+psycopg", "")],
            capture_output=True,
            check=True,
        )
        assert needle not in dump.stdout, "the whole client address is in the database"


def outage(load: Load, postgres: Postgres, seconds: float) -> int:
    """Stop PostgreSQL for ``seconds`` under ``load``; the hits answered meanwhile."""
    before = len(load.answered)
    postgres.stop()
    time.sleep(seconds)
    return len(load.answered) - before


@pytest.mark.postgres
def test_the_database_stopped_under_load_costs_no_hit(
    data_dir: Path, codec: TokenCodec, pg_database_url: str, postgres: Postgres
) -> None:
    message = new_message_id()
    server = ServerProcess(data_dir, pg_database_url, env=BEHIND_PROXY)
    try:
        with Load(server.port, hit_paths(codec, message), forwarded_for=CLIENT) as load:
            load.wait_for(300)
            during = outage(load, postgres, OUTAGE_SECONDS)
            down = server.readiness()
            postgres.start()
            load.wait_for(len(load.answered) + 300)
        assert during > 100, "the server stopped answering while the database was down"
        assert down["database"] == {"reachable": False, "error": down["database"]["error"]}  # type: ignore[index]
        assert down["status"] == "ready"  # it still records every hit
        assert down["journal"]["backlog_events"] > 0  # type: ignore[index]  # and says so
        assert not load.failed and not load.unrecorded, load.failed[:3]
        server.wait_loaded(timeout=60)
    finally:
        server.stop()
    assert_exactly_once(load, stored_agents(pg_database_url, message))
    assert_whole_address_nowhere(data_dir, pg_database_url)


@pytest.mark.postgres
def test_killed_during_an_outage_and_started_again_without_the_database(
    data_dir: Path, codec: TokenCodec, pg_database_url: str, postgres: Postgres
) -> None:
    """kill -9 while the database is down, then a new start while it is still down: the
    node serves links at once, and once the database is back every hit acknowledged by
    either process is stored exactly once."""
    message = new_message_id()
    paths = hit_paths(codec, message)
    first = ServerProcess(data_dir, pg_database_url, env=BEHIND_PROXY)
    with Load(first.port, paths, forwarded_for=CLIENT) as before:
        before.wait_for(300)
        postgres.stop()
        before.wait_for(len(before.answered) + 300)
        first.kill()
    second = ServerProcess(data_dir, pg_database_url, env=BEHIND_PROXY)
    try:
        with Load(second.port, paths, forwarded_for=CLIENT) as after:
            after.wait_for(300)
            time.sleep(OUTAGE_SECONDS / 2)
            postgres.start()
            after.wait_for(len(after.answered) + 300)
        assert not after.failed and not after.unrecorded, after.failed[:3]
        second.wait_loaded(timeout=60)
    finally:
        second.stop()
    stored = stored_agents(pg_database_url, message)
    assert_exactly_once(before, stored)
    assert_exactly_once(after, stored)
    assert_whole_address_nowhere(data_dir, pg_database_url)


@pytest.mark.postgres
def test_a_node_started_while_the_database_is_down_serves_links(
    data_dir: Path, codec: TokenCodec, pg_database_url: str, postgres: Postgres
) -> None:
    message = new_message_id()
    pixel, click = hit_paths(codec, message)
    postgres.stop()
    server = ServerProcess(data_dir, pg_database_url)
    try:
        with httpx.Client(base_url=server.url) as http:
            redirect = http.get(click, headers={"User-Agent": "probe-a"})
            image = http.get(pixel, headers={"User-Agent": "probe-b"})
        assert redirect.status_code == 302
        assert redirect.headers["location"] == "https://help.acme.example/x"
        assert image.status_code == 200 and image.headers["content-type"] == "image/gif"
        assert "x-inkling-recorded" not in redirect.headers  # in the journal: recorded
        deadline = time.monotonic() + 10
        while server.readiness()["database"]["reachable"] is not False:  # type: ignore[index]
            assert time.monotonic() < deadline
            time.sleep(0.1)
        postgres.start()
        server.wait_loaded(timeout=60)
    finally:
        server.stop()
    assert stored_agents(pg_database_url, message) == Counter({"probe-a": 1, "probe-b": 1})


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs for the data dir: a real disk that fills up."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_journal_disk_loses_no_acknowledged_hit(small_disk: Path, tmp_path: Path) -> None:
    """The journal's disk filled to its last bytes: the customer still gets every GIF
    and redirect, the hits that cannot be written are marked unrecorded (and counted),
    and every hit acknowledged before, during and after is stored exactly once."""
    data_dir = small_disk / "data"
    data_dir.mkdir()
    codec = TokenCodec.for_data_dir(data_dir)
    database_url = f"sqlite:///{tmp_path / 'elsewhere.db'}"  # the database has room
    message = new_message_id()
    server = ServerProcess(data_dir, database_url, log=tmp_path / "serve.log")
    filler = small_disk / "filler"
    try:
        with Load(server.port, hit_paths(codec, message), workers=4) as load:
            load.wait_for(200)
            _fill(filler)
            load.wait_for(len(load.answered) + 2000)
            unrecorded = len(load.unrecorded)
            filler.unlink()
            load.wait_for(len(load.answered) + 500)
        assert not load.failed, load.failed[:3]
        assert unrecorded > 0, "the disk never filled"
        counted = server.readiness()["journal"]["unrecorded_hits"]  # type: ignore[index]
        assert counted == len(load.unrecorded)
        server.wait_loaded(timeout=60)
    finally:
        server.stop()
    assert_exactly_once(load, stored_agents(database_url, message))
    assert len(load.acknowledged) > 700  # the journal took hits again once there was room


def _fill(path: Path) -> None:
    """Fill the disk ``path`` is on to its last byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 4096, 1):
            chunk = b"\0" * size
            try:
                while os.write(fd, chunk) == size:
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)
