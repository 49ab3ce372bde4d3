"""The dashboard's Queue, Ticket and How-to-read pages over real HTTP (ASGI), on each
backend: the queue's sentence, sections, lines and filters; a ticket's recommendation and
timeline in plain words with verdicts and reasons; an agent bounded by their teams; what
customers and attackers wrote shown escaped; and the time words on the team's clock."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest

from inkling.api.access import Access
from inkling.api.sessions import Sessions, load_or_create_key
from inkling.model import (
    Agent,
    Event,
    EventKind,
    MessageIdHeader,
    MessageRecord,
    Priority,
    Status,
    Ticket,
    Verdict,
    new_event_id,
)
from inkling.playbook.calendar import BusinessCalendar
from inkling.playbook.rules import Action
from inkling.playbook.teams import Team, TeamBook
from inkling.store import Store
from inkling.times import parse_time
from inkling.tokens import HONEYPOT_LINK, new_message_id
from inkling.web.app import build_web
from inkling.web.login import Logins
from inkling.web.queue_page import answer
from inkling.web.sources import Sources
from inkling.web.when import after_words, due_words, moment
from tests.web.test_login import PASSWORDS, RIGHT, Browser, sign_in

#: Monday 7 December 2026, 16:00 in Berlin: the pages' "now".
AT = parse_time("2026-12-07T16:00:00+01:00", "at")
#: What customers and attackers put in subjects, names, user agents, Referers and URLs.
XSS = (
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert('xss')>",
    "javascript:alert('xss')",
    "\"><svg onload=alert('xss')>",
)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/153.0.0.0 Safari/537.36"
)
OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"
TEAMS = TeamBook(
    {
        "billing": Team("billing", BusinessCalendar("Europe/Berlin")),
        "returns": Team("returns", BusinessCalendar("America/New_York")),
    }
)
#: A ticket id that is itself an attack on the page's links.
ODD_ID = "9\"><svg onload=alert('xss')>"


def _t(text: str) -> float:
    return parse_time(text, "t")


def _ticket(
    ident: str, subject: str, priority: Priority, team: str, at: float, **more: str
) -> Ticket:
    return Ticket(
        id=ident,
        priority=priority,
        status=Status.OPEN,
        created_at=at - 7 * 86_400,
        updated_at=at - 7 * 86_400,
        subject=subject,
        team=team,
        assignee=more.get("assignee"),
        requester=more.get("requester"),
    )


def _sent(
    store: Store, ticket: str, when: float, recipient: str, links: list[str]
) -> MessageRecord:
    copy = MessageRecord(
        new_message_id(),
        MessageIdHeader(f"<{ticket}.{int(when)}@help.example>"),
        None,
        ticket,
        f"Re: {ticket} {XSS[0]}",
        int(when),
        len(links),
        recipient=recipient,
    )
    store.messages.register(copy, links)
    return copy


def _event(
    copy: MessageRecord, kind: EventKind, when: float, verdict: Verdict, **fields: object
) -> Event:
    event = Event(new_event_id(), copy.id, kind, when, verdict=verdict)
    for name, value in fields.items():
        setattr(event, name, value)
    return event


def seed(store: Store, at: float = AT) -> None:
    """The stories the pages are tested on, told back from ``at`` (named here as from
    Monday 7 December 2026, 16:00 in Berlin; the browser test tells them from now):

    - 4123 urgent billing (Sam): sent five days ago; Apple's proxy fetched the images, a
      scanner checked the link and followed the hidden one, a hit nobody can tell apart:
      escalate now;
    - 4130 normal billing: bounced hard this morning: fix the address now;
    - 4101 normal billing: a person opened it in Outlook and clicked two hours ago: hold;
    - 4097 low returns (New York): sent an hour ago, nothing yet: nudge later;
    - ODD_ID low returns, its id an attack on the page's links.

    Subjects, a recipient's name, an assignee, user agents, a Referer, a URL and a ticket
    id carry XSS payloads.
    """

    def ago(hours: float) -> float:
        return at - hours * 3600

    name = f'"Ana {XSS[1]}" <ana@customer.example>'
    store.tickets.upsert(
        _ticket(
            "4123",
            f"Charged twice {XSS[0]}",
            Priority.URGENT,
            "billing",
            at,
            assignee="sam@help.example",
            requester="ana@customer.example",
        )
    )
    store.tickets.upsert(
        _ticket("4130", f"Refund status {XSS[3]}", Priority.NORMAL, "billing", at, assignee=XSS[3])
    )
    store.tickets.upsert(_ticket("4101", "Reconnect integration", Priority.NORMAL, "billing", at))
    store.tickets.upsert(_ticket("4097", f"Export data {XSS[1]}", Priority.LOW, "returns", at))
    store.tickets.upsert(_ticket(ODD_ID, "Odd one", Priority.LOW, "returns", at))

    links = ["https://help.example/articles/refunds", XSS[2]]
    urgent = _sent(store, "4123", ago(121), name, links)  # Wed 15:00 CET
    bounced = _sent(store, "4130", ago(7), "bo@nowhere.example", links[:1])  # 09:00 CET
    held = _sent(store, "4101", ago(6), "cy@customer.example", links)
    _sent(store, "4097", ago(1), "di@customer.example", links[:1])  # 09:00 in New York
    _sent(store, ODD_ID, ago(0.5), "ed@customer.example", links[:1])
    store.events.insert(
        [
            _event(
                urgent,
                EventKind.OPEN,
                urgent.sent_at + 25,
                Verdict.MACHINE,
                agent=Agent.APPLE_MPP,
                user_agent=f"Mozilla/5.0 {XSS[3]}",
                network="apple",
                ip="17.58.0.0",
                reasons=["from Apple's Mail Privacy Protection network", "25 s after delivery"],
                leanings=["machine", "machine"],
            ),
            _event(
                urgent,
                EventKind.CLICK,
                urgent.sent_at + 27,
                Verdict.MACHINE,
                agent=Agent.PROOFPOINT,
                link=1,
                user_agent=CHROME,
                evidence={"referer": XSS[1]},
                reasons=["from Proofpoint's network", "2 s after delivery"],
                leanings=["machine", "machine"],
            ),
            _event(
                urgent,
                EventKind.CLICK,
                urgent.sent_at + 28,
                Verdict.MACHINE,
                agent=Agent.PROOFPOINT,
                link=HONEYPOT_LINK,
                reasons=["followed the hidden link no person sees"],
                leanings=["machine"],
            ),
            _event(
                urgent,
                EventKind.OPEN,
                ago(53),  # Saturday 11:00 CET
                Verdict.UNKNOWN,
                user_agent="Mozilla/5.0",
                reasons=["a bare Mozilla/5.0: mail programs and proxies both send it"],
                leanings=["neither"],
            ),
            _event(
                bounced,
                EventKind.BOUNCE,
                bounced.sent_at + 60,
                Verdict.MACHINE,
                agent=Agent.BOUNCE,
                method="SMTP",
                details={
                    "class": "hard",
                    "final": "true",
                    "status": "5.1.1",
                    "reason": "mailbox does not exist",
                    "owner": "customer",
                },
                reasons=["bounced (5.1.1 mailbox does not exist): the address is wrong"],
            ),
            _event(
                held,
                EventKind.OPEN,
                ago(2 + 5 / 60),
                Verdict.HUMAN,
                agent=Agent.MAIL_CLIENT,
                user_agent=OUTLOOK,
                reasons=["Outlook's own user agent"],
                leanings=["person"],
            ),
            _event(
                held,
                EventKind.CLICK,
                ago(2),
                Verdict.HUMAN,
                agent=Agent.BROWSER,
                link=0,
                user_agent=CHROME,
                reasons=["a browser, after a person's open"],
                leanings=["person"],
            ),
        ]
    )


class Board:
    def __init__(self, store: Store, data_dir: Path) -> None:
        sessions = Sessions(load_or_create_key(data_dir / "session.key"))
        logins = Logins(store.accounts, store.audit, PASSWORDS)
        sources = Sources(store, TEAMS, clock=lambda: AT)
        self.app = build_web(
            access=Access(store.accounts, sessions), logins=logins, sources=sources
        )
        store.accounts.add_user("sam@help.example", "lead", (), PASSWORDS.hash(RIGHT))
        store.accounts.add_user("ana@help.example", "agent", ("billing",), PASSWORDS.hash(RIGHT))

    def signed_in(self, email: str) -> Browser:
        browser = Browser(self.app, "http://i.test", "192.0.2.10")
        assert sign_in(browser, email, RIGHT).status_code == 303
        return browser


@pytest.fixture
def board(store: Store, data_dir: Path) -> Board:
    seed(store)
    return Board(store, data_dir)


def _section(html: str, title: str) -> str:
    start = html.index(f">{title}</h2>")
    end = html.find("</section>", start)
    return html[start:end]


def _lines(html: str) -> list[str]:
    """The queue's lines (table rows of tickets), each as its HTML."""
    return re.findall(r"<tr>\s*<td class=\"c-action\">.*?</tr>", html, re.S)


