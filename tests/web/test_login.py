"""Signing in to the dashboard, on each backend: the right password opens a session (its
cookie's flags as a browser needs them), a wrong one does not; every form post without its
CSRF token fails; the lockout engages, expires, and never holds a browser the user signed
in from before; the rate limits answer 429."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from starlette.types import ASGIApp

from inkling.api.access import Access
from inkling.api.sessions import SESSION_SECONDS, Sessions, load_or_create_key
from inkling.store import Store
from inkling.web.app import build_web
from inkling.web.login import LoginPolicy, Logins
from inkling.web.passwords import Passwords

#: argon2id still, with small costs: these tests sign in dozens of times.
PASSWORDS = Passwords(PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)))
RIGHT = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = 1_796_000_000.0

    def __call__(self) -> float:
        return self.now


class Browser:
    """One browser at one address: its cookies kept between requests (real HTTP over
    ASGI, one event loop per request)."""

    def __init__(self, app: ASGIApp, base_url: str, address: str) -> None:
        self._app, self._base, self._address = app, base_url, address
        self.cookies = httpx.Cookies()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app, client=(self._address, 50000))
            async with httpx.AsyncClient(
                transport=transport, base_url=self._base, cookies=self.cookies
            ) as client:
                response = await client.request(method, url, **kwargs)
                self.cookies = httpx.Cookies(client.cookies)
                return response

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


class Dashboard:
    def __init__(
        self,
        store: Store,
        data_dir: Path,
        *,
        secure: bool = False,
        policy: LoginPolicy | None = None,
    ) -> None:
        self.store = store
        self.clock = Clock()
        self.secure = secure
        key = load_or_create_key(data_dir / "session.key")
        sessions = Sessions(key, secure=secure, clock=self.clock)
        logins = Logins(store.accounts, store.audit, PASSWORDS, policy, clock=self.clock)
        self.app = build_web(access=Access(store.accounts, sessions), logins=logins)

    def browser(self, address: str = "192.0.2.10") -> Browser:
        scheme = "https" if self.secure else "http"
        return Browser(self.app, f"{scheme}://i.test", address)

    def user(self, email: str, role: str = "agent", teams: tuple[str, ...] = ("billing",)) -> None:
        self.store.accounts.add_user(email, role, teams, PASSWORDS.hash(RIGHT))


@pytest.fixture
def dashboard(store: Store, data_dir: Path) -> Dashboard:
    board = Dashboard(store, data_dir)
    board.user("ana@help.example")
    return board


def _token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(browser: Browser, email: str, password: str) -> httpx.Response:
    token = _token(browser.get("/login"))
    form = {"email": email, "password": password, "csrf_token": token}
    return browser.post("/login", data=form)


def _cookie_flags(response: httpx.Response, name: str) -> set[str]:
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_the_right_password_signs_in_and_sign_out_ends_it(dashboard: Dashboard) -> None:
    browser = dashboard.browser()
    assert browser.get("/").headers["location"] == "/login"
    before = _token(browser.get("/login"))
    signed = sign_in(browser, "Ana@Help.example", RIGHT)
    assert (signed.status_code, signed.headers["location"]) == (303, "/")
    assert _cookie_flags(signed, "inkling_session") == {
        "httponly",
        f"max-age={SESSION_SECONDS}",
        "path=/",
        "samesite=lax",
    }  # not Secure: this dashboard is served over http
    home = browser.get("/")
    assert home.status_code == 200
    assert _token(home) != before  # a new CSRF secret for the session
    assert "ana@help.example" in home.text and "(agent)" in home.text
    assert '<a class="skip" href="#main">' in home.text
    assert '<a href="/" aria-current="page">Queue</a>' in home.text
    assert "Outcomes" not in home.text  # an agent holds no reports:read
    out = browser.post("/logout", data={"csrf_token": _token(home)})
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert browser.get("/").status_code == 303


def test_the_session_cookie_is_secure_over_https(store: Store, data_dir: Path) -> None:
    board = Dashboard(store, data_dir, secure=True)
    board.user("sam@help.example", "admin", ())
    browser = board.browser()
    signed = sign_in(browser, "sam@help.example", RIGHT)
    assert {"secure", "httponly", "samesite=lax"} <= _cookie_flags(signed, "inkling_session")
    assert "secure" in _cookie_flags(signed, "inkling_device")
    home = browser.get("/")
    assert "Settings" in home.text and "(admin)" in home.text


def test_a_wrong_password_or_address_is_refused_alike(dashboard: Dashboard) -> None:
    browser = dashboard.browser()
    wrong = sign_in(browser, "ana@help.example", "not her password")
    nobody = sign_in(browser, "nobody@help.example", RIGHT)
    for refused in (wrong, nobody):
        assert refused.status_code == 401
        assert "Wrong email or password." in refused.text
        assert "inkling_session" not in refused.headers.get("set-cookie", "")
    assert browser.get("/").status_code == 303


def test_every_form_post_without_its_csrf_token_fails(dashboard: Dashboard) -> None:
    browser = dashboard.browser()
    form = {"email": "ana@help.example", "password": RIGHT}
    assert browser.post("/login", data=form).status_code == 403
    other = dashboard.browser("192.0.2.99")
    stolen = _token(other.get("/login"))  # another browser's token: not this one's cookie
    refused = browser.post("/login", data=form | {"csrf_token": stolen})
    assert refused.status_code == 403 and "did not come from Inkling" in refused.text
    assert sign_in(browser, "ana@help.example", RIGHT).status_code == 303
    assert browser.post("/logout", data={}).status_code == 403
    assert browser.get("/").status_code == 200  # still signed in


def test_the_lockout_engages_and_expires(dashboard: Dashboard) -> None:
    browser = dashboard.browser()
    for _ in range(5):
        assert sign_in(browser, "ana@help.example", "guess").status_code == 401
    locked = sign_in(browser, "ana@help.example", RIGHT)
    assert locked.status_code == 423 and locked.headers["retry-after"] == "60"
    assert "Try again in 1 minute" in locked.text and "inkling users unlock" in locked.text
    dashboard.clock.now += 30
    assert sign_in(browser, "ana@help.example", "guess").status_code == 423
    user = dashboard.store.accounts.user("ana@help.example")
    assert user is not None and user.failed_logins == 5  # a try while locked is not counted
    dashboard.clock.now += 31
    assert sign_in(browser, "ana@help.example", RIGHT).status_code == 303
    user = dashboard.store.accounts.user("ana@help.example")
    assert user is not None and (user.failed_logins, user.locked_until) == (0, None)
    (entry,) = [e for e in dashboard.store.audit.entries() if e.action == "users.lockout"]
    assert (entry.actor, entry.target, entry.details) == (
        "web",
        "ana@help.example",
        {"failures": 5, "seconds": 60},
    )


def test_the_lockout_grows_but_is_capped() -> None:
    policy = LoginPolicy()
    assert [policy.lock_seconds(n) for n in (4, 5, 6, 7, 9, 10, 1000)] == [
        None,
        60,
        120,
        240,
        900,
        900,
        900,
    ]


def test_the_lockout_never_holds_a_browser_the_user_signed_in_from(dashboard: Dashboard) -> None:
    own = dashboard.browser("198.51.100.7")
    assert sign_in(own, "ana@help.example", RIGHT).status_code == 303
    own.post("/logout", data={"csrf_token": _token(own.get("/"))})
    guesser = dashboard.browser("203.0.113.66")
    for _ in range(8):
        sign_in(guesser, "ana@help.example", "guess")
    assert sign_in(guesser, "ana@help.example", RIGHT).status_code == 423
    assert sign_in(own, "ana@help.example", RIGHT).status_code == 303


def test_unlock_lifts_the_lockout_at_once(dashboard: Dashboard) -> None:
    browser = dashboard.browser()
    for _ in range(5):
        sign_in(browser, "ana@help.example", "guess")
    assert sign_in(browser, "ana@help.example", RIGHT).status_code == 423
    assert dashboard.store.accounts.clear_failures("ana@help.example")  # inkling users unlock
    assert sign_in(browser, "ana@help.example", RIGHT).status_code == 303


def test_the_rate_limits_answer_429(store: Store, data_dir: Path) -> None:
    board = Dashboard(store, data_dir, policy=LoginPolicy(per_address=(3, 60), per_account=(3, 60)))
    board.user("ana@help.example")
    one = board.browser("192.0.2.1")
    for _ in range(3):
        assert sign_in(one, "someone@help.example", "guess").status_code == 401
    limited = sign_in(one, "ana@help.example", RIGHT)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
    assert "Too many sign-in attempts" in limited.text
    for address in ("192.0.2.2", "192.0.2.3", "192.0.2.4"):  # an account, from many places
        sign_in(board.browser(address), "ana@help.example", "guess")
    assert sign_in(board.browser("192.0.2.5"), "ana@help.example", RIGHT).status_code == 429
    board.clock.now += 61
    assert sign_in(one, "ana@help.example", RIGHT).status_code == 303


def test_a_session_ends_after_its_lifetime_or_a_new_password(dashboard: Dashboard) -> None:
    browser = dashboard.browser()
    sign_in(browser, "ana@help.example", RIGHT)
    dashboard.clock.now += SESSION_SECONDS - 1
    assert browser.get("/").status_code == 200
    dashboard.clock.now += 2
    assert browser.get("/").status_code == 303
    sign_in(browser, "ana@help.example", RIGHT)
    dashboard.store.accounts.set_password("ana@help.example", PASSWORDS.hash("a new one, long"))
    assert browser.get("/").status_code == 303


def test_pages_load_nothing_from_elsewhere(dashboard: Dashboard) -> None:
    browser = dashboard.browser()
    page = browser.get("/login")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    links = re.findall(r'(?:href|src|action)="([^"]+)"', page.text)
    assert links and all(link.startswith(("/", "#")) for link in links), links
    css = browser.get("/static/inkling.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    missing = browser.get("/nowhere")
    assert missing.status_code == 404 and "There is no page at this address." in missing.text


def test_what_came_from_outside_is_escaped(dashboard: Dashboard) -> None:
    browser = dashboard.browser()
    refused = sign_in(browser, '"><script>alert(1)</script>', "guess")
    assert refused.status_code == 401
    assert "<script>" not in refused.text and "&lt;script&gt;" in refused.text
