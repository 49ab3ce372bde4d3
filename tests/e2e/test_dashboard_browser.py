"""The dashboard in a real browser (Debian's Chromium) against a real ``inkling serve``:
sign in, read the queue, open a ticket and its timeline with verdicts and reasons, watch a
person's open arrive on the queue without a reload; an agent bounded by their teams; XSS
payloads shown as text with no dialog and no console error; and what can be checked of
accessibility without axe: labels, one h1, visible focus, WCAG AA contrast, 390 px cards.

Screenshots of each page at 1,440 and 390 px wide go to ``$INKLING_TEST_ARTIFACTS``
(default: a directory under pytest's base temp, printed at the end).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Dialog, Page

from inkling.api.keys import make_key
from inkling.routes import PIXEL_PREFIX
from inkling.store import Store
from inkling.tokens import TokenCodec
from tests.e2e.browser import CHROMIUM, LocalWeb, chromium_context
from tests.e2e.server import ServerProcess
from tests.reports.stories import HELP
from tests.web.test_content_page import seed as seed_content
from tests.web.test_dashboard import OUTLOOK, XSS, seed
from tests.web.test_login import PASSWORDS, RIGHT
from tests.web.test_report_pages import seed as seed_outcomes

pytestmark = pytest.mark.slow

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

WIDE, NARROW = 1440, 390
STYLESHEET = Path(__file__).parents[2] / "src/inkling/web/static/inkling.css"


@dataclass
class Served:
    server: ServerProcess
    store: Store
    shots: Path
    taken: list[Path] = field(default_factory=list)


@dataclass
class Watched:
    """What a page did that it must not: alerts, and errors in its console."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("dashboard") / "data"
    data_dir.mkdir()
    server = ServerProcess(data_dir)
    server.wait_loaded()  # the server has made its database: two migrations would race
    store = Store(f"sqlite:///{data_dir / 'inkling.db'}")
    store.accounts.add_user("sam@help.example", "lead", (), PASSWORDS.hash(RIGHT))
    store.accounts.add_user("ana@help.example", "agent", ("billing",), PASSWORDS.hash(RIGHT))
    seed(store, time.time())
    chosen = os.environ.get("INKLING_TEST_ARTIFACTS")
    shots = Path(chosen) if chosen else tmp_path_factory.mktemp("dashboard-screens")
    shots.mkdir(parents=True, exist_ok=True)
    done = Served(server, store, shots)
    try:
        yield done
    finally:
        store.close()
        server.stop()
        print(f"\ndashboard screenshots: {shots}")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWeb]:
    local = LocalWeb(tmp_path_factory.mktemp("web"))
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="module")
def context(web: LocalWeb) -> Iterator[BrowserContext]:
    with chromium_context(web) as made:
        yield made


def _watched(page: Page) -> Watched:
    seen = Watched()

    def on_dialog(dialog: Dialog) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.errors.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("request", lambda request: seen.requests.append(request.url))
    return seen


def _sign_in(context: BrowserContext, served: Served, email: str) -> tuple[Page, Watched]:
    page = context.new_page()
    seen = _watched(page)
    page.set_viewport_size({"width": WIDE, "height": 900})
    page.goto(f"{served.server.url}/login")
    if page.url == f"{served.server.url}/":  # signed in already, in this context
        return page, seen
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(RIGHT)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{served.server.url}/")
    return page, seen


def _shoot(page: Page, served: Served, name: str) -> None:
    """Full-page screenshots at both widths; at 390 px nothing scrolls sideways."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for width in (WIDE, NARROW):
        page.set_viewport_size({"width": width, "height": 900})
        path = served.shots / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        served.taken.append(path)
        if width == NARROW:
            assert page.evaluate("document.documentElement.scrollWidth") <= NARROW, name
    page.set_viewport_size({"width": WIDE, "height": 900})


def _one_h1_and_every_control_labelled(page: Page) -> None:
    assert page.locator("h1").count() == 1, page.url
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
            .filter(e => e.type !== 'hidden')
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !(e.tagName === 'BUTTON' && e.textContent.trim()))
            .map(e => e.outerHTML)"""
    )
    assert unlabelled == [], page.url


