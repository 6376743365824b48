"""The store's email: two parts, escaped, signed, threaded, and a subject that does not stack."""

from __future__ import annotations

from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser

import pytest

from bot.config import Settings
from bot.email.compose import (
    Quote,
    build_message,
    new_message_id,
    render_html,
    render_text,
    reply_subject,
    thread_ids,
)
from bot.email.quotes import strip_quotes

SETTINGS = Settings(
    store_name="Pigeon & Sons",
    support_email="help@pigeon.example",
    support_hours="Mon-Fri 9-5",
    email_from="Pigeon Support <help@pigeon.example>",
)
WHEN = datetime(2026, 6, 15, 17, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Where is my order?", "Re: Where is my order?"),
        ("Re: Where is my order?", "Re: Where is my order?"),
        ("RE: re: Re[2]: Where is my order?", "Re: Where is my order?"),
        ("AW: Bestellung", "Re: Bestellung"),
        ("Fwd: order", "Re: Fwd: order"),
        ("two\r\nlines", "Re: two lines"),
        ("", "Your message"),
        ("Re:   ", "Your message"),
    ],
)
def test_the_subject_gets_one_re(subject: str, expected: str) -> None:
    assert reply_subject(subject, "Your message") == expected


def test_a_reply_threads_on_the_message_it_answers() -> None:
    parent = {
        "message_id": "<c@example.com>",
        "references": ["<a@example.com>", "<b@example.com>"],
        "in_reply_to": "<b@example.com>",
    }
    assert thread_ids(parent) == (
        "<c@example.com>",
        ["<a@example.com>", "<b@example.com>", "<c@example.com>"],
    )


def test_references_start_from_in_reply_to_when_the_client_sent_none() -> None:
    parent = {"message_id": "<c@x>", "references": [], "in_reply_to": "<b@x>"}
    assert thread_ids(parent) == ("<c@x>", ["<b@x>", "<c@x>"])


def test_references_are_capped_and_not_repeated() -> None:
    chain = [f"<{n}@x>" for n in range(30)]
    in_reply_to, references = thread_ids({"message_id": "<29@x>", "references": chain})
    assert in_reply_to == "<29@x>"
    assert len(references) == 20
    assert references[-1] == "<29@x>"
    assert references.count("<29@x>") == 1


def test_no_parent_no_threading() -> None:
    assert thread_ids(None) == (None, [])
    assert thread_ids({"subject": "x"}) == (None, [])


def test_message_ids_are_unique_and_on_the_from_domain() -> None:
    first, second = new_message_id(SETTINGS.email_sender), new_message_id(SETTINGS.email_sender)
    assert first != second
    assert first.startswith("<")
    assert first.endswith("@pigeon.example>")


def test_the_text_part_has_the_body_the_signature_and_the_quote() -> None:
    quote = Quote("Ava Chen <ava@example.com>", WHEN, "Where is my order?\nThanks")
    text = render_text(SETTINGS, "Your order shipped.", quote)
    assert text.startswith("Your order shipped.\n\n-- \nPigeon & Sons customer support\n")
    assert "help@pigeon.example · Mon-Fri 9-5" in text
    assert "On Mon, Jun 15, 2026 at 17:00 UTC, Ava Chen <ava@example.com> wrote:" in text
    assert "> Where is my order?\n> Thanks\n" in text
    # The customer's client quotes all of it under their answer; we read only the answer.
    answer = "Thanks!\n\nOn Mon, Jun 15, 2026 Pigeon & Sons <help@pigeon.example> wrote:\n"
    answer += "\n".join(f"> {line}" for line in text.splitlines())
    assert strip_quotes(answer) == "Thanks!"


def test_the_html_part_escapes_everything_it_did_not_write() -> None:
    quote = Quote('Eve <eve@example.com>"><script>', WHEN, "<img src=x onerror=alert(1)>")
    body = "Track it at https://ups.example/track?n=1&x=<b> or reply <b>STOP</b>.\n\nBye"
    html = render_html(SETTINGS, body, quote)
    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;STOP&lt;/b&gt;" in html
    assert (
        '<a href="https://ups.example/track?n=1&amp;x=">https://ups.example/track?n=1&amp;x=</a>'
        in html
    )
    assert "<p>Bye</p>" in html
    assert "Pigeon &amp; Sons customer support" in html
    assert '<a href="mailto:help@pigeon.example">' in html


def test_the_message_is_multipart_alternative_with_its_headers() -> None:
    message = build_message(
        sender=SETTINGS.email_sender,
        to="ava@example.com",
        subject="Re: Where is my order?",
        text="Hello\n",
        html_body="<p>Hello</p>\n",
        headers={"Message-ID": "<ours@pigeon.example>", "In-Reply-To": "<c@x>", "References": ""},
        date=WHEN,
    )
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in parsed.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    assert parsed["From"] == "Pigeon Support <help@pigeon.example>"
    assert parsed["Message-ID"] == "<ours@pigeon.example>"
    assert parsed["In-Reply-To"] == "<c@x>"
    assert parsed["References"] is None  # empty headers are left out
    assert parsed["Date"] == "Mon, 15 Jun 2026 17:00:00 +0000"
