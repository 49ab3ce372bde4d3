"""The sensitive-content guard finds what must not be tracked, and not its look-alikes."""

from __future__ import annotations

import pytest

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