def _focus_is_visible(page: Page) -> None:
    """Tab from the top: the skip link shows, and each focused element has an outline."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    skip = page.evaluate(
        "(() => { const e = document.activeElement, r = e.getBoundingClientRect();"
        " return [e.textContent, r.left >= 0 && r.top >= 0 && r.width > 0]; })()"
    )
    assert skip == ["Skip to main content", True]
    for _ in range(6):
        style = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
        assert style[0] != "none" and style[1] >= 2, page.url
        page.keyboard.press("Tab")


def _colour(text: str) -> tuple[float, float, float, float]:
    """An ``rgb()``/``rgba()`` or ``#rrggbb`` colour as red, green, blue (0-255), alpha."""
    if text.startswith("#"):
        return (int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16), 1.0)
    parts = [float(p) for p in re.findall(r"[\d.]+", text)]
    return (parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0)


def contrast(one: str, other: str) -> float:
    """The WCAG 2 contrast ratio of two opaque colours (1 to 21)."""

    def luminance(colour: str) -> float:
        def channel(value: float) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b, _ = _colour(colour)
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _text_contrast_is_aa(page: Page) -> None:
    """Every visible text's colour against the background it sits on: at least 4.5:1
    (3:1 for large text), as WCAG 2 AA asks."""
    found = page.evaluate(
        """() => {
          const out = [];
          const bg = e => { for (; e; e = e.parentElement) {
              const c = getComputedStyle(e).backgroundColor;
              if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c; }
            return 'rgb(255, 255, 255)'; };
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const e = n.parentElement;
            if (!n.textContent.trim() || !e.getClientRects().length) continue;
            const s = getComputedStyle(e);
            if (s.visibility === 'hidden' || e.closest('.vh, .skip')) continue;
            const large = parseFloat(s.fontSize) >= 24 ||
              (parseFloat(s.fontSize) >= 18.66 && parseInt(s.fontWeight) >= 700);
            out.push([n.textContent.trim().slice(0, 40), s.color, bg(e), large]);
          }
          return out; }"""
    )
    assert found, page.url
    for text, colour, background, large in found:
        ratio = contrast(colour, background)
        assert ratio >= (3.0 if large else 4.5), (page.url, text, colour, background, ratio)


def test_the_palette_is_aa_on_the_backgrounds_it_is_used_on() -> None:
    css = STYLESHEET.read_text()
    palette = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6})", css))
    pairs = [
        (palette[name], "#ffffff") for name in ("text", "muted", "person", "machine", "urgent")
    ]
    pairs += [(palette["due"], palette["due-bg"]), ("#ffffff", palette["person"])]
    for colour, background in pairs:
        assert contrast(colour, background) >= 4.5, (colour, background)
    assert round(contrast("#6b7280", "#ffffff"), 2) == 4.83  # the machines' grey, just AA


