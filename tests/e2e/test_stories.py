"""The stories support teams tell, end to end through the command line a team would use:
``inkling tickets import``, ``inkling events import`` and ``inkling queue --at ... --json``.

Every hit is judged by the real classifier from what a real client sends (its address and
user agent), not given a verdict: an Apple-proxy fetch and a Safe Links check must come out
as machines, a customer's Outlook and Chrome as a person, or the story fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import inkling

GUIDE = "https://help.example/articles/refunds"
OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/142.0.0.0 Safari/537.36"
)
SAFE_LINKS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/101.0.4951.64 Safari/537.36"
)
HOME = "82.132.215.9"  # a residential broadband address
APPLE = "17.58.101.7"  # Apple's Mail Privacy Protection relays (published ranges)
MICROSOFT = "40.94.3.7"  # Exchange Online Protection, where Safe Links checks from
BROWSER_HEADERS = {"accept-language": "en-GB,en;q=0.9", "sec-fetch-site": "none"}

TEAMS = """
[teams.billing]
timezone = "Europe/Berlin"
holidays = "DE"

[teams.us]
timezone = "America/New_York"
holidays = "US"
"""


class Team:
    """A data dir with the team's inkling.toml beside it, and the files it imports."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        (data_dir.parent / "inkling.toml").write_text(TEAMS)
        self._files = 0

    def tickets(self, *tickets: dict[str, Any]) -> None:
        self._run("tickets", "import", self._file(tickets))

    def events(self, *events: dict[str, Any]) -> None:
        self._run("events", "import", self._file(events))

    def queue(self, at: str) -> dict[str, dict[str, Any]]:
        done = self._run("queue", "--json", "--all", "--at", at)
        return {item["ticket"]: item for item in json.loads(done.stdout)}

    def action(self, ticket: str, at: str) -> tuple[str, str, bool]:
        item = self.queue(at)[ticket]
        return item["action"], item["due"], item["due_now"]

    def _file(self, lines: tuple[dict[str, Any], ...]) -> str:
        self._files += 1
        path = self.data_dir.parent / f"import-{self._files}.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        return str(path)

    def _run(self, *args: str) -> Any:
        done = inkling(self.data_dir, *args)
        assert done.returncode == 0, done.stderr.decode()
        return done


@pytest.fixture
def team(data_dir: Path) -> Team:
    return Team(data_dir)


def sent(message: str, ticket: str, ts: str) -> dict[str, Any]:
    return {
        "type": "sent",
        "message": message,
        "ticket": ticket,
        "recipient": "ana@customer.example",
        "ts": ts,
        "subject": "Your refund",
        "links": [GUIDE],
    }


def hit(kind: str, message: str, ts: str, ip: str, ua: str, **more: Any) -> dict[str, Any]:
    line = {"type": kind, "message": message, "ts": ts, "ip": ip, "ua": ua, "method": "GET"}
    return line | more


def test_a_opened_twice_and_the_guide_clicked_holds_then_checks_in(team: Team) -> None:
    team.tickets({"id": "A1", "priority": "normal", "created_at": "2026-11-02T09:00:00Z"})
    m = "<a1@help.example>"
    team.events(
        sent(m, "A1", "2026-11-02T10:00:00Z"),  # a Monday
        hit("open", m, "2026-11-02T10:40:00Z", HOME, OUTLOOK),
        hit("open", m, "2026-11-02T13:55:00Z", HOME, OUTLOOK),
        hit("click", m, "2026-11-02T14:05:00Z", HOME, CHROME, url=GUIDE, headers=BROWSER_HEADERS),
    )
    # 14:05 + 4 business hours: 2 h 55 min on Monday, 1 h 05 min on Tuesday
    assert team.action("A1", "2026-11-02T15:00:00Z") == ("hold", "2026-11-03T10:05:00Z", False)
    assert team.action("A1", "2026-11-03T10:04:59Z") == ("hold", "2026-11-03T10:05:00Z", False)
    assert team.action("A1", "2026-11-03T10:05:00Z") == ("check_in", "2026-11-03T10:05:00Z", True)
    assert team.queue("2026-11-02T15:00:00Z")["A1"]["state"] == "clicked"


