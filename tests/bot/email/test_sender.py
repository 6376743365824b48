"""The email sender against a real SMTP server on loopback (aiosmtpd), through smtplib."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.email.form import read_form
from bot.email.inbound import accept_email
from bot.email.outbound import queue_email
from bot.email.parse import parse
from bot.email.sender import EmailSender, Policy
from bot.email.smtp import KeptInInbox, SmtpTransport, transport_for
from bot.store import Database
from bot.store.models import Conversation, EmailOutboxItem, Message
from tests.fakes.sendgrid import InboundEmailForm
from tests.fakes.smtp import FakeSmtp, free_port, make_certificate

SETTINGS = Settings(
    store_name="Pigeon Supply Co.",
    support_email="support@pigeon.example",
    support_hours="Mon-Fri 9am-6pm ET",
)


class NoOrders:
    def orders_for_email(self, email: str) -> list:
        return []


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        yield server


def _transport(port: int, **kw: Any) -> SmtpTransport:
    return SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5.0, **kw)


def _sender(db: Database, transport: Any, clock: FixedClock, **kw: Any) -> EmailSender:
    return EmailSender(db, transport, clock, sender=SETTINGS.email_sender, **kw)


def _queue(db: Database, clock: FixedClock, body: str = "Your order shipped.") -> int:
    """A customer's email and an agent's reply to it; returns the reply's message id."""
    form = InboundEmailForm(
        message_id="<ava2@mail.example.com>",
        subject="Re: Order 1001",
        in_reply_to="<ours1@pigeon.example>",
        references=["<ava1@mail.example.com>", "<ours1@pigeon.example>"],
        text="Where is it?",
    )
    accepted = accept_email(db, parse(read_form(*form.encode())), SETTINGS, NoOrders(), clock)
    with db.write() as session:
        conversation = session.get(Conversation, accepted.conversation_id)
        return queue_email(
            session, SETTINGS, conversation, author="agent", body=body, clock=clock
        ).id


def _state(db: Database, message_id: int) -> tuple[EmailOutboxItem, Message]:
    with db.read() as session:
        item = session.execute(
            select(EmailOutboxItem).where(EmailOutboxItem.message_id == message_id)
        ).scalar_one()
        return item, session.get(Message, message_id)


async def test_an_email_is_sent_with_both_parts_and_its_thread(
    db: Database, clock: FixedClock, smtp: FakeSmtp
) -> None:
    reply = _queue(db, clock, "Your order <b>shipped</b>: https://ups.example/t?n=1&m=2")
    assert await _sender(db, _transport(smtp.port), clock).run_once() is True
    [mail] = smtp.messages
    item, message = _state(db, reply)
    assert smtp.recorder.recipients == [["ava@example.com"]]
    [sender] = mail["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "Pigeon Supply Co.",
        "support@pigeon.example",
    )
    assert mail["To"] == "ava@example.com"
    assert mail["Subject"] == "Re: Order 1001"
    assert mail["Message-ID"] == message.email_meta["message_id"]
    assert mail["In-Reply-To"] == "<ava2@mail.example.com>"
    assert mail["References"].split() == [  # folded onto its own line: long, but one header
        "<ava1@mail.example.com>",
        "<ours1@pigeon.example>",
        "<ava2@mail.example.com>",
    ]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Your order <b>shipped</b>: https://ups.example/t?n=1&m=2\n\n-- \n")
    assert "Pigeon Supply Co. customer support" in text
    assert "> Where is it?" in text
    assert "Your order &lt;b&gt;shipped&lt;/b&gt;" in html
    assert '<a href="https://ups.example/t?n=1&amp;m=2">' in html
    assert (item.status, item.attempts, item.sent_at, item.last_error) == (
        "sent",
        1,
        clock.now(),
        None,
    )
    assert message.status == "sent"
    assert await _sender(db, _transport(smtp.port), clock).run_once() is False  # sent once


