"""The dashboard's web app (Starlette), mounted by ``inkling serve`` at ``/``.

    GET  /              the queue (?team=&assignee=); signed out: to /login
    GET  /tickets/{id}  a ticket: the recommendation, then its timeline
    GET  /content       per help article and subject line: sends, people's opens, clicks, flags
    GET  /outcomes      resolution, repeat contacts, self-service, split by engagement
    GET  /signals       opens by what made them, over time: why the raw open rate misleads
    GET  /settings      workflows and policies, playbook, opt-outs, users, keys, webhooks
    POST /settings/…    a workflow's policy set or reset, an opt-out added or removed
    GET  /how-to-read   what an open, a click, a proxy fetch and a scanner mean
    GET  /login         the sign-in form (with its CSRF token)
    POST /login         sign in: a session cookie, or the form again with one line saying why
    POST /logout        sign out (CSRF token needed, as for every form)
    GET  /static/…      the one stylesheet, and the queue's small script

Pages are server-rendered (Jinja2, autoescaped: nothing from outside is ever marked safe),
work without JavaScript and load nothing from elsewhere: the Content-Security-Policy says
so to the browser too (scripts only from /static, no inline script). The one script keeps
the queue live from ``/api/v1/stream``. Every POST without its CSRF token is refused (403)
before anything else is read. An agent sees their teams' tickets only: another team's
ticket page is a 404, as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from inkling.api.access import Access, Principal, sees_ticket
from inkling.api.sessions import (
    CSRF_COOKIE,
    CSRF_FIELD,
    DEVICE_COOKIE,
    DEVICE_SECONDS,
    SESSION_COOKIE,
    Sessions,
)
from inkling.errors import StoreError, UnknownTicket
from inkling.tracker.client import ClientAddress
from inkling.web.charts import warm_up
from inkling.web.content_page import content_page
from inkling.web.login import Attempt, Logins, Outcome
from inkling.web.outcomes_page import outcomes_page
from inkling.web.queue_page import NotYourTeam, queue_page
from inkling.web.report_choice import ReportChoice, report_choice
from inkling.web.settings_page import CHANGES, change_settings, settings_page
from inkling.web.signals_page import signals_page
from inkling.web.sources import Sources
from inkling.web.ticket_page import ticket_page

T = TypeVar("T")
#: A report page's contents from what the page reads and the reader's choice of period.
ReportBuilder = Callable[[Sources, ReportChoice], object]
HERE = Path(__file__).parent
#: A sign-in form is a few hundred bytes; a larger body is refused before it is parsed.
MAX_FORM_BYTES = 16 * 1024
#: A filter's value longer than this is no team or assignee (and not worth a query).
MAX_FILTER = 200
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    scope: str


#: The dashboard's sections (UI.md); each shows to those who hold its scope.
NAV = (
    NavItem("Queue", "/", "queue:read"),
    NavItem("Content", "/content", "reports:read"),
    NavItem("Outcomes", "/outcomes", "reports:read"),
    NavItem("Signals", "/signals", "reports:read"),
    NavItem("Settings", "/settings", "playbook:admin"),
)


def build_web(
    *,
    access: Access,
    logins: Logins,
    client: ClientAddress | None = None,
    sources: Sources | None = None,
) -> Starlette:
    """The dashboard app; ``access`` reads sessions (as the API does), ``logins`` checks
    passwords, ``client`` says which address a request comes from (trusted proxies),
    ``sources`` is what the pages read (without it, ``/`` is the bare signed-in frame)."""
    if access.sessions is None:
        raise ValueError("the dashboard needs sessions (Access(..., sessions=...))")
    pages = _Pages(access, access.sessions, logins, client or ClientAddress(), sources)
    return Starlette(
        routes=[
            Route("/", pages.home, methods=["GET"]),
            Route("/tickets/{ticket:path}", pages.ticket, methods=["GET"]),
            Route("/content", pages.report(content_page, "content.html"), methods=["GET"]),
            Route("/outcomes", pages.report(outcomes_page, "outcomes.html"), methods=["GET"]),
            Route("/signals", pages.report(signals_page, "signals.html"), methods=["GET"]),
            Route("/settings", pages.settings, methods=["GET"]),
            Route("/settings/{change}", pages.change_settings, methods=["POST"]),
            Route("/how-to-read", pages.how_to_read, methods=["GET"]),
            Route("/login", pages.login_form, methods=["GET"]),
            Route("/login", pages.login, methods=["POST"]),
            Route("/logout", pages.logout, methods=["POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        exception_handlers={HTTPException: pages.error},
    )


class _Pages:
    def __init__(
        self,
        access: Access,
        sessions: Sessions,
        logins: Logins,
        client: ClientAddress,
        sources: Sources | None,
    ) -> None:
        self._access = access
        self._sources = sources
        self._sessions = sessions
        self._logins = logins
        self._client = client
        self._templates = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=True, auto_reload=False
        )

    async def home(self, request: Request) -> Response:
        principal = await self._principal(request)
        if principal is None:
            return RedirectResponse("/login", status_code=303)
        if self._sources is None:
            return self._page(request, "home.html", principal=principal)
        _needs(principal, "queue:read")
        if principal.can("reports:read"):
            # the report pages' charts: their engine starts while a lead reads the queue,
            # not when the node starts (most starts never draw a chart)
            warm_up()
        team, assignee = _choice(request, "team"), _choice(request, "assignee")
        try:
            page = await _read(queue_page, self._sources, principal, team, assignee)
        except NotYourTeam as exc:
            raise HTTPException(403, f"You see only the tickets of the teams {exc}.") from exc
        return self._page(request, "queue.html", principal=principal, queue=page)

    async def ticket(self, request: Request) -> Response:
        principal = await self._principal(request)
        if principal is None:
            return RedirectResponse("/login", status_code=303)
        _needs(principal, "tickets:read")
        ident = str(request.path_params["ticket"])
        sources = self._sources
        if sources is None:
            raise HTTPException(404)
        # another team's ticket is answered as one that does not exist
        if not await _read(sees_ticket, principal, sources.store, sources.teams, ident):
            raise HTTPException(404)
        try:
            page = await _read(ticket_page, sources, ident)
        except UnknownTicket as exc:
            raise HTTPException(404) from exc
        return self._page(request, "ticket.html", principal=principal, page=page)

    def report(self, build: ReportBuilder, template: str) -> Callable[[Request], Any]:
        """The handler of a report page (``reports:read``): ``build(sources, choice)``
        on a worker thread, rendered by ``template`` as ``page``, with the choice."""

        async def handler(request: Request) -> Response:
            principal = await self._principal(request)
            if principal is None:
                return RedirectResponse("/login", status_code=303)
            _needs(principal, "reports:read")
            sources = self._sources
            if sources is None:
                raise HTTPException(404)
            choice = report_choice(dict(request.query_params), now=sources.clock())
            page = await _read(build, sources, choice)
            return self._page(request, template, principal=principal, page=page, choice=choice)

        return handler

    async def settings(self, request: Request) -> Response:
        principal = await self._principal(request)
        if principal is None:
            return RedirectResponse("/login", status_code=303)
        _needs(principal, "playbook:admin")
        if self._sources is None or self._sources.settings is None:
            raise HTTPException(404)
        query = dict(request.query_params)
        page = await _read(settings_page, self._sources, principal, query)
        return self._page(request, "settings.html", principal=principal, page=page)

    async def change_settings(self, request: Request) -> Response:
        """A Settings form: its change made, then back to the page with one line on it."""
        form = await self._form(request)
        principal = await self._principal(request)
        if principal is None:
            return RedirectResponse("/login", status_code=303)
        _needs(principal, "playbook:admin")
        name = str(request.path_params["change"])
        if self._sources is None or self._sources.settings is None or name not in CHANGES:
            raise HTTPException(404)
        if not principal.can(CHANGES[name].scope):
            raise HTTPException(403, f"Your role ({principal.role}) cannot change this.")
        done = await _read(change_settings, self._sources, name, principal, form)
        return RedirectResponse(done.location, status_code=303)

    async def how_to_read(self, request: Request) -> Response:
        principal = await self._principal(request)
        return self._page(request, "how_to_read.html", principal=principal)

    async def login_form(self, request: Request) -> Response:
        if await self._principal(request) is not None:
            return RedirectResponse("/", status_code=303)
        return self._page(request, "login.html")

    async def login(self, request: Request) -> Response:
        form = await self._form(request)
        email = form.get("email", "")
        address = self._address(request)
        known = self._sessions.device_ok(request.cookies.get(DEVICE_COOKIE), email.strip())
        attempt = await run_in_threadpool(
            self._logins.attempt, email, form.get("password", ""), address, known_device=known
        )
        if attempt.outcome is Outcome.SIGNED_IN and attempt.user is not None:
            return self._signed_in(attempt)
        return self._refused(request, attempt, email)

    async def logout(self, request: Request) -> Response:
        await self._form(request)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", secure=self._sessions.secure)
        return response

    async def error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        principal = await self._principal(request)
        return self._page(
            request,
            "error.html",
            status=exc.status_code,
            principal=principal,
            code=exc.status_code,
            detail=exc.detail,
            headers=dict(exc.headers or {}),
        )

    def _signed_in(self, attempt: Attempt) -> Response:
        assert attempt.user is not None
        user = attempt.user
        response = RedirectResponse("/", status_code=303)
        secure = self._sessions.secure
        response.set_cookie(
            SESSION_COOKIE,
            self._sessions.issue(user.email, user.password),
            max_age=int(self._sessions.lifetime),
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
        response.set_cookie(  # a fresh CSRF secret per session: none planted before it
            CSRF_COOKIE,
            self._sessions.new_csrf_cookie(),
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
        response.set_cookie(
            DEVICE_COOKIE,
            self._sessions.device_token(user.email),
            max_age=DEVICE_SECONDS,
            path="/login",
            secure=secure,
            httponly=True,
            samesite="strict",
        )
        return response

    def _refused(self, request: Request, attempt: Attempt, email: str) -> Response:
        minutes = max(1, round(attempt.retry_after / 60))
        if attempt.outcome is Outcome.LIMITED:
            status, line = 429, f"Too many sign-in attempts. Try again in {_minutes(minutes)}."
        elif attempt.outcome is Outcome.LOCKED:
            status = 423
            line = (
                f"Too many failed sign-ins for this account. Try again in {_minutes(minutes)}, "
                "or ask an admin to run: inkling users unlock EMAIL"
            )
        else:
            status, line = 401, "Wrong email or password."
        headers = {"Retry-After": str(max(1, round(attempt.retry_after)))} if status != 401 else {}
        return self._page(
            request, "login.html", status=status, error=line, email=email, headers=headers
        )

    async def _form(self, request: Request) -> dict[str, str]:
        """The posted form's fields, once its CSRF token is checked (403 otherwise)."""
        declared = request.headers.get("content-length")
        if declared is None or not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
            raise HTTPException(413, "This form is too large.")
        form = await request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM_BYTES)
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        if not self._sessions.csrf_ok(request.cookies.get(CSRF_COOKIE), fields.get(CSRF_FIELD)):
            raise HTTPException(
                403,
                "This form has expired or did not come from Inkling: go back, reload the "
                "page and send it again.",
            )
        return fields

    async def _principal(self, request: Request) -> Principal | None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        return await run_in_threadpool(self._access.by_session, cookie)

    def _address(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        # every X-Forwarded-For line, in order, as one list (as the tracker reads them)
        lines = request.headers.getlist("x-forwarded-for") if self._client.proxied else []
        forwarded = ", ".join(lines) or None
        return self._client.client(peer, forwarded) or "unknown"

    def _page(
        self,
        request: Request,
        template: str,
        *,
        status: int = 200,
        principal: Principal | None = None,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> Response:
        """A page with a CSRF token for its forms (and the cookie it answers to, made for a
        browser that has none)."""
        csrf_cookie = request.cookies.get(CSRF_COOKIE) or self._sessions.new_csrf_cookie()
        html = self._templates.get_template(template).render(
            principal=principal,
            nav=[item for item in NAV if principal and principal.can(item.scope)],
            path=request.url.path,
            csrf=self._sessions.csrf_token(csrf_cookie),
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers={**HEADERS, **(headers or {})})
        if request.cookies.get(CSRF_COOKIE) != csrf_cookie:
            response.set_cookie(
                CSRF_COOKIE,
                csrf_cookie,
                path="/",
                secure=self._sessions.secure,
                httponly=True,
                samesite="lax",
            )
        return response


async def _read(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on a worker thread; the database away is a 503 in one line."""
    try:
        return await run_in_threadpool(function, *args)
    except UnknownTicket:
        raise
    except StoreError as exc:
        raise HTTPException(
            503, "The database cannot be reached right now. Try again in a minute."
        ) from exc


def _needs(principal: Principal, scope: str) -> None:
    if not principal.can(scope):
        raise HTTPException(403, f"Your role ({principal.role}) does not open this page.")


def _choice(request: Request, name: str) -> str | None:
    """A filter's value from the query string; empty (or absurdly long) is none."""
    value = request.query_params.get(name, "").strip()
    return value if value and len(value) <= MAX_FILTER else None


def _minutes(count: int) -> str:
    return "1 minute" if count == 1 else f"{count} minutes"