def _signals(html: str) -> list[str]:
    return re.findall(r'<li class="sig sig-.*?</div>\s*</li>', html, re.S)


def _text(fragment: str) -> str:
    """What a fragment says, tags dropped and entities read (escaping is tested apart)."""
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip())


def test_the_queue_says_what_needs_you_first_then_each_line(board: Board) -> None:
    page = board.signed_in("sam@help.example").get("/")
    assert page.status_code == 200
    html = page.text
    heading = '<h1 id="queue-answer" class="answer" data-live-part>'
    assert f"{heading}2 tickets need you now, 3 are waiting.</h1>" in html
    assert html.count("<h1") == 1
    now, waiting = _section(html, "Needs you now"), _section(html, "Waiting")
    first, second = (_text(line) for line in _lines(now))
    assert first.startswith("Escalate #4123 Charged twice")
    assert "urgent billing sam@help.example due now (since Thu 15:00 CET)" in first
    assert "Urgent, and no sign of a person for 3.1 business days" in first
    assert second.startswith("Fix address #4130")
    assert "The address is wrong: the mail bounced (5.1.1 mailbox does not exist)" in second
    waits = [_text(line) for line in _lines(waiting)]
    assert waits[0].startswith("Hold #4101 Reconnect integration normal billing nobody")
    assert "until Tue 10:00 CET (in 2 business hours)" in waits[0]
    assert any(w.startswith("Nudge #4097") and "(Tue 17:00 EST)" in w for w in waits)
    # the exact UTC moment is machine-readable and a hover away
    assert '<time datetime="2026-12-03T14:00:00Z" title="2026-12-03 14:00:00 UTC">' in now
    assert '<span class="chip chip-due">Escalate</span>' in now
    assert '<a href="/tickets/4123">#4123</a>' in now


