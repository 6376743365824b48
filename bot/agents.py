"""Agent accounts: passwords (argon2), sign-in sessions with CSRF tokens, sign-in rate limits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.errors import PigeonError
from bot.store.models import Agent, AgentSession, SignInAttempt

SESSION_LIFETIME = timedelta(hours=12)
# Sign-in tries allowed per window: per email (guessing one agent's password) and per
# address (trying many agents); successful sign-ins do not count.
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# Compared against when the email is unknown, so a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AgentError(PigeonError, ValueError):
    """An agent account cannot be made or changed as asked; the message says why."""


@dataclass(frozen=True)
class SignedIn:
    agent_id: int
    email: str
    name: str | None
    csrf_token: str


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_agent(
    session: Session, email: str, password: str, clock: Clock, name: str | None = None
) -> Agent:
    """A new agent, or the existing one with a new password (a reset)."""
    email = normalize_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 320:
        raise AgentError(f"not an email address: {email!r}")
    if len(password) < MIN_PASSWORD:
        raise AgentError(f"the password needs at least {MIN_PASSWORD} characters")
    agent = session.execute(select(Agent).where(Agent.email == email)).scalar_one_or_none()
    if agent is None:
        agent = Agent(email=email, created_at=clock.now())
        session.add(agent)
    agent.password_hash = _hasher.hash(password)
    agent.is_active = True
    if name:
        agent.name = name.strip()[:200]
    session.flush()
    return agent


def too_many_failures(session: Session, email: str, address: str, clock: Clock) -> bool:
    """True while this email or address has failed too often in the window."""
    since = clock.now() - ATTEMPT_WINDOW
    failures = select(func.count()).where(
        SignInAttempt.attempted_at > since, SignInAttempt.succeeded.is_(False)
    )
    by_email = session.scalar(failures.where(SignInAttempt.email == normalize_email(email)))
    by_address = session.scalar(failures.where(SignInAttempt.address == address))
    return by_email >= MAX_FAILURES_PER_EMAIL or by_address >= MAX_FAILURES_PER_ADDRESS


def sign_in(
    session: Session, email: str, password: str, address: str, clock: Clock
) -> tuple[str, SignedIn] | None:
    """(the session cookie's token, who) for a right password, else None. Every try counts."""
    email = normalize_email(email)
    now = clock.now()
    agent = session.execute(
        select(Agent).where(Agent.email == email, Agent.is_active.is_(True))
    ).scalar_one_or_none()
    ok = _verify(agent.password_hash if agent else _DUMMY_HASH, password) and agent is not None
    attempt = SignInAttempt(email=email[:320], address=address[:64], succeeded=ok, attempted_at=now)
    session.add(attempt)
    stale = now - 4 * ATTEMPT_WINDOW
    session.execute(delete(SignInAttempt).where(SignInAttempt.attempted_at < stale))
    if not ok:
        return None
    if _hasher.check_needs_rehash(agent.password_hash):
        agent.password_hash = _hasher.hash(password)
    agent.last_login_at = now
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        AgentSession(
            agent_id=agent.id,
            token_hash=_digest(token),
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token, SignedIn(agent.id, agent.email, agent.name, csrf)


def session_for(session: Session, token: str | None, clock: Clock) -> SignedIn | None:
    """The agent behind a session cookie, while the session lasts and the agent is active."""
    if not token:
        return None
    row = session.execute(
        select(AgentSession, Agent)
        .join(Agent, AgentSession.agent_id == Agent.id)
        .where(AgentSession.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    signed, agent = row
    if signed.expires_at <= clock.now() or not agent.is_active:
        return None
    return SignedIn(agent.id, agent.email, agent.name, signed.csrf_token)


def sign_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(AgentSession).where(AgentSession.token_hash == _digest(token)))


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a CSRF or API token; an unset one never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
