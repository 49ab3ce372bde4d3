"""Compact authenticated tokens for tracked links and pixels.

A **click token** carries everything the redirect needs (message, link index, send time,
target URL) sealed with AES-256-GCM, so the tracker answers without a database read and
nobody can read or alter the target. Layout before base64url::

    key id (1) | nonce (12) | sealed(message id (10) | link (2) | sent (4) | url) + tag (16)

An **open token** is short and case-insensitive (hexadecimal), so it also fits in a VERP
address.
It is sealed deterministically in the SIV way, with keyed BLAKE2b as the pseudo-random
function: the tag authenticates the plaintext and also seeds the keystream that hides it::

    tag = BLAKE2b(mac key; key id | message id | sent)[:10]
    key id (1) | (message id (10) | sent (4)) XOR BLAKE2b(encryption key; tag)[:14] | tag (10)

(Keyed BLAKE2b is a MAC by design, and in CPython it costs a third of an HMAC-SHA256:
this runs on every pixel hit.)

Both carry a key id. ``inkling keys rotate`` adds a key and makes it current: new tokens use
it, old tokens keep decoding with the key they name. Keys live in ``keys.json`` in the data
dir (mode 0600); each key's secret is expanded with HKDF into one sub-key per purpose.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import struct
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar, cast

if TYPE_CHECKING:
    from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from inkling.errors import KeyStoreError, TokenError
from inkling.model import InklingId

MESSAGE_ID_BYTES = 10
#: The link index reserved for the hidden honeypot link (the largest a token can hold).
HONEYPOT_LINK = 0xFFFF
KEY_FILE = "keys.json"
MAX_KEY_ID = 255
_NONCE = 12
_OPEN_TAG = 10
_CLICK_HEAD = struct.Struct(">10sHI")
_OPEN_BODY = struct.Struct(">10sI")
_OPEN_TOKEN_BYTES = 1 + _OPEN_BODY.size + _OPEN_TAG
_OPEN_TAG_AT = 1 + _OPEN_BODY.size
#: An open token's length in characters (hexadecimal).
OPEN_TOKEN_LENGTH = 2 * _OPEN_TOKEN_BYTES
#: Marks a decoded id as an InklingId at C speed (``str`` of a str is the str itself;
#: calling the NewType would cost a Python call on every hit).
_as_inkling_id = cast("Callable[[str], InklingId]", str)
#: Makes a named tuple from a tuple in C: a named tuple's own constructor is a Python
#: function, a frame more on every hit.
_new_tuple = cast("Callable[[type[_T], tuple[object, ...]], _T]", tuple.__new__)
_RELOAD_INTERVAL = 1.0
_T = TypeVar("_T")
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class _RandomPool:
    """Random bytes (nonces, message ids) drawn from the OS a few kilobytes at a time: one
    system call per few hundred tokens instead of one each.

    AES-GCM must never see a nonce twice under one key. Random nonces make a repeat
    negligible for far more tokens than a key will seal (NIST SP 800-38D allows 2**32 per
    key; rotate long before). Two threads must never take the same bytes, hence the lock;
    and a forked child must not reuse the parent's buffer, so it empties in every child.
    """

    _CHUNK = 4096

    def __init__(self) -> None:
        self._buffer = b""
        self._offset = 0
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._buffer = b""
        self._offset = 0
        self._lock = threading.Lock()

    def take(self, count: int) -> bytes:
        with self._lock:
            if self._offset + count > len(self._buffer):
                self._buffer = os.urandom(self._CHUNK)
                self._offset = 0
            start = self._offset
            self._offset += count
            return self._buffer[start : self._offset]


_RANDOM = _RandomPool()


def new_message_id() -> InklingId:
    """A fresh random Inkling message id: 20 lowercase hexadecimal characters."""
    return InklingId(_RANDOM.take(MESSAGE_ID_BYTES).hex())


@lru_cache(maxsize=4096)
def message_id_bytes(message_id: str) -> bytes:
    """The 10 raw bytes behind an Inkling message id; raises TokenError if malformed."""
    raw = _unhex(message_id)
    if len(raw) != MESSAGE_ID_BYTES:
        raise TokenError(f"not an Inkling message id: {message_id!r}")
    return raw


class ClickTarget(NamedTuple):
    """What a click token says. (Named tuples: built on every hit, and cheaper to build
    than frozen dataclasses.)"""

    message: InklingId
    link: int
    sent_at: int
    url: str
    key_id: int


class OpenTarget(NamedTuple):
    """What an open token says."""

    message: InklingId
    sent_at: int
    key_id: int


class _Key:
    """One key's purpose-bound ciphers, derived once."""

    __slots__ = ("click", "head", "ident", "open_enc", "open_mac")

    def __init__(self, ident: int, secret: bytes) -> None:
        self.ident = ident
        self.head = bytes((ident,))
        self.click = AESGCM(_derive(secret, b"inkling click v2"))
        # Keyed BLAKE2b states, set up once and copied per token: a copy costs two thirds
        # of a fresh keyed hash, and two run on every pixel hit.
        self.open_enc = hashlib.blake2b(
            key=_derive(secret, b"inkling open enc v3"), digest_size=_OPEN_BODY.size
        )
        self.open_mac = hashlib.blake2b(
            key=_derive(secret, b"inkling open mac v3"), digest_size=_OPEN_TAG
        )


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


