"""Tokens: round trips, tampering refused, nothing readable, keys that rotate."""

from __future__ import annotations

import base64
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from inkling.errors import KeyStoreError, TokenError
from inkling.tokens import KEY_FILE, KeyFile, TokenCodec, new_message_id

URL = "https://help.acme.example/articles/reset-password?ticket=48213&email=ana%40example.org"


def test_click_token_round_trip(codec: TokenCodec) -> None:
    message = new_message_id()
    token = codec.click_token(message, 3, 1_790_000_000, URL)
    target = codec.decode_click(token)
    assert (target.message, target.link, target.sent_at, target.url) == (
        message,
        3,
        1_790_000_000,
        URL,
    )


def test_open_token_round_trip_is_short_and_case_insensitive(codec: TokenCodec) -> None:
    message = new_message_id()
    token = codec.open_token(message, 1_790_000_000)
    assert len(token) <= 50
    assert token == token.lower()
    target = codec.decode_open(token.upper())
    assert (target.message, target.sent_at) == (message, 1_790_000_000)


def test_tokens_reveal_nothing_without_the_key(codec: TokenCodec) -> None:
    message = new_message_id()
    click = codec.click_token(message, 0, 1_790_000_000, URL)
    opened = codec.open_token(message, 1_790_000_000)
    raw_click = base64.urlsafe_b64decode(click + "=" * (-len(click) % 4))
    raw_open = bytes.fromhex(opened)
    message_bytes = bytes.fromhex(message)
    for raw in (raw_click, raw_open):
        for secret in (b"help.acme", b"48213", b"ana", b"reset-password", message_bytes):
            assert secret not in raw
    assert "help" not in click and "acme" not in click
    assert message not in opened and message not in click


def test_two_tokens_for_the_same_link_differ(codec: TokenCodec) -> None:
    message = new_message_id()
    assert codec.click_token(message, 0, 1, URL) != codec.click_token(message, 0, 1, URL)


@pytest.mark.parametrize("position", [0, 1, 14, 30, -1])
def test_altered_click_token_is_refused(codec: TokenCodec, position: int) -> None:
    token = codec.click_token(new_message_id(), 0, 1_790_000_000, URL)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[position] ^= 0x01
    altered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(TokenError):
        codec.decode_click(altered)


@pytest.mark.parametrize("position", [0, 3, 20, -1])
def test_altered_open_token_is_refused(codec: TokenCodec, position: int) -> None:
    token = codec.open_token(new_message_id(), 1_790_000_000)
    raw = bytearray(bytes.fromhex(token))
    raw[position] ^= 0x01
    altered = bytes(raw).hex()
    with pytest.raises(TokenError):
        codec.decode_open(altered)


@pytest.mark.parametrize(
    "forged",
    ["", "x", "AAAA", "not base64 at all!", "A" * 80, "../../etc/passwd", "%00%00"],
)
def test_forged_tokens_are_refused(codec: TokenCodec, forged: str) -> None:
    with pytest.raises(TokenError):
        codec.decode_click(forged)
    with pytest.raises(TokenError):
        codec.decode_open(forged)


def test_token_from_another_installation_is_refused(codec: TokenCodec, tmp_path: Path) -> None:
    other = TokenCodec.for_data_dir(tmp_path / "other")
    message = new_message_id()
    with pytest.raises(TokenError):
        codec.decode_click(other.click_token(message, 0, 1, URL))
    with pytest.raises(TokenError):
        codec.decode_open(other.open_token(message, 1))


def test_key_file_is_private(codec: TokenCodec, data_dir: Path) -> None:
    mode = stat.S_IMODE((data_dir / KEY_FILE).stat().st_mode)
    assert mode == 0o600


def test_rotation_keeps_old_links_working(data_dir: Path) -> None:
    old_codec = TokenCodec.for_data_dir(data_dir)
    message = new_message_id()
    old_click = old_codec.click_token(message, 1, 5, URL)
    old_open = old_codec.open_token(message, 5)

    new_id = KeyFile(data_dir / KEY_FILE).rotate()
    assert new_id == 2
    new_codec = TokenCodec.for_data_dir(data_dir)
    assert new_codec.current_key_id == 2
    assert new_codec.decode_click(old_click).url == URL
    assert new_codec.decode_open(old_open).message == message

    new_click = new_codec.click_token(message, 1, 5, URL)
    assert new_codec.decode_click(new_click).key_id == 2
    assert stat.S_IMODE((data_dir / KEY_FILE).stat().st_mode) == 0o600


def test_running_codec_learns_keys_rotated_after_it_started(data_dir: Path) -> None:
    TokenCodec.for_data_dir(data_dir)
    running = TokenCodec(data_dir / KEY_FILE, reload_interval=0)
    KeyFile(data_dir / KEY_FILE).rotate()
    fresh = TokenCodec.for_data_dir(data_dir)
    token = fresh.click_token(new_message_id(), 0, 5, URL)
    assert running.decode_click(token).key_id == 2


def test_corrupt_key_file_is_a_clear_error(data_dir: Path) -> None:
    (data_dir / KEY_FILE).write_text("{not json")
    with pytest.raises(KeyStoreError, match="unreadable"):
        TokenCodec.for_data_dir(data_dir)


def test_nonces_never_repeat_across_threads_or_forks(codec: TokenCodec) -> None:
    def nonces(count: int) -> list[bytes]:
        tokens = [codec.click_token("ab" * 10, 0, 1, URL) for _ in range(count)]
        return [base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))[1:13] for t in tokens]

    with ThreadPoolExecutor(4) as pool:
        seen = [n for batch in pool.map(nonces, [2000] * 4) for n in batch]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports its nonces to the parent and leaves at once
        os.close(read)
        os.write(write, b"".join(nonces(200)))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as child:
        data = child.read()
    os.waitpid(pid, 0)
    seen += [data[i : i + 12] for i in range(0, len(data), 12)]
    seen += nonces(200)  # the parent's own buffer after the fork
    assert len(seen) == 8400 and len(set(seen)) == len(seen)
