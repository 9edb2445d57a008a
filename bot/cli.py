"""The `civicbot` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import date
from pathlib import Path

from bot import __version__

log = logging.getLogger("civicbot")

_DB_HELP = "SQLite file (default: CIVICBOT_DB)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civicbot",
        description="Civic-education chatbot for Mali: rights, quizzes, complaints to local CSOs.",
    )
    parser.add_argument("--version", action="version", version=f"civicbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser(
        "run", help="start the bot on every configured channel (the terminal if none)"
    )
    chat = commands.add_parser("chat", help="chat in the terminal")
    chat.add_argument("--jsonl", action="store_true", help="JSON lines on stdin and stdout")
    chat.add_argument("--db", type=Path, help=_DB_HELP)
    chat.add_argument("--user", default="local", help="your user id in interactive mode")
    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate.add_argument("--db", type=Path, help=_DB_HELP)
    backup = commands.add_parser(
        "backup", help="copy the SQLite database to FILE, safely while the bot runs"
    )
    backup.add_argument("file", type=Path, metavar="FILE")
    backup.add_argument("--db", type=Path, help=_DB_HELP)

    ask = commands.add_parser("ask", help="search the content (one JSON line per stdin line)")
    ask.add_argument("query", nargs="?", help="the question; without it, read stdin")
    ask.add_argument("--lang", default="fr", help="language of the titles shown (default fr)")
    ask.add_argument("--json", action="store_true", help="print JSON for a single query too")

    content = commands.add_parser("content", help="work on a content pack")
    actions = content.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a pack, listing every problem")
    check.add_argument("path", nargs="?", type=Path, help="pack folder (default: CIVICBOT_CONTENT)")
    schema = actions.add_parser("schema", help="write JSON Schemas of the pack's YAML files")
    schema.add_argument("--out", type=Path, help="folder (default: the pack's schema/ folder)")
    gaps = actions.add_parser("gaps", help="the questions search answers badly, most asked first")
    gaps.add_argument("--db", type=Path, help=_DB_HELP)
    gaps.add_argument("--days", type=int, default=90, help="look this far back (default 90)")
    gaps.add_argument("--limit", type=int, default=30, help="how many (default 30)")

    complaints = commands.add_parser("complaints", help="work with the complaints received")
    complaint_actions = complaints.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = complaint_actions.add_parser(
        "export", help="write complaints to stdout, without who sent them"
    )
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="default csv")
    export.add_argument(
        "--since", type=_day, metavar="YYYY-MM-DD", help="only complaints made from this day (UTC)"
    )
    export.add_argument("--cso", metavar="ID", help="only complaints routed to this CSO")
    export.add_argument(
        "--with-contact",
        action="store_true",
        help="add the contact of citizens who agreed to be contacted",
    )
    export.add_argument("--db", type=Path, help=_DB_HELP)

    quiz = commands.add_parser("quiz", help="quiz statistics")
    quiz_actions = quiz.add_subparsers(dest="action", metavar="ACTION", required=True)
    stats = quiz_actions.add_parser(
        "stats", help="per quiz and question: answers, share right, by gender and age (JSON)"
    )
    stats.add_argument("--db", type=Path, help=_DB_HELP)

    cso = commands.add_parser("cso", help="the CSOs that receive complaints, and their chats")
    cso_actions = cso.add_subparsers(dest="action", metavar="ACTION", required=True)
    link = cso_actions.add_parser("link-code", help="a one-time code that links a chat to a CSO")
    link.add_argument("cso_id", metavar="CSO_ID")
    link.add_argument("--db", type=Path, help=_DB_HELP)
    listing = cso_actions.add_parser("list", help="CSOs, their coverage and linked chats")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--db", type=Path, help=_DB_HELP)

    barometer = commands.add_parser("barometer", help="Good Governance Barometer rounds")
    barometer_actions = barometer.add_subparsers(dest="action", metavar="ACTION", required=True)
    opening = barometer_actions.add_parser(
        "open", help="open a round for communes; their people are invited on its first day"
    )
    opening.add_argument(
        "--commune", action="append", required=True, metavar="P-CODE", help="repeat for several"
    )
    opening.add_argument("--from", dest="start", type=_day, required=True, metavar="YYYY-MM-DD")
    opening.add_argument(
        "--to", type=_day, required=True, metavar="YYYY-MM-DD", help="last day of answers"
    )
    opening.add_argument("--cso", metavar="ID", help="the CSO whose chats receive the results")
    opening.add_argument("--db", type=Path, help=_DB_HELP)
    rounds = barometer_actions.add_parser("list", help="every round and its status")
    rounds.add_argument("--db", type=Path, help=_DB_HELP)
    agreed = barometer_actions.add_parser(
        "actions", help="attach the actions agreed with the commune; participants are told"
    )
    agreed.add_argument("round_id", metavar="ROUND")
    agreed.add_argument("--text", required=True)
    agreed.add_argument("--db", type=Path, help=_DB_HELP)
    round_export = barometer_actions.add_parser(
        "export", help="a round's results and anonymous answer sets"
    )
    round_export.add_argument("--round", required=True, metavar="ID")
    round_export.add_argument("--format", choices=("csv", "json"), default="csv")
    round_export.add_argument("--db", type=Path, help=_DB_HELP)

    for name, text in (
        ("stats", "programme statistics, groups under 5 hidden"),
        ("report", "the statistics as one self-contained HTML page with charts"),
    ):
        figures = commands.add_parser(name, help=text)
        figures.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="from this day (UTC)")
        figures.add_argument("--region", metavar="P-CODE", help="one region, e.g. ML01")
        figures.add_argument("--db", type=Path, help=_DB_HELP)
        if name == "report":
            figures.add_argument("--html", type=Path, required=True, metavar="FILE")
        else:
            shape = figures.add_mutually_exclusive_group()
            shape.add_argument("--json", action="store_true")
            shape.add_argument("--csv", action="store_true")
    from bot.campaigns.args import add_parser as add_campaign_parser

    add_campaign_parser(commands)
    return parser


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date like 2026-01-31") from None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    # Settings (and pydantic) load only now, so `--help` and `--version` stay instant.
    from bot.logs import configure
    from bot.settings import Settings

    settings = Settings()
    if getattr(args, "db", None):
        settings = settings.model_copy(update={"db": args.db})
    level = settings.log_level
    interactive = args.command == "run" or (args.command == "chat" and not args.jsonl)
    if interactive and not settings.channels and "log_level" not in settings.model_fields_set:
        # Logs share the terminal with the chat: only problems, unless asked otherwise.
        level = "WARNING"
    configure(level, settings.log_format)
    if args.command in ("content", "ask"):
        from bot import content_cli

        return content_cli.run(args, settings)
    if args.command == "complaints":
        from bot import export

        return export.run(args, settings)
    if args.command == "quiz":
        from bot import quiz_cli

        return quiz_cli.run(args, settings)
    if args.command == "cso":
        from bot import cso_cli

        return cso_cli.run(args, settings)
    if args.command == "barometer":
        from bot import barometer_cli

        return barometer_cli.run(args, settings)
    if args.command == "campaign":
        from bot import campaign_cli

        return campaign_cli.run(args, settings)
    if args.command in ("stats", "report"):
        from bot import stats_cli

        return stats_cli.run(args, settings)
    if args.command == "backup":
        from bot import backup

        return backup.run(settings.db, args.file)
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "chat":
        return asyncio.run(_chat(settings, jsonl=args.jsonl, user=args.user))
    return asyncio.run(_run(settings))


async def _migrate(settings: object) -> int:
    from bot.settings import Settings
    from storage.sqlite import SqliteStore

    assert isinstance(settings, Settings)
    store = await SqliteStore.open(settings.db, migrate=False)
    try:
        applied = await store.migrate()
    finally:
        await store.close()
    print(f"applied {len(applied)} migration(s)" if applied else "database is up to date")
    return 0


async def _chat(settings: object, *, jsonl: bool, user: str) -> int:
    from bot.app import build_app
    from bot.channels.console import ConsoleChannel, utc_clock
    from bot.delivery import RetryPolicy
    from bot.settings import Settings
    from handlers.clocks import run_clocks

    assert isinstance(settings, Settings)
    app = await build_app(settings)
    # `kill -HUP` reloads the content; a pack that fails validation is refused.
    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, app.packs.reload)
    try:
        policy = RetryPolicy(settings.delivery_max_attempts, settings.delivery_backoff_seconds)
        console = ConsoleChannel(
            app.engine,
            app.store,
            utc_clock,
            policy,
            deadlines=lambda: run_clocks(app.store, app.packs.get(), utc_clock()),
        )
        if jsonl:
            await console.run_jsonl(sys.stdin, sys.stdout)
        else:
            await console.run_interactive(user)
    finally:
        await app.close()
    return 0


async def _run(settings: object) -> int:
    from bot.settings import Settings

    assert isinstance(settings, Settings)
    if not settings.channels:
        log.info("no Telegram or WhatsApp settings: starting in the terminal")
        return await _chat(settings, jsonl=False, user="local")
    from bot.app import build_app
    from bot.runner import run_channels

    app = await build_app(settings)
    try:
        return await run_channels(app)
    finally:
        await app.close()
