import aiohttp

from bot.clock import SystemClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from tests.http import serving


def _services(db: Database) -> Services:
    return Services(settings=Settings(), db=db, oms=DemoStore(db), clock=SystemClock())


async def _get(
    app_services: Services, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict | None]:
    async with (
        serving(create_app(app_services)) as base,
        aiohttp.ClientSession() as client,
        client.get(f"{base}{path}", headers=headers) as response,
    ):
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


async def test_healthz_is_200_when_the_database_answers(db: Database) -> None:
    assert await _get(_services(db), "/healthz") == (200, {"status": "ok", "database": "ok"})


async def test_healthz_is_503_when_the_database_is_gone() -> None:
    status, body = await _get(
        _services(Database("postgresql://nobody@127.0.0.1:9/none")), "/healthz"
    )
    assert status == 503
    assert body == {"status": "unavailable", "database": "unreachable"}


async def test_unknown_routes_are_401_to_strangers_and_404_to_callers(db: Database) -> None:
    services = _services(db)
    services.settings = Settings(desk_api_token="desk-token")
    assert (await _get(services, "/nope"))[0] == 401  # anonymous: not even what exists
    headers = {"Authorization": "Bearer desk-token"}
    assert (await _get(services, "/nope", headers))[0] == 404
