"""Bounces in words: the non-standard failure notices of real MTAs.

qmail, Exim, old sendmail, Exchange 5.5, GroupWise, Lotus, Yahoo, AOL and many more send
plain text instead of (or beside) an RFC 3464 report. They share a shape that this module
reads without one parser per vendor:

1. the notice's own words, then a marker line ("--- Below this line is a copy of the
   message.") and the returned copy of the original mail;
2. the failed addresses sit in the own words, listed on their own line or next to the
   failure ("<a@b>: user unknown", "Unknown user: a@b");
3. addresses that belong to the sender (the bounce's To, the returned mail's From,
   MAILER-DAEMON...) are never failed recipients.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from functools import cached_property

from inkling.inbound import addresses, mime
from inkling.inbound.rules import BounceRules, bounce_rules, flat

# The first header of a returned copy, when no marker line announces it.
_HEADER_START = re.compile(
    r"^[ \t>]*(received|return-path|dkim-signature|delivered-to|x-original-to|message-id|"
    r"authentication-results|arc-seal|x-received|mime-version)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)
_MESSAGE_ID = re.compile(
    r"^[ \t>]*message-id[ \t]*:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE
)
# "for <a@b>" in a Received header of the returned copy: an envelope recipient.
_RECEIVED_FOR = re.compile(r"\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?", re.IGNORECASE)
# The sender side of a transcript ("MAIL FROM:<a@b>", "mail from a@b") is never a failed
# recipient; "generated from" and "expanded from" name one (Exim, sendmail aliases). An
# address right where a match ends follows such a word. Possessive: with two plain
# ``\s*`` around an absent "<", a run of spaces was split every way (quadratic).
_SENDER_WORD = re.compile(r"(?<!generated )(?<!expanded )\bfrom:?\s*+<?\s*+", re.IGNORECASE)
# "    (expanded from: a@b)" under an address (sendmail, Exim's "generated from"): the line
# above is where an alias led; a@b is the address the mail was sent to, and the only one
# to report.
_EXPANDED_FROM = re.compile(r"^[ \t>]*\(?\s*+(?:expanded|generated) from\b", re.IGNORECASE)
# Help text that names addresses to try instead ("e.g., if a@b fails, try c@d").
_ADVICE = re.compile(
    r"\btry\s+(sending|e-?mailing|mailing|writing|\S+@)|e\.g\.|for example|\binstead\b|"
    r"please contact|for (further )?assistance|reply to|questions",
    re.IGNORECASE,
)
# Lines that echo the original mail's header: its To is a list or the agent, not a failure.
_ECHO = re.compile(
    r"^[ \t>]*(to|cc|bcc|from|sent|date|subject|an|von|betreff)[ \t]*:", re.IGNORECASE
)
# A line that starts with the address (after list bullets or quoting): how failure lists
# are printed ("<a@b>:", "  a@b", "* a@b", "a@b on Fri, ...", "a@b - no such user").
# Possessive for the same reason as ``_SENDER_WORD`` (the class and ``\s`` share spaces).
_LISTED = re.compile(r"^[ \t>*\-•\"'(]*+<?\s*+$")
# A local part alone on a list line ("\tscreenname", " thomas.d    No matches...").
_BARE_LOCAL = re.compile(r"^[ \t>*\-]*([A-Za-z0-9](?:[\w.+-]{0,62}[\w+-])?)[ \t]*(?:$|[ \t]{2,})")
_CONTEXT_WORDS = re.compile(
    r"recipient|address|addressee|user|mailbox|account|rcpt|deliver|fail|error|reject|"
    r"invalid|unknown|bounce|undeliver",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Sections:
    """A failure notice cut in two: the notice's own words and the returned copy."""

    own: str
    returned: str
    returned_headers: list[Message] = field(default_factory=list)


