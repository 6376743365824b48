"""Agent accounts: argon2 passwords, sessions that end, and sign-in rate limits."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.agents import (
    ATTEMPT_WINDOW,
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_EMAIL,
    MIN_PASSWORD,
    SESSION_LIFETIME,
    AgentError,
    create_agent,
    same_token,
    session_for,
    sign_in,
    sign_out,
    too_many_failures,
)
from bot.clock import FixedClock
from bot.store import Database
from bot.store.models import Agent, AgentSession, SignInAttempt

EMAIL = "ann@example.com"
PASSWORD = "correct horse battery"
ADDRESS = "203.0.113.7"


def _agent(db: Database, clock: FixedClock, email: str = EMAIL, password: str = PASSWORD) -> int:
    with db.write() as session:
        return create_agent(session, email, password, clock, name="Ann").id


def _sign_in(db: Database, clock: FixedClock, password: str = PASSWORD, **kw: str):
    with db.write() as session:
        return sign_in(session, kw.get("email", EMAIL), password, kw.get("address", ADDRESS), clock)


def _who(db: Database, clock: FixedClock, token: str | None):
    with db.read() as session:
        return session_for(session, token, clock)


def _limited(db: Database, clock: FixedClock, email: str = EMAIL, address: str = ADDRESS) -> bool:
    with db.read() as session:
        return too_many_failures(session, email, address, clock)


def _count(db: Database, model) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


# --- accounts ---


def test_the_email_is_normalised(db: Database, clock: FixedClock) -> None:
    agent_id = _agent(db, clock, email="  Ann@Example.COM ")
    with db.read() as session:
        agent = session.get(Agent, agent_id)
        assert (agent.email, agent.name, agent.is_active) == (EMAIL, "Ann", True)
        assert agent.created_at == clock.now()
    assert _sign_in(db, clock, email="ANN@example.com") is not None


@pytest.mark.parametrize("email", ["ann", "@example.com", "ann@", "a@" + "b" * 320])
def test_what_is_not_an_email_is_refused(db: Database, clock: FixedClock, email: str) -> None:
    with db.write() as session, pytest.raises(AgentError, match="not an email"):
        create_agent(session, email, PASSWORD, clock)
    assert _count(db, Agent) == 0


def test_a_short_password_is_refused(db: Database, clock: FixedClock) -> None:
    with db.write() as session, pytest.raises(AgentError, match=f"at least {MIN_PASSWORD}"):
        create_agent(session, EMAIL, "x" * (MIN_PASSWORD - 1), clock)
    assert _count(db, Agent) == 0
    _agent(db, clock, password="x" * MIN_PASSWORD)  # exactly the minimum is enough
    assert _count(db, Agent) == 1


def test_a_second_call_resets_the_password(db: Database, clock: FixedClock) -> None:
    first = _agent(db, clock)
    with db.write() as session:
        session.get(Agent, first).is_active = False
    second = _agent(db, clock, email="ANN@example.com", password="a brand new secret")
    assert second == first
    assert _count(db, Agent) == 1
    assert _sign_in(db, clock) is None
    assert _sign_in(db, clock, password="a brand new secret") is not None  # active again


def test_the_password_is_stored_as_an_argon2_hash(db: Database, clock: FixedClock) -> None:
    agent_id = _agent(db, clock)
    with db.read() as session:
        stored = session.get(Agent, agent_id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    _agent(db, clock)  # the same password again gets a new salt
    with db.read() as session:
        assert session.get(Agent, agent_id).password_hash != stored


# --- signing in and out ---


def test_the_right_password_signs_in(db: Database, clock: FixedClock) -> None:
    agent_id = _agent(db, clock)
    token, who = _sign_in(db, clock)
    assert (who.agent_id, who.email, who.name) == (agent_id, EMAIL, "Ann")
    assert len(who.csrf_token) >= 32
    assert _who(db, clock, token) == who
    with db.read() as session:
        row = session.execute(select(AgentSession)).scalar_one()
        assert row.token_hash != token  # only the token's hash is stored
        assert token not in row.token_hash
        assert row.expires_at == clock.now() + SESSION_LIFETIME
        assert session.get(Agent, agent_id).last_login_at == clock.now()


def test_each_sign_in_is_its_own_session(db: Database, clock: FixedClock) -> None:
    _agent(db, clock)
    (one, first), (two, second) = _sign_in(db, clock), _sign_in(db, clock)
    assert one != two
    assert first.csrf_token != second.csrf_token
    assert _who(db, clock, one).csrf_token == first.csrf_token


@pytest.mark.parametrize("password", ["correct horse battery!", "", "CORRECT HORSE BATTERY"])
def test_a_wrong_password_does_not(db: Database, clock: FixedClock, password: str) -> None:
    _agent(db, clock)
    assert _sign_in(db, clock, password=password) is None
    assert _count(db, AgentSession) == 0


def test_an_unknown_email_does_not(db: Database, clock: FixedClock) -> None:
    _agent(db, clock)
    assert _sign_in(db, clock, email="bob@example.com") is None
    assert _count(db, AgentSession) == 0
    assert _count(db, SignInAttempt) == 1  # counted all the same


def test_an_inactive_agent_cannot_sign_in_and_loses_their_sessions(
    db: Database, clock: FixedClock
) -> None:
    agent_id = _agent(db, clock)
    token, _ = _sign_in(db, clock)
    with db.write() as session:
        session.get(Agent, agent_id).is_active = False
    assert _sign_in(db, clock) is None
    assert _who(db, clock, token) is None


def test_a_session_expires_after_its_lifetime(db: Database, clock: FixedClock) -> None:
    _agent(db, clock)
    token, who = _sign_in(db, clock)
    clock.advance(SESSION_LIFETIME - timedelta(seconds=1))
    assert _who(db, clock, token) == who
    clock.advance(timedelta(seconds=1))
    assert _who(db, clock, token) is None


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_no_or_a_made_up_token_is_nobody(db: Database, clock: FixedClock, token) -> None:
    _agent(db, clock)
    _sign_in(db, clock)
    assert _who(db, clock, token) is None


def test_signing_out_revokes_only_that_session(db: Database, clock: FixedClock) -> None:
    _agent(db, clock)
    (one, _), (two, _) = _sign_in(db, clock), _sign_in(db, clock)
    with db.write() as session:
        sign_out(session, one)
        sign_out(session, None)  # no cookie: nothing to do
    assert _who(db, clock, one) is None
    assert _who(db, clock, two) is not None


def test_tokens_compare_only_when_both_are_set() -> None:
    assert same_token("abc", "abc")
    assert not same_token("abc", "abd")
    assert not same_token("", "")
    assert not same_token(None, None)
    assert not same_token("abc", None)


# --- rate limits ---


def test_too_many_failures_for_one_email(db: Database, clock: FixedClock) -> None:
    _agent(db, clock)
    for n in range(MAX_FAILURES_PER_EMAIL):
        assert not _limited(db, clock), f"limited after {n} failures"
        _sign_in(db, clock, password="wrong password", address=f"198.51.100.{n}")
    assert _limited(db, clock, email=" Ann@Example.com", address="192.0.2.1")
    assert not _limited(db, clock, email="bob@example.com", address="192.0.2.1")


def test_too_many_failures_from_one_address(db: Database, clock: FixedClock) -> None:
    for n in range(MAX_FAILURES_PER_ADDRESS):
        assert not _limited(db, clock, email="x@example.com"), f"limited after {n} failures"
        _sign_in(db, clock, email=f"agent{n}@example.com", password="guess it")
    assert _limited(db, clock, email="new@example.com")
    assert not _limited(db, clock, email="new@example.com", address="192.0.2.1")


def test_successful_sign_ins_do_not_count(db: Database, clock: FixedClock) -> None:
    _agent(db, clock)
    for _ in range(MAX_FAILURES_PER_EMAIL - 1):
        _sign_in(db, clock, password="wrong password")
    for _ in range(MAX_FAILURES_PER_EMAIL):
        assert _sign_in(db, clock) is not None
    assert not _limited(db, clock)
    _sign_in(db, clock, password="wrong password")
    assert _limited(db, clock)


def test_failures_older_than_the_window_no_longer_count(db: Database, clock: FixedClock) -> None:
    _agent(db, clock)
    for _ in range(MAX_FAILURES_PER_EMAIL):
        _sign_in(db, clock, password="wrong password")
    assert _limited(db, clock)
    clock.advance(ATTEMPT_WINDOW - timedelta(seconds=1))
    assert _limited(db, clock)
    clock.advance(timedelta(seconds=1))
    assert not _limited(db, clock)


def test_old_attempts_are_pruned(db: Database, clock: FixedClock) -> None:
    _agent(db, clock)
    for _ in range(3):
        _sign_in(db, clock, password="wrong password")
    clock.advance(4 * ATTEMPT_WINDOW + timedelta(seconds=1))
    _sign_in(db, clock)
    with db.read() as session:
        assert session.scalars(select(SignInAttempt.succeeded)).all() == [True]
