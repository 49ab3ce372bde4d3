"""The dashboard's Content page over real HTTP (ASGI), on each backend, on a hand-built
November: the first sentence names what is flagged; an article people open and do not
click, one people clicked and still wrote back about, a PDF counted as a download and a
subject line nobody opened each show their flag in words; the raw figures (Apple's proxy,
a link scanner) stand beside a person's, greyed, and are counted nowhere; the chart is a
real SVG with a label and a table; an agent is refused; and URLs and subject lines that
carry attacks are shown escaped."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest

from inkling.api.access import Access
from inkling.api.sessions import Sessions, load_or_create_key
from inkling.model import Agent, Verdict
from inkling.playbook.teams import TeamBook
from inkling.reports import build_report, content_report, outcomes_report, period
from inkling.store import Store
from inkling.web.app import build_web
from inkling.web.content_page import answer, file_type, short
from inkling.web.login import Logins
from inkling.web.sources import Sources
from tests.reports.stories import DAY, HELP, SINCE, UNTIL, Desk, t
from tests.web.test_dashboard import XSS
from tests.web.test_login import PASSWORDS, RIGHT, Browser, sign_in
from tests.web.test_report_pages import seed as seed_outcome_stories

AT = t("2026-12-07T15:00:00Z")
NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30"}
SSO = HELP + "configure-sso"  # opened by people, not clicked
RESET = HELP + "reset-password"  # clicked, and people still came back
PDF = "https://files.example.com/guides/setup.pdf"
SURVEY = "How did we do?"
#: Links and a subject line that are attacks on the page.
EVIL_LINKS = [f"https://evil.example/{XSS[1]}", XSS[2], HELP + XSS[3]]
EVIL_SUBJECT = f"Hello {XSS[0]} {XSS[3]}"


def seed(store: Store) -> None:
    """November's tickets, each its own customer, all solved:

    - sso0..sso9: one answer each carrying the SSO article; people opened eight of them,
      nobody clicked; Apple's proxy fetched every pixel and a scanner clicked every link;
      six of them were also sent the survey, which only Apple's proxy "opened";
    - reset0..reset2: one answer each with the reset article and a PDF guide; a person
      opened and clicked the article each time; reset0's customer replied two days later,
      reset1's opened a new ticket three days later; reset2's downloaded the PDF;
    - evil: an answer whose subject line and links are attacks; a person opened it and
      clicked the first link.
    """
    desk = Desk(store)

    def solved(ident: str, day: int) -> str:
        who = f"{ident}@customer.example"
        desk.ticket(ident, f"2026-11-{day:02d}T09:00:00Z", f"2026-11-{day:02d}T17:00:00Z",
                    requester=who)  # fmt: skip
        return who

    for n in range(10):
        solved(f"sso{n}", 2 + n)
        day = f"2026-11-{2 + n:02d}"
        sent = desk.send(f"sso{n}", f"{day}T10:00:00Z", [SSO], subject=f"Your SSO [#{n}]")
        desk.opened(sent, f"{day}T10:00:20Z", agent=Agent.APPLE_MPP, verdict=Verdict.MACHINE)
        desk.clicked(sent, f"{day}T10:00:02Z", agent=Agent.PROOFPOINT, verdict=Verdict.MACHINE)
        if n < 8:
            desk.opened(sent, f"{day}T11:00:00Z")
        if n < 6:
            survey = desk.send(f"sso{n}", f"{day}T16:00:00Z", subject=f"Re: {SURVEY} [#{n}]")
            desk.opened(survey, f"{day}T16:00:30Z", agent=Agent.APPLE_MPP, verdict=Verdict.MACHINE)
    for n in range(3):
        who = solved(f"reset{n}", 14 + n)
        day = f"2026-11-{14 + n:02d}"
        sent = desk.send(f"reset{n}", f"{day}T10:00:00Z", [RESET, PDF], subject="Your password")
        desk.opened(sent, f"{day}T10:30:00Z")
        desk.clicked(sent, f"{day}T10:31:00Z", link=0)
        if n == 0:
            desk.replied(sent, t(f"{day}T10:31:00Z") + 2 * DAY)
        elif n == 1:
            desk.ticket("reset1-again", t(f"{day}T10:31:00Z") + 3 * DAY, requester=who)
        else:
            desk.clicked(sent, f"{day}T10:35:00Z", link=1)
    solved("evil", 20)
    sent = desk.send("evil", "2026-11-20T10:00:00Z", EVIL_LINKS, subject=EVIL_SUBJECT)
    desk.opened(sent, "2026-11-20T10:10:00Z")
    desk.clicked(sent, "2026-11-20T10:11:00Z", link=0)


class Board:
    def __init__(self, store: Store, data_dir: Path) -> None:
        sessions = Sessions(load_or_create_key(data_dir / "session.key"))
        sources = Sources(store, TeamBook(), clock=lambda: AT, help_center=(HELP,))
        self.app = build_web(
            access=Access(store.accounts, sessions),
            logins=Logins(store.accounts, store.audit, PASSWORDS),
            sources=sources,
        )
        store.accounts.add_user("lee@help.example", "lead", (), PASSWORDS.hash(RIGHT))
        store.accounts.add_user("ana@help.example", "agent", ("billing",), PASSWORDS.hash(RIGHT))

    def signed_in(self, email: str) -> Browser:
        browser = Browser(self.app, "http://i.test", "192.0.2.10")
        assert sign_in(browser, email, RIGHT).status_code == 303
        return browser

    def content(self, **query: str) -> str:
        page = self.signed_in("lee@help.example").get("/content", params=query or NOVEMBER)
        assert page.status_code == 200, page.text
        return str(page.text)


@pytest.fixture
def board(store: Store, data_dir: Path) -> Board:
    seed(store)
    return Board(store, data_dir)


def _text(fragment: str) -> str:
    """What a fragment says, tags dropped and entities read (escaping is tested apart)."""
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip())


def _section(html: str, title_id: str) -> str:
    start = html.index(f'id="{title_id}"')
    return html[start : html.index("</section>", start)]


def _row(html: str, title_id: str, starts: str) -> str:
    """The table row of ``title_id``'s section whose first cell says ``starts``."""
    rows: list[str] = re.findall(
        r"<tr>\s*<th scope=\"row\".*?</tr>", _section(html, title_id), re.S
    )
    found = [row for row in rows if _text(row).startswith(starts)]
    assert len(found) == 1, (starts, [_text(r) for r in rows])
    return found[0]


