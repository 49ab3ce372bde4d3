"""The guard on whole messages: what it must catch, in every part type, transfer encoding
and charset a helpdesk sends, what it must let be, and the links it must never rewrite.

Each message is real MIME: UTF-8 ones built by ``email.message.EmailMessage``, ISO-8859-1
ones written out by hand (``email`` would pick the encoding itself), and run through
``instrument_message(..., guard=True)`` as the relay runs it. A finding hands the message
back byte for byte; a look-alike leaves it tracked like any other.
"""

from __future__ import annotations

import base64
import email
import html
import quopri
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from inkling.instrument import Instrumented, instrument_message
from inkling.instrument.message import DEFAULT_MAX_BYTES
from inkling.privacy.policy import Tracking
from inkling.relay.copies import CopyMaker, CopyPlan
from inkling.relay.workflows import Workflows
from inkling.tokens import TokenCodec, new_message_id
from tests.instrument.helpers import BASE

HELP = "https://help.acme.example/articles/refunds"
SENT_AT = 1_764_670_440


@dataclass(frozen=True)
class Wire:
    """How a part travels: its transfer encoding and charset."""

    cte: str
    charset: str

    def __str__(self) -> str:
        return f"{self.cte}-{self.charset}"


WIRES = [
    Wire(cte, charset)
    for cte in ("quoted-printable", "base64", "8bit")
    for charset in ("utf-8", "iso-8859-1")
]
UTF8_WIRES = [wire for wire in WIRES if wire.charset == "utf-8"]


@pytest.fixture(scope="module")
def codec(tmp_path_factory: pytest.TempPathFactory) -> TokenCodec:
    """One set of keys for the module (hundreds of cases; a key file each would be slow)."""
    return TokenCodec.for_data_dir(Path(tmp_path_factory.mktemp("data")))


def _body(sentence: str, subtype: str) -> str:
    """A short support reply holding ``sentence`` (HTML as written) and one help link."""
    if subtype == "html":
        return (
            "<html><body><p>Hello Ana,</p>\n"
            f"<p>Thanks for your message. {sentence}</p>\n"
            f'<p><a href="{HELP}">How refunds work</a></p>\n'
            "<p>Acme Support</p></body></html>\n"
        )
    return (
        f"Hello Ana,\n\nThanks for your message. {sentence}\n\n"
        f"How refunds work: {HELP}\n\nAcme Support\n"
    )


def _message(body: str, *, subtype: str, wire: Wire) -> bytes:
    """A one-part message with ``body`` as a text/``subtype`` part sent as ``wire``."""
    if wire.charset == "utf-8":
        message = EmailMessage()
        message["From"] = "Acme Support <support@acme.example>"
        message["To"] = "ana@customer.example"
        message["Subject"] = "Your request"
        message["Message-ID"] = "<reply-1@acme.example>"
        message.set_content(body, subtype=subtype, cte=wire.cte, charset=wire.charset)
        return message.as_bytes()
    return _latin1(body, subtype=subtype, cte=wire.cte)


def _latin1(body: str, *, subtype: str, cte: str) -> bytes:
    """The same message as ``_message`` makes, in ISO-8859-1, written out by hand."""
    data = body.encode("iso-8859-1")
    if cte == "base64":
        payload = base64.encodebytes(data)
    elif cte == "quoted-printable":
        payload = quopri.encodestring(data)
    else:
        payload = data
    head = (
        "From: Acme Support <support@acme.example>\n"
        "To: ana@customer.example\n"
        "Subject: Your request\n"
        "Message-ID: <reply-1@acme.example>\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: text/{subtype}; charset="iso-8859-1"\n'
        f"Content-Transfer-Encoding: {cte}\n\n"
    )
    return head.encode("ascii") + payload


def _guarded(codec: TokenCodec, raw: bytes) -> Instrumented:
    return instrument_message(
        raw, codec=codec, base_url=BASE, message=new_message_id(), sent_at=SENT_AT, guard=True
    )


def _texts(raw: bytes) -> list[str]:
    """The decoded text of each text part of ``raw``, as a reader's client shows it."""
    parsed = email.message_from_bytes(raw, policy=default)
    return [
        str(part.get_content()) for part in parsed.walk() if part.get_content_maintype() == "text"
    ]


