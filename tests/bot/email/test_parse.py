"""Reading SendGrid Inbound Parse forms: fields, charsets, HTML-only mail, attachments noted."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import urlencode

import pytest

from bot.email.form import BadForm, is_form, read_form
from bot.email.parse import BadInbound, parse
from tests.fakes.sendgrid import InboundEmailForm


def _parsed(form: InboundEmailForm):
    return parse(read_form(*form.encode()))


def test_the_fields_sendgrid_posts_are_read() -> None:
    form = InboundEmailForm(
        message_id="<CAF=abc123@mail.gmail.com>",
        in_reply_to="<reply1@example.com>",
        references=["<first@example.com>", "<reply1@example.com>"],
        extra_fields={"spam_report": "...", "content-ids": "{}", "something_new": "x"},
    )
    email = _parsed(form)
    assert email.from_address == "ava@example.com"
    assert email.from_name == "Ava Chen"
    assert email.to == "Pigeon Supply Co. <support@example.com>"
    assert email.subject == "Where is my order?"
    assert email.text == "Hi, where is my order #1001?\n\nThanks,\nAva\n"
    assert email.message_id == "<CAF=abc123@mail.gmail.com>"
    assert email.in_reply_to == "<reply1@example.com>"
    assert email.references == ("<first@example.com>", "<reply1@example.com>")
    assert email.envelope_from == "ava@example.com"
    assert (email.auto_submitted, email.precedence, email.autoreply_header) == (None, None, False)
    assert email.attachments == ()


def test_the_sender_address_is_normalised_and_an_encoded_name_decoded() -> None:
    form = InboundEmailForm(sender="=?UTF-8?Q?Chen=2C_Zo=C3=AB?= <Zoe.Chen@Example.COM>")
    email = _parsed(form)
    assert (email.from_address, email.from_name) == ("zoe.chen@example.com", "Chen, Zoë")


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("iso-8859-1", "Où est ma commande? Merci, Zoë"),
        ("windows-1252", "It’s late – where is it?"),
    ],
)
def test_each_field_is_decoded_in_the_charset_sendgrid_names(charset: str, text: str) -> None:
    form = InboundEmailForm(text=text, subject="Commande été", charsets={"text": charset})
    email = _parsed(form)
    assert email.text == text
    assert email.subject == "Commande été"  # utf-8, as its own charset says


def test_an_unknown_charset_falls_back_to_utf8_instead_of_failing() -> None:
    content_type, body = InboundEmailForm(text="héllo").encode()
    body = body.replace(b'"text": "UTF-8"', b'"text": "x-no-such-charset"')
    assert b"x-no-such-charset" in body
    assert parse(read_form(content_type, body)).text == "héllo"


def test_an_html_only_email_is_read_as_text() -> None:
    html = (
        "<html><head><style>p {color: red}</style></head><body>"
        "<p>Hi,</p><p>My order <b>#1001</b> hasn&#39;t&nbsp;arrived.</p>"
        "<div class='gmail_quote'>On Mon, Jun 15, 2026 Pigeon wrote:<br>"
        "<blockquote>Your order shipped</blockquote></div></body></html>"
    )
    email = _parsed(InboundEmailForm(text=None, html=html))
    assert email.text.startswith("Hi,\n\nMy order #1001 hasn't arrived.")
    assert "color" not in email.text
    assert "> Your order shipped" in email.text  # the quote stays marked for the stripper


def test_an_email_without_text_or_html_has_an_empty_body() -> None:
    email = _parsed(InboundEmailForm(text=None, html=None, subject="Order 1001?"))
    assert (email.text, email.subject) == ("", "Order 1001?")


def test_attachments_are_noted_never_kept() -> None:
    pdf = b"%PDF-1.4\r\n" + bytes(range(256)) * 4  # binary, with CRLFs and NULs inside
    form = InboundEmailForm(
        attachments=[
            ("receipt.pdf", "application/pdf", pdf),
            ("../../etc/passwd", "text/plain", b"root:x:0:0"),
            ("run.exe", "application/x-msdownload", b"MZ\x90\x00"),
        ]
    )
    email = _parsed(form)
    assert [a.as_json() for a in email.attachments] == [
        {"filename": "receipt.pdf", "content_type": "application/pdf", "size": len(pdf)},
        {"filename": "passwd", "content_type": "text/plain", "size": 10},
        {"filename": "run.exe", "content_type": "application/x-msdownload", "size": 4},
    ]


@pytest.mark.parametrize(
    ("sender", "error"),
    [("", "from is missing"), ("Ava Chen", "from is not an email address"), ("@@", "from is")],
)
def test_a_missing_or_invalid_from_is_refused_with_a_clear_error(sender: str, error: str) -> None:
    with pytest.raises(BadInbound, match=error):
        _parsed(InboundEmailForm(sender=sender))


def test_automation_headers_and_a_bounce_envelope_are_read() -> None:
    form = InboundEmailForm(
        extra_headers={
            "Auto-Submitted": "Auto-Replied",
            "Precedence": "Bulk",
            "X-Autoreply": "yes",
        },
        envelope_from="",
    )
    email = _parsed(form)
    assert (email.auto_submitted, email.precedence) == ("auto-replied", "bulk")
    assert email.autoreply_header is True
    assert email.envelope_from == ""  # the empty return path of a bounce


def test_an_email_without_message_id_gets_a_stable_one() -> None:
    first = _parsed(InboundEmailForm(message_id=None))
    again = _parsed(InboundEmailForm(message_id=None))
    other = _parsed(InboundEmailForm(message_id=None, text="something else"))
    assert first.message_id == again.message_id  # a repeated webhook is still one email
    assert first.message_id != other.message_id
    assert first.message_id.startswith("<")
    assert first.message_id.endswith("@no-message-id.invalid>")


def test_a_url_encoded_form_is_read_too() -> None:
    body = urlencode({"from": "ben@example.com", "text": "hello", "subject": "Hi"}).encode()
    email = parse(read_form("application/x-www-form-urlencoded", body))
    assert (email.from_address, email.text, email.subject) == ("ben@example.com", "hello", "Hi")


def test_the_raw_mime_mode_is_read_with_the_same_rules() -> None:
    mime = EmailMessage()
    mime["From"] = "Dev Patel <dev@example.com>"
    mime["To"] = "support@example.com"
    mime["Subject"] = "Re: Your order"
    mime["Message-ID"] = "<raw1@example.com>"
    mime["In-Reply-To"] = "<ours@example.com>"
    mime.set_content("Is it delivered?\n")
    mime.add_alternative("<p>Is it delivered?</p>", subtype="html")
    mime.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="box.png")
    body = urlencode({"email": mime.as_string(), "envelope": '{"from": "dev@example.com"}'})
    email = parse(read_form("application/x-www-form-urlencoded", body.encode()))
    assert (email.from_address, email.subject) == ("dev@example.com", "Re: Your order")
    assert email.text == "Is it delivered?\n"
    assert (email.message_id, email.in_reply_to) == ("<raw1@example.com>", "<ours@example.com>")
    assert [a.filename for a in email.attachments] == ["box.png"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{}"),
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=abc", b"no parts at all"),
    ],
)
def test_bodies_that_are_not_forms_are_refused(content_type: str, body: bytes) -> None:
    with pytest.raises(BadForm):
        read_form(content_type, body)


def test_is_form_knows_the_two_form_kinds() -> None:
    assert is_form("multipart/form-data; boundary=x")
    assert is_form("application/x-www-form-urlencoded; charset=utf-8")
    assert not is_form("text/plain")
    assert not is_form("")
