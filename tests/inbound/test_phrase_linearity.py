"""sisimai's phrases, made linear, still name the reason on the input that stalled them.

Nothing is timed (``bench/linearity.py`` measures the ``hostile.py`` cases at ``n`` and
``10 n``); here the hostile notices are parsed at the bench's starting size and must give
the reason their real words say.
"""

from __future__ import annotations

import pytest

from inkling.inbound import parse_message
from tests.inbound.hostile import CASES


@pytest.mark.parametrize(
    ("name", "reason"), [("parenthesised_ats", "mailboxfull"), ("angled_ats", "userunknown")]
)
def test_a_run_of_at_signs_leaves_the_reason_as_written(name: str, reason: str) -> None:
    case = CASES[name]
    parsed = parse_message(case.build(case.n))
    assert parsed.bounce is not None
    assert parsed.bounce.recipients == ("ana@customer.example",)
    assert parsed.bounce.reason == reason
