"""Inbound email is let in by EMAIL_INBOUND_SECRET alone, in the URL or as basic auth's password."""

from __future__ import annotations

import base64

import pytest

from bot.email.auth import Refused, check

SECRET = "correct-horse-battery-staple"


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


@pytest.mark.parametrize(
    ("url_secret", "authorization"),
    [(SECRET, None), (None, _basic(f"sendgrid:{SECRET}")), (None, _basic(f":{SECRET}"))],
)
def test_the_secret_lets_the_email_in(url_secret: str | None, authorization: str | None) -> None:
    check(SECRET, url_secret, authorization)  # no exception


@pytest.mark.parametrize(
    ("expected", "url_secret", "authorization", "status", "message"),
    [
        (None, SECRET, None, 403, "EMAIL_INBOUND_SECRET is not set"),
        ("", None, _basic(":"), 403, "EMAIL_INBOUND_SECRET is not set"),
        (SECRET, "wrong", None, 403, "wrong inbound email secret"),
        (SECRET, SECRET[:-1], None, 403, "wrong inbound email secret"),
        (SECRET, "wrong", _basic(f"u:{SECRET}"), 403, "wrong"),  # the URL's secret decides
        (SECRET, None, _basic("u:wrong"), 403, "wrong inbound email secret"),
        (SECRET, None, _basic(SECRET), 401, "needs the secret"),  # no password part
        (SECRET, None, "Basic !!!not-base64", 401, "needs the secret"),
        (SECRET, None, f"Bearer {SECRET}", 401, "needs the secret"),
        (SECRET, None, None, 401, "needs the secret"),
    ],
)
def test_anything_else_is_refused(
    expected: str | None,
    url_secret: str | None,
    authorization: str | None,
    status: int,
    message: str,
) -> None:
    with pytest.raises(Refused, match=message) as refused:
        check(expected, url_secret, authorization)
    assert refused.value.status == status