def _cells(row: str) -> dict[str, str]:
    """A row's cells by their column (``data-label``), as text."""
    return {
        label: _text(cell)
        for label, cell in re.findall(r'<td [^>]*data-label="([^"]+)">(.*?)</td>', row, re.S)
    }


def test_the_first_sentence_names_what_is_flagged(board: Board) -> None:
    html = board.content()
    assert html.count("<h1") == 1
    first = re.search(r'<p class="answer-text" id="content-answer">(.*?)</p>', html, re.S)
    assert first is not None
    assert _text(first.group(1)) == (
        "1 article is opened but not clicked (“configure-sso”); 1 article did not help "
        "(“reset-password”); people do not open 1 subject line (“How did we do?”)."
    )
    assert html.index('id="content-answer"') < html.index('<form class="filters"')
    assert "14 tickets solved from 2026-11-01 to 2026-11-30." in _text(html)


def test_an_article_opened_by_people_and_never_clicked_is_flagged(board: Board) -> None:
    row = _row(board.content(), "links-title", SSO)
    assert "help article" in _text(row)
    cells = _cells(row)
    # people: 8 opened, nobody clicked; raw: Apple's proxy opened all 10, a scanner clicked
    assert cells["Sent"] == "10"
    assert cells["Opened by people"] == "8 raw 10"
    assert cells["Clicked by people"] == "0 raw 10"
    assert cells["Click-through"] == "0.0 %"
    assert '<span class="muted raw" title="Every open, machines included">raw 10</span>' in row
    assert cells["Flags"] == (
        "Opened, not clicked : what it means 8 messages opened by people, 0 clicked (0.0 %)."
    )
    assert '<a class="chip chip-flag" href="#flag-opened_not_clicked">' in row


