"""The `civicbot campaign` arguments, apart so that `civicbot --help` imports nothing heavy."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """The `campaign` subcommand and its actions."""
    campaign = commands.add_parser("campaign", help="public information campaigns")
    actions = campaign.add_subparsers(dest="action", metavar="ACTION", required=True)
    plan = actions.add_parser("plan", help="dry run: who, how many, how long, the deep links")
    plan.add_argument("file", type=Path, metavar="FILE")
    plan.add_argument("--bot-username", default="BOT", help="Telegram bot username, for links")
    plan.add_argument("--whatsapp-number", default="NUMBER", help="business number, for links")
    plan.add_argument("--json", action="store_true")
    send = actions.add_parser("send", help="queue the messages; the running bot sends them")
    send.add_argument("file", type=Path, metavar="FILE")
    for name, text in (
        ("status", "pending, sent, failed and dead messages"),
        ("cancel", "drop the messages not sent yet"),
        ("report", "reach: sent, delivered, read, opened, new users, stopped"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("name", metavar="NAME")
        if name in ("status", "report"):
            action.add_argument("--json", action="store_true")
    for action in actions.choices.values():
        action.add_argument("--db", type=Path, help="SQLite file (default: CIVICBOT_DB)")
