import json
import stat
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError
from bot.launch import load_or_create_secrets, process_env


def test_secrets_are_generated_once_per_data_dir(tmp_path: Path) -> None:
    first = load_or_create_secrets(tmp_path)
    second = load_or_create_secrets(tmp_path)
    assert first == second
    assert set(first) == {
        "RASA_TOKEN",
        "DESK_API_TOKEN",
        "TWILIO_AUTH_TOKEN",
        "SHOPIFY_WEBHOOK_SECRET",
        "EMAIL_INBOUND_SECRET",
    }
    assert all(len(value) >= 32 for value in first.values())
    assert len(set(first.values())) == 5
    mode = stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode)
    assert mode == 0o600


def test_a_new_data_dir_is_a_new_install(tmp_path: Path) -> None:
    assert load_or_create_secrets(tmp_path / "a") != load_or_create_secrets(tmp_path / "b")


def test_a_corrupt_secrets_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text("{not json")
    with pytest.raises(SettingsError, match="secrets.json: unreadable"):
        load_or_create_secrets(tmp_path)


def test_a_partial_secrets_file_is_completed(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text(json.dumps({"RASA_TOKEN": "kept"}))
    secrets = load_or_create_secrets(tmp_path)
    assert secrets["RASA_TOKEN"] == "kept"
    assert secrets["DESK_API_TOKEN"]


def test_process_env_fills_what_rasa_config_files_need(tmp_path: Path) -> None:
    settings = Settings.from_env({"PIGEON_DATA_DIR": str(tmp_path)})
    env = process_env(settings, {"PATH": "/usr/bin"})
    assert env["PIGEON_DATA_DIR"] == str(tmp_path)
    assert env["ACTION_PORT"] == "5055"
    assert env["RASA_PORT"] == "5005"
    assert env["DATABASE_URL"] == f"sqlite:///{tmp_path}/pigeon.db"
    assert env["RASA_TOKEN"] == load_or_create_secrets(tmp_path)["RASA_TOKEN"]
    assert env["PATH"].endswith("/usr/bin")


def test_the_action_server_listens_on_loopback_unless_told(tmp_path: Path) -> None:
    # It answers any tracker it is sent, order details included: never on every interface
    # by accident, even when the caller's environment says otherwise for other programs.
    settings = Settings.from_env({"PIGEON_DATA_DIR": str(tmp_path)})
    everywhere = {"SANIC_HOST": "0.0.0.0"}  # noqa: S104 - what must not win
    assert process_env(settings, everywhere)["SANIC_HOST"] == "127.0.0.1"
    told = Settings.from_env({"PIGEON_DATA_DIR": str(tmp_path), "ACTION_HOST": "10.0.0.5"})
    assert process_env(told, {})["SANIC_HOST"] == "10.0.0.5"


def test_process_env_keeps_what_the_caller_set(tmp_path: Path) -> None:
    given = {"PIGEON_DATA_DIR": str(tmp_path), "RASA_TOKEN": "mine", "DESK_PORT": "9000"}
    env = process_env(Settings.from_env(given), given)
    assert env["RASA_TOKEN"] == "mine"
    assert env["DESK_PORT"] == "9000"


def test_rasa_reads_endpoints_with_every_variable_filled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.utils import read_endpoints_from_path

    env = process_env(Settings.from_env({"PIGEON_DATA_DIR": str(tmp_path)}), {})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    endpoints = read_endpoints_from_path(Path(__file__).parents[2] / "endpoints.yml")
    assert endpoints.action.url == "http://localhost:5055/webhook"
    assert endpoints.tracker_store.kwargs == {"dialect": "sqlite", "db": f"{tmp_path}/tracker.db"}