def test_an_article_people_clicked_and_still_wrote_back_about_did_not_help(board: Board) -> None:
    html = board.content()
    cells = _cells(_row(html, "links-title", RESET))
    assert (cells["Sent"], cells["Opened by people"], cells["Clicked by people"]) == (
        "3",
        "3 raw 3",
        "3 raw 3",
    )
    assert cells["Clicked, then came back"] == "66.7 % of 3"
    assert cells["Flags"] == (
        "Did not help : what it means 2 of the 3 people who clicked it came back within 7 days."
    )
    meaning = html[html.index('id="flag-did_not_help"') :]
    meaning = _text(meaning[: meaning.index("</dd>")])
    assert "wrote back or opened a new ticket within 7 days" in meaning
    assert "too technical, too long, or about something else" in meaning
    assert "At least 2 tickets where a person clicked it, and 50 % or more" in meaning


def test_a_link_to_a_file_is_a_download(board: Board) -> None:
    html = board.content()
    row = _row(html, "downloads-title", PDF)
    assert '<span class="chip chip-file">Download · PDF</span>' in row
    cells = _cells(row)
    assert (cells["Sent"], cells["Downloaded by people"], cells["Flags"]) == (
        "3",
        "1 raw 1",
        "none",
    )
    assert PDF not in _section(html, "links-title")  # a download, not a page


def test_a_subject_line_nobody_opened_is_flagged_and_machines_count_nowhere(
    board: Board,
) -> None:
    html = board.content()
    survey = _cells(_row(html, "subjects-title", SURVEY))
    # Apple's proxy fetched all six pixels: raw 6, people 0
    assert (survey["Sent"], survey["Opened by people"], survey["Open rate"]) == (
        "6",
        "0 raw 6",
        "0.0 %",
    )
    assert (
        survey["Flags"] == "Not opened : what it means 0 of 6 messages opened by a person (0.0 %)."
    )
    sso = _cells(_row(html, "subjects-title", "Your SSO"))  # one template, whatever the ticket
    assert (sso["Sent"], sso["Opened by people"], sso["Clicked by people"]) == (
        "10",
        "8 raw 10",
        "0 raw 10",
    )
    assert sso["Flags"] == "none"
    password = _cells(_row(html, "subjects-title", "Your password"))
    assert (password["Clicked by people"], password["Click-through"]) == ("3 raw 3", "100.0 %")


def test_the_raw_figures_are_in_the_report_beside_the_human_ones(store: Store) -> None:
    seed(store)
    report = build_report(store, TeamBook(), period(SINCE, UNTIL), help_center=(HELP,))
    shown = report.as_json()
    sso = next(link for link in shown["content"] if link["url"] == SSO)
    assert {k: sso[k] for k in ("human_opens", "human_clicks", "raw_opens", "raw_clicks")} == {
        "human_opens": 8,
        "human_clicks": 0,
        "raw_opens": 10,
        "raw_clicks": 10,
    }
    assert list(sso)[:8] == [  # the contract's keys first, as they were
        "url",
        "messages",
        "human_opens",
        "human_clicks",
        "click_through",
        "clicked_then_came_back",
        "download",
        "flags",
    ]
    survey = next(s for s in shown["subjects"] if s["subject"] == SURVEY)
    assert survey == {
        "subject": SURVEY,
        "messages": 6,
        "human_open_rate": 0.0,
        "flags": ["not_opened"],
        "raw_opens": 6,
        "raw_clicks": 0,
    }
    evil = next(link for link in shown["content"] if link["url"] == EVIL_LINKS[1])
    assert (evil["human_clicks"], evil["raw_clicks"], evil["raw_opens"]) == (0, 0, 1)


