"""Messages a helpdesk sends, built as bytes (CRLF, as they travel over SMTP)."""

from __future__ import annotations

LINKS = ["https://help.acme.example/articles/42?lang=en", "https://acme.example/refund"]


def support_reply(
    *,
    to: str = "ann@customer.example, bob@customer.example",
    extra_headers: str = "",
    message_id: str = "<reply-1@acme.example>",
) -> bytes:
    """A multipart/alternative reply with two links in each part."""
    text = (
        f"From: Acme Support <support@acme.example>\r\n"
        f"To: {to}\r\n"
        "Subject: Your refund\r\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
        f"Message-ID: {message_id}\r\n"
        f"{extra_headers}"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"Hello, see {LINKS[0]} and {LINKS[1]}\r\n"
        "--b1\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "\r\n"
        f'<html><body><p>Hello, see <a href="{LINKS[0]}">the article</a> and '
        f'<a href="{LINKS[1]}">your refund</a>.</p></body></html>\r\n'
        "--b1--\r\n"
    )
    return text.encode()
