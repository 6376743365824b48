"""The CLI as an operator meets it: a subprocess, its exit code and what it prints."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.store import Database
from bot.store.migrate import is_up_to_date

ROOT = Path(__file__).parents[2]


def run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PIGEON_DATA_DIR")}
    clean.update({"PIGEON_DATA_DIR": str(data_dir), **env})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    for command in ("serve", "migrate", "seed-demo", "run", "train", "shell", "exec", "config"):
        assert command in result.stdout


def test_migrate_creates_the_database_in_the_data_dir(tmp_path: Path) -> None:
    result = run(["migrate"], tmp_path)
    assert result.returncode == 0, result.stderr
    db = Database(f"sqlite:///{tmp_path}/pigeon.db")
    assert is_up_to_date(db)
    db.dispose()


def test_a_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run(["migrate"], tmp_path, DESK_PORT="http")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "pigeon: error: invalid settings: "
        "DESK_PORT='http': must be a port number between 1 and 65535"
    ]


def test_an_unreachable_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run(["migrate"], tmp_path, DATABASE_URL="postgresql://u:pw@127.0.0.1:9/db")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pigeon: error: cannot reach the database at postgresql://u:***@")
    assert "Traceback" not in result.stderr


def test_seed_demo_loads_the_store_once(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    first = run(["seed-demo"], tmp_path)
    second = run(["seed-demo"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    db = Database(f"sqlite:///{tmp_path}/pigeon.db")
    from bot.store.demo_tables import DemoOrder

    with db.read() as session:
        assert session.execute(select(func.count()).select_from(DemoOrder)).scalar_one() >= 5
    db.dispose()


def test_a_corrupt_demo_file_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    data.mkdir()
    for source in (ROOT / "data" / "demo").glob("*.yml"):
        (data / source.name).write_text(source.read_text())
    (data / "orders.yml").write_text("orders: [unclosed\n")
    assert run(["migrate"], tmp_path).returncode == 0
    result = run(["seed-demo", "--data", str(data)], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "orders.yml" in lines[0]
    db = Database(f"sqlite:///{tmp_path}/pigeon.db")
    from bot.store.demo_tables import DemoCustomer

    with db.read() as session:
        assert session.execute(select(func.count()).select_from(DemoCustomer)).scalar_one() == 0
    db.dispose()


def test_config_shows_settings_but_not_secrets(tmp_path: Path) -> None:
    result = run(["config"], tmp_path, SHOPIFY_WEBHOOK_SECRET="whsec_topsecret")
    assert result.returncode == 0
    assert "DESK_PORT" in result.stdout
    assert "whsec_topsecret" not in result.stdout
    assert "(set)" in result.stdout


def test_exec_without_a_command_is_an_error(tmp_path: Path) -> None:
    result = run(["exec"], tmp_path)
    assert result.returncode == 2
    assert "exec needs a command" in result.stderr


def test_exec_runs_with_the_stack_environment(tmp_path: Path) -> None:
    result = run(["exec", "--", "sh", "-c", 'echo "$ACTION_PORT $PIGEON_DATA_DIR"'], tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"5055 {tmp_path}"


@pytest.mark.parametrize("args", [["serve", "--port", "notaport"], ["nope"]])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert run(args, tmp_path).returncode == 2
