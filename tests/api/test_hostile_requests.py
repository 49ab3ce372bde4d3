"""Hostile input to ``POST /api/v1/messages`` through a real ``inkling serve``: every
field that becomes a header, times every class of awkward character, each answered 201 or
422 (never 5xx) on one kept-alive connection, a 422 naming the field, and an accepted value
reading back from the mail the mail server received exactly as it was given."""

from __future__ import annotations

import email
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess
from tests.e2e.test_cli import inkling
from tests.relay.conftest import Sink

pytestmark = pytest.mark.slow

ANN = "ann@customer.example"
SENDER = "support@acme.example"
_ids = itertools.count()


@dataclass(frozen=True)
class Hostile:
    """A class of awkward text: ``make(word)`` puts it into a value; ``text`` and
    ``display``: whether a free-text field and a display name must accept it (else 422).
    ``shown``: the display name mail software reads, when it differs from the text."""

    name: str
    make: Callable[[str], str]
    text: bool
    display: bool
    shown: str | None = None


def _inside(fragment: str) -> Callable[[str], str]:
    return lambda word: f"Re {fragment} {word}"


HOSTILE = [
    *(
        Hostile(f"C0 U+{ord(c):04X}", _inside(c), text=False, display=False)
        for c in "\x00\x01\x07\x08\x0b\x0c\x0e\x1b\x1c\x1d\x1e\x1f"
    ),
    Hostile("tab", _inside("\t"), text=True, display=False),
    Hostile("CR", _inside("\r"), text=False, display=False),
    Hostile("LF", _inside("\n"), text=False, display=False),
    Hostile("CRLF injection", _inside("\r\nBcc: evil@x.example"), text=False, display=False),
    Hostile("DEL", _inside("\x7f"), text=False, display=False),
    *(
        Hostile(f"C1 U+{ord(c):04X}", _inside(c), text=False, display=False)
        for c in "\x80\x85\x9b\x9f"
    ),
    Hostile("LS", _inside("\u2028"), text=False, display=False),
    Hostile("PS", _inside("\u2029"), text=False, display=False),
    Hostile("lone high surrogate", _inside("\ud800"), text=False, display=False),
    Hostile("lone low surrogate", _inside("\udfff"), text=False, display=False),
    Hostile(
        "encoded word to CRLF",
        _inside("=?utf-8?q?x=0D=0ABcc:_evil@x.example?="),
        text=False,
        display=False,
    ),
    Hostile("encoded word to NUL", _inside("=?utf-8?b?eAB5?="), text=False, display=False),
    Hostile(
        "encoded word",
        _inside("=?utf-8?q?Gr=C3=BC=C3=9Fe?="),
        text=False,  # free text is text: it would be shown decoded, not as given
        display=True,  # a display name may be given encoded, as mail writes it
        shown="Re Grüße {word}",
    ),
    Hostile("no-break space", _inside("\u00a0"), text=True, display=True),
    Hostile("zero-width space", _inside("\u200b"), text=True, display=True),
    Hostile("byte order mark", _inside("\ufeff"), text=True, display=True),
    Hostile("right-to-left override", _inside("\u202e"), text=True, display=True),
    Hostile("non-ASCII words", _inside("Grüße, 日本語 😀 — ça"), text=True, display=True),
    Hostile("specials", _inside('"a, b" <c@d> (e) [f]: g; h\\'), text=True, display=True),
    Hostile("lone =?", _inside("=? x ?="), text=True, display=True),
    # long, but short enough for a display name and its address to fit in 900 characters
    Hostile("long folded", lambda word: " ".join([word] * 120), text=True, display=True),
    Hostile("long non-ASCII", lambda word: "é" * 830 + word, text=True, display=True),
    Hostile("long word", lambda word: "x" * 830 + word, text=True, display=True),
    Hostile("too long", lambda word: "x" * 5000 + word, text=False, display=False),
    Hostile("non-ASCII too long", lambda word: "日" * 1000 + word, text=False, display=False),
    Hostile("leading space", lambda word: f" {word}", text=False, display=True),  # quoted
    Hostile("trailing tab", lambda word: f"{word}\t", text=False, display=False),
]


@dataclass(frozen=True)
class Delivered:
    """What the mail server received for an accepted request, and Inkling's reading."""

    raw: bytes
    message: EmailMessage
    reading: dict[str, Any]


Check = Callable[[Delivered], None]


@dataclass(frozen=True)
class Case:
    """One request and what must come of it: ``accepted`` (201) or a 422 at ``loc``;
    ``check`` what an accepted one must deliver."""

    label: str
    body: bytes | dict[str, Any]
    accepted: bool
    loc: list[object]
    check: Check | None = None


