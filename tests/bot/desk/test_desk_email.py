"""The desk sends the email outbox: the EmailSender runs while the desk is up (email=True)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.clock import SystemClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.email.outbound import queue_email
from bot.inbox import customer_for_phone, thread_for
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from bot.store.models import EmailOutboxItem
from tests.fakes.smtp import FakeSmtp
from tests.http import serving


def _services(db: Database, **settings: str) -> Services:
    return Services(Settings(**settings), db, DemoStore(db), SystemClock())


def _queue(services: Services) -> None:
    with services.db.write() as session:
        customer = customer_for_phone(session, "+12065550101")
        customer.email = "ava@example.com"
        conversation = thread_for(session, customer, "email", services.clock)
        conversation.sender_id = "ava@example.com"
        queue_email(
            session,
            services.settings,
            conversation,
            author="agent",
            body="Hello from the desk",
            clock=services.clock,
        )


async def test_the_desk_sends_queued_email_by_smtp(db: Database) -> None:
    with FakeSmtp() as smtp:
        services = _services(db, smtp_url=f"smtp://127.0.0.1:{smtp.port}")
        app = create_app(services, "desk_email_on", dispatch=False, notify=False)
        _queue(services)
        async with serving(app):
            for _ in range(250):
                if smtp.messages:
                    break
                await asyncio.sleep(0.02)
        [mail] = smtp.messages
    assert mail["To"] == "ava@example.com"
    assert mail.get_body(preferencelist=("plain",)).get_content().startswith("Hello from the desk")
    with db.read() as session:
        assert session.execute(select(EmailOutboxItem.status)).scalar_one() == "sent"


async def test_email_false_leaves_the_outbox_alone(db: Database) -> None:
    services = _services(db)
    app = create_app(services, "desk_email_off", dispatch=False, notify=False, email=False)
    _queue(services)
    async with serving(app):
        await asyncio.sleep(0.3)
    assert not hasattr(app.ctx, "email_sender")
    with db.read() as session:
        assert session.execute(select(EmailOutboxItem.status)).scalar_one() == "queued"
