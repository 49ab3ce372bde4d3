"""The host of a web link, parsed the way a browser's URL parser parses it.

This is the host parser of the WHATWG URL Standard (https://url.spec.whatwg.org/#host-parsing)
for the special schemes ``http`` and ``https``:

* ``[...]`` is an IPv6 address, compressed and lowercased on the way out (``[::1]``);
* anything else is percent-decoded and read as UTF-8 (a byte that is not UTF-8 becomes
  U+FFFD, which IDNA refuses), then goes through *domain to ASCII*: UTS #46 with the
  standard's flags (CheckHyphens off, CheckBidi and CheckJoiners on, UseSTD3ASCIIRules
  off, non-transitional, no DNS length check), so fullwidth
  ``EXAMPLE.com`` is ``example.com`` and ``straße.de`` is ``xn--strae-oqa.de``;
* a host holding a forbidden domain code point (a control, a space, ``%``, ``#``, ``/``,
  ``:``, ``<``, ``>``, ``?``, ``@``, ``[``, ``\\``, ``]``, ``^``, ``|``) is refused;
* a host whose last label is a number is an IPv4 address in any form browsers accept
  (``0x7f.1`` and ``2130706433`` are ``127.0.0.1``), or refused.

Where a browser's parser fails, :class:`HostError` says why; the link is then left as
written. One rule is added to the standard's: an internationalised label whose ASCII form
would exceed the 63 bytes DNS allows (RFC 1035), or such a domain over 253 bytes, is
refused too. No resolver could find it, and checking before Punycode keeps the work linear
(Punycode's cost grows with the square of a label's length).

The UTS #46 mapping table is the one the ``idna`` package ships.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from functools import lru_cache

from idna import IDNAError, uts46_remap, uts46data
from idna.core import check_bidi, valid_contextj

_FORBIDDEN_DOMAIN = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_PERCENT_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_DECIMAL = re.compile(r"[0-9]+")
_RADIX_DIGITS = {
    8: re.compile(r"[0-7]*"),
    10: re.compile(r"[0-9]*"),
    16: re.compile(r"[0-9A-Fa-f]*"),
}
_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")
_MAX_LABEL = 63  # RFC 1035, section 2.3.4
_MAX_DOMAIN = 253
_RTL = frozenset({"R", "AL", "AN"})
_JOINERS = frozenset("\u200c\u200d")
# A number with more significant digits than this is over 2**32 in any radix: too big for
# an IPv4 address, and int() need not read all of it.
_MAX_NUMBER_DIGITS = 12
_MAX_CACHED = 255  # hosts longer than DNS allows are parsed each time, not kept


class HostError(ValueError):
    """The host is one a browser's URL parser refuses; the message says why."""


def parse_host(text: str) -> str:
    """The serialised host a browser derives from ``text`` (the host as written in the
    URL, without port), or HostError."""
    if len(text) <= _MAX_CACHED:
        return _parse_host_cached(text)
    return _parse_host(text)


@lru_cache(maxsize=1024)
def _parse_host_cached(text: str) -> str:
    """Cached: a support team links to few hosts, and IDNA is slow."""
    return _parse_host(text)


def _parse_host(text: str) -> str:
    if text.startswith("["):
        if not text.endswith("]"):
            raise HostError("an IPv6 address without its closing ]")
        return "[" + serialise_ipv6(parse_ipv6(text[1:-1])) + "]"
    domain = _percent_decode(text).decode("utf-8", "replace")
    ascii_domain = _domain_to_ascii(domain)
    if _ends_in_a_number(ascii_domain):
        return serialise_ipv4(parse_ipv4(ascii_domain))
    return ascii_domain


def _percent_decode(text: str) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    if b"%" not in data:
        return data
    return _PERCENT_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def _domain_to_ascii(domain: str) -> str:
    if domain.isascii() and not any(label[:4].lower() == "xn--" for label in domain.split(".")):
        result = domain.lower()  # the standard's shortcut: for such input UTS #46 only lowercases
    else:
        result = _uts46_to_ascii(domain)
    if not result:
        raise HostError("an empty host")
    forbidden = _FORBIDDEN_DOMAIN.search(result)
    if forbidden is not None:
        raise HostError(f"the host holds the forbidden character {forbidden.group(0)!r}")
    return result