def _fields(**changes: object) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "to": ANN,
        "from": f"Acme Support <{SENDER}>",
        "subject": "Your refund",
        "text": "See https://help.example/articles/refunds",
        "html": '<p>See <a href="https://help.example/articles/refunds">it</a></p>',
    }
    fields.update(changes)
    return fields


def _quoted(display: str) -> str:
    """A display name as a careful client writes it: quoted unless it is words (no
    specials) one space apart."""
    if re.fullmatch(r'[^\s"\\(),:;<>@\[\]]+(?: [^\s"\\(),:;<>@\[\]]+)*', display):
        return display
    return '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text_cases() -> Iterator[Case]:
    """subject, ticket, workflow, in_reply_to, a header value: free text."""
    for hostile, field in itertools.product(
        HOSTILE, ["subject", "ticket", "workflow", "in_reply_to", "headers"]
    ):
        value = hostile.make(f"w{next(_ids)}")
        accepted = hostile.text and (field != "in_reply_to" or value.isascii())
        if field == "headers":
            body = _fields(headers={"X-Note": value})
            check = _header_is("X-Note", value)
        else:
            body = _fields(**{field: value})
            check = _text_read_back(field, value)
        yield Case(f"{field}: {hostile.name}", body, accepted, ["body", field], check)


def _display_cases() -> Iterator[Case]:
    """A display name in from, to (a list), cc and reply_to."""
    for hostile, field in itertools.product(HOSTILE, ["from", "to", "cc", "reply_to"]):
        word = f"w{next(_ids)}"
        display = hostile.make(word)
        address = SENDER if field == "from" else f"{field}-{word}@customer.example"
        value = f"{_quoted(display)} <{address}>"
        shown = hostile.shown.format(word=word) if hostile.shown else display
        body = _fields(**{field: [value] if field == "to" else value})
        check = _mailbox_is(field, shown, address)
        yield Case(f"{field}: {hostile.name}", body, hostile.display, ["body", field], check)


#: Addresses a client may get wrong: refused, never sent somewhere else than they show.
MALFORMED_ADDRESSES = [
    "Ann, Bob <ann@customer.example>",  # an unquoted comma: two names
    "Ann <ann@customer.example>, evil@x.example",
    "ann@customer.example (Ann)",  # a comment: Inkling and mail read the name apart
    "Team: ann@customer.example;",  # a group
    "Ann \\ B <ann@customer.example>",
    "ann@bücher.example",  # not ASCII: needs SMTPUTF8, which a composed message lacks
    "änn@customer.example",
    " ann@customer.example",
    "=?utf-8?q?Ann=0D=0A?= <ann@customer.example>",
    "ann",
    "",
]


def _address_cases() -> Iterator[Case]:
    for value, field in itertools.product(MALFORMED_ADDRESSES, ["from", "to", "cc", "reply_to"]):
        body = _fields(**{field: value})
        yield Case(f"{field}: {value!r}", body, False, ["body", field])


#: Header names that are not header names, or are Inkling's own.
BAD_NAMES = [
    "X-Ü",
    "X:Y",
    "X Y",
    "",
    "X-" + "a" * 100,
    "X-\x00",
    "X-\ud800",
    "X-\x7f",
    "X-\u2028",
    "to",
    "X-Inkling-Ticket",
    "Content-Type",
]


def _name_cases() -> Iterator[Case]:
    for name in BAD_NAMES:
        body = _fields(headers={name: "1"})
        yield Case(f"header name {name!r}", body, False, ["body", "headers"])


def _body_cases() -> Iterator[Case]:
    """Bodies may hold any text; only what is not text (a lone surrogate) is refused."""
    for field, (label, fragment, accepted) in itertools.product(
        ["text", "html"],
        [
            ("NUL", "\x00", True),
            ("VT FF", "\x0b\x0c", True),
            ("NEL LS PS", "\x85\u2028\u2029", True),
            ("bare CR", "a\rb", True),
            ("a megabyte", "x" * 1_000_000, True),
            ("lone surrogate", "\ud800", False),
        ],
    ):
        body = _fields(**{field: f"Hello {fragment} there"})
        yield Case(f"{field}: {label}", body, accepted, ["body", field])


#: Bodies that are not JSON (or not JSON that RFC 8259 allows): 422 at the body.
NOT_JSON = [
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000),
    ("NaN", b'{"to": NaN}'),
    ("Infinity", b'{"to": Infinity}'),
    ("a 5,000-digit number", b'{"to": ' + b"9" * 5000 + b"}"),
    ("not UTF-8", b'{"to": "ann@x.example", "subject": "\xff"}'),
    ("a UTF-8 surrogate", b'{"subject": "\xed\xa0\x80"}'),
    ("an array", b"[1, 2]"),
    ("a string", b'"hello"'),
    ("truncated", b'{"to": '),
    ("empty", b""),
]


