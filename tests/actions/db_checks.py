"""What the actions left in the database: inbox threads, attempts, consent entries, returns."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.consent import history
from bot.store import Database
from bot.store.demo_tables import DemoReturn
from bot.store.models import ConsentEvent, Conversation, VerificationAttempt


def thread(db: Database, sender: str) -> Conversation | None:
    """The newest inbox thread of the sender, detached with its fields loaded."""
    with db.read() as session:
        query = select(Conversation).where(Conversation.sender_id == sender)
        found = session.scalars(query.order_by(Conversation.id.desc())).first()
        if found is not None:
            session.expunge(found)
        return found


def attempts(db: Database, sender: str) -> list[tuple[str | None, bool]]:
    """(order_ref, succeeded) of every verification try by the sender, oldest first."""
    with db.read() as session:
        query = select(VerificationAttempt).where(VerificationAttempt.sender_id == sender)
        rows = session.scalars(query.order_by(VerificationAttempt.id))
        return [(row.order_ref, row.succeeded) for row in rows]


def consent_entries(db: Database, phone: str) -> list[ConsentEvent]:
    with db.read() as session:
        rows = history(session, phone)
        session.expunge_all()
        return rows


def thread_count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Conversation))


def returns(db: Database, order_id: str) -> list[tuple[str, str | None, list[str]]]:
    """(return id, reason, line item ids) of the demo store's returns for the order."""
    with db.read() as session:
        query = select(DemoReturn).where(DemoReturn.order_id == int(order_id))
        rows = session.scalars(query.order_by(DemoReturn.id))
        return [(str(r.id), r.reason, sorted(str(i.line_item_id) for i in r.items)) for r in rows]