def test_sign_in_read_the_queue_open_a_ticket_and_how_to_read_it(
    context: BrowserContext, served: Served
) -> None:
    page, seen = _sign_in(context, served, "sam@help.example")
    answer = page.locator("h1").inner_text()
    assert answer == "2 tickets need you now, 3 are waiting."
    now = page.locator("section", has=page.get_by_role("heading", name="Needs you now"))
    first = now.locator("tbody tr").first
    assert first.locator(".chip").inner_text().lower() == "escalate"
    assert "Charged twice <script>alert('xss')</script>" in first.inner_text()
    assert "due now" in first.locator("time").inner_text()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first.locator("time").get_attribute("datetime") or ""
    )
    assert "no sign of a person" in first.locator(".c-why").inner_text()
    _one_h1_and_every_control_labelled(page)
    _focus_is_visible(page)
    _text_contrast_is_aa(page)
    _shoot(page, served, "queue")
    page.set_viewport_size({"width": NARROW, "height": 900})
    assert first.evaluate("e => getComputedStyle(e).display") == "block"  # a card
    page.set_viewport_size({"width": WIDE, "height": 900})

    page.get_by_role("link", name="#4123").click()
    page.wait_for_url(re.compile(r"/tickets/4123$"))
    box = page.locator(".advice")
    assert box.locator(".chip").inner_text().lower() == "escalate"
    assert page.evaluate(
        "document.querySelector('.advice').compareDocumentPosition("
        "document.querySelector('.timeline')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    machine = page.locator("li.sig-machine").first
    assert "Machine: Apple's privacy proxy" in (machine.text_content() or "")
    assert "Says nothing about reading." in machine.inner_text()
    assert not machine.locator("details ul").is_visible()
    machine.locator("summary").click()  # the reasons, for the curious
    assert "Mail Privacy Protection network" in machine.locator("details ul").inner_text()
    assert "25 s after sending" in machine.locator("details dl").inner_text()
    grey = machine.locator(".sig-text").evaluate("e => getComputedStyle(e).color")
    assert grey == "rgb(107, 114, 128)"
    unknown = page.locator("li.sig-unknown").first
    assert unknown.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    assert page.locator("li.sig a", has_text="How to read this").count() == 4
    _one_h1_and_every_control_labelled(page)
    _text_contrast_is_aa(page)
    _shoot(page, served, "ticket")

    held = served.server.url + "/tickets/4101"
    page.goto(held)
    person = page.locator("li.sig-person").first
    assert (
        person.locator(".sig-text").evaluate("e => getComputedStyle(e).color") == "rgb(29, 78, 216)"
    )
    assert "A person opened it in Outlook." in person.inner_text()
    _shoot(page, served, "ticket-person")

    page.goto(served.server.url + "/tickets/4123")
    page.locator("li.sig-machine").first.get_by_role(
        "link", name=re.compile("How to read this")
    ).click()
    page.wait_for_url(re.compile(r"/how-to-read#proxy$"))
    assert page.locator("h1").inner_text() == "How to read the signals"
    assert "says nothing about reading" in page.locator("#proxy + p + p").inner_text().lower()
    _one_h1_and_every_control_labelled(page)
    _text_contrast_is_aa(page)
    _shoot(page, served, "how-to-read")
    assert seen.dialogs == [] and seen.errors == []


def test_a_persons_open_arrives_on_the_queue_without_a_reload(
    context: BrowserContext, served: Served
) -> None:
    page, seen = _sign_in(context, served, "sam@help.example")
    line = page.locator("tbody tr", has=page.get_by_role("link", name="#4097"))
    assert line.locator(".chip").inner_text().lower() == "nudge"
    page.wait_for_function("document.getElementById('queue-live').textContent.includes('follows')")
    deadline = time.monotonic() + 10
    while not any("/api/v1/stream" in url for url in seen.requests):
        assert time.monotonic() < deadline, "the queue never opened the live feed"
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)  # the feed answers from the moment it is open
    page.evaluate("window.notReloaded = true")
    (copy,) = served.store.tickets.messages_of("4097")
    token = TokenCodec.for_data_dir(served.server.data_dir).open_token(copy.id, copy.sent_at)
    pixel = httpx.get(
        f"{served.server.url}{PIXEL_PREFIX}{token}.gif", headers={"User-Agent": OUTLOOK}
    )
    assert pixel.status_code == 200
    fresh = page.locator("tbody tr", has=page.get_by_role("link", name="#4097"))
    fresh.locator(".chip", has_text=re.compile("check in", re.I)).wait_for(timeout=15_000)
    assert "A person opened it once" in fresh.locator(".c-why").inner_text()
    assert page.evaluate("window.notReloaded") is True
    assert "Updated" in page.locator("#queue-live").inner_text()
    _shoot(page, served, "queue-live")
    assert seen.dialogs == [] and seen.errors == []