def _json_cases() -> Iterator[Case]:
    for label, raw in NOT_JSON:
        yield Case(f"JSON: {label}", raw, False, ["body"])
    yield Case(  # a byte order mark is ignored (RFC 8259 8.1 allows it)
        "JSON: byte order mark",
        b"\xef\xbb\xbf" + httpx.Request("POST", "/", json=_fields()).content,
        True,
        [],
    )
    yield Case("JSON: unknown key with a surrogate", _fields(**{"\ud800": 1}), False, ["body"])


# -- whole messages --------------------------------------------------------------------------

#: (label, bytes put into a field's value, whether the field still reads as text).
RAW_HOSTILE = [
    ("NUL", b"\x00", False),
    ("ESC", b"\x1b[31m", False),
    ("VT FF", b"\x0b\x0c", False),
    ("bare CR", b"\r", False),
    ("DEL", b"\x7f", False),
    ("NEL as UTF-8", "\x85".encode(), False),
    ("LS as UTF-8", "\u2028".encode(), False),
    ("encoded CRLF (q)", b"=?utf-8?q?x=0D=0ABcc:_evil@x.example?=", False),
    ("encoded CRLF (b)", b"=?utf-8?b?eA0KQmNjOiBldmls?=", False),
    ("encoded NUL", b"=?utf-8?q?x=00y?=", False),
    ("UTF-7 lone surrogate", b"=?utf-7?q?+2AA-?=", False),
    ("unicode-escape charset", b"=?unicode-escape?q?=5Cx00?=", False),
    ("undecodable base64", b"=?utf-8?b?YWJjZ?=", False),
    ("invalid UTF-8 (read as U+FFFD)", b"\xff\xfe", True),
    ("tab", b"a\tb", True),
    ("folded", b"a\r\n b", True),
    ("encoded word", b"=?utf-8?q?Gr=C3=BC=C3=9Fe?=", True),
    ("20,000 characters, folded", b"\r\n ".join([b"y" * 70] * 280), True),
]
READ_FIELDS = ["From", "To", "Cc", "Bcc", "Subject", "Message-ID", "X-Inkling-Workflow"]
READ_FIELDS += ["X-Inkling-Ticket"]


def _message(**fields: bytes) -> bytes:
    n = next(_ids)
    values = {
        "From": f"Acme Support <{SENDER}>".encode(),
        "To": ANN.encode(),
        "Subject": b"Your refund",
        "Message-ID": f"<hostile-{n}@acme.example>".encode(),
    }
    values.update(fields)
    head = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in values.items())
    body = b'<p>See <a href="https://help.example/articles/refunds">it</a></p>\r\n'
    return head + b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body


def _raw_value(field: str, hostile: bytes) -> bytes:
    n = next(_ids)
    if field in ("From", "To", "Cc", "Bcc"):
        address = SENDER if field == "From" else f"{field.lower()}-{n}@customer.example"
        return b"Ann " + hostile + b" <" + address.encode() + b">"
    if field == "Message-ID":
        return f"<hostile-{n}-".encode() + hostile + b"@acme.example>"
    return b"Re " + hostile + b" refund"


def _mime_cases() -> Iterator[Case]:
    for (label, hostile, readable), field in itertools.product(RAW_HOSTILE, READ_FIELDS):
        raw = _message(**{field: _raw_value(field, hostile)})
        yield Case(f"message/rfc822 {field}: {label}", raw, readable, ["body", field])
    for label, hostile, _ in RAW_HOSTILE:  # a field Inkling does not read goes as it came
        line = b"X-Helpdesk-Note: Re " + hostile + b" refund"
        raw = _message(**{"X-Helpdesk-Note": line.partition(b": ")[2]})
        # but for a bare CR, which SMTP cannot carry (RFC 5321 2.3.8): the mail client
        # library sending it upstream makes it a CRLF
        check = None if b"\r" in hostile.replace(b"\r\n", b"") else _passes(line)
        yield Case(f"message/rfc822 X-Helpdesk-Note: {label}", raw, True, [], check)


def all_cases() -> list[Case]:
    return [
        *_text_cases(),
        *_display_cases(),
        *_address_cases(),
        *_name_cases(),
        *_body_cases(),
        *_json_cases(),
        *_mime_cases(),
    ]


# -- what an accepted value must read back as ------------------------------------------------


def _text_read_back(field: str, value: str) -> Check:
    header = {"subject": "Subject", "in_reply_to": "In-Reply-To"}.get(field)

    def check(sent: Delivered) -> None:
        if header is not None:
            assert str(sent.message[header]) == value
        else:  # ticket and workflow are read, recorded and removed by the copy maker
            assert sent.reading[field] == value
            assert sent.message[f"X-Inkling-{field.capitalize()}"] is None

    return check


