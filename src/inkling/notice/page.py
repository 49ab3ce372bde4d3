"""The notice a customer reaches from a tracked message's disclosure line.

``GET /p/{token}`` says, in plain words, what this message tracks, why, what is kept and
for how long, and offers one button that turns tracking off for the customer's address.
Only a ``POST`` changes anything: security scanners follow every link in a message, so a
``GET`` that opted people out would opt out everyone behind a scanner. The form carries a
CSRF token bound to a cookie set by the ``GET`` (double submit, signed), so another site
cannot post it for the customer. The page loads nothing from anywhere else: its style is
inline, it has no script and no image.

The token is the message's open token: it names the copy and reveals nothing. A bad token
gets a plain page that says the link is not valid, never an error.
"""

# No "from __future__ import annotations": FastAPI reads the annotations at run time.
import hmac
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Cookie, Form
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from inkling.errors import StoreError, TokenError, UnknownMessage
from inkling.model import MessageRecord
from inkling.privacy.optout import OptOutKey
from inkling.routes import NOTICE_PREFIX
from inkling.store import Store
from inkling.store.optouts import OptOutBook
from inkling.tokens import TokenCodec

COOKIE = "inkling_notice"
_HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex",
    "x-content-type-options": "nosniff",
    # Nothing from elsewhere, ever: no script, styles only inline, forms only to us.
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True, slots=True)
class NoticeOptions:
    retention_days: int
    full_ip: bool  # ``store_full_ip``: the page says which is kept
    secure_cookie: bool  # the base URL is https


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the page says about one copy."""

    tracking: str  # "full", "clicks", "none"
    why: str | None
    recipients: list[str]
    opted_out: bool


def notice_router(
    codec: TokenCodec, store: Store, book: OptOutBook, key: OptOutKey, options: NoticeOptions
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def seen(token: str) -> _Seen | None:
        record = _record(codec, store, token)
        if record is None:
            return None
        recipients = record.recipients()
        return _Seen(
            record.tracking, record.untracked, recipients, book.first(recipients) is not None
        )

    @router.get(NOTICE_PREFIX + "{token}")
    async def show(
        token: str, cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None
    ) -> HTMLResponse:
        nonce = cookie if cookie and len(cookie) == 32 else secrets.token_hex(16)
        try:
            found = await run_in_threadpool(seen, token)
        except StoreError:
            return _page("unavailable", 503)
        if found is None:
            return _page("invalid", 404)
        response = _page("notice", found=found, options=options, csrf=_csrf(key, nonce, token))
        response.set_cookie(
            COOKIE,
            nonce,
            max_age=3600,
            path=NOTICE_PREFIX,
            httponly=True,
            samesite="strict",
            secure=options.secure_cookie,
        )
        return response

    @router.post(NOTICE_PREFIX + "{token}")
    async def opt_out(
        token: str,
        csrf: Annotated[str, Form()] = "",
        cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> HTMLResponse:
        if not cookie or not hmac.compare_digest(csrf, _csrf(key, cookie, token)):
            return _page("refused", 403)
        try:
            found = await run_in_threadpool(seen, token)
            if found is None or not found.recipients:
                return _page("invalid", 404)
            await run_in_threadpool(_opt_out, store, book, found.recipients)
        except StoreError:
            return _page("unavailable", 503)
        done = _Seen(found.tracking, found.why, found.recipients, opted_out=True)
        return _page("done", found=done, options=options)

    return router


def _record(codec: TokenCodec, store: Store, token: str) -> MessageRecord | None:
    try:
        target = codec.decode_open(token)
        return store.messages.find(target.message)
    except (TokenError, UnknownMessage):
        return None


def _opt_out(store: Store, book: OptOutBook, recipients: list[str]) -> None:
    for address in recipients:
        book.add(address, source="page")
    store.audit.record("customer", "optout.add", "an address", {"via": "notice page"})


def _csrf(key: OptOutKey, nonce: str, token: str) -> str:
    """The form's token: bound to the browser's cookie and to this message's notice."""
    return key.digest(f"notice-csrf:{nonce}:{token}")


def masked(address: str) -> str:
    """``ana@customer.example`` as ``a•••@customer.example``: enough for the
    customer to know it is theirs, not enough for whoever else holds the link."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}\u2022\u2022\u2022@{domain}" if domain else "\u2022\u2022\u2022"


def _page(
    state: str,
    status: int = 200,
    *,
    found: _Seen | None = None,
    options: NoticeOptions | None = None,
    csrf: str = "",
) -> HTMLResponse:
    """The page in one of its states: notice, done, invalid, refused, unavailable."""
    page = (
        _templates()
        .get_template("notice.html")
        .render(
            state=state,
            found=found,
            options=options,
            csrf=csrf,
            addresses=[masked(a) for a in found.recipients] if found else [],
        )
    )
    return HTMLResponse(page, status_code=status, headers=_HEADERS)


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("inkling.notice", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
