"""Real peers for the API: the relay tests' aiosmtpd sink stands in for the mail server."""

from tests.relay.conftest import sink as sink