def test_the_chart_is_an_svg_with_a_label_and_a_table(board: Board) -> None:
    html = board.content()
    figure = html[html.index('<figure class="chart-figure">') : html.index("</figure>")]
    assert "<h2>The 5 most-sent links: opened by people, clicked by people</h2>" in figure
    svg = re.search(r'<svg[^>]*role="img" aria-label="([^"]+)"', figure)
    assert svg is not None
    label = html_lib.unescape(svg.group(1))
    assert label.startswith("Messages people opened and clicked, per link: “configure-sso”: ")
    assert "10 messages sent, opened by people on 8, clicked on 0" in label
    assert "<rect" in figure or "<path" in figure  # drawn, by vl-convert
    table = figure[figure.index('<table class="figures">') :]
    assert "<summary>The figures as a table</summary>" in figure
    assert '<th scope="col">Opened by people</th>' in table
    first = re.search(r"<tbody>\s*<tr>(.*?)</tr>", table, re.S)
    assert first is not None
    assert _text(first.group(1)) == f"{SSO} 10 8 0 10 10"
    assert PDF not in figure  # downloads have their own table


def test_what_came_from_outside_is_shown_escaped(board: Board) -> None:
    page = board.signed_in("lee@help.example").get("/content", params=NOVEMBER)
    html = page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    for raw in ("<script>alert", "<img src=x", "<svg onload", 'href="javascript:'):
        assert raw not in html, raw
    assert "<script" not in html
    assert "Hello &lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html  # the subject
    assert "<code>javascript:alert(&#39;xss&#39;)</code>" in html  # shown, never a link
    assert (
        "<code>https://evil.example/&lt;img src=x onerror=alert(&#39;xss&#39;)&gt;</code>" in html
    )
    assert "&#34;&gt;&lt;svg onload=alert(&#39;xss&#39;)&gt;" in html  # the article's name
    # in the chart too: the axis names the links as text
    figure = html[html.index('<figure class="chart-figure">') : html.index("</figure>")]
    assert "evil.example/&lt;img src=x" in figure
    team = board.signed_in("lee@help.example").get("/content", params={"team": XSS[3]}).text
    assert "<svg onload" not in team and "&#34;&gt;&lt;svg onload" in team


def test_an_agent_is_refused_and_signed_out_goes_to_sign_in(board: Board) -> None:
    refused = board.signed_in("ana@help.example").get("/content", params=NOVEMBER)
    assert refused.status_code == 403
    assert "Your role (agent) does not open this page." in refused.text
    assert "configure-sso" not in refused.text
    anonymous = Browser(board.app, "http://i.test", "192.0.2.11").get("/content")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login")


def test_a_period_with_nothing_says_so(board: Board) -> None:
    html = board.content(since="2026-10-01", until="2026-10-31")
    assert "No tickets were solved in this period, so there is nothing to show yet." in html
    assert '<figure class="chart-figure">' not in html
    assert "No links to pages went out in this period." in html
    assert "No mail tracked with a pixel went out in this period." in html
    assert html.count("<h1") == 1


def test_sentences_and_names_in_each_case(store: Store) -> None:
    desk = Desk(store)
    desk.ticket("quiet", "2026-11-02T09:00:00Z", "2026-11-02T17:00:00Z")
    nothing = content_report(store, period(SINCE, UNTIL), help_center=(HELP,))
    assert answer(nothing) == "No tracked mail went out on the 1 ticket solved in this period."
    desk.opened(desk.send("quiet", "2026-11-02T10:00:00Z", [SSO]), "2026-11-02T11:00:00Z")
    calm = content_report(store, period(SINCE, UNTIL), help_center=(HELP,))
    assert (
        answer(calm, (HELP,)) == "Nothing is flagged among 1 link and 1 subject line this period."
    )
    assert short(SSO, (HELP,)) == "configure-sso"
    assert short(HELP, (HELP,)) == "help.example.com/articles/"
    assert short("https://shop.example.com/" + "x" * 60).endswith("x…")
    assert len(short("https://shop.example.com/" + "x" * 60)) == 48
    assert (file_type(PDF), file_type("https://f.example/a.tar.GZ?x=1"), file_type("x")) == (
        "PDF",
        "GZ",
        "",
    )


def _first_cells(html: str, title_id: str) -> list[str]:
    """The first cell of each row of a section's table, in the order shown."""
    rows = re.findall(r'<th scope="row" class="c-what">(.*?)</th>', _section(html, title_id), re.S)
    return [_text(row).split(" help article")[0] for row in rows]