def test_the_queue_filters_by_team_and_assignee_with_a_plain_form(board: Board) -> None:
    browser = board.signed_in("sam@help.example")
    html = browser.get("/").text
    assert '<form class="filters" method="get" action="/">' in html
    assert '<label for="team">Team</label>' in html and '<select id="team" name="team">' in html
    assert '<label for="assignee">Assignee</label>' in html
    returns = browser.get("/", params={"team": "returns"}).text
    assert '<option value="returns" selected>returns</option>' in returns
    assert "Nothing needs you now; 2 tickets are waiting." in returns
    assert "#4123" not in returns and "#4097" in returns
    sams = browser.get("/", params={"assignee": "sam@help.example"}).text
    assert "1 ticket needs you now, none are waiting." in sams
    assert [_text(line).split()[1] for line in _lines(sams)] == ["#4123"]
    nobody = browser.get("/", params={"team": "billing", "assignee": "-"}).text
    assert [_text(line).split()[1] for line in _lines(nobody)] == ["#4101"]


def test_an_agent_sees_only_their_teams(board: Board) -> None:
    ana = board.signed_in("ana@help.example")
    html = ana.get("/").text
    assert "2 tickets need you now, 1 is waiting." in html
    assert "#4097" not in html and "Export data" not in html
    assert '<option value="returns"' not in html
    other = ana.get("/", params={"team": "returns"})
    assert (
        other.status_code == 403 and "You see only the tickets of the teams billing." in other.text
    )
    theirs = ana.get("/tickets/4097")
    unknown = ana.get("/tickets/nope")
    assert theirs.status_code == unknown.status_code == 404
    assert _text(theirs.text) == _text(unknown.text)  # nothing tells the two apart
    assert ana.get("/tickets/4123").status_code == 200
    # the live feed is not an agent's: the page says how it stays current instead
    assert 'data-mode="poll"' in html and "Reload the page for the latest." in html


