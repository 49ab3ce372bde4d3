"""Inkling's exceptions, as one tree.

    InklingError
    ├── ConfigError          a setting is missing or malformed
    ├── TokenError           a token failed to decode or authenticate
    ├── KeyStoreError        the token key file is missing, unreadable or corrupt
    ├── InstrumentError      a message cannot be instrumented (not MIME, too large, ...)
    ├── HitError             a hit to classify is malformed (a bad JSON line)
    ├── RangesError          a file of published IP ranges cannot be read
    ├── RelayError           the SMTP relay cannot prepare or sign a message
    ├── RequestError         an API request is malformed (names the field at fault)
    └── StoreError           the database refused or could not be reached
        ├── UnknownMessage   no message with that id or Message-ID
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


class StoreError(InklingError):
    """The database refused an operation or could not be reached."""


class UnknownMessage(StoreError):
    """No message matches the given id or Message-ID."""


class AmbiguousMessage(StoreError):
    """A Message-ID names several copies (the relay sends one per recipient); ask for one
    of them by its Inkling id or its recipient."""
