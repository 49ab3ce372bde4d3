"""Which encoding a part's text is read in, and reading it the way browsers and mail clients do.

A charset label is looked up first among the labels of the WHATWG Encoding Standard
(``encodings.toml``, with its source), so ``iso-8859-1``, ``latin1`` and ``us-ascii`` are
windows-1252 and bytes 0x80-0x9F are the curly quotes and dashes Windows puts there, as
every browser and webmail reads them. A label the Standard does not know is tried among
Python's *text* encodings (``utf-7``, ``cp437``, ...): never one of the transforms Python
also registers as codecs (``rot13``, ``base64``, ``zlib``, ``punycode``, ...). Anything else
is no charset; the caller records a defect and leaves the part alone.

Which label counts (:func:`for_part`), as the WHATWG decode algorithm and mail clients do:

1. a charset label other than US-ASCII is used as given: the sender's software said so,
   as an HTTP server does in its Content-Type;
2. with no label, or ``us-ascii`` (which is often a default nobody chose): a byte order
   mark, then an HTML part's own ``<meta charset>`` (the HTML Standard's prescan,
   :mod:`.prescan`), then UTF-8 if the bytes are valid UTF-8, then windows-1252.

An :class:`Encoding` decodes two ways: :meth:`Encoding.decode` keeps every byte (one that
does not decode becomes a lone surrogate that :meth:`Encoding.encode` turns back into it),
so a part can be rewritten without touching what it does not change; :meth:`Encoding.read`
is what a reader sees, each undecodable sequence a U+FFFD.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from inkling.instrument.prescan import meta_charset

_DATA = Path(__file__).with_name("encodings.toml")
_ASCII_WHITESPACE = "\t\n\x0c\r "
# RFC 2978's mime-charset: at most 40 of these characters. A label that is not one is no
# charset name at all (a NUL, a space, a quote...).
_MIME_CHARSET = re.compile(r"[A-Za-z0-9!#$%&'+\-^_`{}~]{1,40}")
_LONGEST_LABEL = 64  # 40 characters, and room for the whitespace a label may come with
# Python text codecs that are not character sets: they transform text, or fail on purpose.
_NOT_CHARSETS = frozenset(
    {"charmap", "idna", "punycode", "raw_unicode_escape", "unicode_escape", "undefined"}
)
# Python codecs whose ASCII bytes may belong to other characters, or that have state.
_NOT_ASCII_COMPATIBLE = ("utf_16", "utf_32", "utf_7", "iso2022", "hz")
_UNDEFINED = "\ufffe"  # what a charmap table holds for a byte that decodes to nothing
_BOMS = ((b"\xef\xbb\xbf", "UTF-8"), (b"\xfe\xff", "UTF-16BE"), (b"\xff\xfe", "UTF-16LE"))
_ASCII_LABELS = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "csascii"})


@dataclass(frozen=True)
class Encoding:
    """One encoding: its name, the Python codec behind it, and for single-byte encodings
    that differ from that codec, the Standard's own 256-character table."""

    name: str
    codec: str
    ascii_compatible: bool = True
    table: str | None = None

    @property
    def readable(self) -> bool:
        """False for the Standard's "replacement" encoding: there is no text to read."""
        return bool(self.codec)

    def decode(self, data: bytes) -> str | None:
        """``data`` as text that :meth:`encode` turns back into exactly ``data``, or None
        where this encoding cannot do that for these bytes."""
        errors = "surrogateescape" if self.ascii_compatible else "surrogatepass"
        try:
            if self.table is not None:
                text: str = codecs.charmap_decode(data, errors, self.table)[0]
            else:
                text = data.decode(self.codec, errors)
            return text if self.encode(text) == data else None
        except (UnicodeError, LookupError):
            return None

    def encode(self, text: str) -> bytes:
        """The bytes of text from :meth:`decode` (with anything added to it in ASCII)."""
        errors = "surrogateescape" if self.ascii_compatible else "surrogatepass"
        if self.table is not None:
            encoded: bytes = codecs.charmap_encode(text, errors, _encoding_map(self.table))[0]
            return encoded
        return text.encode(self.codec, errors)

    def read(self, data: bytes) -> str:
        """``data`` as a browser shows it: each undecodable sequence is a U+FFFD."""
        if self.table is not None:
            text: str = codecs.charmap_decode(data, "replace", self.table)[0]
            return text
        return data.decode(self.codec, "replace")

    def reread(self, text: str) -> str:
        """Text from :meth:`decode` as a browser shows it (its kept bytes as U+FFFD)."""
        return self.read(self.encode(text))


