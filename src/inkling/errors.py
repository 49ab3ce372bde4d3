"""Inkling's exceptions, as one tree.

    InklingError
    ├── ConfigError          a setting is missing or malformed
    ├── TokenError           a token failed to decode or authenticate
    ├── KeyStoreError        the token key file is missing, unreadable or corrupt
    ├── InstrumentError      a message cannot be instrumented (not MIME, too large, ...)
    ├── HitError             a hit to classify is malformed (a bad JSON line)
    ├── RangesError          published IP ranges cannot be read or fetched
    ├── RelayError           the SMTP relay cannot prepare or sign a message
    ├── RequestError         an API request is malformed (names the field at fault)
    ├── TicketError          a ticket upsert is malformed (names the field at fault)
    ├── IntakeError          a line or payload of imported events is malformed
    ├── SignatureError       a webhook payload's signature is missing or does not verify
    ├── JournalError         a hit cannot be made durable in the journal (disk full, failing)
    ├── ImapError            the IMAP server broke the protocol or refused us
    │   └── ImapStateError   the poller's saved state file is unreadable
    └── StoreError           the database refused an operation
        ├── StoreUnavailable the database cannot be reached or cannot write now (down,
        │                    restarting, locked, disk full): try again later
        ├── StoreConflict    the operation conflicts with what is stored
        │   └── DuplicateMessage  a copy with that Message-ID and recipient is registered
        ├── UnknownMessage   no message with that id or Message-ID
        ├── UnknownTicket    no ticket with that id
        └── AmbiguousMessage a Message-ID went out as several copies (one per recipient)

Library errors are translated into these at the edge (``raise ... from exc``), so the CLI
can print one clear line instead of a traceback.
"""


class InklingError(Exception):
    """Base of every error Inkling raises on purpose."""


class ConfigError(InklingError):
    """A setting is missing or malformed."""


class TokenError(InklingError):
    """A token failed to decode or to authenticate."""


class KeyStoreError(InklingError):
    """The key file cannot be read, written or understood."""


class InstrumentError(InklingError):
    """A message cannot be instrumented."""


class HitError(InklingError):
    """A hit given to the classifier is malformed."""


class RangesError(InklingError):
    """A file of published IP ranges is missing or malformed."""


class RelayError(InklingError):
    """The SMTP relay cannot prepare or sign a message."""


class RequestError(InklingError):
    """An API request is malformed; ``field`` names what is wrong (``to``, ``From``, ...),
    so the answer can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class TicketError(InklingError):
    """A ticket upsert is malformed: the message names the field and what was wrong."""


class IntakeError(InklingError):
    """A line or payload of imported events is malformed: the message says what was
    wrong (the caller adds the file and line)."""


class SignatureError(InklingError):
    """A webhook payload's signature is missing, stale or does not verify."""


class JournalError(InklingError):
    """A batch of hits could not be written to the journal; none of it is acknowledged."""


class ImapError(InklingError):
    """The IMAP server broke the protocol or refused a command."""


class ImapStateError(ImapError):
    """The IMAP poller's state file cannot be read or written."""


class StoreError(InklingError):
    """The database refused an operation. A bug or a schema problem raises this class
    itself; the subclasses say what a caller can do about it."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or cannot write now: it is down or restarting, the
    network is cut, it is locked or its disk is full. Nothing was changed; try later."""


class StoreConflict(StoreError):
    """The operation conflicts with what is stored (a unique key); nothing was changed."""


class DuplicateMessage(StoreConflict):
    """A copy with this Message-ID and recipient is already registered."""


class UnknownMessage(StoreError):
    """No message matches the given id or Message-ID."""


class AmbiguousMessage(StoreError):
    """A Message-ID names several copies (the relay sends one per recipient); ask for one
    of them by its Inkling id or its recipient."""


class UnknownTicket(StoreError):
    """No ticket with that id."""