@pytest.mark.parametrize("wire", WIRES, ids=str)
@pytest.mark.parametrize("subtype", ["html", "plain"])
def test_the_messages_carry_their_text(subtype: str, wire: Wire) -> None:
    """The hand-written ISO-8859-1 messages decode to what was written (so a test below
    that passes is about the guard, not about a broken sample)."""
    body = _body("Voici l'ordonnance médicale, citación judicial.", subtype)
    (text,) = _texts(_message(body, subtype=subtype, wire=wire))
    assert text.replace("\r\n", "\n").rstrip("\n") == body.rstrip("\n")


# What must be caught, as a helpdesk agent or a customer writes it. Accents are in the
# text: ISO-8859-1 must carry them as faithfully as UTF-8.
FOUND = [
    ("visa spaced", "Card on file: 4111 1111 1111 1111, exp 12/28.", "card number"),
    ("visa hyphenated", "Please charge 4012-8888-8888-1881 again.", "card number"),
    ("visa plain", "The card 4242424242424242 was declined.", "card number"),
    ("mastercard spaced", "Your Mastercard 5555 5555 5555 4444 is on file.", "card number"),
    ("mastercard hyphenated", "Mastercard 5105-1051-0510-5100 expired.", "card number"),
    ("mastercard 2-series plain", "New card: 2223003122003222.", "card number"),
    ("amex spaced", "Amex 3782 822463 10005 was charged.", "card number"),
    ("amex hyphenated", "Amex 3714-496353-98431, CID 1234.", "card number"),
    ("amex plain", "Amex 378734493671000 on the invoice.", "card number"),
    ("iban de spaced", "IBAN: DE89 3704 0044 0532 0130 00", "IBAN"),
    ("iban de plain", "Refund to DE89370400440532013000 please.", "IBAN"),
    ("iban gb spaced", "Account GB82 WEST 1234 5698 7654 32, sort code 12-34-56.", "IBAN"),
    ("iban gb plain", "Pay GB29NWBK60161331926819.", "IBAN"),
    ("iban fr spaced", "RIB : FR14 2004 1010 0505 0001 3M02 606.", "IBAN"),
    ("iban fr plain", "IBAN FR7630006000011234567890189", "IBAN"),
    ("iban before a bic", "IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX", "IBAN"),
    ("us ssn", "My SSN is 219-09-9999.", "US social security number"),
    ("uk ni spaced", "My NI number is AB 12 34 56 C.", "UK National Insurance number"),
    ("uk ni plain", "NINO JG103759A", "UK National Insurance number"),
    ("health en", "I attached my medical records from the clinic.", "health"),
    ("health en plural", "Both prescriptions are attached.", "health"),
    ("health de", "Anbei meine Krankschreibung für diese Woche.", "health"),
    ("health fr", "Voici l'ordonnance médicale de mon médecin.", "health"),
    ("health fr capitals", "OBJET : DOSSIER MÉDICAL DE MME DURAND", "health"),
    ("health es", "Le envío mi historia clínica completa.", "health"),
    ("health it", "Allego la cartella clinica e la ricetta medica.", "health"),
    ("legal en", "We have received a subpoena for these records.", "legal"),
    ("legal en plural", "Two lawsuits are pending.", "legal"),
    ("legal de", "Laut Gerichtsbeschluss müssen wir die Daten löschen.", "legal"),
    ("legal fr", "Un extrait de casier judiciaire est demandé.", "legal"),
    ("legal es", "Recibimos una citación judicial el lunes.", "legal"),
    ("legal it", "Serve il certificato del casellario giudiziale.", "legal"),
]


@pytest.mark.parametrize("wire", WIRES, ids=str)
@pytest.mark.parametrize("subtype", ["html", "plain"])
@pytest.mark.parametrize(("sentence", "kind"), [c[1:] for c in FOUND], ids=[c[0] for c in FOUND])
def test_it_catches(codec: TokenCodec, sentence: str, kind: str, subtype: str, wire: Wire) -> None:
    written = html.escape(sentence, quote=False) if subtype == "html" else sentence
    raw = _message(_body(written, subtype), subtype=subtype, wire=wire)

    result = _guarded(codec, raw)

    assert [finding.kind for finding in result.sensitive] == [kind]
    assert result.mime == raw
    assert result.links == []


