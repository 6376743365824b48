"""Start the stack: the environment every process shares, training, and honcho."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot import config
from bot.config import Settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
MODEL_NAME = "pigeon"
DEMO_DATA = ROOT / "data" / "demo"
SECRETS_FILE = "secrets.json"
# The simulator signs its webhooks with TWILIO_AUTH_TOKEN; with real Twilio it is Twilio's.
# `simulate-shipment` signs with SHOPIFY_WEBHOOK_SECRET; with a real shop it is Shopify's.
GENERATED_SECRETS = (
    config.RASA_TOKEN,
    config.DESK_API_TOKEN,
    config.TWILIO_AUTH_TOKEN,
    config.SHOPIFY_WEBHOOK_SECRET,
    config.EMAIL_INBOUND_SECRET,
)


def load_or_create_secrets(data_dir: Path) -> dict[str, str]:
    """Tokens generated once per install (data dir) when the environment gives none."""
    path = data_dir / SECRETS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise config.SettingsError(
                f"{path}: unreadable ({exc}); delete it to regenerate"
            ) from None
    missing = [name for name in GENERATED_SECRETS if not stored.get(name)]
    if missing:
        stored.update({name: secrets.token_urlsafe(32) for name in missing})
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
    return stored


def process_env(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment for Rasa, the action server and the desk: the caller's plus defaults.

    credentials.yml and endpoints.yml read these through Rasa's ${VAR} substitution,
    which fails on an unset variable, so every variable they use is given a value here.
    """
    env = dict(environ)
    defaults = {
        config.PIGEON_DATA_DIR: str(settings.data_dir),
        config.DATABASE_URL: settings.database_url,
        config.RASA_PORT: str(settings.rasa_port),
        config.ACTION_PORT: str(settings.action_port),
        config.DESK_PORT: str(settings.desk_port),
        config.RASA_URL: settings.rasa_url,
        **load_or_create_secrets(settings.data_dir),
    }
    if settings.twilio_enabled:  # never sign with a generated token when Twilio is real
        defaults.pop(config.TWILIO_AUTH_TOKEN)
    if settings.shopify_enabled:  # nor accept webhooks a generated secret signed
        defaults.pop(config.SHOPIFY_WEBHOOK_SECRET)
    for name, value in defaults.items():
        if not env.get(name):
            env[name] = value
    # rasa_sdk listens on SANIC_HOST (all interfaces unless told): the action server answers
    # any tracker it is sent, order details included, so it stays on loopback by default.
    env["SANIC_HOST"] = settings.action_host
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONPATH", str(ROOT))
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


def model_path() -> Path:
    return MODELS / f"{MODEL_NAME}.tar.gz"


def train(env: Mapping[str, str], force: bool = False) -> None:
    """Train when the model is missing or its training files changed.

    A fingerprint of the training files decides whether to call Rasa at all; Rasa's own
    fingerprinting then decides which components retrain (its cache is in .rasa/).
    """
    fingerprint = training_fingerprint()
    stamp = MODELS / f"{MODEL_NAME}.fingerprint"
    up_to_date = stamp.exists() and stamp.read_text().strip() == fingerprint
    if model_path().exists() and up_to_date and not force:
        log.info("model %s is up to date", model_path().relative_to(ROOT))
        return
    log.info("training the model (a few minutes the first time)")
    argv = ["rasa", "train", "--out", str(MODELS), "--fixed-model-name", MODEL_NAME]
    _run([*argv, "--force"] if force else argv, env)
    stamp.write_text(fingerprint + "\n")


def training_files() -> list[Path]:
    """What `rasa train` reads: config, domain and data/ (but not the demo store's files)."""
    data = [p for p in (ROOT / "data").rglob("*") if p.is_file() and DEMO_DATA not in p.parents]
    domain = ROOT / "domain"
    domain_files = sorted(domain.rglob("*.yml")) if domain.is_dir() else [ROOT / "domain.yml"]
    return [ROOT / "config.yml", *domain_files, *sorted(data)]


def training_fingerprint() -> str:
    digest = hashlib.sha256(importlib.metadata.version("rasa").encode())
    for path in training_files():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def run_rasa(args: Sequence[str], env: Mapping[str, str]) -> None:
    """Run a `rasa` subcommand from the project root; a failure stops the caller."""
    _run(["rasa", *args], env)


def _run(argv: Sequence[str], env: Mapping[str, str]) -> None:
    result = subprocess.run(list(argv), cwd=ROOT, env=dict(env))
    if result.returncode != 0:
        raise SystemExit(f"pigeon: error: {' '.join(argv[:2])} failed (exit {result.returncode})")


def exec_command(argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Replace this process with `argv`, run from the project root with the stack's env."""
    os.chdir(ROOT)
    try:
        os.execvpe(argv[0], list(argv), dict(env))
    except FileNotFoundError:
        raise SystemExit(f"pigeon: error: command not found: {argv[0]}") from None


def shell(env: Mapping[str, str]) -> int:
    """`rasa shell` in the foreground with the action server behind it, for designers."""
    port = env[config.ACTION_PORT]
    actions = subprocess.Popen(
        ["rasa", "run", "actions", "--port", port, "--actions", "actions"],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        argv = ["rasa", "shell", "--model", str(model_path()), "--endpoints", "endpoints.yml"]
        return subprocess.run(argv, cwd=ROOT, env=dict(env)).returncode
    finally:
        actions.terminate()
        actions.wait(timeout=30)


def start_stack(env: Mapping[str, str]) -> None:
    """Run the Procfile with honcho; Ctrl-C stops all three processes."""
    exec_command(["honcho", "--procfile", "Procfile", "start"], env)