def _header_is(name: str, value: str) -> Check:
    def check(sent: Delivered) -> None:
        assert str(sent.message[name]) == value

    return check


def _mailbox_is(field: str, display: str, address: str) -> Check:
    name = {"from": "From", "to": "To", "cc": "Cc", "reply_to": "Reply-To"}[field]

    def check(sent: Delivered) -> None:
        assert [a.addr_spec for a in sent.message[name].addresses] == [address]
        # display names decoded as RFC 2047 6.2 says: white space between two encoded
        # words dropped (the email package's header registry keeps it in a display name)
        head = b"\r\n" + sent.raw.partition(b"\r\n\r\n")[0]
        field = rb"\r\n" + name.encode() + rb": ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)"
        [unfolded] = re.findall(field, head)
        [(shown, _)] = getaddresses([unfolded.replace(b"\r\n", b"").decode("ascii")])
        assert str(make_header(decode_header(shown))) == display

    return check


def _passes(field: bytes) -> Check:
    def check(sent: Delivered) -> None:
        assert b"\r\n" + field + b"\r\n" in sent.raw

    return check


# -- the run ---------------------------------------------------------------------------------


@pytest.fixture
def server(data_dir: Path, database_url: str, sink: Sink) -> Iterator[tuple[str, str]]:
    """``inkling serve`` on this backend, the sink as its mail server; its URL and a key."""
    # keys live in the database the server uses (no longer in the data dir's users.json)
    added = inkling(
        data_dir, "users", "add", "helpdesk", env={"INKLING_DATABASE_URL": database_url}
    )
    assert added.returncode == 0, added.stderr
    env = {"INKLING_RELAY_UPSTREAM": sink.url}
    process = ServerProcess(data_dir, database_url, env=env)
    try:
        yield process.url, added.stdout.decode().strip()
    finally:
        process.stop()


def test_hostile_requests_get_201_or_a_422_naming_the_field(
    server: tuple[str, str], sink: Sink
) -> None:
    url, key = server
    cases = all_cases()
    assert len(cases) >= 300
    wrong: list[str] = []
    ends: set[object] = set()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        for case in cases:
            try:
                answer, problem = _send(client, sink, case)
            except httpx.TransportError as exc:  # the next request opens a new connection
                wrong.append(f"{case.label}: the connection broke: {exc!r}")
                continue
            ends.add(_local_end(answer))
            if problem:
                wrong.append(f"{case.label}: {problem}")
    assert not wrong, f"{len(wrong)} of {len(cases)} answered wrong:\n" + "\n".join(wrong)
    assert len(ends) == 1, "the server dropped the kept-alive connection"


def _send(client: httpx.Client, sink: Sink, case: Case) -> tuple[httpx.Response, str | None]:
    """The answer to ``case`` and what is wrong with it, or None."""
    before = len(sink.handler.received)
    mime = isinstance(case.body, bytes) and case.label.startswith("message/rfc822")
    answer = client.post(
        "/api/v1/messages?send=true",
        content=case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode(),
        headers={"Content-Type": "message/rfc822" if mime else "application/json"},
    )
    return answer, _judge(client, sink, case, answer, before)


def _local_end(answer: httpx.Response) -> object:
    """The client's end of the connection that carried ``answer`` (the same each time
    while the server keeps the connection alive); "closed" if the server closed it."""
    try:
        return answer.extensions["network_stream"].get_extra_info("client_addr")
    except OSError:
        return "closed"


def _judge(
    client: httpx.Client, sink: Sink, case: Case, answer: httpx.Response, before: int
) -> str | None:
    expected = 201 if case.accepted else 422
    if answer.status_code != expected:
        return f"{answer.status_code} (wanted {expected}): {answer.text[:300]}"
    if answer.status_code == 422:
        loc = answer.json()["detail"][0]["loc"]
        return None if loc[: len(case.loc)] == case.loc else f"422 at {loc}, not {case.loc}"
    copies = answer.json()["copies"]
    received = sink.wait_for(before + len(copies))[before:]
    readings = [client.get(f"/api/v1/messages/{copy['id']}") for copy in copies]
    if len(received) != len(copies) or any(r.status_code != 200 for r in readings):
        return f"{len(received)} of {len(copies)} copies arrived; readings {readings}"
    raw = received[0].content
    sent = Delivered(raw, email.message_from_bytes(raw, policy=default), readings[0].json())
    try:
        if case.check is not None:
            case.check(sent)
    except (AssertionError, ValueError) as exc:
        return f"did not read back as given: {exc!r}"[:300]
    return None