def _uts46_to_ascii(domain: str) -> str:
    """UTS #46 ToASCII (section 4.2) with the URL standard's flags."""
    try:
        mapped = uts46_remap(domain, std3_rules=False)
    except IDNAError as exc:
        raise HostError(f"IDNA refuses the host ({exc.code or 'mapping'})") from exc
    labels = [_label_to_unicode(label) for label in mapped.split(".")]
    if any(_is_rtl(label) for label in labels):
        for label in labels:
            _check_bidi(label)
    result = ".".join(_label_to_ascii(label) for label in labels)
    if len(result.rstrip(".")) > _MAX_DOMAIN:
        raise HostError(f"an internationalised host over the {_MAX_DOMAIN} bytes DNS allows")
    return result


def _label_to_unicode(label: str) -> str:
    """Step 4 of UTS #46 processing: decode an ``xn--`` label, then check the label."""
    if label.startswith("xn--"):
        if not label.isascii():
            raise HostError("an xn-- label with non-ASCII characters")
        if len(label) > _MAX_LABEL:
            raise HostError(f"a label over the {_MAX_LABEL} bytes DNS allows")
        try:
            decoded = label[4:].encode("ascii").decode("punycode")
        except UnicodeError as exc:
            raise HostError("an xn-- label that is not Punycode") from exc
        if not decoded or decoded.isascii():
            raise HostError("an xn-- label that decodes to nothing or to ASCII")
        _check_label(decoded, decoded_from_punycode=True)
        return decoded
    _check_label(label, decoded_from_punycode=False)
    return label


def _check_label(label: str, *, decoded_from_punycode: bool) -> None:
    """The validity criteria of UTS #46 section 4.1 that the URL standard's flags keep."""
    if label.isascii():
        if decoded_from_punycode or label.startswith("xn--"):
            raise HostError("a label that starts with xn--")
        return  # mapped ASCII is lowercase, and with these flags every ASCII character is valid
    if len(label) + 4 > _MAX_LABEL:
        raise HostError(f"a label over the {_MAX_LABEL} bytes DNS allows")
    if not unicodedata.is_normalized("NFC", label):
        raise HostError("a label not in Unicode normalisation form C")
    if label.startswith("xn--"):
        raise HostError("a label that starts with xn--")
    if unicodedata.category(label[0]).startswith("M"):
        raise HostError("a label that starts with a combining mark")
    if decoded_from_punycode and not all(_status(ch) in b"VD" for ch in label):
        raise HostError("a Punycode label holding characters IDNA does not allow")
    for position, char in enumerate(label):
        if char in _JOINERS and not _joiner_allowed(label, position):
            raise HostError("a zero-width joiner out of the context IDNA allows")


def _status(char: str) -> int:
    """The character's status in the UTS #46 mapping table (V, M, D, I or X)."""
    point = ord(char)
    index = point if point < 256 else bisect.bisect_right(uts46data.uts46_starts, point) - 1
    return uts46data.uts46_statuses[index]


def _joiner_allowed(label: str, position: int) -> bool:
    try:
        return valid_contextj(label, position)
    except (ValueError, IDNAError):
        return False  # a neighbour unknown to this Python's Unicode data


def _is_rtl(label: str) -> bool:
    return not label.isascii() and any(unicodedata.bidirectional(ch) in _RTL for ch in label)


def _check_bidi(label: str) -> None:
    """RFC 5893's Bidi rule, for every label of a domain that has a right-to-left label."""
    if not label:
        return
    try:
        check_bidi(label, check_ltr=True)
    except IDNAError as exc:
        raise HostError("a label that breaks the Bidi rule of RFC 5893") from exc


def _label_to_ascii(label: str) -> str:
    if label.isascii():
        return label
    return "xn--" + _punycode(label)


def _punycode(label: str) -> str:
    encoded = label.encode("punycode").decode("ascii")
    if len(encoded) + 4 > _MAX_LABEL:
        raise HostError(f"a label over the {_MAX_LABEL} bytes DNS allows")
    return encoded


def _ends_in_a_number(domain: str) -> bool:
    parts = domain.split(".")
    if parts[-1] == "":
        if len(parts) == 1:
            return False
        parts.pop()
    last = parts[-1]
    if _DECIMAL.fullmatch(last):
        return True
    return _ipv4_number(last) is not None


def _ipv4_number(part: str) -> int | None:
    """The IPv4 number parser: decimal, 0x hexadecimal or 0 octal; None if it is not one."""
    if not part:
        return None
    radix = 10
    if part[:2] in ("0x", "0X"):
        radix, part = 16, part[2:]
    elif len(part) > 1 and part[0] == "0":
        radix, part = 8, part[1:]
    if not part:
        return 0
    if not _RADIX_DIGITS[radix].fullmatch(part):
        return None
    significant = part.lstrip("0")
    if len(significant) > _MAX_NUMBER_DIGITS:
        return 1 << 40
    return int(significant or "0", radix)