# HTML in which markup or entities split what a reader sees whole. Caught: markup between
# a number's groups or around it, entities for its blanks or digits, characters no one
# sees, a term's accent as an entity or its words in separate tags. Markup inside one group
# of digits or inside one word is read as a break, as the edge of a table cell must be
# (see test_table_cells_do_not_run_together): the guard does not tell inline elements
# from block ones.
FOUND_IN_MARKUP = [
    ("nbsp between groups", "4111&nbsp;1111&nbsp;1111&nbsp;1111", "card number"),
    ("a span a group", "<span>4111</span> <span>1111</span> <span>1111</span> <span>1111</span>",
     "card number"),
    ("bold groups without spaces", "<b>4111</b><b>1111</b><b>1111</b><b>1111</b>", "card number"),
    ("last four in bold", "4111 1111 1111 <strong>1111</strong>", "card number"),
    ("zero-width spaces", "4111&#8203;1111&#8203;1111&#8203;1111", "card number"),
    ("digits as entities", "&#52;&#49;&#49;&#49; &#x31;111 1111 1111", "card number"),
    ("apple data detector", '<span class="Apple-data-detectors">4111 1111 1111 1111</span>',
     "card number"),
    ("card beside its expiry", "<table><tr><td>Card</td><td>4111 1111 1111 1111</td>"
     "<td>12/28</td></tr></table>", "card number"),
    ("iban then bic in cells", "<table><tr><td>IBAN</td><td>DE89 3704 0044 0532 0130 00</td>"
     "</tr><tr><td>BIC</td><td>COBADEFFXXX</td></tr></table>", "IBAN"),
    ("iban groups in spans", "<span>GB82</span> <span>WEST</span> <span>1234</span> "
     "<span>5698</span> <span>7654</span> <span>32</span>", "IBAN"),
    ("iban with nbsp", "DE89&nbsp;3704&nbsp;0044&nbsp;0532&nbsp;0130&nbsp;00", "IBAN"),
    ("ssn in bold", "SSN: <b>219-09-9999</b>", "US social security number"),
    ("ni number with nbsp", "AB&nbsp;12&nbsp;34&nbsp;56&nbsp;C", "UK National Insurance number"),
    ("term over a line break", "your medical<br>records", "health"),
    ("term in separate tags", "<i>court</i> <i>order</i>", "legal"),
    ("accent as a named entity", "votre dossier m&eacute;dical", "health"),
    ("accent as a numeric entity", "su historia cl&#237;nica", "health"),
    ("soft hyphen in a word", "meine Kranken&shy;akte", "health"),
]  # fmt: skip


@pytest.mark.parametrize("wire", WIRES, ids=str)
@pytest.mark.parametrize(
    ("markup", "kind"), [c[1:] for c in FOUND_IN_MARKUP], ids=[c[0] for c in FOUND_IN_MARKUP]
)
def test_it_reads_html_as_its_reader_does(
    codec: TokenCodec, markup: str, kind: str, wire: Wire
) -> None:
    raw = _message(_body(markup, "html"), subtype="html", wire=wire)

    result = _guarded(codec, raw)

    assert [finding.kind for finding in result.sensitive] == [kind]
    assert result.mime == raw


@pytest.mark.parametrize("wire", UTF8_WIRES, ids=str)
@pytest.mark.parametrize("subtype", ["html", "plain"])
def test_decomposed_accents_are_read_as_composed(
    codec: TokenCodec, subtype: str, wire: Wire
) -> None:
    """A client that writes "é" as "e" and a combining accent (NFD) means the same word."""
    sentence = unicodedata.normalize("NFD", "Voici mon dossier médical.")
    raw = _message(_body(sentence, subtype), subtype=subtype, wire=wire)
    assert [finding.kind for finding in _guarded(codec, raw).sensitive] == ["health"]


def test_every_part_is_read(codec: TokenCodec) -> None:
    """A card only in the text alternative stops the HTML one being tracked too."""
    message = EmailMessage()
    message["From"] = "support@acme.example"
    message["To"] = "ana@customer.example"
    message["Subject"] = "Your card"
    message.set_content("Charged to 4111 1111 1111 1111.\n", cte="base64")
    message.add_alternative(_body("Thanks!", "html"), subtype="html", cte="quoted-printable")
    raw = message.as_bytes()

    result = _guarded(codec, raw)

    assert [finding.kind for finding in result.sensitive] == ["card number"]
    assert result.mime == raw