def sections(message: Message) -> Sections:
    """The own text (text parts outside enclosed mail, cut at the returned copy) and the
    rest, with the header blocks of every returned copy found (parts or quoted text)."""
    texts = [
        mime.part_text(p) for p in mime.own_parts(message) if p.get_content_maintype() == "text"
    ]
    full = "\n".join(texts)
    rules = bounce_rules()
    cut = len(full)
    marker = rules.returned.search(full)
    if marker:
        cut = marker.start()
    header = _HEADER_START.search(full)
    if header and header.start() < cut:
        cut = header.start()
    own, returned = full[:cut], full[cut:]
    result = Sections(own, returned)
    for part in mime.own_tree(message):
        if part.get_content_type() in mime.ENCLOSED_TYPES:
            headers = mime.enclosed_headers(part)
            if headers is not None:
                result.returned_headers.append(headers)
    if returned.strip():
        result.returned_headers.append(_quoted_headers(returned))
    return result


def _quoted_headers(text: str) -> Message:
    """The header block of a returned copy pasted as text (maybe quoted with "> ")."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _HEADER_START.match(line)), len(lines))
    body = "\n".join(re.sub(r"^> ?", "", line) for line in lines[start : start + 200])
    return HeaderParser(policy=compat32).parsestr(body, headersonly=True)


def original_message_id(found: Sections, own_id: str) -> str | None:
    """The Message-ID of the returned mail: from its header block, else any written."""
    for headers in found.returned_headers:
        value = mime.header(headers, "Message-ID")
        match = re.search(r"<[^<>\s]+>", value)
        if match and match.group(0) != own_id:
            return match.group(0)
    for match in _MESSAGE_ID.finditer(found.returned + "\n" + found.own):
        if match.group(1) != own_id:
            return match.group(1)
    return None


def looks_like_bounce(  # noqa: C901 (one test per sign of a bounce, in the order read)
    message: Message, own: str, rules: BounceRules | None = None
) -> list[str]:
    """The evidence that a mail without an RFC 3464 report is a failure notice.

    Empty when it is not one. Enough is: a failure phrase in the notice's own words plus
    any sign of a mail system (sender, subject, null return path, a multipart/report, or
    answering no thread); a delay phrase or a failure reason ("no such user") plus a sign
    of a mail system; or two such signs, one about the content (a MAILER-DAEMON sending
    "failure notice"; not a daemon's automatic reply with a null return path).
    """
    rules = rules or bounce_rules()
    if mime.header(message, "X-Failed-Recipients"):
        return ["X-Failed-Recipients header (Exim)"]
    text = flat(own)
    signs: list[str] = []
    if rules.sender.search(mime.header(message, "From")):
        signs.append("sent by a mail system")
    if rules.subject.search(mime.header(message, "Subject")):
        signs.append("subject of a failure notice")
    if message.get("Return-Path") is not None and mime.header(message, "Return-Path") in {"<>", ""}:
        signs.append("null return path")
    if message.get_content_type() == "multipart/report":
        signs.append("a multipart/report")
    failure = rules.failure.search(text)
    if failure:
        # A failure sentence in a mail that answers no thread is a notice; in a reply a
        # person may be telling us about a failure, so a mail-system sign is needed.
        # RFC 3834's Auto-Submitted (any value but "no") says no person wrote it: enough
        # beside a failure sentence, though not beside a mere reason word (an automatic
        # "this address is no longer valid" note is a reply, and relays rewrite senders).
        threaded = message.get("In-Reply-To") or message.get("References")
        weak = [] if threaded else ["answers no thread"]
        automatic = mime.header(message, "Auto-Submitted").strip().lower()
        if automatic and automatic != "no":
            weak.append(f"Auto-Submitted: {automatic[:30]}")
        if signs or weak:
            return [f"says {failure.group(0)!r}", *signs, *weak]
        return []
    delay = rules.delay.search(text)
    if delay and signs:
        return [f"says {delay.group(0)!r}", *signs]
    if not signs:
        return []  # a person's mail that talks about delivery is not a notice
    reason = next((r for r in rules.reasons if r.pattern.search(text)), None)
    if reason is not None:
        return [f"gives a failure reason ({reason.reason})", *signs]
    # Signs alone: two, one of them about the content. A mail-system sender and a null
    # return path are also what RFC 3834 automatic replies carry (a help desk's "we got
    # your message" from a daemon address), so together they do not make a failure notice.
    about_content = {"subject of a failure notice", "a multipart/report"}
    if len(signs) >= 2 and about_content & set(signs):
        return signs
    return []


def sender_addresses(message: Message, found: Sections, envelope: set[str]) -> set[str]:
    """Addresses on the sending side: never failed recipients."""
    names = ("From", "To", "Cc", "Reply-To", "Sender", "Return-Path", "Errors-To", "Delivered-To")
    out: set[str] = set()
    for name in names:
        out.update(a.lower() for a in addresses.in_header(mime.header(message, name)))
    returned_names = ("From", "Sender", "Return-Path", "Reply-To", "Errors-To", "X-Sender")
    returned: set[str] = set()
    for headers in found.returned_headers:
        for name in returned_names:
            returned.update(a.lower() for a in addresses.in_header(mime.header(headers, name)))
    # someone who wrote to themselves is both sender and failed recipient
    return out | (returned - envelope)


def envelope_addresses(found: Sections) -> set[str]:
    """Who the returned mail was addressed to (To, Cc, Received ... for <a@b>)."""
    out: set[str] = set()
    for headers in found.returned_headers:
        for name in ("To", "Cc", "X-Original-To", "Delivered-To", "Envelope-To", "X-Receiver"):
            out.update(a.lower() for a in addresses.in_header(mime.header(headers, name)))
        for received in headers.get_all("Received") or []:
            for match in _RECEIVED_FOR.finditer(str(received)):
                out.add(addresses.normalise(match.group(1)).lower())
    return out


def recipients(message: Message, found: Sections) -> list[str]:
    """The failed recipients named in a failure notice's own words.

    Addresses printed as a list entry, in the X-Failed-Recipients header, on the same line
    as a failure, or that the returned mail was sent to, are taken; only when there is
    none, addresses near failure words; only when there is none of those either, every
    address that is not the sender's.
    """
    rules = bounce_rules()
    envelope = envelope_addresses(found)
    exclude = sender_addresses(message, found, envelope)
    strong: list[str] = list(addresses.in_header(mime.header(message, "X-Failed-Recipients")))
    weak: list[str] = []
    other: list[str] = []
    lines = _Lines(found.own.splitlines(), rules)
    for index, line in enumerate(lines.text):
        if _ECHO.match(line):
            continue
        if strong and _EXPANDED_FROM.match(line):
            strong.pop()  # where the alias led: the address expanded from stands instead
        for address, strength in _line_addresses(_Line(line, rules), exclude, envelope):
            if strength == "strong":
                strong.append(address)
            elif lines.near_failure(index):
                weak.append(address)
            else:
                other.append(address)
    bare = _bare_recipients(message, lines, envelope)
    strong.extend(a for a in bare if a.lower() not in exclude and not addresses.is_system(a))
    for chosen in (strong, weak, other):
        if chosen:
            return addresses.unique(chosen)
    return []


def _line_addresses(
    facts: _Line, exclude: set[str], envelope: set[str]
) -> Iterator[tuple[str, str]]:
    """The addresses a line names that may be failed recipients: "strong" when the line
    lists it, says a failure, or the returned mail went to it; else "maybe"."""
    for match in addresses.ADDRESS.finditer(facts.cleaned):
        address = addresses.normalise(match.group(1))
        key = address.lower()
        if key in exclude or addresses.is_system(address):
            continue
        if match.start() in facts.after_sender_word or facts.advice:
            continue
        listed = _LISTED.match(facts.cleaned, 0, match.start())
        yield address, "strong" if listed or key in envelope or facts.says_failure else "maybe"


class _Line:
    """One line of a notice's own words, each fact the recipient rules ask computed once.

    A line may hold thousands of addresses: asking per address would rescan the line each
    time (quadratic in its length).
    """

    def __init__(self, text: str, rules: BounceRules) -> None:
        self.text = text
        self._rules = rules

    @cached_property
    def cleaned(self) -> str:
        # X.400 and Exchange write "SMTP=a@b" or "rfc822;a@b": keep only the address.
        return re.sub(r"\b(?:smtp|rfc-?822)[=:;]\s*", " ", self.text, flags=re.IGNORECASE)

    @cached_property
    def after_sender_word(self) -> frozenset[int]:
        """Where an address would follow "from" ("MAIL FROM:<", "mail from ")."""
        return frozenset(m.end() for m in _SENDER_WORD.finditer(self.cleaned))

    @cached_property
    def advice(self) -> bool:
        return _ADVICE.search(self.text) is not None

    @cached_property
    def says_failure(self) -> bool:
        return _says_failure(self.text, self._rules)


class _Lines:
    """The lines of a notice's own words, with their non-blank neighbours found once."""

    def __init__(self, text: list[str], rules: BounceRules) -> None:
        self.text = text
        self._rules = rules
        self._filled = [index for index, line in enumerate(text) if line.strip()]
        self._near: dict[int, bool] = {}

    def following(self, index: int, count: int) -> list[str]:
        """The next ``count`` non-blank lines after line ``index``."""
        start = bisect_left(self._filled, index + 1)
        return [self.text[i] for i in self._filled[start : start + count]]

    def preceding(self, index: int, count: int) -> list[str]:
        """The last ``count`` non-blank lines before line ``index``, in order."""
        end = bisect_left(self._filled, index)
        return [self.text[i] for i in self._filled[max(0, end - count) : end]]

    def near_failure(self, index: int) -> bool:
        """Whether failure words are on the line, the two non-blank lines before or the next."""
        if index not in self._near:
            window = [self.text[index], *self.preceding(index, 2), *self.following(index, 1)]
            text = " ".join(window)
            found = bool(_CONTEXT_WORDS.search(text)) or _says_failure(text, self._rules)
            self._near[index] = found
        return self._near[index]


def _says_failure(line: str, rules: BounceRules) -> bool:
    text = flat(line)
    if rules.failure.search(text) or rules.delay.search(text):
        return True
    return any(rule.pattern.search(text) for rule in rules.reasons)


def _bare_recipients(message: Message, lines: _Lines, envelope: set[str]) -> list[str]:
    """Local parts listed without a domain (AOL, phquery), on indented lines right after
    the failure sentence; qualified from the returned mail's envelope, else with the
    organisation domain of the notice's sender."""
    rules = bounce_rules()
    qualify = _qualifier(message, envelope)
    out: list[str] = []
    for index, line in enumerate(lines.text):
        if not rules.failure.search(flat(line)):
            continue
        following = lines.following(index, 4)
        # the failure sentence may run on to a line ending with ":" before the list
        if not line.rstrip().endswith(":") and following and following[0].rstrip().endswith(":"):
            following = following[1:]
        for later in following:
            match = _BARE_LOCAL.match(later)
            if not later[:1].isspace() or not match or "@" in later.split()[0]:
                break
            out.append(qualify(match.group(1)))
    return addresses.unique(a for a in out if a)


def _qualifier(message: Message, envelope: set[str]) -> Callable[[str], str]:
    """A local part to a full address: the returned mail's envelope address with that
    local part (the first in sorted order), else at the notice sender's organisation.
    Both are looked up once, not once a name (the envelope may hold thousands)."""
    by_local: dict[str, str] = {}
    for address in sorted(envelope):
        by_local.setdefault(address.split("@", 1)[0], address)
    sender = addresses.in_header(mime.header(message, "From"))
    domain = addresses.organisation_domain(sender[0].rsplit("@", 1)[1]) if sender else None

    def qualify(local: str) -> str:
        found = by_local.get(local.lower())
        if found is not None:
            return found
        return f"{local}@{domain}" if domain else ""

    return qualify


def recipient_text(own: str, failed: list[str]) -> tuple[str, str]:
    """The words a notice gives about its first failed recipient, as (before, after): the
    start of the line that names it ("Unknown user: a@b", "<a@b>:"), and what follows up to
    where the next failed address is named (qmail's "<a@b>:" blocks, Yahoo's and Exim's
    address-then-reason lists), so one recipient's reason is not another's."""
    if not failed:
        return "", ""
    lowered = own.lower()
    first = failed[0].lower()
    start = lowered.find(first)
    if start < 0:
        return "", ""
    after = start + len(first)
    line = lowered.rfind("\n", 0, start) + 1
    ends = [lowered.find(other.lower(), after) for other in failed[1:] if other.lower() != first]
    end = min((e for e in ends if e >= 0), default=len(own))
    return own[line:start], own[after:end]
