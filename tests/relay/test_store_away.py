"""The relay while its database is away: a real unreachable database (a port nothing
listens on), a real SMTP client, a real upstream. Nothing is sent that could not be
recorded, and the client is told to try again later (451), not that the mail failed."""

from __future__ import annotations

import smtplib

import pytest

from tests.relay.conftest import RelayFactory, Sink
from tests.relay.messages import support_reply

UNREACHABLE = "postgresql+psycopg://inkling@127.0.0.1:9/none"  # port 9: nothing listens


def test_a_message_the_store_cannot_record_is_refused_for_now_and_not_sent(
    relay_factory: RelayFactory, sink: Sink
) -> None:
    relay = relay_factory(database_url=UNREACHABLE)  # it starts all the same
    with (
        smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        client.sendmail("agent@acme.example", ["ann@customer.example"], support_reply())
    assert refused.value.smtp_code == 451
    assert sink.handler.received == []