def test_an_agent_sees_their_teams_and_another_teams_ticket_is_not_there(
    context: BrowserContext, served: Served
) -> None:
    other = context.browser
    assert other is not None
    agent = other.new_context(ignore_https_errors=True)
    try:
        page, seen = _sign_in(agent, served, "ana@help.example")
        teams = page.locator("tbody td.c-meta[data-label='Team']").all_inner_texts()
        assert teams and set(teams) == {"billing"}
        assert page.get_by_role("link", name="#4097").count() == 0
        assert page.locator("#team option").all_inner_texts() == ["any team", "billing"]
        answered = page.goto(f"{served.server.url}/tickets/4097")
        assert answered is not None and answered.status == 404
        assert page.locator("h1").inner_text() == "Nothing here"
        assert not any("/api/v1/stream" in url for url in seen.requests)  # no stream:read
        assert seen.dialogs == []
    finally:
        agent.close()


def test_payloads_from_outside_stay_text_on_every_page(
    context: BrowserContext, served: Served
) -> None:
    page, seen = _sign_in(context, served, "sam@help.example")
    base = served.server.url
    odd = page.goto(base + "/?team=returns")
    assert odd is not None
    odd_href = page.get_by_role("link", name=re.compile(r"^#9")).get_attribute("href")
    assert odd_href is not None
    for path in (
        "/",
        "/?team=returns",
        "/tickets/4123",
        "/tickets/4130",
        "/tickets/4097",
        odd_href,
        "/how-to-read",
    ):
        answered = page.goto(base + path)
        assert answered is not None and answered.status == 200, path
        csp = answered.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp
        for details in page.locator("details").all():
            details.locator("summary").click()
        # no element was made from a payload: no svg, no img, no script but the queue's
        assert page.locator("svg, img, iframe").count() == 0, path
        scripts = page.evaluate(
            "[...document.scripts].map(s => s.src.replace(location.origin, ''))"
        )
        assert scripts in ([], ["/static/queue.js"]), path
        assert (
            page.evaluate("[...document.links].filter(a => a.protocol === 'javascript:').length")
            == 0
        )
    page.goto(base + "/tickets/4123")
    text = page.locator("main").text_content() or ""  # the closed details too
    for payload in (XSS[0], XSS[1], XSS[2], XSS[3]):
        assert payload in text  # shown as the customer or attacker wrote it
    page.goto(base + odd_href)
    assert page.locator("h1").inner_text().startswith("#9\"><svg onload=alert('xss')>")
    assert seen.dialogs == [] and seen.errors == []


# The reports and Settings, on a second server: November's hand-built tickets (the
# Content and the Outcomes pages' stories), a help center, and a workflow in inkling.toml.
REPORT_PAGES = (
    ("Content", "content", "Help articles"),
    ("Outcomes", "outcomes", "First contact resolution"),
    ("Signals", "signals", "Opens"),
)


@dataclass
class Reporting:
    served: Served
    key: str


@pytest.fixture(scope="module")
def reporting(tmp_path_factory: pytest.TempPathFactory, served: Served) -> Iterator[Reporting]:
    root = tmp_path_factory.mktemp("reporting")
    data_dir = root / "data"
    data_dir.mkdir()
    config = root / "inkling.toml"
    config.write_text(
        f'[reports]\nhelp_center = ["{HELP}"]\n\n[workflows.billing]\ntracking = "clicks"\n'
    )
    server = ServerProcess(data_dir, env={"INKLING_CONFIG": str(config)})
    server.wait_loaded()
    store = Store(f"sqlite:///{data_dir / 'inkling.db'}")
    store.accounts.add_user("sam@help.example", "lead", (), PASSWORDS.hash(RIGHT))
    store.accounts.add_user("ada@help.example", "admin", (), PASSWORDS.hash(RIGHT))
    seed_content(store)
    seed_outcomes(store)
    made = make_key(store.accounts, "helpdesk", ("messages:send",))
    assert made is not None
    try:
        yield Reporting(Served(server, store, served.shots), made.secret)
    finally:
        store.close()
        server.stop()