def test_b_urgent_billing_only_apples_proxy_escalates_one_business_day_later(team: Team) -> None:
    team.tickets(
        {
            "id": "B1",
            "priority": "urgent",
            "team": "billing",
            "created_at": "2026-05-22T14:30:00+02:00",
        }
    )
    m = "<b1@help.example>"
    team.events(
        sent(m, "B1", "2026-05-22T15:00:00+02:00"),  # Friday afternoon in Berlin
        hit("open", m, "2026-05-22T15:00:40+02:00", APPLE, "Mozilla/5.0"),
        hit("open", m, "2026-05-23T08:12:00+02:00", APPLE, "Mozilla/5.0"),
    )
    # 2 business hours on Friday; Saturday, Sunday and Whit Monday (a holiday in DE) do
    # not count; 6 on Tuesday: due Tuesday 26 May, 15:00 in Berlin, not a minute before
    due = "2026-05-26T13:00:00Z"
    assert team.action("B1", "2026-05-26T14:59:00+02:00") == ("escalate", due, False)
    assert team.action("B1", "2026-05-26T15:00:00+02:00") == ("escalate", due, True)
    item = team.queue("2026-05-26T15:00:00+02:00")["B1"]
    assert item["state"] == "machine_only"
    assert "Apple's proxy fetched the images, which says nothing about reading" in item["reason"]


def test_c_opened_three_times_by_a_person_never_clicked_is_simplify(team: Team) -> None:
    team.tickets({"id": "C1", "created_at": "2026-11-02T09:00:00Z"})
    m = "<c1@help.example>"
    team.events(
        sent(m, "C1", "2026-11-02T10:00:00Z"),
        hit("open", m, "2026-11-02T11:00:00Z", HOME, OUTLOOK),
        hit("open", m, "2026-11-02T15:30:00Z", HOME, OUTLOOK),
        hit("open", m, "2026-11-03T09:20:00Z", HOME, OUTLOOK),
    )
    assert team.action("C1", "2026-11-03T09:00:00Z")[0] == "check_in"  # two so far
    assert team.action("C1", "2026-11-03T10:00:00Z") == ("simplify", "2026-11-03T09:20:00Z", True)


def test_scanner_clicks_at_delivery_are_no_sign_of_a_person(team: Team) -> None:
    team.tickets({"id": "S1", "priority": "low", "created_at": "2026-11-02T09:00:00Z"})
    m = "<s1@help.example>"
    team.events(
        sent(m, "S1", "2026-11-02T10:00:00Z"),
        hit("click", m, "2026-11-02T10:00:02Z", MICROSOFT, SAFE_LINKS, url=GUIDE),
    )
    assert team.action("S1", "2026-11-04T10:00:00Z") == ("nudge", "2026-11-04T10:00:00Z", True)
    assert team.queue("2026-11-04T10:00:00Z")["S1"]["state"] == "machine_only"


def test_a_nudge_counts_across_the_end_of_summer_time_in_new_york(team: Team) -> None:
    team.tickets({"id": "D1", "team": "us", "created_at": "2026-10-30T15:00:00-04:00"})
    m = "<d1@help.example>"
    team.events(sent(m, "D1", "2026-10-30T16:00:00-04:00"))  # Friday, 16:00 EDT
    # clocks go back on Sunday 1 November; 1 h on Friday, 8 on Monday, 7 on Tuesday
    # (Election Day, 3 November, is a holiday in New York State, not a federal one):
    # Tuesday 16:00 EST, which is 21:00 UTC (the send was at 20:00 UTC)
    assert team.action("D1", "2026-11-03T20:59:00Z") == ("nudge", "2026-11-03T21:00:00Z", False)
    assert team.action("D1", "2026-11-03T21:00:00Z")[2] is True


def test_out_of_office_then_bounce_then_reply(team: Team) -> None:
    team.tickets(
        {"id": "O1", "priority": "high", "created_at": "2026-11-02T09:00:00Z"},
        {"id": "F1", "created_at": "2026-11-02T09:00:00Z"},
        {"id": "R1", "created_at": "2026-11-02T09:00:00Z"},
    )
    team.events(
        sent("<o1@help.example>", "O1", "2026-11-02T10:00:00Z"),
        {
            "type": "autoreply",
            "message": "<o1@help.example>",
            "ts": "2026-11-02T10:00:30Z",
            "until": "2026-11-09",
        },
        sent("<f1@help.example>", "F1", "2026-11-02T10:00:00Z"),
        {
            "type": "bounce",
            "message": "<f1@help.example>",
            "ts": "2026-11-02T10:01:00Z",
            "status": "5.1.1",
            "reason": "userunknown",
        },
        sent("<r1@help.example>", "R1", "2026-11-02T10:00:00Z"),
        {"type": "reply", "message": "<r1@help.example>", "ts": "2026-11-02T12:00:00Z"},
    )
    queue = team.queue("2026-11-03T12:00:00Z")
    assert (queue["O1"]["action"], queue["O1"]["due"]) == ("wait_until", "2026-11-09T09:00:00Z")
    assert queue["O1"]["state"] == "away"
    assert (queue["F1"]["action"], queue["F1"]["state"]) == ("fix_address", "bounced")
    assert (queue["R1"]["action"], queue["R1"]["state"]) == ("none", "replied")
    after = team.queue("2026-11-09T12:00:00Z")
    assert after["O1"]["action"] == "escalate"  # back, and still no sign of a person
