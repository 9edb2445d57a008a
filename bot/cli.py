"""The `civicbot` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot import __version__

log = logging.getLogger("civicbot")


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
    chat.add_argument("--db", type=Path, help="SQLite file (default: CIVICBOT_DB)")
    chat.add_argument("--user", default="local", help="your user id in interactive mode")
    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate.add_argument("--db", type=Path, help="SQLite file (default: CIVICBOT_DB)")

    content = commands.add_parser("content", help="work on a content pack")
    content_commands = content.add_subparsers(dest="content_command", metavar="ACTION")
    check = content_commands.add_parser("check", help="validate a pack, listing every problem")
    check.add_argument("path", nargs="?", type=Path, help="pack folder (default: CIVICBOT_CONTENT)")
    return parser


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
    configure(settings.log_level, settings.log_format)
    if args.command == "content":
        return _content(args, settings)
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "chat":
        return asyncio.run(_chat(settings, jsonl=args.jsonl, user=args.user))
    return asyncio.run(_run(settings))


def _content(args: argparse.Namespace, settings: object) -> int:
    from bot.settings import Settings
    from content.pack import PackError, load_pack

    assert isinstance(settings, Settings)
    if args.content_command != "check":
        print("usage: civicbot content check [PATH]", file=sys.stderr)
        return 2
    path = args.path or settings.content
    try:
        pack = load_pack(path)
    except PackError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"content pack '{pack.manifest.id}' is valid: languages {', '.join(pack.languages)}")
    return 0


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

    assert isinstance(settings, Settings)
    app = await build_app(settings)
    try:
        policy = RetryPolicy(settings.delivery_max_attempts, settings.delivery_backoff_seconds)
        console = ConsoleChannel(app.engine, app.store, utc_clock, policy)
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
    log.error(
        "channels configured (%s) are not available in this version yet; "
        "unset their settings to use the terminal",
        ", ".join(settings.channels),
    )
    return 2