def test_each_report_opens_from_the_menu_with_its_chart_and_its_table(
    context: BrowserContext, reporting: Reporting
) -> None:
    served = reporting.served
    other = context.browser
    assert other is not None
    lead = other.new_context(ignore_https_errors=True)
    try:
        page, seen = _sign_in(lead, served, "sam@help.example")
        for name, path, table_heading in REPORT_PAGES:
            page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
            page.wait_for_url(re.compile(f"/{path}$"))
            page.get_by_label("From", exact=True).fill("2026-11-01")
            page.get_by_label("to", exact=True).fill("2026-11-30")
            page.get_by_role("button", name="Show").click()
            page.wait_for_url(re.compile(f"/{path}\\?since=2026-11-01&until=2026-11-30&team=$"))
            assert page.locator("h1").inner_text() == name
            chart = page.locator("figure.chart-figure svg[role='img']").first
            assert chart.is_visible(), path
            assert (chart.get_attribute("aria-label") or "").strip(), path
            assert chart.locator(".mark-rect path, .mark-rect rect, path").count() > 0, path
            alternative = page.locator("figure.chart-figure details").first
            alternative.locator("summary").click()
            assert alternative.locator("tbody tr").count() > 0, path
            assert table_heading in (page.locator("main").text_content() or ""), path
            # every picture on the page is a chart: nothing from outside became an element
            assert page.locator("svg").count() == page.locator("figure.chart-figure svg").count()
            assert page.locator("img, iframe, script:not([src])").count() == 0, path
            _one_h1_and_every_control_labelled(page)
            _text_contrast_is_aa(page)
            _shoot(page, served, path)
        page.goto(f"{served.server.url}/content?since=2026-11-01&until=2026-11-30")
        sso = page.locator("table.content-lines tr", has_text="configure-sso").first
        assert "opened, not clicked" in sso.locator(".c-flags").inner_text().lower()
        links = page.locator("section[aria-labelledby='links-title']")
        links.locator("thead a", has_text="Click-through").click()  # a heading sorts
        page.wait_for_url(re.compile(r"sort=click_through#links-title$"))
        sorted_by = links.locator("thead th[aria-sort='descending']")
        assert sorted_by.inner_text().startswith("Click-through")
        first = links.locator("tbody tr").first.locator("th").inner_text()
        assert "reset-password" in first  # every click followed an open; SSO's none did
        assert seen.dialogs == [] and seen.errors == []
    finally:
        lead.close()


def test_an_admin_changes_a_policy_and_the_next_message_follows_it(
    context: BrowserContext, reporting: Reporting
) -> None:
    served = reporting.served
    assert _send_billing(reporting) is True  # inkling.toml's "clicks": links are tracked
    other = context.browser
    assert other is not None
    admin = other.new_context(ignore_https_errors=True)
    try:
        page, seen = _sign_in(admin, served, "ada@help.example")
        page.get_by_role("navigation").get_by_role("link", name="Settings").click()
        page.wait_for_url(re.compile("/settings$"))
        row = page.locator("tr", has=page.get_by_role("button", name="Save the policy of billing"))
        row.get_by_label("Tracking").select_option("none")
        row.get_by_role("button", name="Save the policy of billing").click()
        page.wait_for_url(re.compile(r"/settings\?done=policy-set&workflow=billing"))
        status = page.get_by_role("status").first
        assert "the next message of billing follows this policy" in status.inner_text()
        _one_h1_and_every_control_labelled(page)
        _text_contrast_is_aa(page)
        _shoot(page, served, "settings")
        assert _send_billing(reporting) is False  # the page's "none", at once
        assert seen.dialogs == [] and seen.errors == []
    finally:
        admin.close()


def _send_billing(reporting: Reporting) -> bool:
    """Send a billing reply through the server's API: whether its link came back tracked."""
    server = reporting.served.server
    answer = httpx.post(
        f"{server.url}/api/v1/messages",
        headers={"Authorization": f"Bearer {reporting.key}"},
        json={
            "to": "ann@customer.example",
            "from": "Acme Support <support@acme.example>",
            "subject": "Your refund",
            "html": '<p>See <a href="https://help.example.com/refunds">the article</a></p>',
            "workflow": "billing",
        },
    )
    assert answer.status_code == 201, answer.text
    return f"{server.url}/t/c/" in answer.text
