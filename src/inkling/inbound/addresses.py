"""Finding and normalising email addresses in bounce text and headers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import getaddresses

# Pragmatic, not RFC 5322: what MTAs print. The domain needs a dot and a letter TLD so
# that "user@localhost" and "1.2.3@4.5" (versions, ids) are not taken for addresses.
ADDRESS = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])"
    r"([\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})"
    r"(?![\w-]*@)",
)
# Mailboxes of mail systems, never a failed recipient.
SYSTEM_LOCALS = frozenset(
    {
        "mailer-daemon",
        "mail-daemon",
        "maildaemon",
        "postmaster",
        "mailerdaemon",
        "mail.delivery.system",
        "mdaemon",
        "root",
        "noreply",
        "no-reply",
        "do-not-reply",
        "donotreply",
    }
)
# Second-level labels under which registries sell names (co.uk, com.au...): the
# organisation's domain is then three labels long.
_SECOND_LEVEL = frozenset({"ac", "co", "com", "edu", "gov", "net", "ne", "or", "org", "gob"})


def normalise(address: str) -> str:
    """An address as found, trimmed of brackets, quotes and trailing dots."""
    return address.strip().strip("<>\"'()[],;:").rstrip(".").strip()


def find(text: str) -> list[str]:
    """Every address in ``text``, in order, each once (case-insensitively)."""
    return unique(m.group(1) for m in ADDRESS.finditer(text))


def unique(addresses: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for address in addresses:
        clean = normalise(address)
        if clean and clean.lower() not in seen:
            seen.add(clean.lower())
            out.append(clean)
    return out


def in_header(value: str) -> list[str]:
    """The addresses of a From/To/Cc-like header value."""
    try:
        pairs = getaddresses([value])
    except (ValueError, TypeError, IndexError, RecursionError):
        # The stdlib's address parser recurses once per "(" of a comment and per group
        # ("a:a:a:..."): a few thousand of them exhaust the stack.
        pairs = []
    found = [addr for _, addr in pairs if "@" in addr]
    return unique(found + find(value))


def is_system(address: str) -> bool:
    """Whether the address is a mail system's own (MAILER-DAEMON, postmaster...)."""
    local = address.rsplit("@", 1)[0].lower()
    return local in SYSTEM_LOCALS


def organisation_domain(domain: str) -> str:
    """A guess at the organisation's domain: ``mr2.its.yale.edu`` gives ``yale.edu``."""
    labels = domain.lower().strip(".").split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])
