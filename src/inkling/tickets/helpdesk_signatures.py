"""Is a webhook payload really from the helpdesk? Its signature (or shared token) checked.

Zendesk, Help Scout, FreeScout and Zammad sign each payload with an HMAC of the body (Zendesk
puts a timestamp in front of it); ``helpdesks.toml`` says which header carries it, which
digest and how it is written. Freshdesk does not sign: its automation rule sends a shared
token Inkling was told, as a custom header (``X-Inkling-Token``) or as the password of HTTP
basic auth. Every comparison is constant-time (:func:`hmac.compare_digest`).

Nothing is accepted unsigned: a helpdesk with neither secret nor token configured is
refused before its payload is read (:func:`missing_credential`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from inkling.errors import InklingError, SignatureError
from inkling.tickets.helpdesk_tables import Helpdesk, Signing, helpdesk
from inkling.tickets.helpdesks import HelpdeskOptions
from inkling.times import parse_time

TOKEN_HEADER = "X-Inkling-Token"  # noqa: S105 (a header name, not a password)
#: How old a signed timestamp (Zendesk's) may be, either way, before the payload is refused
#: as a replay. Zendesk retries a failed delivery for a while, so this is generous.
MAX_SIGNATURE_AGE = 15 * 60.0


def missing_credential(name: str, options: HelpdeskOptions | None) -> str | None:
    """One line saying how to configure helpdesk ``name`` when nothing to check its
    payloads with is set, else None."""
    table = helpdesk(name)
    has_secret = bool(options and options.secret and table.signing)
    has_token = bool(options and options.token and table.token_in)
    if has_secret or has_token:
        return None
    wanted = 'secret = "the signing secret"' if table.signing else 'token = "a long random string"'
    return (
        f"the {name} integration is not configured: set [integrations.{name}] {wanted} in "
        "inkling.toml (see docs/connect-helpdesks.md)"
    )


def verify(
    name: str,
    options: HelpdeskOptions,
    headers: Mapping[str, str],
    body: bytes,
    *,
    query: Mapping[str, str] | None = None,
    now: float | None = None,
) -> None:
    """Return if ``body`` carries a valid signature or token for helpdesk ``name``;
    raise SignatureError (one line: what is missing or wrong) otherwise.

    A request passes by any credential configured: the signature when a secret is set and
    the helpdesk signs, the shared token when a token is set and the helpdesk can send one.
    """
    table = helpdesk(name)
    lowered = {key.lower(): value for key, value in headers.items()}
    problems: list[str] = []
    if options.secret and table.signing:
        problem = _signature_problem(table.signing, options.secret, lowered, body, now)
        if problem is None:
            return
        problems.append(problem)
    if options.token and table.token_in:
        problem = _token_problem(table, options.token, lowered, query or {})
        if problem is None:
            return
        problems.append(problem)
    if not problems:
        problems.append(missing_credential(name, options) or "no credential configured")
    raise SignatureError(f"{name}: " + "; ".join(problems))


def _signature_problem(
    signing: Signing, secret: str, headers: Mapping[str, str], body: bytes, now: float | None
) -> str | None:
    given = headers.get(signing.header.lower(), "").strip()
    if not given:
        return f"no {signing.header} header"
    signed = body
    if signing.timestamp_header:
        stamp = headers.get(signing.timestamp_header.lower(), "").strip()
        problem = _stale(signing.timestamp_header, stamp, now)
        if problem:
            return problem
        signed = stamp.encode() + body
    digest = hmac.new(secret.encode(), signed, getattr(hashlib, signing.digest)).digest()
    if not given.startswith(signing.prefix):
        return f"{signing.header} does not start with {signing.prefix!r}"
    written = given.removeprefix(signing.prefix)
    try:
        if signing.encoding == "hex":
            decoded = bytes.fromhex(written)
        else:
            decoded = base64.b64decode(written, validate=True)
    except (binascii.Error, ValueError):
        return f"{signing.header} is not {signing.encoding}"
    if not hmac.compare_digest(decoded, digest):
        return f"{signing.header} does not match the body (wrong secret, or an altered body)"
    return None


def _stale(header: str, stamp: str, now: float | None) -> str | None:
    """Why a signed timestamp cannot be trusted (missing, unreadable, too old), or None."""
    if not stamp:
        return f"no {header} header"
    try:
        signed_at = parse_time(stamp, header)
    except InklingError:
        return f"{header} is not a time"
    age = (time.time() if now is None else now) - signed_at
    if abs(age) > MAX_SIGNATURE_AGE:
        return f"{header} is {abs(age) / 60:.0f} minutes off the clock (a replay, or a bad clock)"
    return None


def _token_problem(
    table: Helpdesk, token: str, headers: Mapping[str, str], query: Mapping[str, str]
) -> str | None:
    offered: list[str] = []
    if "header" in table.token_in and TOKEN_HEADER.lower() in headers:
        offered.append(headers[TOKEN_HEADER.lower()].strip())
    if "basic" in table.token_in:
        offered.extend(_basic_password(headers.get("authorization", "")))
    if "query" in table.token_in and "token" in query:
        offered.append(query["token"])
    if not offered:
        return f"no shared token (sent as {_places(table)})"
    expected = token.encode()
    # every offered value is compared, so the time taken says nothing about which matched
    matched = [hmac.compare_digest(value.encode(), expected) for value in offered]
    return None if any(matched) else "the shared token does not match"


def _basic_password(authorization: str) -> list[str]:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return []
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return []
    return [decoded.partition(":")[2]]


def _places(table: Helpdesk) -> str:
    words = {
        "header": f"the {TOKEN_HEADER} header",
        "basic": "the password of basic auth",
        "query": "?token= in the URL",
    }
    return " or ".join(words[place] for place in sorted(table.token_in))