# Numbers and words support mail is full of, which must not stop tracking. Each is
# written as mail carries it; a few are valid by the check digits of what they resemble on
# purpose (a German mobile in E.164 passes Luhn as a 13-digit Visa; the 16-digit order
# number is in Visa's range and passes Luhn), as one in ten real ones would.
LOOK_ALIKES = [
    ("order number", "Order #100234567890 has shipped."),
    ("order reference", "Your order ORD-2026-000123 is confirmed."),
    ("marketplace order", "Order 114-3941689-8772232 was delivered."),
    ("16-digit order number", "Order #4000123412341234 is on its way."),
    ("order url in the text", "See https://shop.example/orders/4000123412341234 for it."),
    ("ups", "UPS tracking number 1Z999AA10123456784."),
    ("usps 22 digits", "USPS tracking 9400111899223100000000."),
    ("usps in fours", "USPS tracking 9400 1118 9922 3100 0000 00."),
    ("usps with its zip", "USPS 420 90210 9400 1118 9922 3100 0000 00"),
    ("dhl 10 digits", "DHL waybill 3165365230."),
    ("dhl express", "DHL shipment JJD014600003456789."),
    ("fedex 12 digits", "FedEx 794631563830, or 7946 3156 3830."),
    ("fedex 15 digits", "FedEx 449044304137821."),
    ("iso date", "Delivered on 2026-12-02."),
    ("european date", "Delivered on 02/12/2026."),
    ("iso timestamp", "Logged at 2026-12-02T10:14:00Z."),
    ("timestamp with offset", "Logged at 2026-12-02 10:14:00+01:00."),
    ("rfc 5322 date", "Date: Tue, 02 Dec 2026 10:14:00 +0100"),
    ("epoch seconds", "Created 1764670440."),
    ("epoch milliseconds", "Created 1764670440000."),
    ("e164 us", "Call +14155552671."),
    ("e164 uk", "Call +442079460958."),
    ("e164 german mobile", "Call +4915112345678."),
    ("us phone", "Call (415) 555-2671 or 415-555-2671."),
    ("us toll free", "Call 1-800-555-0199."),
    ("uk phone", "Call +44 20 7946 0958 or 020 7946 0958."),
    ("uk mobile", "Text 07700 900123."),
    ("german mobile spaced", "SMS an +49 151 12345678."),
    ("invoice reference", "Invoice INV-2026-004211 is attached."),
    ("invoice number", "Invoice no. 2026000123 is attached."),
    ("ticket", "Ticket #48213 is solved."),
    ("helpdesk ticket tag", "[#HS:2847193650-8765432101#]"),
    ("incident", "Incident INC0012345 was opened."),
    ("isbn-13", "ISBN 978-3-16-148410-0."),
    ("isbn-10", "ISBN 0-306-40615-2."),
    ("isbn plain", "ISBN 9780306406157."),
    ("uuid", "Request id 123e4567-e89b-12d3-a456-426614174000."),
    ("git hash", "Fixed in 9fceb02d0ae598e95dc970b74767f19372d61af8."),
    ("card number failing luhn", "Card 4111 1111 1111 1112 was refused."),
    ("luhn valid, no issuer", "Reference 1234 5678 1234 5670."),
    ("iban with a wrong check digit", "IBAN DE89 3704 0044 0532 0130 01."),
    ("iban with a wrong last digit", "IBAN GB82WEST12345698765433."),
    ("creditor reference", "Payment reference RF18 5390 0754 7034."),
    ("ssn area 000", "Case 000-12-3456."),
    ("ssn area 666", "Case 666-12-3456."),
    ("ssn area 9xx", "Case 912-34-5678."),
    ("ssn group 00", "Case 123-00-4567."),
    ("ssn serial 0000", "Case 123-45-0000."),
    ("hmrc's example ni number", "For example QQ 12 34 56 C."),
    ("ni prefix never issued", "Reference BG 12 34 56 A."),
    ("amount", "Total 1,234,567.89 EUR."),
    ("version", "Windows 10.0.19045.4046."),
    ("ip address", "From 192.168.100.200."),
    ("be patient", "Please be patient while we diagnose the issue."),
    ("diagnostic tool", "Run the diagnostic tool and send us the log."),
    ("law firm", "Law firms: see the law firm pricing page."),
    ("legal footer", "Legal notice: Acme Ltd, registered in England."),
    ("archive", "Your archive is ready to download."),
    ("food court", "Meet us at the food court."),
    ("prescriptive", "Our onboarding is prescriptive."),
    ("french case file", "Votre dossier est en cours de traitement."),
    ("spanish order history", "Consulte el historial de pedidos."),
    ("german footer", "Gerichtsstand ist Berlin. Impressum und Datenschutz."),
]


@pytest.mark.parametrize("wire", WIRES, ids=str)
@pytest.mark.parametrize("subtype", ["html", "plain"])
@pytest.mark.parametrize("sentence", [c[1] for c in LOOK_ALIKES], ids=[c[0] for c in LOOK_ALIKES])
def test_it_lets_look_alikes_be(codec: TokenCodec, sentence: str, subtype: str, wire: Wire) -> None:
    written = html.escape(sentence, quote=False) if subtype == "html" else sentence
    raw = _message(_body(written, subtype), subtype=subtype, wire=wire)

    result = _guarded(codec, raw)

    assert result.sensitive == []
    assert HELP in result.links  # tracked like any other message