async def test_a_4xx_is_retried_with_backoff_then_sent(
    db: Database, clock: FixedClock, smtp: FakeSmtp
) -> None:
    reply = _queue(db, clock)
    smtp.recorder.data_replies = ["451 4.3.0 Mailbox busy, try again later"]
    sender = _sender(db, _transport(smtp.port), clock, policy=Policy(base_backoff=30.0))
    assert await sender.run_once() is True
    item, message = _state(db, reply)
    assert (item.status, item.attempts) == ("queued", 1)
    assert "451" in item.last_error
    assert timedelta(seconds=15) <= item.due_at - clock.now() <= timedelta(seconds=30)
    assert message.status == "queued"
    assert await sender.run_once() is False  # not due yet
    clock.advance(timedelta(seconds=31))
    assert await sender.run_once() is True
    item, message = _state(db, reply)
    assert (item.status, item.attempts, message.status) == ("sent", 2, "sent")
    assert (smtp.recorder.data_attempts, len(smtp.messages)) == (2, 1)


@pytest.mark.parametrize(
    ("where", "reply"), [("data", "550 5.7.1 Message rejected"), ("rcpt", "550 5.1.1 No such user")]
)
async def test_a_5xx_fails_at_once_visibly(
    db: Database, clock: FixedClock, smtp: FakeSmtp, where: str, reply: str
) -> None:
    message_id = _queue(db, clock)
    if where == "data":
        smtp.recorder.data_replies = [reply]
    else:
        smtp.recorder.rcpt_reply = reply
    assert await _sender(db, _transport(smtp.port), clock).run_once() is True
    item, message = _state(db, message_id)
    assert item.status == "failed"
    assert (message.status, message.error_code) == ("failed", "550")
    assert reply.split(" ", 2)[2] in message.error_message
    assert smtp.messages == []


async def test_transient_failures_give_up_after_the_maximum_age(
    db: Database, clock: FixedClock, smtp: FakeSmtp
) -> None:
    message_id = _queue(db, clock)
    smtp.recorder.data_replies = ["421 4.7.0 Too busy"] * 2
    policy = Policy(base_backoff=1.0, max_age=timedelta(minutes=10))
    sender = _sender(db, _transport(smtp.port), clock, policy=policy)
    await sender.run_once()
    assert _state(db, message_id)[0].status == "queued"
    clock.advance(timedelta(minutes=11))
    await sender.run_once()
    item, message = _state(db, message_id)
    assert (item.status, message.status) == ("failed", "failed")
    assert "421" in message.error_message


async def test_a_server_that_is_down_is_retried_until_it_is_up(
    db: Database, clock: FixedClock
) -> None:
    port = free_port()  # nothing listens here yet
    message_id = _queue(db, clock)
    sender = _sender(db, _transport(port), clock, policy=Policy(base_backoff=5.0))
    assert await sender.run_once() is True
    item, message = _state(db, message_id)
    assert (item.status, message.status) == ("queued", "queued")
    assert "ConnectionRefusedError" in item.last_error
    with FakeSmtp(port) as smtp:
        clock.advance(timedelta(seconds=6))
        assert await sender.run_once() is True
        assert len(smtp.messages) == 1
    assert _state(db, message_id)[0].status == "sent"


async def test_a_line_dropped_after_the_data_is_not_sent_again(
    db: Database, clock: FixedClock, smtp: FakeSmtp
) -> None:
    message_id = _queue(db, clock)
    smtp.recorder.hang_up_after_data = True  # the server has it, we never hear so
    assert await _sender(db, _transport(smtp.port), clock).run_once() is True
    item, message = _state(db, message_id)
    assert (item.status, message.status) == ("unknown", "unknown")
    assert "not resent" in message.error_message
    clock.advance(timedelta(hours=1))
    assert await _sender(db, _transport(smtp.port), clock).run_once() is False
    assert smtp.recorder.data_attempts == 1


async def test_an_email_left_sending_by_a_crash_becomes_unknown_not_resent(
    db: Database, clock: FixedClock, smtp: FakeSmtp
) -> None:
    message_id = _queue(db, clock)
    with db.write() as session:  # claimed by a sender that then died
        item = session.execute(select(EmailOutboxItem)).scalar_one()
        item.status, item.claimed_at, item.attempts = "sending", clock.now(), 1
    sender = _sender(db, _transport(smtp.port), clock)
    assert sender.recover_interrupted() == 0  # within its lease: maybe still sending
    clock.advance(timedelta(minutes=6))
    assert sender.recover_interrupted() == 1
    item, message = _state(db, message_id)
    assert (item.status, message.status) == ("unknown", "unknown")
    assert "interrupted while sending" in message.error_message
    assert await sender.run_once() is False
    assert smtp.messages == []


