"""Quoted history and signatures, as real mail clients write them, are not the customer's words."""

from __future__ import annotations

import pytest

from bot.email.quotes import strip_quotes

GMAIL = """Hi, it still hasn't arrived. Can you check?

Thanks,
Ava

On Mon, Jun 15, 2026 at 10:00 AM Pigeon Supply Co. <support@example.com> wrote:

> Your order #1001 shipped with UPS.
>
> --
> Pigeon Supply Co. customer support
"""

GMAIL_WRAPPED = """Yes please, the medium one.

On Mon, Jun 15, 2026 at 10:00 AM Pigeon Supply Co. Customer Support <
support@example.com> wrote:

> Do you want the medium or the large?
"""

APPLE_IPHONE = """Ok great, thank you!

Sent from my iPhone

> On Jun 15, 2026, at 10:00, Pigeon Supply Co. <support@example.com> wrote:
>
> Your return is approved.
"""

OUTLOOK_DESKTOP = """Please cancel order 1003.

Regards
Chloe Park

From: Pigeon Supply Co. <support@example.com>
Sent: Monday, June 15, 2026 10:00 AM
To: Chloe Park <chloe@example.com>
Subject: RE: Your order

Your order has not shipped yet.
"""

OUTLOOK_ORIGINAL = """Where is my refund?

-----Original Message-----
From: Pigeon Supply Co. [mailto:support@example.com]
Sent: Monday, June 15, 2026 10:00 AM
Subject: Your return

We received your return.
"""

OUTLOOK_WEB = """The tracking link does not work.

Get Outlook for Android
________________________________
From: Pigeon Supply Co. <support@example.com>
Sent: Monday, June 15, 2026 10:00:00 AM
To: dev@example.com <dev@example.com>
Subject: Re: Delivery exception

Your package had a delivery exception.
"""

OUTLOOK_WEB_NO_TRAILER = """The tracking link does not work.

________________________________
From: Pigeon Supply Co. <support@example.com>
Sent: Monday, June 15, 2026 10:00:00 AM
To: dev@example.com

Your package had a delivery exception.
"""

YAHOO = """Still waiting on my package.

    On Monday, June 15, 2026 at 10:00:00 AM PDT, Pigeon Supply Co. <support@example.com> wrote:

 Your order shipped.
"""

THUNDERBIRD = """Can I exchange it for a large?

--\x20
Eli Moreno
Austin, TX

On 6/15/26 10:00 AM, Pigeon Supply Co. wrote:
> Your return window is 30 days.
"""

FRENCH = """Où est ma commande ?

Le lun. 15 juin 2026 à 10:00, Pigeon Supply Co. <support@example.com> a écrit :

> Votre commande est partie.
"""

BOTTOM_POSTED = """On Mon, Jun 15, 2026 at 10:00 AM Pigeon Supply Co. <support@example.com> wrote:
> Would you like the medium or the large?

The large, please.
"""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (GMAIL, "Hi, it still hasn't arrived. Can you check?\n\nThanks,\nAva"),
        (GMAIL_WRAPPED, "Yes please, the medium one."),
        (APPLE_IPHONE, "Ok great, thank you!"),
        (OUTLOOK_DESKTOP, "Please cancel order 1003.\n\nRegards\nChloe Park"),
        (OUTLOOK_ORIGINAL, "Where is my refund?"),
        (OUTLOOK_WEB, "The tracking link does not work."),
        (OUTLOOK_WEB_NO_TRAILER, "The tracking link does not work."),
        (YAHOO, "Still waiting on my package."),
        (THUNDERBIRD, "Can I exchange it for a large?"),
        (FRENCH, "Où est ma commande ?"),
        (BOTTOM_POSTED, "The large, please."),
    ],
    ids=[
        "gmail",
        "gmail-wrapped-attribution",
        "iphone",
        "outlook-desktop",
        "outlook-original-message",
        "outlook-web",
        "outlook-web-rule",
        "yahoo",
        "thunderbird-signature",
        "french",
        "bottom-posted",
    ],
)
def test_only_the_new_text_is_kept(raw: str, expected: str) -> None:
    assert strip_quotes(raw) == expected


def test_crlf_line_endings_are_handled() -> None:
    assert strip_quotes(GMAIL.replace("\n", "\r\n")).startswith("Hi, it still hasn't arrived.")


def test_inline_quotes_are_dropped_and_the_answers_kept() -> None:
    raw = "> Which size?\nMedium\n> Which colour?\nHeather grey\n"
    assert strip_quotes(raw) == "Medium\nHeather grey"


def test_ordinary_text_is_left_alone() -> None:
    raw = (
        "On Monday I ordered a hoodie, and my friend wrote me that it ships fast.\n"
        "From: the order confirmation, it says 2 days.\n\n"
        "Is that right?"
    )
    assert strip_quotes(raw) == raw


def test_a_quote_with_nothing_new_leaves_nothing() -> None:
    assert strip_quotes("> only the quote\n> nothing else\n") == ""