def test_a_heading_sorts_its_table_and_keeps_the_period(board: Board) -> None:
    most_sent = _first_cells(board.content(), "links-title")
    assert most_sent[:2] == [SSO, RESET]  # 10 sent, then 3
    by_click_through = board.content(**NOVEMBER, sort="click_through")
    links = _first_cells(by_click_through, "links-title")
    assert links.index(RESET) < links.index(SSO)  # 3 of 3 clicked, against 0 of 8
    rows = re.findall(
        r"<tr>\s*<th scope=\"row\".*?</tr>", _section(by_click_through, "links-title"), re.S
    )
    rates = [float(_cells(row)["Click-through"].rstrip(" %")) for row in rows]
    assert rates == sorted(rates, reverse=True)
    subjects = _first_cells(by_click_through, "subjects-title")
    assert subjects.index("Your password") < subjects.index("Your SSO")
    heading = re.search(r'<th scope="col"[^>]*aria-sort="descending"[^>]*>(.*?)</th>',
                        _section(by_click_through, "links-title"), re.S)  # fmt: skip
    assert heading is not None and _text(heading.group(1)) == "Click-through ▼"
    assert 'href="?since=2026-11-01&amp;until=2026-11-30&amp;sort=opens#links-title"' in (
        by_click_through
    )
    # the period form keeps the order when another period is chosen
    assert '<input type="hidden" name="sort" value="click_through">' in by_click_through
    by_name = _first_cells(board.content(**NOVEMBER, sort="name"), "subjects-title")
    assert by_name == sorted(by_name, key=str.casefold)
    assert _first_cells(board.content(**NOVEMBER, sort="nonsense"), "links-title") == most_sent


def test_each_pages_part_of_the_report_is_the_whole_reports(store: Store) -> None:
    """The pages read only the queries their part needs: the figures are the same."""
    seed(store)
    seed_outcome_stories(store)
    # Replies and a returning requester on a ticket nobody clicked: the content part reads
    # only clicked tickets' replies, the outcomes part every ticket's.
    desk = Desk(store)
    desk.ticket("r1", "2026-11-12T09:00:00Z", "2026-11-13T09:00:00Z", requester="r@c.example")
    sent = desk.send("r1", "2026-11-12T10:00:00Z", [HELP + "reset"])
    desk.opened(sent, "2026-11-12T11:00:00Z")
    desk.replied(sent, "2026-11-12T12:00:00Z")
    desk.ticket("r2", "2026-11-14T09:00:00Z", "2026-11-14T17:00:00Z", requester="r@c.example")
    november = period(SINCE, UNTIL)
    whole = build_report(store, TeamBook(), november, help_center=(HELP,))
    content = content_report(store, november, help_center=(HELP,))
    assert (content.content, content.subjects) == (whole.content, whole.subjects)
    assert content.tickets_solved == whole.outcomes.tickets_solved > 0
    outcomes = outcomes_report(store, TeamBook(), november, help_center=(HELP,))
    assert (outcomes.outcomes, outcomes.by_engagement) == (whole.outcomes, whole.by_engagement)
    nobody = content_report(store, november, team="billing", help_center=(HELP,))
    assert (nobody.tickets_solved, nobody.content) == (0, [])  # no ticket is billing's


def test_a_chart_is_drawn_once_for_the_same_figures_and_again_when_they_change(
    board: Board, store: Store
) -> None:
    from inkling.web.charts import _drawn

    first = board.content()
    drawn = _drawn.cache_info()
    again = board.content()
    assert _drawn.cache_info().hits == drawn.hits + 1  # the same picture, not drawn again
    chart = re.compile(r"<svg.*?</svg>", re.S)
    assert chart.findall(first)[0] == chart.findall(again)[0]
    desk = Desk(store)
    desk.ticket("late", "2026-11-25T09:00:00Z", "2026-11-25T17:00:00Z", requester="l@c.example")
    desk.opened(desk.send("late", "2026-11-25T10:00:00Z", [SSO]), "2026-11-25T11:00:00Z")
    changed = board.content()  # one more opening: another picture
    assert chart.findall(changed)[0] != chart.findall(first)[0]
