"""Logging for every Pigeon process: one line per event, no message bodies at INFO."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format=FORMAT)
    # Sanic's access log would print full request URLs, which can carry tokens.
    logging.getLogger("sanic.access").setLevel(logging.WARNING)
    # Alembic announces every plugin it loads; only migrations are worth a line.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # The Twilio SDK logs every request's URL and headers at INFO.
    logging.getLogger("twilio").setLevel(logging.WARNING)
