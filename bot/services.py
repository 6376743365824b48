"""Build the process's services from settings, in one place; tests build their own."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock, SystemClock
from bot.config import SHOPIFY_SHOP, Settings, SettingsError
from bot.oms.base import OrderSystem
from bot.store import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    oms: OrderSystem
    clock: Clock


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """The real services for `settings`: embedded defaults unless Twilio/Shopify are configured."""
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    return Services(
        settings=settings, db=db, oms=build_order_system(settings, db, clock), clock=clock
    )


def build_order_system(settings: Settings, db: Database, clock: Clock) -> OrderSystem:
    if settings.shopify_enabled:
        raise SettingsError(
            f"{SHOPIFY_SHOP} is set, but this build of Pigeon has no Shopify adapter yet: "
            "unset it to use the demo store"
        )
    from bot.oms.demo import DemoStore

    return DemoStore(db, clock)
