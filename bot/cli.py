"""`python -m bot`: the command line of every Pigeon process and chore."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import launch, logs
from bot.config import VARIABLES, Settings, SettingsError, markdown_table
from bot.errors import PigeonError
from bot.oms.base import SHIPMENT_STATUSES
from bot.store import Database

log = logging.getLogger("bot")

Handler = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env()
        logs.configure(settings.log_level)
        return args.handler(args, settings)
    except PigeonError as exc:
        print(f"pigeon: error: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Pigeon: SMS customer support for online stores.",
        epilog="Settings come from the environment; `python -m bot config` shows them.",
    )
    sub = parser.add_subparsers(metavar="COMMAND")

    def command(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    p = command("serve", cmd_serve, "run the desk (inbox, API, webhooks) on DESK_PORT")
    p.add_argument("--host", default="0.0.0.0", help="interface to bind (default 0.0.0.0)")  # noqa: S104
    p.add_argument("--port", type=int, help="port (default DESK_PORT)")
    p = command("migrate", cmd_migrate, "bring the database schema up to date")
    p.add_argument("--revision", default="head", help="target revision (default head)")
    p = command("seed-demo", cmd_seed_demo, "load the demo store from data/demo/ if it is empty")
    p.add_argument("--reset", action="store_true", help="wipe the demo store and load it again")
    p.add_argument("--data", type=Path, default=Path("data/demo"), help="demo data directory")
    command("run", cmd_run, "migrate, seed, train if needed, then start the whole stack")
    p = command("train", cmd_train, "train the Rasa model if the training data changed")
    p.add_argument("--force", action="store_true", help="train even if nothing changed")
    command("shell", cmd_shell, "chat with the assistant in the terminal (rasa shell + actions)")
    p = command("exec", cmd_exec, "run a command (e.g. rasa test) with the stack's environment")
    p.add_argument("argv", nargs=argparse.REMAINDER, help="the command, after --")
    command(
        "validate", cmd_validate, "rasa data validate --fail-on-warnings (EXTERNAL_ intents aside)"
    )
    command("eval", cmd_eval, "evaluate NLU on the held-out set; report in reports/nlu/")
    p = command(
        "simulate-shipment",
        cmd_simulate_shipment,
        "play Shopify: a carrier scan on a demo order, sent to the desk as a signed webhook",
    )
    p.add_argument("order", help="demo order number, e.g. 1001")
    p.add_argument("status", choices=SHIPMENT_STATUSES, help="the carrier's news")
    p.add_argument("--message", help="the carrier's words, e.g. 'No access to the building'")
    p.add_argument("--location", help="where the scan happened, e.g. 'Seattle, WA'")
    p.add_argument("--desk-url", help="the desk's base URL (default http://localhost:DESK_PORT)")
    p = command(
        "record-consent",
        cmd_record_consent,
        "record shipping-text consent a customer gave an agent on another channel",
    )
    p.add_argument("phone", help="the customer's number, e.g. +12125550103")
    p.add_argument("--agent", required=True, help="who is recording it (email)")
    p.add_argument("--evidence", required=True, help="where and how consent was given, verbatim")
    p = command(
        "create-agent",
        cmd_create_agent,
        "add an agent who signs in to the inbox (or set a new password for one)",
    )
    p.add_argument("email", help="the agent's email, their sign-in name")
    p.add_argument("--name", help="the name the inbox shows")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of asking for it",
    )
    p = command("config", cmd_config, "show the effective settings (secrets hidden)")
    p.add_argument("--markdown", action="store_true", help="print the README's settings table")
    p = command("new-migration", cmd_new_migration, "autogenerate a migration from the models")
    p.add_argument("message", help="what the migration does")
    return parser


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.desk.app import create_app
    from bot.services import build_services

    services = build_services(settings)
    services.db.check()
    app = create_app(services)
    port = args.port or settings.desk_port
    log.info("desk listening on %s:%d", args.host, port)
    app.run(host=args.host, port=port, access_log=False, motd=False)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.migrate import upgrade

    db = Database(settings.database_url)
    upgrade(db, args.revision)
    log.info("database is at revision %s", args.revision)
    return 0


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.oms.demo_seed import seed

    db = Database(settings.database_url)
    result = seed(db, args.data, reset=args.reset)
    log.info("demo store: %s", result)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.oms.demo_seed import seed
    from bot.store.migrate import upgrade

    env = launch.process_env(settings, os.environ)
    db = Database(settings.database_url)
    upgrade(db)
    if not settings.shopify_enabled:
        log.info("demo store: %s", seed(db, Path("data/demo")))
    db.dispose()
    launch.train(env)
    launch.start_stack(env)
    return 0


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    launch.train(launch.process_env(settings, os.environ), force=args.force)
    return 0


def cmd_shell(args: argparse.Namespace, settings: Settings) -> int:
    env = launch.process_env(settings, os.environ)
    launch.train(env)
    return launch.shell(env)


def cmd_exec(args: argparse.Namespace, settings: Settings) -> int:
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise SettingsError("exec needs a command, e.g. python -m bot exec -- rasa shell")
    launch.exec_command(argv, launch.process_env(settings, os.environ))
    return 0


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.validation import validate

    os.chdir(launch.ROOT)
    validate()
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot import evaluation

    env = launch.process_env(settings, os.environ)
    launch.train(env)
    out = launch.ROOT / "reports" / "nlu"
    launch.run_rasa(
        [
            "test",
            "nlu",
            "--nlu",
            "tests/nlu/held_out.yml",
            "--model",
            str(launch.model_path()),
            "--out",
            str(out),
        ],
        env,
    )
    threshold = evaluation.fallback_threshold(launch.ROOT / "config.yml")
    summary = evaluation.markdown(evaluation.read(out, threshold))
    (out / "summary.md").write_text(summary)
    print(summary)
    return 0


def cmd_simulate_shipment(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import SystemClock
    from bot.notify.simulate import simulate_shipment

    settings = Settings.from_env(launch.process_env(settings, os.environ))  # generated secret
    sent = simulate_shipment(
        settings,
        args.order,
        args.status,
        SystemClock(),
        message=args.message,
        location=args.location,
        desk_url=args.desk_url,
    )
    print(
        f"{args.status} recorded on {sent.order_name} (fulfillment {sent.fulfillment_id}); "
        f"webhook {sent.webhook_id} -> desk answered {sent.status_code}"
    )
    return 0 if sent.status_code == 200 else 1


def cmd_record_consent(args: argparse.Namespace, settings: Settings) -> int:
    from bot.consent import record_agent_consent
    from bot.inbox import customer_for_phone
    from bot.phone import mask, normalize

    phone = normalize(args.phone)
    if phone is None:
        raise SettingsError(f"{args.phone!r} is not a phone number")
    db = Database(settings.database_url)
    with db.write() as session:
        customer_for_phone(session, phone)
        record_agent_consent(session, phone, args.agent, args.evidence)
    log.info("consent recorded for %s by %s", mask(phone), args.agent)
    return 0


def cmd_create_agent(args: argparse.Namespace, settings: Settings) -> int:
    from bot.agents import create_agent
    from bot.clock import SystemClock
    from bot.store.migrate import upgrade

    if args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise SettingsError("the passwords do not match")
    db = Database(settings.database_url)
    upgrade(db)
    with db.write() as session:
        agent = create_agent(session, args.email, password, SystemClock(), name=args.name)
        email = agent.email
    print(f"agent {email} can sign in at /login")
    return 0


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    if args.markdown:
        print(markdown_table())
        return 0
    for var in VARIABLES:
        value = getattr(settings, var.field)
        shown = "(set)" if var.secret and value else value
        print(f"{var.name:30} {'' if shown is None else shown}")
    return 0


def cmd_new_migration(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.migrate import new_revision, upgrade

    db = Database(settings.database_url)
    upgrade(db)
    new_revision(db, args.message)
    return 0
