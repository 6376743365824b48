"""Pigeon's settings: read once from the environment, validated, frozen."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import phonenumbers

from bot.errors import PigeonError

# Environment variable names, in one place.
PIGEON_DATA_DIR = "PIGEON_DATA_DIR"
PIGEON_LOG_LEVEL = "PIGEON_LOG_LEVEL"
DATABASE_URL = "DATABASE_URL"
RASA_PORT = "RASA_PORT"
ACTION_PORT = "ACTION_PORT"
ACTION_HOST = "ACTION_HOST"
DESK_PORT = "DESK_PORT"
RASA_URL = "RASA_URL"
RASA_TOKEN = "RASA_TOKEN"
DESK_API_TOKEN = "DESK_API_TOKEN"
DESK_URL = "DESK_URL"
PUBLIC_URL = "PUBLIC_URL"
STORE_NAME = "STORE_NAME"
SUPPORT_EMAIL = "SUPPORT_EMAIL"
SUPPORT_HOURS = "SUPPORT_HOURS"
QUIET_HOURS = "QUIET_HOURS"
TWILIO_ACCOUNT_SID = "TWILIO_ACCOUNT_SID"
TWILIO_AUTH_TOKEN = "TWILIO_AUTH_TOKEN"
TWILIO_FROM_NUMBER = "TWILIO_FROM_NUMBER"
TWILIO_MESSAGING_SERVICE_SID = "TWILIO_MESSAGING_SERVICE_SID"
TWILIO_API_URL = "TWILIO_API_URL"
TWILIO_MPS = "TWILIO_MPS"
SHOPIFY_SHOP = "SHOPIFY_SHOP"
SHOPIFY_ACCESS_TOKEN = "SHOPIFY_ACCESS_TOKEN"
SHOPIFY_API_VERSION = "SHOPIFY_API_VERSION"
SHOPIFY_API_URL = "SHOPIFY_API_URL"
SHOPIFY_WEBHOOK_SECRET = "SHOPIFY_WEBHOOK_SECRET"
STORE_POLICIES_FILE = "STORE_POLICIES_FILE"
SMTP_URL = "SMTP_URL"
EMAIL_FROM = "EMAIL_FROM"
EMAIL_INBOUND_SECRET = "EMAIL_INBOUND_SECRET"
CHAT_ORIGINS = "CHAT_ORIGINS"
CHAT_URL = "CHAT_URL"

DEFAULT_SHOPIFY_API_VERSION = "2026-10"
MIN_SHOPIFY_API_VERSION = "2025-07"  # orderCancel(refundMethod:), Customer.defaultPhoneNumber
DEFAULT_TWILIO_API_URL = "https://api.twilio.com"
DEFAULT_POLICIES_FILE = Path("data/demo/policies.yml")


class SettingsError(PigeonError, ValueError):
    """One or more settings are missing or malformed; the message names each."""


@dataclass(frozen=True)
class SendingWindow:
    """Local hours in which proactive texts may go out (the complement of quiet hours)."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    log_level: str = "INFO"
    database_url: str = ""
    rasa_port: int = 5005
    action_port: int = 5055
    action_host: str = "127.0.0.1"
    desk_port: int = 8000
    rasa_url: str = ""
    desk_url: str = ""
    rasa_token: str | None = None
    desk_api_token: str | None = None
    public_url: str | None = None
    store_name: str = "Pigeon Supply Co."
    support_email: str = "support@example.com"
    support_hours: str = "Mon-Fri 9am-6pm ET"
    quiet_hours: SendingWindow | None = SendingWindow(time(8), time(21))
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_url: str = DEFAULT_TWILIO_API_URL
    twilio_mps: float = 1.0
    shopify_shop: str | None = None
    shopify_access_token: str | None = field(default=None, repr=False)
    shopify_api_version: str = DEFAULT_SHOPIFY_API_VERSION
    shopify_api_url: str | None = None
    shopify_webhook_secret: str | None = field(default=None, repr=False)
    store_policies_file: Path = DEFAULT_POLICIES_FILE
    smtp_url: str | None = field(default=None, repr=False)
    email_from: str | None = None
    email_inbound_secret: str | None = field(default=None, repr=False)
    chat_origins: tuple[str, ...] = ("*",)
    chat_url: str = ""

    @property
    def email_sender(self) -> str:
        """The From address of the store's emails: EMAIL_FROM, else the support address."""
        return self.email_from or f"{self.store_name} <{self.support_email}>"

    @property
    def twilio_enabled(self) -> bool:
        """Real Twilio is used when its account is configured; else the local simulator."""
        return self.twilio_account_sid is not None

    @property
    def shopify_enabled(self) -> bool:
        """Shopify is the order system when a shop is configured; else the demo store."""
        return self.shopify_shop is not None

    @property
    def action_endpoint_url(self) -> str:
        return f"http://localhost:{self.action_port}/webhook"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default `os.environ`), reporting every bad variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        errors: list[str] = []
        for var in VARIABLES:
            raw = env.get(var.name, "").strip()
            if not raw:
                continue
            try:
                values[var.field] = var.parse(raw)
            except ValueError as exc:
                shown = "***" if var.secret else repr(raw)
                errors.append(f"{var.name}={shown}: {exc}")
        values.setdefault("data_dir", Path("var"))
        values.setdefault("database_url", f"sqlite:///{values['data_dir'] / 'pigeon.db'}")
        values.setdefault("rasa_url", f"http://localhost:{values.get('rasa_port', 5005)}")
        values.setdefault("desk_url", f"http://localhost:{values.get('desk_port', 8000)}")
        values.setdefault("chat_url", values["rasa_url"])
        errors.extend(_cross_checks(values))
        if errors:
            raise SettingsError("invalid settings: " + "; ".join(errors))
        return cls(**values)


