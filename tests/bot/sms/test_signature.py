"""The signature check: one HMAC for the URL as called, the SDK's full check otherwise."""

import pytest
from twilio.request_validator import RequestValidator

from bot.sms.signature import is_signed, sign, webhook_url

TOKEN = "test-auth-token"
FORM = {"MessageSid": "SM1", "From": "+12065550101", "Body": "hi", "FromCity": ""}


@pytest.mark.parametrize(
    "url",
    [
        "https://pigeon.example.com/webhooks/sms/webhook",
        "http://127.0.0.1:5005/webhooks/sms/webhook",
        "https://pigeon.example.com/webhooks/sms/webhook?x=1",
    ],
)
def test_a_genuine_signature_is_accepted(url: str) -> None:
    assert is_signed(TOKEN, url, FORM, sign(TOKEN, url, FORM))


def test_twilio_signing_with_the_port_while_we_see_none_is_accepted() -> None:
    signed_with_port = RequestValidator(TOKEN).compute_signature(
        "https://pigeon.example.com:443/webhooks/sms/webhook", FORM
    )
    assert is_signed(
        TOKEN, "https://pigeon.example.com/webhooks/sms/webhook", FORM, signed_with_port
    )


URL = "https://pigeon.example.com/webhooks/sms/webhook"


def test_a_signature_made_with_another_token_is_refused() -> None:
    assert not is_signed(TOKEN, URL, FORM, sign("another-token", URL, FORM))


def test_a_signature_replayed_on_another_url_is_refused() -> None:
    assert not is_signed(TOKEN, URL + "2", FORM, sign(TOKEN, URL, FORM))


@pytest.mark.parametrize(
    "form", [{**FORM, "Body": "hi!"}, {**FORM, "NumMedia": "0"}, {"MessageSid": "SM1"}]
)
def test_a_tampered_added_or_dropped_field_is_refused(form: dict) -> None:
    assert not is_signed(TOKEN, URL, form, sign(TOKEN, URL, FORM))


@pytest.mark.parametrize("signature", [None, "", "not-base64"])
def test_a_missing_or_junk_signature_is_refused(signature: str | None) -> None:
    assert not is_signed(TOKEN, "https://a.example/w", FORM, signature)


def test_behind_a_proxy_the_public_url_is_what_is_checked() -> None:
    url = webhook_url("https://pigeon.example.com/", "/webhooks/sms/webhook", "a=1", "http://x/")
    assert url == "https://pigeon.example.com/webhooks/sms/webhook?a=1"
