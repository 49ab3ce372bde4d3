"""Who may call what: the scopes, what each role may hold, the caller, and the check.

Every ``/api/v1`` route but the providers' and helpdesks' webhook receivers (which check
their own signatures) takes ``Depends(access.require(SCOPE))``: it accepts a bearer API key
(found by the SHA-256 of the key; see ``api/keys.py``) or the dashboard's session cookie
(``api/sessions.py``), and answers

- 401 (with ``WWW-Authenticate: Bearer``) when neither is given, or what is given is not
  valid: a mistyped or revoked key, a session that ended;
- 403 when the caller is known but lacks the scope, or writes with a session but without
  its CSRF token;

each in one line that says which. The scope is in the OpenAPI description of the route
(its security requirement), so a client, a test, or a person can read what a route needs.

A key of an integration (no owner) holds exactly its scopes. A key owned by a user holds
its scopes only as far as the user's role allows, and reaches only the user's teams, as
the user does when signed in. Agents are bounded by their teams: another team's ticket is
answered 404, as a ticket that does not exist (so ticket numbers of other teams cannot be
probed), and their queue holds only their teams' tickets. Leads and admins see every team.
"""

# No "from __future__ import annotations": FastAPI reads the dependency's annotations at
# run time.
import hmac
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from inkling.api.keys import LegacyImport, digest
from inkling.api.sessions import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, Sessions
from inkling.errors import UnknownTicket
from inkling.playbook.teams import DEFAULT_TEAM, TeamBook
from inkling.store import Store
from inkling.store.accounts import Accounts, ApiKey, User

#: The scopes, each with what it opens. ``*`` on a key stands for all of them.
SCOPES: dict[str, str] = {
    "messages:read": "readings of messages, and finding messages",
    "messages:send": "instrument a message and send it (POST /api/v1/messages)",
    "tickets:read": "a ticket, its messages and its recommendation",
    "tickets:write": "create or update tickets (PUT /api/v1/tickets/{id})",
    "queue:read": "the triage queue",
    "events:write": "import sends, hits and mail events (POST /api/v1/events)",
    "stream:read": "the live feed of signals (GET /api/v1/stream)",
    "reports:read": "the metrics: content, outcomes, signals",
    "playbook:admin": "the playbook's settings",
    "webhooks:admin": "webhook subscriptions",
    "privacy:admin": "export, erase, purge and opt-outs",
    "users:admin": "users and API keys",
    "audit:read": "the audit log",
}
ALL = "*"
ROLES = ("agent", "lead", "admin")
_AGENT = frozenset({"messages:read", "tickets:read", "queue:read"})
_LEAD = _AGENT | {"reports:read", "playbook:admin", "stream:read"}
#: What each role may hold: a user signed in holds all of it, a key they own at most it.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "agent": _AGENT,
    "lead": _LEAD,
    "admin": frozenset(SCOPES),
}
#: Roles that see only their own teams' tickets, queue and messages.
TEAM_BOUND = frozenset({"agent"})
#: Methods that change nothing: a session may use them without a CSRF token.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: A key's last use is written at most this often (a write per request would be one more
#: transaction on every API call).
TOUCH_SECONDS = 60.0

#: What a route behind ``require`` may answer besides its own (for the OpenAPI spec).
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key or session, or one that is not valid"},
    403: {"description": "The key or user lacks the route's scope"},
}

