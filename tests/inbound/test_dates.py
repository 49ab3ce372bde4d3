"""Return dates of out-of-office replies, in several languages and date formats."""

from __future__ import annotations

from datetime import date

import pytest

from inkling.inbound.dates import return_date

SENT = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I will be back on 1 December.", "2026-12-01"),
        ("I am out of the office until 12/01/2026.", "2026-12-01"),
        ("Returning on Monday, December 7th, 2026.", "2026-12-07"),
        ("I'm away until Dec 3.", "2026-12-03"),
        ("I am on leave until 2027-01-04.", "2027-01-04"),
        ("Ich bin bis zum 3.12.2026 nicht im Büro.", "2026-12-03"),
        ("Ab dem 4. Dezember bin ich wieder erreichbar.", "2026-12-04"),
        ("Je suis absente jusqu'au 3 décembre 2026.", "2026-12-03"),
        ("Estaré fuera de la oficina hasta el 3 de diciembre de 2026.", "2026-12-03"),
        ("Sono in ferie fino al 10 gennaio.", "2027-01-10"),
        ("Ik ben afwezig tot en met 3 december.", "2026-12-03"),
        ("Estou de férias até 03/12/2026.", "2026-12-03"),
        ("I am out of the office this week.", None),
        ("Our ticket 12/5 is open until further notice.", None),
    ],
)
def test_return_date(text: str, expected: str | None) -> None:
    assert return_date(text, SENT) == expected


def test_a_date_months_ago_without_year_is_next_year() -> None:
    assert return_date("I will be back on 5 January.", date(2026, 12, 20)) == "2027-01-05"


def test_quoted_lines_are_not_read() -> None:
    assert return_date("> back on 1 December\nThanks!", SENT) is None