# --- parsers: each returns the typed value or raises ValueError with a short reason ---


def _text(raw: str) -> str:
    return raw


def _port(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValueError("must be a port number between 1 and 65535")
    return int(raw)


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return raw.rstrip("/")


def _database_url(raw: str) -> str:
    scheme = raw.split(":", 1)[0].split("+", 1)[0]
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ValueError("must be a sqlite:/// or postgresql:// URL")
    if scheme == "postgres":  # Heroku-style alias that SQLAlchemy 1.4 no longer accepts.
        raw = "postgresql" + raw[len("postgres") :]
    return raw


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number") from None
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _email(raw: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", raw):
        raise ValueError("must be an email address")
    return raw


def _e164(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        raise ValueError("must be a phone number such as +12065550100") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("must be a phone number such as +12065550100")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _quiet_hours(raw: str) -> SendingWindow | None:
    if raw.lower() == "off":
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", raw)
    if not match:
        raise ValueError("must look like 08:00-21:00, or be 'off'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError("hours must be 00-23 and minutes 00-59")
    window = SendingWindow(time(h1, m1), time(h2, m2))
    if window.start >= window.end:
        raise ValueError("the window must start before it ends, within one day")
    return window


def _api_version(raw: str) -> str:
    if not re.fullmatch(r"\d{4}-(01|04|07|10)", raw):
        raise ValueError("must be a Shopify API version such as 2026-10")
    if raw < MIN_SHOPIFY_API_VERSION:
        raise ValueError(
            f"must be {MIN_SHOPIFY_API_VERSION} or later: Pigeon uses fields added then"
        )
    return raw


def _shop_domain(raw: str) -> str:
    shop = raw.removeprefix("https://").rstrip("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*\.myshopify\.com", shop):
        raise ValueError("must be the shop's myshopify.com domain, e.g. demo.myshopify.com")
    return shop


def _smtp_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("must be smtp://[user:password@]host[:port] or smtps://...")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError("has a bad port") from None
    return raw


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
            raise ValueError(f"{origin!r} is not an origin such as https://shop.example.com")
    return origins


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level


def _prefixed(prefix: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not re.fullmatch(prefix + r"[0-9a-fA-F]{32}", raw):
            raise ValueError(f"must be {prefix} followed by 32 hex digits")
        return raw

    return parse


def _cross_checks(values: Mapping[str, Any]) -> list[str]:
    """Settings that only make sense together."""
    errors = []
    if values.get("twilio_account_sid"):
        if not values.get("twilio_auth_token"):
            errors.append(f"{TWILIO_AUTH_TOKEN} is required when {TWILIO_ACCOUNT_SID} is set")
        if not (values.get("twilio_from_number") or values.get("twilio_messaging_service_sid")):
            errors.append(
                f"{TWILIO_FROM_NUMBER} or {TWILIO_MESSAGING_SERVICE_SID} is required "
                f"when {TWILIO_ACCOUNT_SID} is set"
            )
    if values.get("shopify_shop") and not values.get("shopify_access_token"):
        errors.append(f"{SHOPIFY_ACCESS_TOKEN} is required when {SHOPIFY_SHOP} is set")
    if values.get("shopify_access_token") and not values.get("shopify_shop"):
        errors.append(f"{SHOPIFY_SHOP} is required when {SHOPIFY_ACCESS_TOKEN} is set")
    return errors


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, the settings field it fills, and its documentation."""

    name: str
    field: str
    parse: Callable[[str], Any]
    default: str
    doc: str
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable(
        PIGEON_DATA_DIR,
        "data_dir",
        Path,
        "`var/`",
        "Directory for every file of the embedded defaults; a new directory is a new install.",
    ),
    Variable(PIGEON_LOG_LEVEL, "log_level", _log_level, "`INFO`", "DEBUG, INFO, WARNING or ERROR."),
    Variable(
        DATABASE_URL,
        "database_url",
        _database_url,
        "SQLite file in the data dir",
        "`sqlite:///path.db` or `postgresql://user@host:5432/db`.",
    ),
    Variable(RASA_PORT, "rasa_port", _port, "`5005`", "Port of the Rasa server."),
    Variable(ACTION_PORT, "action_port", _port, "`5055`", "Port of the action server."),
    Variable(
        ACTION_HOST,
        "action_host",
        _text,
        "`127.0.0.1`",
        "Interface the action server listens on. It trusts whatever conversation it is sent, "
        "so keep it on loopback; on another machine, expose it only to the Rasa server.",
    ),
    Variable(DESK_PORT, "desk_port", _port, "`8000`", "Port of the desk (inbox, webhooks)."),
    Variable(
        RASA_URL,
        "rasa_url",
        _http_url,
        "`http://localhost:$RASA_PORT`",
        "Where the desk reaches the Rasa server's HTTP API.",
    ),
    Variable(
        DESK_URL,
        "desk_url",
        _http_url,
        "`http://localhost:$DESK_PORT`",
        "Where the action server reaches the desk (its handoff endpoint).",
    ),
    Variable(
        RASA_TOKEN,
        "rasa_token",
        _text,
        "generated into the data dir",
        "Token protecting the Rasa server's HTTP API.",
        secret=True,
    ),
    Variable(
        DESK_API_TOKEN,
        "desk_api_token",
        _text,
        "generated into the data dir",
        "Bearer token for the desk's JSON API.",
        secret=True,
    ),
    Variable(
        PUBLIC_URL,
        "public_url",
        _http_url,
        "unset",
        "Public base URL Twilio and Shopify call (used to check webhook signatures).",
    ),
    Variable(STORE_NAME, "store_name", _text, "`Pigeon Supply Co.`", "Brand name in texts."),
    Variable(
        SUPPORT_EMAIL,
        "support_email",
        _email,
        "`support@example.com`",
        "Support contact given in HELP replies.",
    ),
    Variable(
        SUPPORT_HOURS,
        "support_hours",
        _text,
        "`Mon-Fri 9am-6pm ET`",
        "When humans answer, in words.",
    ),
    Variable(
        QUIET_HOURS,
        "quiet_hours",
        _quiet_hours,
        "`08:00-21:00`",
        "Recipient-local window for proactive texts; `off` disables quiet hours.",
    ),
    Variable(
        TWILIO_ACCOUNT_SID,
        "twilio_account_sid",
        _prefixed("AC"),
        "unset (simulator)",
        "Twilio account; setting it switches from the local simulator to Twilio.",
    ),
    Variable(
        TWILIO_AUTH_TOKEN,
        "twilio_auth_token",
        _text,
        "unset",
        "Twilio auth token (signs webhooks, authenticates the API).",
        secret=True,
    ),
    Variable(
        TWILIO_FROM_NUMBER,
        "twilio_from_number",
        _e164,
        "unset",
        "Sending number in E.164, unless a Messaging Service is used.",
    ),
    Variable(
        TWILIO_MESSAGING_SERVICE_SID,
        "twilio_messaging_service_sid",
        _prefixed("MG"),
        "unset",
        "Twilio Messaging Service to send from.",
    ),
    Variable(
        TWILIO_API_URL,
        "twilio_api_url",
        _http_url,
        "`https://api.twilio.com`",
        "Twilio REST base URL (tests point it at a fake).",
    ),
    Variable(
        TWILIO_MPS,
        "twilio_mps",
        _positive_float,
        "`1`",
        "Segments per second the sender may send (long code 1, toll-free 3).",
    ),
    Variable(
        SHOPIFY_SHOP,
        "shopify_shop",
        _shop_domain,
        "unset (demo store)",
        "`name.myshopify.com`; setting it switches from the demo store to Shopify.",
    ),
    Variable(
        SHOPIFY_ACCESS_TOKEN,
        "shopify_access_token",
        _text,
        "unset",
        "Admin API access token.",
        secret=True,
    ),
    Variable(
        SHOPIFY_API_VERSION,
        "shopify_api_version",
        _api_version,
        f"`{DEFAULT_SHOPIFY_API_VERSION}`",
        f"Pinned Admin API version ({MIN_SHOPIFY_API_VERSION} or later).",
    ),
    Variable(
        SHOPIFY_API_URL,
        "shopify_api_url",
        _http_url,
        "`https://$SHOPIFY_SHOP`",
        "Admin API base URL (tests point it at a fake).",
    ),
    Variable(
        SHOPIFY_WEBHOOK_SECRET,
        "shopify_webhook_secret",
        _text,
        "unset",
        "Secret that signs Shopify webhooks (HMAC-SHA256).",
        secret=True,
    ),
    Variable(
        STORE_POLICIES_FILE,
        "store_policies_file",
        Path,
        f"`{DEFAULT_POLICIES_FILE}`",
        "Policies quoted when Shopify is the order system (YAML like data/demo/policies.yml).",
    ),
    Variable(
        SMTP_URL,
        "smtp_url",
        _smtp_url,
        "unset (emails stay in the inbox)",
        "Where email replies go: `smtp://user:password@host:587` (STARTTLS when offered) "
        "or `smtps://...:465`.",
        secret=True,
    ),
    Variable(
        EMAIL_FROM,
        "email_from",
        _text,
        "`$STORE_NAME <$SUPPORT_EMAIL>`",
        "From address of the store's emails.",
    ),
    Variable(
        EMAIL_INBOUND_SECRET,
        "email_inbound_secret",
        _text,
        "generated into the data dir",
        "Secret in the inbound-email webhook URL (`/webhooks/email/inbound/<secret>`).",
        secret=True,
    ),
    Variable(
        CHAT_ORIGINS,
        "chat_origins",
        _origins,
        "`*`",
        "Comma-separated web origins allowed to use the chat widget.",
    ),
    Variable(
        CHAT_URL,
        "chat_url",
        _http_url,
        "`$RASA_URL`",
        "Public URL of the Rasa server, as the chat widget in a browser reaches it.",
    ),
)


def markdown_table() -> str:
    """The configuration table the README shows, generated from VARIABLES."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{v.name}` | {v.default} | {v.doc} |" for v in VARIABLES]
    return "\n".join(rows)