class TokenCodec:
    """Seals and opens tokens with the keys of one key file.

    The codec re-reads the key file (at most once a second) when a token names a key it
    does not know, so a running tracker accepts tokens made after ``inkling keys rotate``.
    """

    def __init__(self, key_file: Path, *, reload_interval: float = _RELOAD_INTERVAL) -> None:
        self._key_file = key_file
        self._reload_interval = reload_interval
        self._keys: dict[int, _Key] = {}
        self._last_reload = 0.0
        self._reload()

    @classmethod
    def for_key_file(cls, key_file: Path) -> TokenCodec:
        """The codec of ``key_file``, creating it with a first key if it does not exist."""
        if not key_file.exists():
            KeyFile(key_file).create()
        return cls(key_file)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> TokenCodec:
        """The codec of the key file in ``data_dir`` (tests and benchmarks)."""
        return cls.for_key_file(data_dir / KEY_FILE)

    @property
    def current_key_id(self) -> int:
        return self._current.ident

    def click_token(self, message: str, link: int, sent_at: int, url: str) -> str:
        """Seal a click token for ``url``, the ``link``-th tracked link of ``message``."""
        key = self._current
        try:
            head = _CLICK_HEAD.pack(message_id_bytes(message), link, sent_at)
        except struct.error as exc:
            raise TokenError(f"link {link} or send time {sent_at} out of range") from exc
        nonce = _RANDOM.take(_NONCE)
        sealed = key.click.encrypt(nonce, head + url.encode(), key.head)
        raw = key.head + nonce + sealed
        return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()

    def decode_click(self, token: str) -> ClickTarget:
        """Authenticate and decrypt a click token, or raise TokenError."""
        raw = _b64decode(token)
        if len(raw) < 1 + _NONCE + 16 + _CLICK_HEAD.size:
            raise TokenError("click token too short")
        key = self._keys.get(raw[0]) or self._key(raw[0])
        try:
            plain = key.click.decrypt(raw[1 : 1 + _NONCE], raw[1 + _NONCE :], raw[:1])
        except InvalidTag as exc:
            raise TokenError("click token failed authentication") from exc
        mid, link, sent_at = _CLICK_HEAD.unpack_from(plain)
        try:
            url = plain[_CLICK_HEAD.size :].decode()
        except UnicodeDecodeError as exc:  # pragma: no cover - authenticated, so only our bug
            raise TokenError("click token holds an undecodable URL") from exc
        return _new_tuple(ClickTarget, (_as_inkling_id(mid.hex()), link, sent_at, url, key.ident))

    def open_token(self, message: str, sent_at: int) -> str:
        """Seal a short open token (lowercase hexadecimal) for ``message``."""
        key = self._current
        try:
            body = _OPEN_BODY.pack(message_id_bytes(message), sent_at)
        except struct.error as exc:
            raise TokenError(f"send time {sent_at} out of range") from exc
        tag = _open_tag(key, body)
        return _hex(key.head + _xor(body, _open_keystream(key, tag)) + tag)

    def decode_open(self, token: str) -> OpenTarget:
        """Authenticate and decrypt an open token, or raise TokenError.

        This runs on every pixel hit, so the steps of ``_open_keystream``, ``_xor`` and
        ``_open_tag`` are written out here: each call saved is a few hundred instructions.
        """
        raw = _unhex(token)
        if len(raw) != _OPEN_TOKEN_BYTES:
            raise TokenError("open token has the wrong length")
        key = self._keys.get(raw[0]) or self._key(raw[0])
        tag = raw[_OPEN_TAG_AT:]
        stream = key.open_enc.copy()
        stream.update(tag)
        body = (int.from_bytes(raw[1:_OPEN_TAG_AT]) ^ int.from_bytes(stream.digest())).to_bytes(
            _OPEN_BODY.size
        )
        mac = key.open_mac.copy()
        mac.update(key.head + body)
        if not hmac.compare_digest(tag, mac.digest()):
            raise TokenError("open token failed authentication")
        mid, sent_at = _OPEN_BODY.unpack(body)
        return _new_tuple(OpenTarget, (_as_inkling_id(mid.hex()), sent_at, key.ident))

    def _key(self, ident: int) -> _Key:
        key = self._keys.get(ident)
        if key is None and time.monotonic() - self._last_reload >= self._reload_interval:
            self._reload()
            key = self._keys.get(ident)
        if key is None:
            raise TokenError(f"token names unknown key {ident}")
        return key

    def _reload(self) -> None:
        self._last_reload = time.monotonic()
        stored = KeyFile(self._key_file).read()
        self._keys = {ident: _Key(ident, secret) for ident, secret in stored.secrets.items()}
        self._current: _Key = self._keys[stored.current]


