"""``inkling demo``: a month of a support team, filled through the real intake and served.

One fresh data dir is filled once for the module (``inkling demo --no-serve``, as a user
runs it); the tests then read it as a user would: the queue, the readings, the reports, the
login printed. The demo refuses a data dir that holds other data, and on its own data dir
it only serves again, with a new password for the lead.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from inkling.classify import Classifier
from inkling.datadir import DataDir
from inkling.demo import LEAD, REPLIES, TEAMS, TICKETS, Freshness, fill, freshness
from inkling.demo.company import HELP_CENTER, LINKS
from inkling.demo.month import draw_month
from inkling.playbook.calendar import BusinessCalendar
from inkling.playbook.teams import Team, TeamBook
from inkling.providers import Importer
from inkling.reports import Period, build_report
from inkling.store import Store
from tests.e2e.server import INKLING, free_port
from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow
DAY = 86_400.0
#: A Wednesday morning in Berlin, in the past: the in-process fill is timed from it.
NOW = 1_795_598_400.0  # 2026-11-25T09:20:00Z
STORIES = ("demo-refund", "demo-sso", "demo-sso-scim", "demo-workflow", "demo-invoice", "demo-vpn")


@dataclass(frozen=True)
class Demo:
    data_dir: Path
    said: str  # what inkling demo --no-serve printed

    @property
    def config(self) -> dict[str, str]:
        return {"INKLING_CONFIG": str(self.data_dir / "inkling.toml")}

    def run(self, *args: str) -> Any:
        done = inkling(self.data_dir, *args, env=self.config)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def reading(self, slug: str) -> dict[str, Any]:
        found: dict[str, Any] = self.run("reading", f"<{slug}@demo.inkling.example>", "--json")
        return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    done = inkling(data_dir, "demo", "--no-serve")
    assert done.returncode == 0, done.stderr
    return Demo(data_dir, done.stderr.decode())


def _teams() -> TeamBook:
    return TeamBook(
        {
            t.name: Team(t.name, BusinessCalendar(t.timezone, hours=t.hours, holidays=t.holidays))
            for t in TEAMS
        }
    )


def test_the_month_has_its_teams_tickets_replies_and_people(demo: Demo) -> None:
    said = demo.said
    assert "3 teams, 20 agents and a lead; 2,000 tickets" in said
    assert "6,000 replies" in said
    with sqlite3.connect(DataDir(demo.data_dir).database) as db:
        tickets = db.execute("SELECT COUNT(*), COUNT(DISTINCT team) FROM tickets").fetchone()
        replies = db.execute("SELECT COUNT(DISTINCT message_id) FROM messages").fetchone()[0]
        kinds = dict(db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall())
        open_tickets = db.execute(
            "SELECT COUNT(*) FROM tickets WHERE status NOT IN ('solved', 'closed')"
        ).fetchone()[0]
    assert tickets == (2000, 3) and replies == 6000
    assert sum(kinds.values()) > 15_000  # tens of thousands of signals, of every kind
    assert {"open", "click", "reply", "bounce", "autoreply", "delivered"} <= kinds.keys()
    assert 100 < open_tickets < 1000  # solved and open tickets both
    store = Store(DataDir(demo.data_dir).sqlite_url)
    users = {u.email: u for u in store.accounts.users()}
    store.close()
    assert users[LEAD].role == "lead" and users[LEAD].password
    agents = [u for u in users.values() if u.role == "agent"]
    assert len(agents) == 20
    assert {team for u in agents for team in u.teams} == {"billing", "technical", "onboarding"}


def test_the_queue_has_due_items_with_reasons_on_each_teams_clock(demo: Demo) -> None:
    queue = demo.run("queue", "--json")
    due = [item for item in queue if item["due_now"]]
    assert len(due) >= 20 and len(queue) > len(due)
    assert all(item["reason"] and item["action"] != "none" for item in queue)
    assert {item["team"] for item in due} == {"billing", "technical", "onboarding"}
    actions = {item["action"] for item in queue}
    assert {"escalate", "nudge", "check_in", "fix_address", "simplify", "wait_until"} <= actions
    by_ticket = {item["ticket"]: item for item in queue}
    sso = by_ticket["48230"]  # high, and only machines since the last reply
    assert (sso["action"], sso["due_now"], sso["state"]) == ("escalate", True, "machine_only")
    assert "Apple's proxy fetched the images" in sso["reason"]
    assert "business day" in sso["reason"]  # counted on technical's New York clock
    assert by_ticket["48250"]["action"] == "fix_address"
    assert by_ticket["48241"]["action"] == "simplify"
    assert by_ticket["48262"]["action"] == "wait_until" and not by_ticket["48262"]["due_now"]


def test_a_tickets_timeline_tells_machines_from_people(demo: Demo) -> None:
    first, second = demo.reading("demo-sso"), demo.reading("demo-sso-scim")
    sent = _seconds(first["sent_at"])
    seen = [(e["kind"], e["verdict"], e["agent"]) for e in first["events"]]
    scans = [e for e in first["events"] if e["agent"] == "scanner:safelinks"]
    assert len(scans) == 3 and all(_seconds(e["ts"]) - sent < 3 for e in scans)
    assert all(e["verdict"] == "machine" and e["reasons"] for e in scans)
    assert ("open", "human", "mail_client") in seen  # Outlook, 25 minutes later
    assert ("click", "human", "browser") in seen
    assert ("reply", "human", "reply") in seen
    assert first["state"] == "replied" and first["sentence"].startswith("The customer replied")
    assert first["clicks"] == {"total": 4, "human": 1, "machine": 3, "unknown": 0}
    agents = {e["agent"] for e in second["events"]}
    assert {"apple_mpp", "scanner:safelinks"} <= agents and second["state"] == "machine_only"
    states = {slug: demo.reading(slug)["state"] for slug in STORIES}
    assert states == {
        "demo-refund": "clicked",
        "demo-sso": "replied",
        "demo-sso-scim": "machine_only",
        "demo-workflow": "opened",
        "demo-invoice": "bounced",
        "demo-vpn": "away",
    }


def test_help_articles_of_different_quality_are_flagged(demo: Demo) -> None:
    store = Store(DataDir(demo.data_dir).sqlite_url)
    try:
        now = time.time()
        report = build_report(
            store, _teams(), Period(now - 30 * DAY, now), help_center=[HELP_CENTER]
        )
    finally:
        store.close()
    flags = {link.url: link.flags for link in report.content}
    # the guide is opened and hardly clicked; the few who click it may also come back (the
    # month is drawn for the hour the test runs at), which adds "did_not_help"
    assert "opened_not_clicked" in flags[LINKS["guide"].url]
    assert flags[LINKS["saml"].url] == ["did_not_help"]
    assert flags[LINKS["refunds"].url] == []
    assert report.outcomes.tickets_solved > 1000
    assert any("not_opened" in s.flags for s in report.subjects)


def test_again_it_serves_with_a_new_password_that_signs_in(demo: Demo) -> None:
    port = free_port()
    log = demo.data_dir.parent / "demo-serve.log"
    env = {**os.environ, "INKLING_DATA_DIR": str(demo.data_dir)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(INKLING), "demo", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    try:
        url = _ready(process, port, log)
        said = log.read_text()
        assert "demo data: already there" in said
        password = re.search(r"sign in as \S+ with password (\S+)", said)
        assert password and f"dashboard: {url}/" in said
        old = re.search(r"with password (\S+)", demo.said)
        assert old and old.group(1) != password.group(1)
        with httpx.Client(base_url=url) as browser:
            assert _sign_in(browser, old.group(1)).status_code == 401
        with httpx.Client(base_url=url) as browser:
            signed = _sign_in(browser, password.group(1))
            assert (signed.status_code, signed.headers["location"]) == (303, "/")
            assert browser.get("/api/v1/queue").status_code == 200
    finally:
        process.terminate()
        process.wait(20)


def test_a_data_dir_with_other_data_is_refused_and_left_alone(data_dir: Path) -> None:
    made = inkling(
        data_dir,
        "users",
        "create",
        "--email",
        "ana@help.example",
        "--role",
        "admin",
        "--password-stdin",
        stdin=b"a long enough password\n",
    )
    assert made.returncode == 0, made.stderr
    done = inkling(data_dir, "demo", "--no-serve")
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.startswith(b"inkling: the data dir ") and b"holds data" in done.stderr
    assert not (data_dir / "inkling.toml").exists()


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_the_same_month_on_postgresql(database_url: str) -> None:
    """The month drawn for a given now is the same each time, and fills PostgreSQL too."""
    teams = _teams()

    def clocks(name: str) -> BusinessCalendar:
        return teams.team(name).calendar

    drawn = [draw_month(clocks, NOW, seed=11, tickets=100, replies=300) for _ in range(2)]
    assert drawn[0].lines == drawn[1].lines and drawn[0].tickets == drawn[1].tickets
    store = Store(database_url)
    try:
        assert freshness(store) is Freshness.EMPTY
        filled = fill(store, Importer(store, Classifier()), teams, now=NOW)
        assert (filled.tickets, filled.replies) == (TICKETS, REPLIES)
        assert freshness(store) is Freshness.DEMO
        assert len(store.tickets.open_threads(NOW)) == filled.open_tickets
    finally:
        store.close()


def _seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _ready(process: subprocess.Popen[bytes], port: int, log: Path) -> str:
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"inkling demo exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"inkling demo did not come up: {log.read_text()}")


def _sign_in(browser: httpx.Client, password: str) -> httpx.Response:
    page = browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    form = {"email": LEAD, "password": password, "csrf_token": token.group(1)}
    return browser.post("/login", data=form)
