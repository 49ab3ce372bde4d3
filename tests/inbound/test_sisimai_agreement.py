"""Inkling's bounce reasons beside sisimai's, from the stored labels (sisimai is not run).

Bars (on the files sisimai answers for): the same reason in at least 75% of them, the
same hard/soft call (``class`` hard exactly when sisimai's ``hardbounce``) in 92%, and bounce
or not as the corpus labels say in 97%. ``bench/bounces.py`` prints the figures.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.inbound.agreement import Agreement, compare, sisimai_labels


@pytest.fixture(scope="module")
def agreement() -> Iterator[Agreement]:
    yield compare()


def test_the_labels_say_which_sisimai_wrote_them() -> None:
    labels = sisimai_labels()
    assert labels["sisimai"].startswith("v4.")
    assert labels["date"]
    assert len(labels["files"]) >= 110


def test_reason_agrees_with_sisimai(agreement: Agreement) -> None:
    rates = agreement.rates()
    print(f"reason {agreement.reason}/{agreement.compared} = {rates['reason']:.3f}")
    assert agreement.compared >= 100
    assert rates["reason"] >= 0.75


def test_hard_exactly_when_sisimai_says_hardbounce(agreement: Agreement) -> None:
    rates = agreement.rates()
    print(f"class {agreement.klass}/{agreement.compared} = {rates['class']:.3f}")
    assert rates["class"] >= 0.92


def test_bounce_or_not_as_labelled(agreement: Agreement) -> None:
    rates = agreement.rates()
    print(f"kind {agreement.kind}/{agreement.kind_labelled} = {rates['kind']:.3f}")
    assert rates["kind"] >= 0.97
