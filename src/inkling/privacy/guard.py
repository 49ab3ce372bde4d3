"""The sensitive-content guard: what in a message says it must not be tracked.

Card numbers, IBANs and national identifiers are found by their shape and confirmed by
their own check digits (Luhn, ISO 13616 mod 97, the issuers' published rules), so an order
number, a parcel tracking number or a date that merely looks like one does not fire.
Health and legal words, and links a scanner must never follow (a password reset or a
one-time login is spent by the first GET), come from ``guard.toml``.

The guard reads text already decoded from its MIME part (quoted-printable, base64, any
charset), as its reader sees it: HTML as its text (tags as spaces, entities decoded),
without the characters no one sees (zero-width spaces, soft hyphens), accents composed
(NFC). A number whose groups markup or entities split (``4111&nbsp;1111``, ``<b>4111</b>
1111``) is read whole; markup inside one group of digits (``41<b>11</b>``) is read as a
break, as a table cell's edge must be. It only finds: what the policy does with a finding is
the caller's (issue 10).

It runs on every outgoing message, so the common case (nothing to find) is kept cheap: a
translation of the text to digit classes tells in one C-speed pass whether any number
detector could fire, and a term's pattern runs only when the word indexing it is in the
text.
"""

from __future__ import annotations

import html
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Blank within a line: spaces, tabs, no-break and thin spaces (not line breaks: in plain
# text a number does not go on over a line; HTML's own line breaks are spaces by then).
_BLANK = r"[^\S\r\n]"


def _number_pattern(first: str, rest: str) -> re.Pattern[str]:
    """A pattern for a number that starts with ``first`` (one character class) and goes on
    with ``rest``. It starts with that class, so ``re`` skips ahead to it; the look-behind
    after it says what may not stand right before the number: a word character (it is part
    of a longer token), a phone number's "+", a reference's "#", a URL's "/", "=", "&" or
    "?", a decimal point or a hyphen ("ORD-2026-...")."""
    return re.compile(rf"{first}(?<![\w+#/=&?.-]{first}){rest}")


# Groups of digits split by blanks or single hyphens ("4111 1111 1111 1111", "123-45-6789"),
# taken whole (possessive), not followed by a word character or a decimal part.
_RUN = _number_pattern("[0-9]", rf"[0-9]*+(?:(?:{_BLANK}+|-)[0-9]+)*+(?!\w|[.,][0-9])")
_SEPARATOR = re.compile(rf"({_BLANK}+|-)")
# An IBAN: a country, two check digits, then 11 to 30 letters and digits, maybe in fours.
_IBAN = _number_pattern("[A-Z]", rf"[A-Z][0-9][0-9](?:{_BLANK}*[A-Z0-9]){{11,30}}(?!\w)")
_NINO = _number_pattern("[A-Z]", rf"[A-Z](?:{_BLANK}*[0-9][0-9]){{3}}{_BLANK}*[A-D](?!\w)")
# A tag, never running past the next "<": an unclosed "<" then costs only up to the next one
# (with "<[^>]*>" a run of unclosed "<" would be read again and again: quadratic).
_TAG = re.compile(r"<[^<>]*+>")
# Characters a reader does not see: zero-width space, non-joiner, joiner, word joiner,
# byte order mark, soft hyphen.
_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")

# The number detectors' common ground, read in one C-speed pass over the text's UTF-8 bytes:
# digits as "0", capitals as "A", and blanks and every byte of a character that is not ASCII
# (the Unicode blanks among them) taken out. Every card number then leaves 13 zeros in a row
# or, hyphenated, three groups of four or 4-6-4; every US SSN "000-00-0000", every IBAN
# "AA00" and 11 more letters and digits, every UK NI number "AA000000A". A text with none of
# these (most mail: a phone number or a date is shorter) is not read further.
_SIGN_BYTES = bytes(
    0x30 if 0x30 <= b <= 0x39 else 0x41 if 0x41 <= b <= 0x5A else b for b in range(256)
)
_NOT_SIGNS = b" \t\x0b\x0c\x1c\x1d\x1e\x1f" + bytes(range(0x80, 0x100))
_RUN_SIGNS = (b"0000000000000", b"0000-0000-0000", b"0000-000000-0000", b"000-00-0000")
_IBAN_SIGN = re.compile(rb"AA00[A0]{11}")
_NINO_SIGN = b"AA000000A"
# Words as the term index reads them: ASCII letters lower-cased, digits kept, everything
# else (punctuation, and each byte of a character that is not ASCII) a space.
_WORD_BYTES = bytes(
    b + 0x20 if 0x41 <= b <= 0x5A else b if 0x61 <= b <= 0x7A or 0x30 <= b <= 0x39 else 0x20
    for b in range(256)
)

#: Card issuers' number ranges and lengths (ISO/IEC 7812 IINs as the networks publish
#: them: Visa, Mastercard incl. the 2-series 2221-2720, American Express, Discover, JCB,
#: Diners, UnionPay).
_ISSUERS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = (
    (re.compile(r"4"), frozenset({13, 16, 19})),
    (re.compile(r"5[1-5]|2(22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)"), frozenset({16})),
    (re.compile(r"3[47]"), frozenset({15})),
    (re.compile(r"6011|65|64[4-9]"), frozenset({16, 19})),
    (re.compile(r"35(2[89]|[3-8]\d)"), frozenset({16, 19})),
    (re.compile(r"3(0[0-5]|[68])"), frozenset({14, 16})),
    (re.compile(r"62"), frozenset({16, 17, 18, 19})),
)
#: The layouts card numbers are printed and typed in, by the lengths of their groups: in
#: fours with a shorter last group (Visa, Mastercard, 19-digit cards), 4-6-5 (Amex) and
#: 4-6-4 (Diners). One unbroken run is checked by its length alone.
_TWO_GROUP_LAYOUTS = frozenset({(4, 6, 5), (4, 6, 4)})
#: IBAN lengths by country (SWIFT's IBAN Registry, release 99, 2025). A code of another
#: country is not an IBAN: ISO 11649 creditor references ("RF18 5390 0754 7034") share
#: the mod-97 check and would pass it.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
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
    text = _as_read(text, is_html=is_html)
    encoded = text.encode("utf-8", "surrogatepass")
    found: dict[str, Finding] = {}
    for finding in (*_numbers(text, encoded), *_words(text, encoded)):
        found.setdefault(finding.kind, finding)
    return list(found.values())


def sensitive_link(url: str) -> str | None:
    """The kind of link ``url`` is if a scanner must never follow it, else None."""
    lowered = url.lower()
    for kind, pattern in _tables().links:
        if pattern.search(lowered):
            return kind
    return None


def _as_read(text: str, *, is_html: bool) -> str:
    """``text`` as its reader sees it (see the module docstring)."""
    if is_html:  # tags and the source's line breaks as spaces, then the entities decoded
        text = _TAG.sub(" ", text).replace("\r", " ").replace("\n", " ")
        if "&" in text:
            text = html.unescape(text)
    if text.isascii():
        return text
    for invisible in _INVISIBLE:
        if invisible in text:
            text = text.replace(invisible, "")
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _numbers(text: str, encoded: bytes) -> list[Finding]:
    """Card numbers, US SSNs, IBANs and UK NI numbers in ``text`` (``encoded`` as UTF-8):
    each detector runs only if the signs say it may find something."""
    signs = encoded.translate(_SIGN_BYTES, _NOT_SIGNS)
    found: list[Finding] = []
    if any(sign in signs for sign in _RUN_SIGNS):
        found += _in_runs(text)
    if _IBAN_SIGN.search(signs):
        found += [Finding("IBAN", f"{i[:2]}...{i[-4:]}") for i in _ibans(text)]
    if _NINO_SIGN in signs:
        found += [Finding("UK National Insurance number", f"{p}...") for p in _ninos(text)]
    return found


def _in_runs(text: str) -> list[Finding]:
    """The card numbers and US SSNs among the runs of digits in ``text``."""
    found: list[Finding] = []
    for run in _RUN.finditer(text):
        parts = _SEPARATOR.split(run.group())
        groups, separators = parts[::2], parts[1::2]
        if card := _card(groups, separators):
            found.append(Finding("card number", _masked(card)))
        if serial := _ssn(groups, separators):
            found.append(Finding("US social security number", f"...{serial}"))
    return found


def _ibans(text: str) -> list[str]:
    return [iban for match in _IBAN.finditer(text) if (iban := _iban(match.group()))]


def _ninos(text: str) -> list[str]:
    """The prefixes of the UK NI numbers in ``text``."""
    prefixes = (match.group()[:2] for match in _NINO.finditer(text))
    return [prefix for prefix in prefixes if _is_nino(prefix)]


def _card(groups: list[str], separators: list[str]) -> str | None:
    """The first card number among consecutive ``groups`` of a run of digits, or None.

    A table read as text puts a quantity or a time before a card ("12 4111 1111 1111
    1111") and an expiry after it ("... 1111 12/28"), so any stretch of groups may be one.
    A stretch in fours that goes on in fours is part of a longer number (a parcel or bank
    reference printed in fours), not a card. A card is split all by blanks or all by
    hyphens."""
    for start in range(len(groups)):
        length = 0
        for end in range(start + 1, len(groups) + 1):
            length += len(groups[end - 1])
            if length > 19:
                break
            stretch = groups[start:end]
            if length < 13 or not _card_layout(stretch):
                continue
            if len({"-" if s == "-" else " " for s in separators[start : end - 1]}) > 1:
                continue
            fours = all(len(group) == 4 for group in stretch)
            before = groups[start - 1] if start else ""
            after = groups[end] if end < len(groups) else ""
            if fours and (len(before) == 4 or len(after) == 4):
                continue
            digits = "".join(stretch)
            if _is_card(digits):
                return digits
    return None


def _card_layout(groups: list[str]) -> bool:
    lengths = tuple(len(group) for group in groups)
    if len(lengths) == 1 or lengths in _TWO_GROUP_LAYOUTS:
        return True
    return all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _ssn(groups: list[str], separators: list[str]) -> str | None:
    """The serial of the first US SSN (three groups 3-2-4 joined by hyphens, and not
    hyphenated on to more) among ``groups``, or None."""
    around = ["", *separators, ""]  # around[i] stands before groups[i]
    for i in range(len(groups) - 2):
        if [len(g) for g in groups[i : i + 3]] != [3, 2, 4]:
            continue
        hyphenated = around[i + 1 : i + 3] == ["-", "-"]
        alone = "-" not in (around[i], around[i + 3])
        if hyphenated and alone and _is_ssn(*groups[i : i + 3]):
            return groups[i + 2]
    return None


def _iban(candidate: str) -> str | None:
    """The IBAN ``candidate`` starts with, or None. The pattern may run on into the next
    word in capitals ("... 0130 00 BIC COBADEFFXXX"): the country's length says where the
    IBAN ends, and it must end at a space."""
    expected = _IBAN_LENGTHS.get(candidate[:2])
    if expected is None:
        return None
    chars: list[str] = []
    for position, char in enumerate(candidate):
        if char.isspace():
            continue
        chars.append(char)
        if len(chars) == expected:
            rest = candidate[position + 1 :]
            if rest and not rest[0].isspace():
                return None
            iban = "".join(chars)
            return iban if _mod97(iban) else None
    return None


def _mod97(iban: str) -> bool:
    """ISO 13616's check: the IBAN with its first four characters moved to the end, read
    as a number (letters as 10-35), leaves 1 when divided by 97."""
    moved = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


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


def _words(text: str, encoded: bytes) -> list[Finding]:
    """The terms of ``guard.toml`` in ``text`` (``encoded`` as UTF-8). A term's pattern runs
    only when the text holds the word that indexes it (see ``_Tables.terms``): one set
    lookup a word of the text, much cheaper than running every pattern."""
    tables = _tables()
    indexed = tables.index.intersection(encoded.translate(_WORD_BYTES).split())
    if not indexed:
        return []
    lowered = text.lower()
    return [
        Finding(kind, " ".join(match.group().split()))
        for word in sorted(indexed)
        for kind, pattern in tables.terms[word]
        if (match := pattern.search(lowered))
    ]


@dataclass(frozen=True, slots=True)
class _Tables:
    #: Each term's pattern by the word that indexes it: the longest run of ASCII letters in
    #: the term, which the text holds as a whole word wherever it holds the term.
    terms: dict[bytes, tuple[tuple[str, re.Pattern[str]], ...]]
    index: frozenset[bytes]
    links: tuple[tuple[str, re.Pattern[str]], ...]


@cache
def _tables() -> _Tables:
    text = resources.files(__package__).joinpath("guard.toml").read_text("utf-8")
    table = tomllib.loads(text)
    terms: dict[bytes, list[tuple[str, re.Pattern[str]]]] = {}
    for entry in table["terms"]:
        for term in entry["words"]:
            words = unicodedata.normalize("NFC", term.lower()).split()
            key = max(re.findall(r"[a-z0-9]+", " ".join(words)), key=len).encode("ascii")
            terms.setdefault(key, []).append((entry["kind"], _term_pattern(words)))
    links = tuple(
        (entry["kind"], re.compile("|".join(f"(?:{p})" for p in entry["patterns"])))
        for entry in table["links"]
    )
    return _Tables({k: tuple(v) for k, v in terms.items()}, frozenset(terms), links)


def _term_pattern(words: list[str]) -> re.Pattern[str]:
    """A whole-word pattern for the term ``words``, with any white space between them.

    It starts with the literal first word (``re`` then finds candidates as fast as a
    substring search) and looks behind it for a word character it must not follow."""
    first = re.escape(words[0])
    rest = "".join(rf"\s+{re.escape(word)}" for word in words[1:])
    return re.compile(rf"{first}(?<!\w{first}){rest}(?!\w)")
