"""Copies of one message, one per recipient (the relay), and the 0003 migration that
allows them, on each backend."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from inkling.errors import AmbiguousMessage, StoreError, UnknownMessage
from inkling.model import MessageIdHeader, MessageRecord
from inkling.store import Store
from inkling.store.engine import MIGRATIONS
from inkling.tokens import new_message_id

MESSAGE_ID = MessageIdHeader("<thread-7@acme.example>")


def _copy(recipient: str, **extra: object) -> MessageRecord:
    return MessageRecord(
        id=new_message_id(),
        message_id=MESSAGE_ID,
        workflow=None,
        ticket="7",
        subject="Hello",
        sent_at=1_790_000_000,
        links_total=1,
        recipient=recipient,
        **extra,  # type: ignore[arg-type]
    )


def test_copies_share_a_message_id_and_are_told_apart(store: Store) -> None:
    ann, bob = _copy("ann@example.com"), _copy("bob@example.com", untracked="not tracked")
    store.messages.register_all([(ann, ["https://a.example/"]), (bob, [])])
    assert store.messages.copies_of("thread-7@acme.example") == sorted(
        [ann, bob], key=lambda c: c.id
    )
    assert store.messages.find(bob.id) == bob
    assert store.messages.find(MESSAGE_ID, recipient="Bob@Example.com") == bob
    with pytest.raises(AmbiguousMessage, match=f"2 copies.*{ann.id} to ann@example.com"):
        store.messages.find(MESSAGE_ID)
    with pytest.raises(UnknownMessage):
        store.messages.find(MESSAGE_ID, recipient="carol@example.com")


def test_same_copy_twice_is_refused_and_nothing_of_the_batch_is_kept(store: Store) -> None:
    store.messages.register(_copy("ann@example.com"), [])
    carol = _copy("carol@example.com")
    with pytest.raises(StoreError, match="already registered"):
        store.messages.register_all([(carol, []), (_copy("ann@example.com"), [])])
    assert [c.recipient for c in store.messages.copies_of(MESSAGE_ID)] == ["ann@example.com"]


def test_relayed_and_forgotten(store: Store) -> None:
    ann, bob = _copy("ann@example.com"), _copy("bob@example.com")
    store.messages.register_all([(ann, ["https://a.example/"]), (bob, ["https://b.example/"])])
    store.messages.mark_relayed([ann.id], 1_790_000_005)
    store.messages.forget([bob.id])
    assert store.messages.find(MESSAGE_ID).relayed_at == 1_790_000_005
    assert store.messages.links(bob.id) == []
    assert store.messages.links(ann.id) == ["https://a.example/"]


def test_migration_0003_keeps_existing_messages_and_links(database_url: str) -> None:
    engine = create_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # the shared test database is at head
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO messages (id, message_id, sent_at, links_total) "
                "VALUES ('00000000000000000001', '<old@acme.example>', 1, 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO links (message, idx, url) VALUES "
                "('00000000000000000001', 0, 'https://old.example/')"
            )
        )
    engine.dispose()
    store = Store(database_url)
    try:
        old = store.messages.find("<old@acme.example>")
        assert (old.recipient, old.untracked, old.relayed_at) == ("", None, None)
        assert store.messages.links(old.id) == ["https://old.example/"]
        store.messages.register_all(
            [(_copy("ann@example.com"), []), (_copy("bob@example.com"), [])]
        )
        with pytest.raises(StoreError):
            store.messages.register(_copy("ann@example.com"), [])
    finally:
        store.close()
