"""Hostile texts through the SMS channel's webhook, signed as Twilio signs: every answer is
below 500, and every text acknowledged is stored and sorted (none stuck for a restart)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import event, example, given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.clock import FixedClock
from bot.sms.signature import sign
from bot.sms.webhook import _parse_form
from bot.store import Database
from bot.store.models import Message, WebhookReceipt
from tests.hostile.served import ACCOUNT_SID, AUTH_TOKEN, PHONE, SmsChannel, served_sms_channel
from tests.hostile.strategies import examples, hostile_text

TIMEOUT = 15.0


@pytest.fixture
def sms_channel(db: Database, clock: FixedClock) -> Iterator[SmsChannel]:
    with served_sms_channel(db, clock) as channel:
        yield channel


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _mostly(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`valid` three times in four, hostile text otherwise."""
    return st.integers(0, 3).flatmap(lambda n: valid if n else hostile_text)


forms = st.fixed_dictionaries(
    {
        # Mostly well-formed, so most texts get past parsing to be stored and sorted.
        "MessageSid": _mostly(st.uuids().map(lambda u: f"SM{u.hex}")),
        "From": _mostly(st.sampled_from([PHONE, "+442071838750"])),
    },
    optional={
        "Body": hostile_text | st.sampled_from(["STOP", "help!", "/restart", "x" * 2000]),
        "NumMedia": st.sampled_from(["0", "1", "10", "-3", "99999999999999999999"]) | hostile_text,
        "MediaUrl0": hostile_text,
    },
).flatmap(
    lambda form: st.dictionaries(
        st.sampled_from(["SmsSid", "To", "OptOutType", "FromCity"]) | hostile_text,
        hostile_text,
        max_size=3,
    ).map(lambda extra: extra | form)
)


def _receipts(db: Database) -> list[WebhookReceipt]:
    with db.read() as session:
        return list(session.execute(select(WebhookReceipt)).scalars())


@given(forms)
@example({"MessageSid": "SM\x00", "From": PHONE, "Body": "a\x00b"})  # NUL: PostgreSQL refuses it
@example({"MessageSid": "SM" + "1" * 32, "From": PHONE, "Body": "\ud800"})
@examples(100)
def test_a_signed_hostile_text_is_never_a_server_error_nor_left_unsorted(
    db: Database, sms_channel: SmsChannel, http: requests.Session, form: dict[str, str]
) -> None:
    body = urlencode({**form, "AccountSid": ACCOUNT_SID}, errors="surrogatepass")
    seen = _parse_form(body.encode()) or {}  # the form as the channel reads (and Twilio signs) it
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign(AUTH_TOKEN, sms_channel.url, seen),
    }
    answer = http.post(sms_channel.url, data=body.encode(), headers=headers, timeout=TIMEOUT)
    assert answer.status_code < 500, (answer.status_code, answer.text[:200])
    event(f"answered {answer.status_code} {answer.text[:40]}")
    sms_channel.idle()
    receipts = _receipts(db)
    assert all(r.processed_at is not None for r in receipts)  # each one sorted, none stuck
    if answer.status_code == 200:
        with db.read() as session:
            stored = session.scalars(select(Message.id).where(Message.direction == "in")).all()
        assert len(stored) == len(receipts)  # every text acknowledged is in the inbox