@dataclass(frozen=True)
class StoredKeys:
    current: int
    secrets: dict[int, bytes]
    created: dict[int, str]


class KeyFile:
    """The key file: ``{"current": id, "keys": [{"id", "created", "secret"}]}``, mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def create(self) -> StoredKeys:
        """Write a key file with one fresh key; refuses to overwrite an existing one."""
        if self.path.exists():
            raise KeyStoreError(f"{self.path} already exists")
        keys = StoredKeys(1, {1: secrets.token_bytes(32)}, {1: _now()})
        self._write(keys)
        return keys

    def read(self) -> StoredKeys:
        try:
            data = json.loads(self.path.read_text())
            secrets_by_id = {int(k["id"]): base64.b64decode(k["secret"]) for k in data["keys"]}
            created = {int(k["id"]): str(k.get("created", "")) for k in data["keys"]}
            current = int(data["current"])
        except FileNotFoundError as exc:
            raise KeyStoreError(f"no key file at {self.path}") from exc
        except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise KeyStoreError(f"key file {self.path} is unreadable: {exc}") from exc
        if current not in secrets_by_id or any(len(s) != 32 for s in secrets_by_id.values()):
            raise KeyStoreError(f"key file {self.path} is inconsistent")
        return StoredKeys(current, secrets_by_id, created)

    def rotate(self) -> int:
        """Add a fresh key and make it current; returns its id. Old keys stay for old links."""
        keys = self.read()
        ident = max(keys.secrets) + 1
        if ident > MAX_KEY_ID:
            raise KeyStoreError(f"key ids are exhausted ({MAX_KEY_ID}); see docs/operations.md")
        keys.secrets[ident] = secrets.token_bytes(32)
        keys.created[ident] = _now()
        self._write(StoredKeys(ident, keys.secrets, keys.created))
        return ident

    def _write(self, keys: StoredKeys) -> None:
        payload = {
            "current": keys.current,
            "keys": [
                {"id": i, "created": keys.created[i], "secret": base64.b64encode(s).decode()}
                for i, s in sorted(keys.secrets.items())
            ],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o600)
        tmp.replace(self.path)


def _open_tag(key: _Key, body: bytes) -> bytes:
    mac = key.open_mac.copy()
    mac.update(key.head + body)
    return mac.digest()


def _open_keystream(key: _Key, tag: bytes) -> bytes:
    stream = key.open_enc.copy()
    stream.update(tag)
    return stream.digest()


def _xor(data: bytes, stream: bytes) -> bytes:
    return (int.from_bytes(data) ^ int.from_bytes(stream)).to_bytes(len(data))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _hex(raw: bytes) -> str:
    return raw.hex()


def _unhex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise TokenError("token is not hexadecimal") from exc


def _b64decode(text: str) -> bytes:
    try:
        padded = text + "=" * (-len(text) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TokenError("token is not base64url") from exc