async def test_starttls_and_login(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    trust = make_certificate(tmp_path)
    with FakeSmtp(tls="starttls", certs=tmp_path, users={"pigeon": "s3cr:et"}) as smtp:
        url = f"smtp://pigeon:s3cr%3Aet@127.0.0.1:{smtp.port}"
        _queue(db, clock)
        sender = _sender(db, SmtpTransport(url, timeout=5.0, context=trust), clock)
        assert await sender.run_once() is True
        assert (len(smtp.messages), smtp.recorder.encrypted, smtp.logins) == (1, [True], ["pigeon"])


async def test_implicit_tls(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    trust = make_certificate(tmp_path)
    with FakeSmtp(tls="implicit", certs=tmp_path) as smtp:
        _queue(db, clock)
        transport = SmtpTransport(f"smtps://127.0.0.1:{smtp.port}", timeout=5.0, context=trust)
        assert await _sender(db, transport, clock).run_once() is True
        assert smtp.recorder.encrypted == [True]


async def test_an_untrusted_certificate_is_not_accepted(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    make_certificate(tmp_path)  # the server's; the client trusts only the system's CAs
    with FakeSmtp(tls="starttls", certs=tmp_path) as smtp:
        message_id = _queue(db, clock)
        await _sender(db, _transport(smtp.port), clock).run_once()
        item, _ = _state(db, message_id)
        assert item.status == "queued"
        assert "SSL" in item.last_error
        assert smtp.messages == []


async def test_a_wrong_password_waits_for_the_operator(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    trust = make_certificate(tmp_path)
    with FakeSmtp(tls="starttls", certs=tmp_path, users={"pigeon": "right"}) as smtp:
        message_id = _queue(db, clock)
        url = f"smtp://pigeon:wrong@127.0.0.1:{smtp.port}"
        await _sender(db, SmtpTransport(url, timeout=5.0, context=trust), clock).run_once()
        item, _ = _state(db, message_id)
        assert item.status == "queued"  # retried: fixing SMTP_URL lets it go
        assert "check SMTP_URL" in item.last_error


async def test_without_smtp_url_the_email_stays_in_the_inbox(
    db: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    transport = transport_for(SETTINGS)
    assert isinstance(transport, KeptInInbox)
    message_id = _queue(db, clock)
    with caplog.at_level(logging.INFO, logger="bot.email"):
        assert await _sender(db, transport, clock).run_once() is True
    item, message = _state(db, message_id)
    assert (item.status, message.status) == ("sent", "sent")
    logged = caplog.text
    assert "nothing left this machine" in logged
    assert "a***@example.com" in logged
    assert "ava@example.com" not in logged
    assert "Your order shipped" not in logged


async def test_the_run_loop_sends_what_is_queued_and_stops(
    db: Database, clock: FixedClock, smtp: FakeSmtp
) -> None:
    message_id = _queue(db, clock)
    stop = asyncio.Event()
    task = asyncio.ensure_future(_sender(db, _transport(smtp.port), clock).run(stop, idle=0.05))
    for _ in range(200):
        if smtp.messages:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert len(smtp.messages) == 1
    assert _state(db, message_id)[1].status == "sent"


def test_smtp_urls_are_read_with_their_defaults() -> None:
    plain = SmtpTransport("smtp://mail.example.com")
    assert (plain.host, plain.port, plain.implicit_tls, plain.user) == (
        "mail.example.com",
        587,
        False,
        None,
    )
    tls = SmtpTransport("smtps://apikey:p%40ss@smtp.sendgrid.net")
    assert (tls.port, tls.implicit_tls, tls.user, tls.password) == (465, True, "apikey", "p@ss")
    assert isinstance(transport_for(Settings(smtp_url="smtp://h:25")), SmtpTransport)