_bearer = HTTPBearer(
    scheme_name="apiKey",
    auto_error=False,
    description="An API key from `inkling users key create NAME --scope SCOPE`",
)
_session = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="dashboardSession",
    auto_error=False,
    description="The dashboard's session (sign in at /login); writes also need the "
    f"{CSRF_HEADER} header",
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (signed in, or through a key they own) or an integration's
    key (``role`` None), the teams that bound them, and the scopes they hold."""

    name: str
    role: str | None
    teams: tuple[str, ...]
    scopes: frozenset[str]
    via: str  # "key" or "session"

    def can(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def team_bound(self) -> bool:
        return self.role in TEAM_BOUND

    def sees(self, team: str | None, book: TeamBook) -> bool:
        """Whether a ticket of ``team`` is theirs to see. ``default`` holds the tickets
        with no team or one not configured, as the queue counts them."""
        if not self.team_bound:
            return True
        return team in self.teams or (
            DEFAULT_TEAM in self.teams and book.team(team).name == DEFAULT_TEAM
        )

    def describe(self) -> str:
        if self.via == "session":
            return f"{self.name} ({self.role})"
        return f"the key {self.name!r}" + (f" ({self.role})" if self.role else "")


def parse_scopes(words: Iterable[str]) -> tuple[str, ...]:
    """The scopes named (``*`` alone stands for all); ValueError naming one unknown."""
    chosen: list[str] = []
    for word in words:
        for scope in (part.strip() for part in word.split(",")):
            if scope != ALL and scope not in SCOPES:
                raise ValueError(f"unknown scope {scope!r}; the scopes: {', '.join(SCOPES)}, *")
            if scope and scope not in chosen:
                chosen.append(scope)
    if not chosen:
        raise ValueError(f"name at least one scope: {', '.join(SCOPES)}, or *")
    return (ALL,) if ALL in chosen else tuple(chosen)


def expand(scopes: Iterable[str]) -> frozenset[str]:
    given = frozenset(scopes)
    return frozenset(SCOPES) if ALL in given else given & frozenset(SCOPES)


def beyond_role(scopes: Iterable[str], role: str) -> list[str]:
    """The scopes a key owned by a user of ``role`` could not use (``*`` is never beyond:
    it means all the role holds)."""
    if ALL in scopes:
        return []
    allowed = ROLE_SCOPES.get(role, frozenset())
    return [scope for scope in scopes if scope not in allowed]


def sees_ticket(principal: Principal, store: Store, book: TeamBook, ticket: str | None) -> bool:
    """Whether the caller may see ``ticket`` (a ticket unknown to Inkling counts as having
    no team, as a message with no ticket does)."""
    if not principal.team_bound:
        return True
    team = None
    if ticket is not None:
        try:
            team = store.tickets.get(ticket).team
        except UnknownTicket:
            team = None
    return principal.sees(team, book)


class Access:
    """Finds the caller of a request and checks a scope; ``require`` makes the routes'
    dependencies."""

    def __init__(
        self,
        accounts: Accounts,
        sessions: Sessions | None = None,
        legacy: LegacyImport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._accounts = accounts
        self.sessions = sessions
        self._legacy = legacy
        self._clock = clock
        self._touched: dict[str, float] = {}

    def require(self, scope: str) -> Callable[..., Principal]:
        """The dependency of a route that needs ``scope``: returns the caller."""
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")

        def caller(
            request: Request,
            bearer: Annotated[
                HTTPAuthorizationCredentials | None, Security(_bearer, scopes=[scope])
            ],
            session: Annotated[str | None, Security(_session, scopes=[scope])],
        ) -> Principal:
            return self.check(scope, request, bearer.credentials if bearer else None, session)

        return caller

    def actor(self, scope: str) -> Callable[..., str]:
        """As :meth:`require`, returning the caller's name (an audit entry's actor)."""
        needed = self.require(scope)

        def name(principal: Annotated[Principal, Security(needed)]) -> str:
            return principal.name

        return name

    def check(self, scope: str, request: Request, key: str | None, cookie: str | None) -> Principal:
        """The caller, if they hold ``scope``; else the HTTPException to answer."""
        if key is not None:
            principal = self.by_key(key)
            if principal is None:
                raise _unauthorized("this API key is not valid (mistyped, or revoked)")
        elif cookie is not None:
            principal = self.by_session(cookie)
            if principal is None:
                raise _unauthorized("the dashboard session has ended; sign in again at /login")
            if request.method not in _SAFE_METHODS and not self._csrf_ok(request):
                raise HTTPException(
                    403, f"a write with the dashboard session needs its {CSRF_HEADER} header"
                )
        else:
            raise _unauthorized(
                "an API key is needed (Authorization: Bearer ink_...), or a dashboard session"
            )
        if not principal.can(scope):
            raise HTTPException(403, f"{principal.describe()} lacks the scope {scope}")
        return principal

    def by_key(self, key: str) -> Principal | None:
        """The caller an API key stands for, or None (unknown, revoked, owner gone)."""
        if self._legacy is not None:
            self._legacy.run()
        wanted = digest(key)
        found = self._accounts.key_for_digest(wanted)
        if found is None or not hmac.compare_digest(found.sha256, wanted):
            return None
        owner = self._accounts.user(found.owner) if found.owner else None
        if found.owner and owner is None:
            return None
        self._touch(found)
        return _key_principal(found, owner)

    def by_session(self, cookie: str | None) -> Principal | None:
        """The user a session cookie stands for, or None (ended, forged, password changed,
        user removed)."""
        claim = self.sessions.read(cookie) if self.sessions else None
        if claim is None or self.sessions is None:
            return None
        user = self._accounts.user(claim.email)
        if user is None:
            return None
        if not hmac.compare_digest(self.sessions.fingerprint(user.password), claim.fingerprint):
            return None
        return user_principal(user)

    def _csrf_ok(self, request: Request) -> bool:
        assert self.sessions is not None
        return self.sessions.csrf_ok(
            request.cookies.get(CSRF_COOKIE), request.headers.get(CSRF_HEADER)
        )

    def _touch(self, key: ApiKey) -> None:
        now = self._clock()
        if now - self._touched.get(key.id, 0.0) >= TOUCH_SECONDS:
            self._touched[key.id] = now
            self._accounts.touch_key(key.id, now)


def user_principal(user: User) -> Principal:
    return Principal(
        user.email, user.role, user.teams, ROLE_SCOPES.get(user.role, frozenset()), "session"
    )


def _key_principal(key: ApiKey, owner: User | None) -> Principal:
    scopes = expand(key.scopes)
    if owner is None:
        return Principal(key.name, None, (), scopes, "key")
    bounded = scopes & ROLE_SCOPES.get(owner.role, frozenset())
    return Principal(key.name, owner.role, owner.teams, bounded, "key")


def _unauthorized(line: str) -> HTTPException:
    return HTTPException(401, line, headers={"WWW-Authenticate": "Bearer"})
