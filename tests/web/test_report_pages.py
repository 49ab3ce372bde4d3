"""The dashboard's Outcomes and Signals pages over real HTTP (ASGI), on each backend, on a
hand-built November: the figures and their split are the report's (and one is checked by
hand against its definition), the first sentence answers the lead's question, each
definition is a click away, the charts are real SVG with a text alternative, a period
with no tickets says so plainly, an agent is refused, and what came from outside (a team
name in the query, agents and user agents) is shown escaped."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from inkling.api.access import Access
from inkling.api.sessions import Sessions, load_or_create_key
from inkling.model import Agent, Event, EventKind, InklingId, Verdict, new_event_id
from inkling.playbook.teams import TeamBook
from inkling.reports import build_report, period
from inkling.reports.facts import Engagement
from inkling.store import Store
from inkling.web.app import build_web
from inkling.web.login import Logins
from inkling.web.sources import Sources
from tests.reports.stories import HELP, SINCE, UNTIL, Desk, t
from tests.web.test_dashboard import XSS
from tests.web.test_login import PASSWORDS, RIGHT, Browser, sign_in

AT = t("2026-12-07T15:00:00Z")
ARTICLE = HELP + "reset-password"
SHOP = "https://shop.example.com/orders"
NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30"}


def seed(store: Store) -> None:
    """Seven tickets solved in November (each its own customer) and what came back:

    - c1 clicked the article, nothing more: first contact, self-served;
    - c2 clicked the article and replied that it did not work: neither;
    - c3 clicked the shop link: first contact (no article);
    - o1 opened the mail (Gmail's proxy, for a person): first contact;
    - n1 only machines: Apple's proxy, a scanner clicking the article, a hit nobody can
      tell, a program with an attacker's agent and user agent: first contact, not
      self-served;
    - n2 two messages, no sign of a person; its customer wrote again two days later
      (a repeat contact);
    - n3 solved without any email;
    and an open ticket whose mail a person opened (counted nowhere).
    """
    desk = Desk(store)

    def solved(ident: str, day: int, hours: int = 3, **kw: str) -> None:
        start = f"2026-11-{day:02d}T09:00:00Z"
        desk.ticket(ident, start, t(start) + hours * 3600, requester=f"{ident}@c.example", **kw)

    solved("c1", 2)
    sent = desk.send("c1", "2026-11-02T10:00:00Z", [ARTICLE])
    desk.opened(sent, "2026-11-02T10:10:00Z")
    desk.clicked(sent, "2026-11-02T10:11:00Z")
    solved("c2", 3, 24)
    sent = desk.send("c2", "2026-11-03T10:00:00Z", [ARTICLE])
    desk.clicked(sent, "2026-11-03T11:00:00Z")
    desk.replied(sent, "2026-11-03T15:00:00Z")
    solved("c3", 4)
    desk.clicked(desk.send("c3", "2026-11-04T10:00:00Z", [SHOP]), "2026-11-04T10:30:00Z")
    solved("o1", 5, 2)
    desk.opened(
        desk.send("o1", "2026-11-05T10:00:00Z"), "2026-11-05T10:20:00Z", agent=Agent.GMAIL_PROXY
    )
    solved("n1", 6, 7)
    sent = desk.send("n1", "2026-11-06T10:00:00Z", [ARTICLE])
    machine = Verdict.MACHINE
    desk.opened(sent, "2026-11-06T10:00:25Z", agent=Agent.APPLE_MPP, verdict=machine)
    desk.opened(sent, "2026-11-06T10:00:26Z", agent=Agent.MIMECAST, verdict=machine)
    desk.clicked(sent, "2026-11-06T10:00:27Z", agent=Agent.MIMECAST, verdict=machine)
    desk.opened(sent, "2026-11-07T08:00:00Z", verdict=Verdict.UNKNOWN)
    _strange(store, sent.copy.id, "2026-11-07T09:00:00Z", Verdict.MACHINE, XSS[0], XSS[3])
    _strange(store, sent.copy.id, "2026-11-07T09:01:00Z", Verdict.UNKNOWN, XSS[1], XSS[2])
    solved("n2", 9, 24)
    desk.send("n2", "2026-11-09T10:00:00Z")
    desk.send("n2", "2026-11-10T08:00:00Z")
    desk.ticket("n2-again", "2026-11-12T09:00:00Z", requester="n2@c.example")
    solved("n3", 11)
    desk.ticket("open", "2026-11-20T09:00:00Z", requester="x@c.example")
    desk.opened(desk.send("open", "2026-11-20T10:00:00Z"), "2026-11-20T11:00:00Z")


def _strange(
    store: Store, copy: InklingId, when: str, verdict: Verdict, agent: str, user_agent: str
) -> None:
    """An open whose agent and user agent are attacks (no classifier names an agent so,
    but the column is text: the page must not trust it)."""
    event = Event(new_event_id(), copy, EventKind.OPEN, t(when), verdict=verdict)
    event.user_agent = f"Mozilla/5.0 {user_agent}"
    store.events.insert([event])
    with store.database.engine.begin() as connection:
        connection.execute(
            text("UPDATE events SET agent = :agent WHERE id = :id"),
            {"agent": agent, "id": event.id},
        )


class Board:
    def __init__(self, store: Store, data_dir: Path, help_center: tuple[str, ...]) -> None:
        sessions = Sessions(load_or_create_key(data_dir / "session.key"))
        self.sources = Sources(store, TeamBook(), clock=lambda: AT, help_center=help_center)
        self.app = build_web(
            access=Access(store.accounts, sessions),
            logins=Logins(store.accounts, store.audit, PASSWORDS),
            sources=self.sources,
        )
        self.store = store
        store.accounts.add_user("lee@help.example", "lead", (), PASSWORDS.hash(RIGHT))
        store.accounts.add_user("ana@help.example", "agent", ("billing",), PASSWORDS.hash(RIGHT))

    def signed_in(self, email: str = "lee@help.example") -> Browser:
        browser = Browser(self.app, "http://i.test", "192.0.2.10")
        assert sign_in(browser, email, RIGHT).status_code == 303
        return browser


@pytest.fixture
def board(store: Store, data_dir: Path) -> Board:
    seed(store)
    return Board(store, data_dir, (HELP,))


def _text(fragment: str) -> str:
    """What a fragment says, tags dropped and entities read (escaping is tested apart)."""
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip())


def _table(html: str, css: str) -> list[list[str]]:
    """The body rows of the table of class ``css``, each as the text of its cells."""
    start = html.index(f'<table class="{css}">')
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


def _answer(html: str, ident: str) -> str:
    found = re.search(rf'<p class="answer-text" id="{ident}">(.*?)</p>', html, re.S)
    assert found, html
    return html_lib.unescape(found.group(1))


def test_the_outcomes_are_the_reports_split_by_engagement(board: Board) -> None:
    page = board.signed_in().get("/outcomes", params=NOVEMBER)
    assert page.status_code == 200
    html = page.text
    report = build_report(
        board.store, TeamBook(), period(SINCE, UNTIL), help_center=(HELP,)
    ).as_json()
    split = report["by_engagement"]
    assert [split[e.value]["tickets_solved"] for e in Engagement] == [3, 1, 3]

    rows = {row[0].split(" what it counts")[0]: row[1:] for row in _table(html, "outcome-figures")}

    def shown(rate: float | None) -> str:
        return "no tickets" if rate is None else f"{rate * 100:.1f} %"

    groups = [report, *(split[e.value] for e in Engagement)]
    assert rows["First contact resolution"] == [shown(g["fcr"]) for g in groups]
    assert rows["Repeat contact rate"] == [shown(g["repeat_contact_rate"]) for g in groups]
    assert rows["Time to resolution, median"] == [
        f"{g['ttr_business_hours']['median']:.1f} h" for g in groups
    ]
    assert rows["Time to resolution, 90th percentile"] == [
        f"{g['ttr_business_hours']['p90']:.1f} h" for g in groups
    ]
    # of the articles' tickets (c1, c2, n1), c1 alone helped itself; o1 had no article
    assert rows["Self-service completion"] == [
        "33.3 % of 3 with an article",
        "50.0 % of 2 with an article",
        "no article links",
        "0.0 % of 1 with an article",
    ]
    # by hand, from the definition: one message and no reply after it: c1, c3, o1, n1 of 7
    assert rows["First contact resolution"][0] == "57.1 %"
    assert rows["First contact resolution"][1:] == ["66.7 %", "100.0 %", "33.3 %"]
    assert rows["Repeat contact rate"][0] == "14.3 %"  # n2's customer wrote again
    assert _answer(html, "outcomes-answer") == (
        "Customers who clicked were resolved at first contact 67 % of the time, "
        "against 33 % with no signal."
    )
    assert "7 tickets solved from 2026-11-01 to 2026-11-30" in _text(html)


def test_each_definition_is_a_click_away_in_plain_words(board: Board) -> None:
    html = board.signed_in().get("/outcomes", params=NOVEMBER).text
    assert html.count("<h1") == 1
    for key in ("fcr", "ttr-median", "ttr-p90", "repeat", "self-service", "clicked", "no_signal"):
        assert f'href="#def-{key}"' in html and f'<dt id="def-{key}">' in html
    words = _text(html[html.index('id="definitions"') :])
    assert "exactly one message from the team and no reply from the customer after it" in words
    assert "business hours on its team's clock" in words
    assert "another ticket within 7 days" in words
    assert "help-article link" in words and "neither replied nor opened another ticket" in words
    assert "only machines (Apple's proxy, link scanners)" in words


def test_the_outcomes_chart_is_grouped_bars_with_its_table(board: Board) -> None:
    html = board.signed_in().get("/outcomes", params=NOVEMBER).text
    figure = html[html.index('<figure class="chart-figure">') : html.index("</figure>")]
    svg = re.search(r'<svg role="img" aria-label="([^"]+)"', figure)
    assert svg is not None
    label = html_lib.unescape(svg.group(1))
    assert "First contact resolution: clicked 66.7 %, opened 100.0 %, no signal 33.3 %" in label
    assert "<rect" in figure or "<path" in figure
    table = re.findall(r"<tr>(.*?)</tr>", figure[figure.index("<tbody>") :], re.S)
    cells = [[_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)] for r in table]
    assert cells[0] == ["First contact resolution", "66.7 %", "100.0 %", "33.3 %"]
    assert cells[2] == ["Self-service completion", "50.0 %", "no article links", "0.0 %"]
    assert '<th scope="col">Clicked</th>' in figure and "<script" not in html


def test_without_a_help_center_self_service_says_why(store: Store, data_dir: Path) -> None:
    seed(store)
    board = Board(store, data_dir, ())
    html = board.signed_in().get("/outcomes", params=NOVEMBER).text
    rows = {row[0].split(" what it counts")[0]: row[1:] for row in _table(html, "outcome-figures")}
    assert rows["Self-service completion"] == ["no help center set"] * 4
    assert "<code>[reports] help_center</code>" in html


def test_a_period_with_no_tickets_says_so_and_draws_nothing(board: Board) -> None:
    browser = board.signed_in()
    quiet = {"since": "2025-01-01", "until": "2025-01-31"}
    outcomes = browser.get("/outcomes", params=quiet)
    signals = browser.get("/signals", params=quiet)
    assert outcomes.status_code == signals.status_code == 200
    assert _answer(outcomes.text, "outcomes-answer") == (
        "No tickets were solved in this period, so there is nothing to measure yet."
    )
    assert _answer(signals.text, "signals-answer") == (
        "No tickets were solved in this period, so there are no opens to look at."
    )
    for page in (outcomes, signals):
        assert "<svg" not in page.text and "chart-figure" not in page.text
        assert " 0.0 %" not in page.text
    assert 'id="definitions"' in outcomes.text  # the definitions still a click away


def test_the_signals_page_tells_people_from_machines_day_by_day(board: Board) -> None:
    html = board.signed_in().get("/signals", params=NOVEMBER).text
    assert html.count("<h1") == 1
    report = build_report(board.store, TeamBook(), period(SINCE, UNTIL))
    counts = report.opens_by_agent
    assert {k: n for k, n in counts.items() if n} == {
        "person": 2,
        "apple_mpp": 1,
        "scanner": 1,
        "script": 1,
        "unknown": 2,
    }
    assert _answer(html, "signals-answer") == (
        "Of 7 opens, 2 (29 %) were people's: the raw open rate counts hits nobody can tell "
        "apart (2), Apple's privacy proxy (1) and others as readers."
    )
    totals = {row[0]: row[1:3] for row in _table(html, "opener-totals")}
    assert totals["People"] == ["2", "28.6 %"]
    assert totals["Apple's privacy proxy"] == ["1", "14.3 %"]
    assert totals["Not told apart"] == ["2", "28.6 %"]
    assert totals["Yahoo's proxy"] == ["0", "0.0 %"]  # every bucket, as the report has them
    assert "Days are UTC days." in html
    figure = html[html.index('<figure class="chart-figure">') : html.index("</figure>")]
    assert "Opens per day, by what made them" in figure
    assert re.search(r'<svg role="img" aria-label="Stacked bars of the opens per day', figure)
    days = re.findall(r"<tr>(.*?)</tr>", figure[figure.index("<tbody>") :], re.S)
    cells = [[_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)] for r in days]
    assert len(cells) == 30
    head = re.findall(r'<th scope="col">([^<]*)</th>', figure)
    assert head == [
        "Day (UTC)",
        "People",
        "Apple&#39;s privacy proxy",
        "Security scanners",
        "Scripts and programs",
        "Not told apart",
        "All opens",
    ]
    by_day = {row[0]: row[1:] for row in cells}
    assert by_day["Mon 2 Nov 2026"] == ["1", "0", "0", "0", "0", "1"]
    assert by_day["Thu 5 Nov 2026"] == ["1", "0", "0", "0", "0", "1"]  # Gmail's proxy, a person
    assert by_day["Fri 6 Nov 2026"] == ["0", "1", "1", "0", "0", "2"]
    assert by_day["Sat 7 Nov 2026"] == ["0", "0", "0", "1", "2", "3"]
    assert by_day["Fri 20 Nov 2026"] == ["0"] * 6  # the open ticket's open counts nowhere


def test_an_agent_is_refused_both_pages(board: Board) -> None:
    agent = board.signed_in("ana@help.example")
    for path in ("/outcomes", "/signals"):
        page = agent.get(path)
        assert page.status_code == 403
        assert "Your role (agent) does not open this page." in page.text
    anonymous = Browser(board.app, "http://i.test", "192.0.2.11")
    for path in ("/outcomes", "/signals"):
        answer = anonymous.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login")


def test_what_came_from_outside_is_shown_escaped(board: Board) -> None:
    browser = board.signed_in()
    pages = {
        "outcomes": browser.get("/outcomes", params=NOVEMBER),
        "signals": browser.get("/signals", params=NOVEMBER),
        **{
            f"{path} team {n}": browser.get(path, params={**NOVEMBER, "team": payload})
            for path in ("/outcomes", "/signals")
            for n, payload in enumerate(XSS)
        },
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        for raw in ("<script>alert", "<img src=x", "<svg onload", 'href="javascript:'):
            assert raw not in page.text, (name, raw)
        assert "<script" not in page.text, name
    assert (
        'value="&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;"'
        in pages["/outcomes team 0"].text
    )
    assert (
        "team “&#34;&gt;&lt;svg onload=alert(&#39;xss&#39;)&gt;”" in pages["/signals team 3"].text
    )