UTF8 = Encoding("UTF-8", "utf-8")


def lookup(label: str) -> Encoding | None:
    """The encoding ``label`` names (see the module docstring), or None."""
    if len(label) > _LONGEST_LABEL:
        return None  # no charset name is this long: do not keep it in the cache
    return _lookup(label)


@lru_cache(maxsize=256)
def _lookup(label: str) -> Encoding | None:
    key = label.strip(_ASCII_WHITESPACE).lower()
    found = standard_labels().get(key)
    if found is not None:
        return found
    if not _MIME_CHARSET.fullmatch(key):
        return None
    try:
        info = codecs.lookup(key)
    except LookupError:
        return None
    name = info.name.replace("-", "_")
    if not getattr(info, "_is_text_encoding", True) or name in _NOT_CHARSETS:
        return None
    return Encoding(name, info.name, _python_codec_is_ascii_compatible(info.name, name))


def is_ascii_label(label: str) -> bool:
    """True for the labels of US-ASCII, which the Standard reads as windows-1252."""
    return label.strip(_ASCII_WHITESPACE).lower() in _ASCII_LABELS


def for_part(label: str | None, body: bytes, *, html: bool) -> Encoding | None:
    """The encoding a reader's client reads ``body`` in, given the part's charset
    ``label`` (None when it has none); None when the label names no text encoding."""
    if label is not None and not is_ascii_label(label):
        return lookup(label)
    for bom, name in _BOMS:
        if body.startswith(bom):
            return standard_labels()[name.lower()]
    if html:
        declared = meta_charset(body, _is_standard_label)
        if declared is not None:
            return _for_meta(standard_labels()[declared.strip(_ASCII_WHITESPACE).lower()])
    if body.isascii():
        return UTF8
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return standard_labels()["windows-1252"]
    return UTF8


def _is_standard_label(label: str) -> bool:
    return label.strip(_ASCII_WHITESPACE).lower() in standard_labels()


def _for_meta(found: Encoding) -> Encoding:
    """The HTML Standard: a meta tag cannot switch to UTF-16 (the bytes it was found in
    are ASCII), and x-user-defined from a meta tag is windows-1252."""
    if found.name in ("UTF-16BE", "UTF-16LE"):
        return UTF8
    if found.name == "x-user-defined":
        return standard_labels()["windows-1252"]
    return found


def _python_codec_is_ascii_compatible(codec: str, name: str) -> bool:
    if name.startswith(_NOT_ASCII_COMPATIBLE):
        return False
    try:
        return bytes(range(128)).decode(codec) == "".join(map(chr, range(128)))
    except UnicodeDecodeError:
        return False  # EBCDIC and the like


@cache
def standard_labels() -> dict[str, Encoding]:
    """Every label of the Standard, lowercased, to its encoding."""
    with _DATA.open("rb") as file:
        entries = tomllib.load(file)["encoding"]
    labels: dict[str, Encoding] = {}
    for entry in entries:
        encoding = Encoding(
            entry["name"],
            entry["codec"],
            entry.get("ascii_compatible", True),
            _table(entry),
        )
        for label in [*entry["labels"], entry["name"].lower()]:
            labels[label] = encoding
    return labels


def _table(entry: dict[str, object]) -> str | None:
    """The 256-character decoding table of a single-byte encoding that differs from its
    Python codec; None where the codec is right as it is."""
    overrides = entry.get("overrides")
    high = entry.get("high_bytes_from")
    if overrides is None and high is None:
        return None
    codec = str(entry["codec"])
    table = [_decode_byte(byte, codec) for byte in range(256)]
    if isinstance(high, int):
        table[0x80:] = [chr(high + index) for index in range(0x80)]
    if isinstance(overrides, list):
        for byte, point in overrides:
            table[byte] = chr(point)
    return "".join(table)


def _decode_byte(byte: int, codec: str) -> str:
    try:
        return bytes([byte]).decode(codec)
    except UnicodeDecodeError:
        return _UNDEFINED


@lru_cache(maxsize=64)
def _encoding_map(table: str) -> dict[int, int]:
    return {ord(char): byte for byte, char in enumerate(table) if char != _UNDEFINED}