@pytest.mark.parametrize("wire", WIRES, ids=str)
def test_table_cells_do_not_run_together(codec: TokenCodec, wire: Wire) -> None:
    """An order row read as one run of digits is a Visa number that passes Luhn
    (4555123820261999); a reader sees four cells, and so does the guard."""
    row = (
        "<table><tr><th>Qty</th><th>Item</th><th>Model</th><th>Points</th></tr>"
        "<tr><td>4</td><td>5551238</td><td>2026</td><td>1999</td></tr></table>"
    )
    raw = _message(_body(row, "html"), subtype="html", wire=wire)
    assert _guarded(codec, raw).sensitive == []


RESET = "https://app.acme.example/password/reset/Zm9vYmFy?uid=42"
MAGIC = "https://app.acme.example/auth/verify?token=8c1f0e"
KEPT_LINKS = [(RESET, "password reset link"), (MAGIC, "magic login link")]


def _with_link(url: str, subtype: str) -> str:
    if subtype == "html":
        return _body(f'Use <a href="{html.escape(url)}">this link</a> to sign in.', subtype)
    return _body(f"Use this link to sign in: {url}", subtype)


@pytest.mark.parametrize("wire", WIRES, ids=str)
@pytest.mark.parametrize("subtype", ["html", "plain"])
@pytest.mark.parametrize(("url", "kind"), KEPT_LINKS, ids=["reset", "magic login"])
def test_links_a_scanner_must_not_follow_are_kept(
    codec: TokenCodec, url: str, kind: str, subtype: str, wire: Wire
) -> None:
    raw = _message(_with_link(url, subtype), subtype=subtype, wire=wire)

    result = _guarded(codec, raw)

    assert result.sensitive == []
    assert result.kept_links == [kind]
    assert result.links == [HELP]  # the help link is tracked, the kept one is not
    (text,) = _texts(result.mime)
    assert (html.escape(url) if subtype == "html" else url) in text
    assert f"{BASE}/t/c/" in text


def _maker(codec: TokenCodec) -> CopyMaker:
    return CopyMaker(
        codec=codec,
        base_url=BASE,
        workflows=Workflows({}, []),
        signer=None,
        return_domain=None,
        max_bytes=DEFAULT_MAX_BYTES,
    )


def _plan() -> CopyPlan:
    return CopyPlan(id=new_message_id(), sent_at=SENT_AT, recipients=["ana@customer.example"])


@pytest.mark.parametrize("wire", [Wire("quoted-printable", "utf-8"), Wire("base64", "iso-8859-1")],
                         ids=str)  # fmt: skip
@pytest.mark.parametrize("subtype", ["html", "plain"])
@pytest.mark.parametrize(("url", "kind"), KEPT_LINKS, ids=["reset", "magic login"])
def test_a_copy_with_a_kept_link_is_tracked_by_clicks_alone(
    codec: TokenCodec, url: str, kind: str, subtype: str, wire: Wire
) -> None:
    raw = _message(_with_link(url, subtype), subtype=subtype, wire=wire)

    (copy,) = _maker(codec).make(raw, "support@acme.example", [_plan()])

    assert copy.record.tracking == Tracking.CLICKS
    assert copy.record.untracked == f"sensitive: {kind}"
    assert copy.links == [HELP]
    (text,) = _texts(copy.data)
    assert f"{BASE}/t/o/" not in text  # no pixel
    assert f"{BASE}/t/c/" in text
    assert (html.escape(url) if subtype == "html" else url) in text


@pytest.mark.parametrize("subtype", ["html", "plain"])
def test_a_copy_with_sensitive_content_goes_out_untracked(codec: TokenCodec, subtype: str) -> None:
    """Content wins over a kept link: nothing is tracked and the copy is the message."""
    body = _with_link(RESET, subtype).replace("Thanks", "Your IBAN DE89 3704 0044 0532 0130 00.")
    raw = _message(body, subtype=subtype, wire=Wire("quoted-printable", "utf-8"))

    (copy,) = _maker(codec).make(raw, "support@acme.example", [_plan()])

    assert copy.record.tracking == Tracking.NONE
    assert copy.record.untracked == "sensitive: IBAN"
    assert copy.links == []
    assert copy.data == raw
