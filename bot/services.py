"""Build the process's services from settings, in one place; tests build their own."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.clock import Clock, SystemClock
from bot.config import Settings
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


@lru_cache(maxsize=1)
def services_from_env() -> Services:
    """The process's services, built once from its environment and shared by every channel
    and action in it (one database pool, one order-system client)."""
    return build_services(Settings.from_env())


def build_order_system(settings: Settings, db: Database, clock: Clock) -> OrderSystem:
    """Shopify when a shop and its token are set (config requires both); else the demo store."""
    if settings.shopify_enabled:
        from bot.oms.policies import load_policies
        from bot.oms.shopify import ShopifyStore
        from bot.oms.shopify_client import ShopifyGraphQL

        policies = load_policies(settings.store_policies_file)  # a bad file stops start-up
        client = ShopifyGraphQL(
            settings.shopify_shop or "",
            settings.shopify_access_token or "",
            settings.shopify_api_version,
            base_url=settings.shopify_api_url,
        )
        return ShopifyStore(client, policies)
    from bot.oms.demo import DemoStore

    return DemoStore(db, clock)
