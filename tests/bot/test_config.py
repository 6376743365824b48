from dataclasses import fields
from datetime import time
from pathlib import Path

import pytest

from bot.config import VARIABLES, SendingWindow, Settings, SettingsError, markdown_table


def test_a_bare_environment_gives_the_embedded_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.data_dir == Path("var")
    assert settings.database_url == "sqlite:///var/pigeon.db"
    assert (settings.rasa_port, settings.action_port, settings.desk_port) == (5005, 5055, 8000)
    assert settings.rasa_url == "http://localhost:5005"
    assert settings.quiet_hours == SendingWindow(time(8), time(21))
    assert not settings.twilio_enabled
    assert not settings.shopify_enabled


def test_the_data_dir_moves_the_default_database() -> None:
    settings = Settings.from_env({"PIGEON_DATA_DIR": "/srv/pigeon"})
    assert settings.database_url == "sqlite:////srv/pigeon/pigeon.db"


def test_rasa_url_follows_rasa_port_unless_given() -> None:
    assert Settings.from_env({"RASA_PORT": "6005"}).rasa_url == "http://localhost:6005"
    given = Settings.from_env({"RASA_PORT": "6005", "RASA_URL": "http://rasa:5005/"})
    assert given.rasa_url == "http://rasa:5005"


def test_every_bad_variable_is_named_in_one_message() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"DESK_PORT": "eighty", "QUIET_HOURS": "9pm", "SUPPORT_EMAIL": "nope"})
    message = str(error.value)
    assert "DESK_PORT='eighty': must be a port number" in message
    assert "QUIET_HOURS='9pm'" in message
    assert "SUPPORT_EMAIL='nope'" in message
    assert "\n" not in message


def test_secret_values_are_not_echoed_in_errors() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"TWILIO_ACCOUNT_SID": "ACnothex", "TWILIO_AUTH_TOKEN": "s3cret"})
    assert "ACnothex" in str(error.value)
    assert "s3cret" not in str(error.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("08:00-21:00", SendingWindow(time(8), time(21))),
        ("9:30-20:00", SendingWindow(time(9, 30), time(20))),
        ("off", None),
        ("OFF", None),
    ],
)
def test_quiet_hours(raw: str, expected: SendingWindow | None) -> None:
    assert Settings.from_env({"QUIET_HOURS": raw}).quiet_hours == expected


@pytest.mark.parametrize("raw", ["21:00-08:00", "25:00-26:00", "08:00", "8-21", "08:61-21:00"])
def test_bad_quiet_hours(raw: str) -> None:
    with pytest.raises(SettingsError, match="QUIET_HOURS"):
        Settings.from_env({"QUIET_HOURS": raw})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgres://u@h/db", "postgresql://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls(raw: str, expected: str) -> None:
    assert Settings.from_env({"DATABASE_URL": raw}).database_url == expected


def test_mysql_is_refused() -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL='mysql://x': must be a sqlite"):
        Settings.from_env({"DATABASE_URL": "mysql://x"})


def test_twilio_needs_its_token_and_a_sender() -> None:
    sid = "AC" + "0" * 32
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"TWILIO_ACCOUNT_SID": sid})
    assert "TWILIO_AUTH_TOKEN is required" in str(error.value)
    assert "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required" in str(error.value)
    env = {"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": "t"}
    settings = Settings.from_env({**env, "TWILIO_FROM_NUMBER": "(206) 555-0100"})
    assert settings.twilio_enabled
    assert settings.twilio_from_number == "+12065550100"


def test_shopify_needs_shop_and_token_together() -> None:
    with pytest.raises(SettingsError, match="SHOPIFY_ACCESS_TOKEN is required"):
        Settings.from_env({"SHOPIFY_SHOP": "demo.myshopify.com"})
    with pytest.raises(SettingsError, match="SHOPIFY_SHOP is required"):
        Settings.from_env({"SHOPIFY_ACCESS_TOKEN": "shpat_x"})
    with pytest.raises(SettingsError, match="myshopify.com domain"):
        Settings.from_env({"SHOPIFY_SHOP": "example.com", "SHOPIFY_ACCESS_TOKEN": "x"})
    shop = {"SHOPIFY_SHOP": "demo.myshopify.com", "SHOPIFY_ACCESS_TOKEN": "x"}
    assert Settings.from_env(shop).shopify_enabled


@pytest.mark.parametrize("version", ["2024-10", "2025-04"])
def test_shopify_versions_before_the_adapter_s_fields_are_refused(version: str) -> None:
    with pytest.raises(SettingsError, match=f"SHOPIFY_API_VERSION='{version}': must be 2025-07"):
        Settings.from_env({"SHOPIFY_API_VERSION": version})
    assert Settings.from_env({"SHOPIFY_API_VERSION": "2025-07"}).shopify_api_version == "2025-07"


def test_the_store_policies_file_defaults_to_the_demo_store_s() -> None:
    assert Settings.from_env({}).store_policies_file == Path("data/demo/policies.yml")
    given = Settings.from_env({"STORE_POLICIES_FILE": "/etc/pigeon/policies.yml"})
    assert given.store_policies_file == Path("/etc/pigeon/policies.yml")


def test_blank_values_count_as_unset() -> None:
    assert Settings.from_env({"DESK_PORT": "  "}).desk_port == 8000


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.desk_port = 1  # type: ignore[misc]


def test_every_field_has_exactly_one_variable() -> None:
    assert sorted(v.field for v in VARIABLES) == sorted(f.name for f in fields(Settings))


def test_secrets_are_hidden_from_repr() -> None:
    settings = Settings(shopify_access_token="shpat_secret", twilio_auth_token="tw_secret")
    assert "secret" not in repr(settings)


def test_readme_lists_every_variable() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert markdown_table() in readme
