"""The sensitive-content guard finds what must not be tracked, and not its look-alikes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inkling.privacy import guard
from inkling.privacy.guard import scan_text, sensitive_link


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Card: 4111 1111 1111 1111, exp 12/28", "card number"),
        ("4111-1111-1111-1111", "card number"),
        ("Amex 378282246310005 on file", "card number"),
        ("charged to 5555555555554444", "card number"),
        ("new Mastercard 2223003122003222", "card number"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN"),
        ("pay to GB82WEST12345698765432", "IBAN"),
        ("SSN 123-45-6789", "US social security number"),
        ("NI number AB 12 34 56 C", "UK National Insurance number"),
        ("Your medical records are attached", "health"),
        ("Ihre Krankenakte liegt bei", "health"),
        ("a subpoena was served", "legal"),
    ],
)
def test_it_finds(text: str, kind: str) -> None:
    assert kind in {f.kind for f in scan_text(text)}


@pytest.mark.parametrize(
    "text",
    [
        "Order 1234567812345670 has shipped",  # Luhn-valid, but no issuer's range
        "Visa-like but wrong: 4111 1111 1111 1112",  # fails Luhn
        "UPS tracking 1Z999AA10123456784",
        "Delivered on 2026-12-04 at 10:00",
        "Call +49 30 1234 5678 or 0800 123 4567",
        "IBAN DE89 3704 0044 0532 0130 01",  # a wrong check digit
        "ticket 000-12-3456 and build 666-12-3456",  # numbers the SSA never issues
        "reference BG 12 34 56 A",  # a prefix HMRC never issues
        "Please be patient while we diagnosed the issue; run the diagnostic tool.",
        "Invoice 2026-000123, order #48213, version 10.0.19045.4046",
    ],
)
def test_it_lets_look_alikes_be(text: str) -> None:
    assert scan_text(text) == []


def test_html_is_read_as_its_text_and_samples_are_masked() -> None:
    html = "<p>Card <b>4111&#32;1111</b> 1111 1111</p>"
    (finding,) = scan_text(html, is_html=True)
    assert (finding.kind, finding.sample) == ("card number", "...1111")
    assert "4111 1111 1111" not in finding.sample


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://acme.example/password/reset/abc123", "password reset link"),
        ("https://acme.example/users/password/edit?reset_password_token=x", "password reset link"),
        ("https://app.example/auth/verify?token=abc", "magic login link"),
        ("https://app.example/login?login_token=abc", "magic login link"),
        ("https://help.example/articles/how-to-reset-your-router", None),
        ("https://help.example/articles/refunds", None),
    ],
)
def test_links_a_scanner_must_never_follow(url: str, kind: str | None) -> None:
    assert sensitive_link(url) == kind


# The guard reads numbers and terms only where cheap signs say a detector may fire (see
# the module docstring of privacy/guard.py). These properties check that the signs never
# hide a finding: on text built from the pieces numbers and terms are made of, the guard
# finds exactly what its detectors find when run on everything.
_NUMBER_PIECES = st.sampled_from(
    ["4111", "1111", "4012", "8888", "1881", "3782", "822463", "10005", "219", "09", "9999",
     "DE89", "3704", "0044", "0532", "0130", "00", "GB82", "WEST", "1234", "5698", "7654",
     "32", "AB", "12", "34", "56", "C", "JG", "2026", "7", "+", "#", "/", "-", " ", "  ",
     "\u00a0", "\u2009", "\t", "\n", ".", ",", "x", "é", "Order", "\u200b",
     "4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005", "3782-822463-10005",
     "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "219-09-9999", "AB123456C",
     "4222222222222"]
)  # fmt: skip
_WORD_PIECES = st.sampled_from(
    ["medical", "records", "record", "dossier", "médical", "me\u0301dical", "m", "dical",
     "historia", "clínica", "lawsuit", "lawsuits", "court", "order", "orders", "hiv",
     "archive", "legal", "hold", "attorney", "client", "-", " ", "  ", "\n", "\u00a0",
     "_", ".", "é", "«", "»", "\u2019", "MEDICAL", "RECORDS", "DOSSIER", "MÉDICAL", "2"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_NUMBER_PIECES, max_size=24).map("".join))
def test_the_number_signs_hide_nothing(text: str) -> None:
    text = guard._as_read(text, is_html=False)
    everything = [
        *guard._in_runs(text),
        *(guard.Finding("IBAN", f"{i[:2]}...{i[-4:]}") for i in guard._ibans(text)),
        *(guard.Finding("UK National Insurance number", f"{p}...") for p in guard._ninos(text)),
    ]
    assert guard._numbers(text, text.encode("utf-8", "surrogatepass")) == everything


@settings(max_examples=400, deadline=None)
@given(st.lists(_WORD_PIECES, max_size=12).map("".join))
def test_the_term_index_hides_nothing(text: str) -> None:
    text = guard._as_read(text, is_html=False)
    lowered = text.lower()
    everything = {
        kind
        for terms in guard._tables().terms.values()
        for kind, pattern in terms
        if pattern.search(lowered)
    }
    found = guard._words(text, text.encode("utf-8", "surrogatepass"))
    assert {finding.kind for finding in found} == everything
