"""The sensitive-content guard: what in a message says it must not be tracked.

Card numbers, IBANs and national identifiers are found by their shape and confirmed by
their own check digits (Luhn, ISO 13616 mod 97, the issuers' published rules), so an order
number, a parcel tracking number or a date that merely looks like one does not fire.
Health and legal words, and links a scanner must never follow (a password reset or a
one-time login is spent by the first GET), come from ``guard.toml``.

The guard reads text already decoded from its MIME part (quoted-printable, base64, any
charset); HTML is read as its text (entities decoded, tags as spaces). It only finds:
what the policy does with a finding is the caller's (issue 10).
"""

from __future__ import annotations

import html
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

# 13 to 19 digits, in groups split by single spaces or hyphens (4-4-4-4, 4-6-5, ...), not
# inside a longer run of digits or letters.
_CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")
# An IBAN: a country, two check digits, then 11 to 30 letters and digits, maybe in fours.
_IBAN = re.compile(r"(?<![\w])([A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30})(?![\w])")
_SSN = re.compile(r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])")
_NINO = re.compile(r"(?<![\w])([A-Z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?![\w])")
_TAG = re.compile(r"<[^>]*>")

#: Card issuers' number ranges and lengths (ISO/IEC 7812 IINs as the networks publish
#: them: Visa, Mastercard incl. the 2-series, American Express, Discover, JCB, Diners,
#: UnionPay).
_ISSUERS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = (
    (re.compile(r"4"), frozenset({13, 16, 19})),
    (re.compile(r"5[1-5]|2(2[2-9][1-9]|[3-6]\d\d|7[01]\d|720)"), frozenset({16})),
    (re.compile(r"3[47]"), frozenset({15})),
    (re.compile(r"6011|65|64[4-9]"), frozenset({16, 19})),
    (re.compile(r"35(2[89]|[3-8]\d)"), frozenset({16, 19})),
    (re.compile(r"3(0[0-5]|[68])"), frozenset({14, 16})),
    (re.compile(r"62"), frozenset({16, 17, 18, 19})),
)
#: IBAN lengths by country (SWIFT's IBAN Registry), for the countries a support team
#: meets most; an IBAN of another country is checked by its checksum alone.
_IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18,
    "FR": 27, "GB": 22, "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "SE": 24,
}  # fmt: skip
#: UK National Insurance prefixes never issued (HMRC's NIM39110).
_NINO_NEVER = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


@dataclass(frozen=True, slots=True)
class Finding:
    """What was found, and a masked sample a reading may show ("card number ...1111")."""

    kind: str
    sample: str


def scan_text(text: str, *, is_html: bool = False) -> list[Finding]:
    """Every sensitive thing in ``text`` (a decoded MIME part), at most one per kind."""
    if is_html:  # tags as spaces, then each run of white space as one
        text = " ".join(html.unescape(_TAG.sub(" ", text)).split())
    found: dict[str, Finding] = {}
    for finding in (*_numbers(text), *_words(text.lower())):
        found.setdefault(finding.kind, finding)
    return list(found.values())


def sensitive_link(url: str) -> str | None:
    """The kind of link ``url`` is if a scanner must never follow it, else None."""
    lowered = url.lower()
    for kind, pattern in _tables().links:
        if pattern.search(lowered):
            return kind
    return None


def _numbers(text: str) -> list[Finding]:
    found = [Finding("card number", _masked(d)) for d in _digits(_CARD, text) if _is_card(d)]
    for match in _IBAN.finditer(text):
        iban = match.group(1).replace(" ", "")
        if _is_iban(iban):
            found.append(Finding("IBAN", f"{iban[:2]}...{iban[-4:]}"))
    for match in _SSN.finditer(text):
        if _is_ssn(*match.groups()):
            found.append(Finding("US social security number", f"...{match.group(3)}"))
    for match in _NINO.finditer(text):
        if _is_nino(match.group(1)):
            found.append(Finding("UK National Insurance number", f"{match.group(1)}..."))
    return found


def _words(lowered: str) -> list[Finding]:
    return [Finding(kind, word.group()) for kind, pattern in _tables().terms
            if (word := pattern.search(lowered))]  # fmt: skip


def _digits(pattern: re.Pattern[str], text: str) -> list[str]:
    return [re.sub(r"[ -]", "", m.group()) for m in pattern.finditer(text)]


def _is_card(digits: str) -> bool:
    """An issuer's range and length, and the Luhn check (ISO/IEC 7812-1 Annex B)."""
    if not any(p.match(digits) and len(digits) in lengths for p, lengths in _ISSUERS):
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _is_iban(iban: str) -> bool:
    """The country's length where known, and ISO 13616's mod-97 check."""
    expected = _IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    moved = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def _is_ssn(area: str, group: str, serial: str) -> bool:
    """The Social Security Administration never issues area 000, 666 or 900-999, group 00
    or serial 0000 (SSA's SSN randomization notes, 2011)."""
    if area in ("000", "666") or area.startswith("9"):
        return False
    return group != "00" and serial != "0000"


def _is_nino(prefix: str) -> bool:
    """HMRC never uses D, F, I, Q, U or V as the first letter, nor those and O as the
    second, nor the prefixes in ``_NINO_NEVER``."""
    if prefix[0] in "DFIQUV" or prefix[1] in "DFIQUVO":
        return False
    return prefix not in _NINO_NEVER


def _masked(digits: str) -> str:
    return f"...{digits[-4:]}"


@dataclass(frozen=True, slots=True)
class _Tables:
    terms: tuple[tuple[str, re.Pattern[str]], ...]
    links: tuple[tuple[str, re.Pattern[str]], ...]


@cache
def _tables() -> _Tables:
    text = resources.files(__package__).joinpath("guard.toml").read_text("utf-8")
    table = tomllib.loads(text)
    terms = tuple(
        (entry["kind"], re.compile(r"\b(?:" + "|".join(map(re.escape, entry["words"])) + r")\b"))
        for entry in table["terms"]
    )
    links = tuple(
        (entry["kind"], re.compile("|".join(f"(?:{p})" for p in entry["patterns"])))
        for entry in table["links"]
    )
    return _Tables(terms, links)