def parse_ipv4(domain: str) -> int:
    """The IPv4 parser: up to four dot-separated numbers, the last filling the rest."""
    parts = domain.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        raise HostError("an IPv4 address with more than four parts")
    numbers = [_ipv4_number(part) for part in parts]
    if any(number is None for number in numbers):
        raise HostError("an IPv4 address with a part that is not a number")
    values = [number for number in numbers if number is not None]
    if any(value > 255 for value in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise HostError("an IPv4 address with a part out of range")
    address = values[-1]
    for index, value in enumerate(values[:-1]):
        address += value * 256 ** (3 - index)
    return address


def serialise_ipv4(address: int) -> str:
    return ".".join(str((address >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def parse_ipv6(text: str) -> list[int]:  # noqa: C901 (the URL Standard's steps, in order)
    """The IPv6 parser of the URL standard: eight 16-bit pieces."""
    address = [0] * 8
    piece, compress, pointer = 0, -1, 0
    end = len(text)
    if text.startswith(":"):
        if not text.startswith("::"):
            raise HostError("an IPv6 address that starts with a single colon")
        pointer, piece, compress = 2, 1, 1
    while pointer < end:
        if piece == 8:
            raise HostError("an IPv6 address with more than eight pieces")
        if text[pointer] == ":":
            if compress != -1:
                raise HostError("an IPv6 address with two ::")
            pointer, piece = pointer + 1, piece + 1
            compress = piece
            continue
        value = length = 0
        while length < 4 and pointer < end and text[pointer] in _HEX:
            value = value * 16 + int(text[pointer], 16)
            pointer, length = pointer + 1, length + 1
        if pointer < end and text[pointer] == ".":
            if length == 0 or piece > 6:
                raise HostError("an IPv6 address with a misplaced IPv4 part")
            _parse_embedded_ipv4(text, pointer - length, address, piece)
            piece += 2
            break
        if pointer < end and text[pointer] == ":":
            pointer += 1
            if pointer == end:
                raise HostError("an IPv6 address that ends with a single colon")
        elif pointer < end:
            raise HostError(f"an IPv6 address holding {text[pointer]!r}")
        address[piece] = value
        piece += 1
    if compress != -1:
        swaps, piece = piece - compress, 7
        while piece != 0 and swaps > 0:
            other = compress + swaps - 1
            address[piece], address[other] = address[other], address[piece]
            piece, swaps = piece - 1, swaps - 1
    elif piece != 8:
        raise HostError("an IPv6 address with fewer than eight pieces")
    return address


def _parse_embedded_ipv4(text: str, pointer: int, address: list[int], piece: int) -> None:
    """The last 32 bits of an IPv6 address written as a dotted IPv4 address."""
    numbers_seen, end = 0, len(text)
    while pointer < end:
        if numbers_seen > 0:
            if text[pointer] != "." or numbers_seen >= 4:
                raise HostError("an IPv6 address with a malformed IPv4 part")
            pointer += 1
        if pointer >= end or text[pointer] not in _DIGITS:
            raise HostError("an IPv6 address with a malformed IPv4 part")
        number = -1
        while pointer < end and text[pointer] in _DIGITS:
            digit = int(text[pointer])
            if number == 0:
                raise HostError("an IPv6 address with a leading zero in its IPv4 part")
            number = digit if number == -1 else number * 10 + digit
            if number > 255:
                raise HostError("an IPv6 address with an IPv4 part out of range")
            pointer += 1
        address[piece] = address[piece] * 0x100 + number
        numbers_seen += 1
        if numbers_seen in (2, 4):
            piece += 1
    if numbers_seen != 4:
        raise HostError("an IPv6 address with an IPv4 part of fewer than four numbers")


def serialise_ipv6(address: list[int]) -> str:
    """Lowercase hexadecimal, the first longest run of two or more zero pieces as ``::``."""
    compress, best, run_start, run = -1, 1, -1, 0
    for index, value in enumerate(address):
        if value == 0:
            run_start, run = (index, 1) if run == 0 else (run_start, run + 1)
            if run > best:
                compress, best = run_start, run
        else:
            run = 0
    pieces: list[str] = []
    index = 0
    while index < 8:
        if index == compress:
            pieces.append("::" if index == 0 else ":")
            index += best
            continue
        pieces.append(f"{address[index]:x}")
        if index != 7:
            pieces.append(":")
        index += 1
    return "".join(pieces)