def test_a_ticket_opens_with_what_to_do_then_its_timeline(board: Board) -> None:
    html = board.signed_in("sam@help.example").get("/tickets/4123").text
    assert html.count("<h1") == 1
    assert html.index('class="advice advice-due"') < html.index('id="timeline-title"')
    advice = html[html.index('class="advice') : html.index("</section>")]
    assert '<span class="chip chip-due">Escalate</span>' in advice
    assert "due now (since Thu 15:00 CET)" in advice
    assert "What the signals say:" in advice and "say nothing about reading" in advice
    lines = [_text(s) for s in _signals(html)]
    kinds = re.findall(r'<li class="sig sig-(\w+)[ "]', html)
    assert kinds == ["sent", "machine", "machine", "machine", "due", "unknown"]
    assert lines[0].startswith("Wed 15:00 CET → Sent You sent “Re: 4123")
    assert "Machine: Apple's privacy proxy Apple's privacy proxy fetched the images." in lines[1]
    assert "Says nothing about reading." in lines[1]
    assert "from Apple's Mail Privacy Protection network (points to a machine)" in lines[1]
    assert "Timing 25 s after sending" in lines[1] and "Network apple" in lines[1]
    assert "Machine: Proofpoint Proofpoint checked a link." in lines[2]
    assert "Proofpoint followed the hidden link no person can see." in lines[3]
    assert "Thu 15:00 CET ⚑ Due Escalate falls due" in lines[4]  # newest last, in its place
    assert "Not told apart Something fetched the images: it could be a person" in lines[5]
    for line in lines[1:4]:  # a machine's hit never gets the word "read"
        assert re.search(r"\bread\b", line.replace("How to read this", "")) is None
    helps = re.findall(r'<a class="help" href="/how-to-read#(\w+)">How to read this', html)
    assert helps == ["proxy", "scanner", "scanner", "unknown"]  # every signal links it


def test_a_persons_signals_and_returned_mail_in_plain_words(board: Board) -> None:
    browser = board.signed_in("sam@help.example")
    held = [_text(s) for s in _signals(browser.get("/tickets/4101").text)]
    assert "Person A person opened it in Outlook." in held[1]
    assert "Person A person followed a link." in held[2]
    assert "https://help.example/articles/refunds" in held[2]
    assert "Hold" in _text(browser.get("/tickets/4101").text)
    bounced = [_text(s) for s in _signals(browser.get("/tickets/4130").text)]
    assert "Mail It bounced (5.1.1 mailbox does not exist): nobody will read it." in bounced[1]
    assert "Came by SMTP" in bounced[1]


def test_what_came_from_outside_is_shown_escaped_on_every_page(board: Board) -> None:
    browser = board.signed_in("sam@help.example")
    odd = browser.get("/", params={"team": "returns"}).text
    href = re.search(r'<a href="(/tickets/9[^"]*)">', odd)
    assert href is not None and '"' not in href.group(1) and "<" not in href.group(1)
    pages = {
        "/": browser.get("/"),
        "/?team=returns": browser.get("/", params={"team": "returns"}),
        "/tickets/4123": browser.get("/tickets/4123"),
        "/tickets/4130": browser.get("/tickets/4130"),
        "/tickets/4097": browser.get("/tickets/4097"),
        "odd ticket": browser.get(href.group(1)),
        "/how-to-read": browser.get("/how-to-read"),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        csp = page.headers["content-security-policy"]
        assert (
            "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        )
        for raw in ("<script>alert", "<img src=x", "<svg onload", 'href="javascript:'):
            assert raw not in page.text, (name, raw)
        assert page.text.count("<script") == (1 if name.startswith("/?") or name == "/" else 0)
    urgent = pages["/tickets/4123"].text
    assert "Charged twice &lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in urgent
    assert "&lt;img src=x onerror=alert(&#39;xss&#39;)&gt;" in urgent  # the Referer, the name
    assert "Mozilla/5.0 &#34;&gt;&lt;svg onload=alert(&#39;xss&#39;)&gt;" in urgent
    assert "<code>javascript:alert(&#39;xss&#39;)</code>" in urgent  # shown, never a link
    assert "&#34;&gt;&lt;svg onload" in pages["/"].text  # an assignee
    assert "#9&#34;&gt;&lt;svg onload" in pages["odd ticket"].text


def test_signed_out_pages_send_to_sign_in_and_how_to_read_is_open(board: Board) -> None:
    anonymous = Browser(board.app, "http://i.test", "192.0.2.11")
    for path in ("/", "/tickets/4123"):
        answer_ = anonymous.get(path)
        assert (answer_.status_code, answer_.headers["location"]) == (303, "/login")
    guide = anonymous.get("/how-to-read")
    assert guide.status_code == 200 and guide.text.count("<h1") == 1
    for anchor in ("open", "click", "proxy", "scanner", "unknown"):
        assert f'<h2 id="{anchor}">' in guide.text
    assert "says nothing about reading" in guide.text.lower()


def test_the_queues_script_is_served_from_static(board: Board) -> None:
    script = board.signed_in("sam@help.example").get("/static/queue.js")
    assert script.status_code == 200
    assert 'new EventSource("/api/v1/stream")' in script.text
    assert "innerHTML" not in script.text  # fresh lines come parsed, never as markup strings


def test_the_first_sentence_in_each_case() -> None:
    assert answer(3, 12) == "3 tickets need you now, 12 are waiting."
    assert answer(1, 1) == "1 ticket needs you now, 1 is waiting."
    assert answer(2, 0) == "2 tickets need you now, none are waiting."
    assert answer(0, 4) == "Nothing needs you now; 4 tickets are waiting."
    assert answer(0, 0) == "Nothing needs you now, and nothing is waiting."


def test_time_in_business_words_on_the_teams_clock() -> None:
    berlin = BusinessCalendar("Europe/Berlin")
    at = _t("2026-12-07T14:00:00+01:00")  # Monday
    soon = moment(_t("2026-12-07T16:00:00+01:00"), "Europe/Berlin", at)
    assert soon.local == "Mon 16:00 CET" and soon.iso == "2026-12-07T15:00:00Z"
    assert due_words(Action.NUDGE, soon, at, berlin) == "due in 2 business hours (Mon 16:00 CET)"
    assert due_words(Action.HOLD, soon, at, berlin) == "until Mon 16:00 CET (in 2 business hours)"
    past = moment(_t("2026-12-07T09:00:00+01:00"), "Europe/Berlin", at)
    assert due_words(Action.ESCALATE, past, at, berlin) == "due now (since Mon 09:00 CET)"
    evening = _t("2026-12-07T18:00:00+01:00")
    tomorrow = moment(_t("2026-12-08T09:00:00+01:00"), "Europe/Berlin", evening)
    assert (
        due_words(Action.NUDGE, tomorrow, evening, berlin) == "due when work starts (Tue 09:00 CET)"
    )
    far = moment(_t("2026-12-28T09:00:00+01:00"), "Europe/Berlin", at)
    assert far.local == "Mon 28 Dec 09:00 CET"
    assert due_words(Action.NUDGE, None, at, berlin) == "no due time"
    assert [after_words(s) for s in (25, 180, 7200, 3 * 86_400)] == [
        "25 s",
        "3 min",
        "2 h",
        "3 days",
    ]


def test_a_database_away_is_one_line_not_a_trace(store: Store, data_dir: Path) -> None:
    seed(store)
    board = Board(store, data_dir)
    browser = board.signed_in("sam@help.example")
    broken = Store("postgresql+psycopg://postgres@127.0.0.1:9/inkling")  # nothing listens
    sessions = Sessions(load_or_create_key(data_dir / "session.key"))
    app = build_web(
        access=Access(store.accounts, sessions),
        logins=Logins(store.accounts, store.audit, PASSWORDS),
        sources=Sources(broken, TEAMS, clock=lambda: AT),
    )
    away = Browser(app, "http://i.test", "192.0.2.10")
    away.cookies = browser.cookies
    try:
        page = away.get("/")
    finally:
        broken.close()
    assert page.status_code == 503
    assert "The database cannot be reached right now. Try again in a minute." in page.text
