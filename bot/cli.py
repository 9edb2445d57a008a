"""The `civicbot` command line."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import signal
import sys
from datetime import date
from pathlib import Path

from bot import __version__

log = logging.getLogger("civicbot")

_DB_HELP = "fichier SQLite (défaut : CIVICBOT_DB)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civicbot",
        description="Bot d'éducation civique (Mali) : droits, quiz, signalements aux associations.",
    )
    parser.add_argument("--version", action="version", version=f"civicbot {__version__}")
    parser.add_argument(
        "--lang",
        dest="staff_lang",
        choices=("fr", "en"),
        help="langue des messages (défaut : CIVICBOT_STAFF_LANG, fr) ; --lang en : English",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser(
        "run", help="démarrer le bot sur chaque canal configuré (le terminal sinon)"
    )
    chat = commands.add_parser("chat", help="discuter dans le terminal")
    chat.add_argument("--jsonl", action="store_true", help="lignes JSON sur stdin et stdout")
    chat.add_argument("--db", type=Path, help=_DB_HELP)
    chat.add_argument("--user", default="local", help="votre identifiant en mode interactif")
    migrate = commands.add_parser("migrate", help="migrer la base puis quitter")
    migrate.add_argument("--db", type=Path, help=_DB_HELP)
    backup = commands.add_parser(
        "backup", help="copy the SQLite database to FILE, safely while the bot runs"
    )
    backup.add_argument("file", type=Path, metavar="FILE")
    backup.add_argument("--db", type=Path, help=_DB_HELP)

    ask = commands.add_parser("ask", help="chercher dans le contenu (une ligne JSON par ligne lue)")
    ask.add_argument("query", nargs="?", help="la question ; sans elle, lire stdin")
    ask.add_argument("--lang", default="fr", help="langue des titres affichés (défaut fr)")
    ask.add_argument("--json", action="store_true", help="JSON aussi pour une seule question")

    content = commands.add_parser("content", help="travailler sur un pack de contenu")
    actions = content.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="valider un pack en listant tous les problèmes")
    check.add_argument("path", nargs="?", type=Path, help="dossier (défaut : CIVICBOT_CONTENT)")
    check.add_argument(
        "--coverage", action="store_true", help="textes relus / brouillons / manquants par fichier"
    )
    check.add_argument("--uses", action="store_true", help="où chaque terme du glossaire sert")
    po_export = actions.add_parser("export", help="écrire les textes d'une langue en fichier PO")
    po_export.add_argument("--lang", required=True, help="la langue de la traduction")
    po_export.add_argument("--format", choices=("po",), default="po", help="défaut po")
    po_export.add_argument("--out", type=Path, help="fichier (défaut : stdout)")
    po_import = actions.add_parser("import", help="écrire un fichier PO traduit dans le pack")
    po_import.add_argument("file", type=Path, help="le fichier PO")
    po_import.add_argument(
        "--skip-stale",
        action="store_true",
        help="ignorer (au lieu de refuser) les entrées dont le français a changé",
    )
    schema = actions.add_parser("schema", help="écrire les schémas JSON des fichiers YAML du pack")
    schema.add_argument("--out", type=Path, help="dossier (défaut : schema/ dans le pack)")
    gaps = actions.add_parser("gaps", help="questions mal servies par la recherche")
    gaps.add_argument("--db", type=Path, help=_DB_HELP)
    gaps.add_argument("--days", type=int, default=90, help="remonter jusque-là (défaut 90)")
    gaps.add_argument("--limit", type=int, default=30, help="combien (défaut 30)")
    from bot.commands.audio import add_parser as add_audio_parser

    add_audio_parser(actions)

    complaints = commands.add_parser("complaints", help="les signalements reçus")
    complaint_actions = complaints.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = complaint_actions.add_parser(
        "export", help="écrire les signalements sur stdout, sans leurs auteurs"
    )
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="défaut csv")
    export.add_argument(
        "--since",
        type=_day,
        metavar="YYYY-MM-DD",
        help="seulement depuis ce jour",
    )
    export.add_argument("--cso", metavar="ID", help="seulement ceux confiés à cette association")
    export.add_argument(
        "--with-contact",
        action="store_true",
        help="ajouter le contact des citoyens qui l'ont accepté",
    )
    export.add_argument(
        "--delimiter",
        choices=(",", ";"),
        default=",",
        help="CSV separator; ';' for Excel in a French locale (default ',')",
    )
    export.add_argument(
        "--excel", type=Path, metavar="FILE", help="write an XLSX workbook to FILE instead"
    )
    export.add_argument("--db", type=Path, help=_DB_HELP)

    quiz = commands.add_parser("quiz", help="statistiques des quiz")
    quiz_actions = quiz.add_subparsers(dest="action", metavar="ACTION", required=True)
    stats = quiz_actions.add_parser(
        "stats", help="par quiz et question : réponses, part de bonnes réponses, par genre et âge"
    )
    stats.add_argument("--json", action="store_true", help="les chiffres en JSON")
    stats.add_argument("--db", type=Path, help=_DB_HELP)

    cso = commands.add_parser("cso", help="les associations et leurs chats")
    cso_actions = cso.add_subparsers(dest="action", metavar="ACTION", required=True)
    link = cso_actions.add_parser("link-code", help="code unique pour relier un chat")
    link.add_argument("cso_id", metavar="CSO_ID")
    link.add_argument("--db", type=Path, help=_DB_HELP)
    listing = cso_actions.add_parser("list", help="associations, zones et chats")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--db", type=Path, help=_DB_HELP)

    barometer = commands.add_parser("barometer", help="tours du baromètre de bonne gouvernance")
    barometer_actions = barometer.add_subparsers(dest="action", metavar="ACTION", required=True)
    opening = barometer_actions.add_parser(
        "open",
        help="ouvrir un tour ; invitations le premier jour",
    )
    opening.add_argument(
        "--commune",
        action="append",
        required=True,
        metavar="NOM",
        help="nom ou code de commune (un cercle ou une région : toutes ses communes) ; répétable",
    )
    opening.add_argument("--from", dest="start", type=_day, required=True, metavar="YYYY-MM-DD")
    opening.add_argument(
        "--to", type=_day, required=True, metavar="YYYY-MM-DD", help="dernier jour des réponses"
    )
    opening.add_argument("--cso", metavar="ID", help="association qui reçoit les résultats")
    opening.add_argument("--db", type=Path, help=_DB_HELP)
    rounds = barometer_actions.add_parser("list", help="tous les tours et leur état")
    rounds.add_argument("--db", type=Path, help=_DB_HELP)
    agreed = barometer_actions.add_parser(
        "actions",
        help="actions convenues ; participants prévenus",
    )
    agreed.add_argument("round_id", metavar="ROUND")
    agreed.add_argument("--text", required=True)
    agreed.add_argument("--db", type=Path, help=_DB_HELP)
    round_export = barometer_actions.add_parser(
        "export", help="les résultats d'un tour et ses réponses anonymes (petits groupes exclus)"
    )
    round_export.add_argument("--round", required=True, metavar="ID")
    round_export.add_argument("--format", choices=("csv", "json"), default="csv")
    round_export.add_argument("--db", type=Path, help=_DB_HELP)

    for name, text in (
        ("stats", "statistiques du programme, groupes de moins de 5 cachés"),
        ("report", "les statistiques en une page HTML autonome avec graphiques"),
    ):
        figures = commands.add_parser(name, help=text)
        figures.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="depuis ce jour")
        figures.add_argument(
            "--region", metavar="NOM", help="une région, par nom ou code (Segou, ML04)"
        )
        figures.add_argument("--db", type=Path, help=_DB_HELP)
        figures.add_argument(
            "--lang",
            choices=("fr", "en"),
            help="langue du texte (défaut : CIVICBOT_STAFF_LANG, fr)",
        )
        if name == "report":
            figures.add_argument("--html", type=Path, required=True, metavar="FILE")
        else:
            shape = figures.add_mutually_exclusive_group()
            shape.add_argument("--json", action="store_true")
            shape.add_argument("--csv", action="store_true")
            shape.add_argument(
                "--format",
                choices=("tidy-csv",),
                help="tidy-csv: one data value a line (indicator, breakdown, P-code, period)",
            )
    from bot.campaigns.args import add_parser as add_campaign_parser

    add_campaign_parser(commands)
    return parser


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("date attendue, par exemple 2026-01-31") from None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if isinstance(sys.stdin, io.TextIOWrapper):
        # Bytes that are not UTF-8 become U+FFFD (`ask`, `chat --jsonl`): a bad line, never a
        # dead loop.
        sys.stdin.reconfigure(errors="replace")
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
    from bot.staff import set_lang

    staff_lang = args.staff_lang or settings.staff_lang
    if args.command in ("stats", "report") and args.lang:
        staff_lang = args.lang
    set_lang(staff_lang)
    if args.command in ("content", "ask"):
        from bot.commands import content as content_cli

        return content_cli.run(args, settings)
    if args.command == "complaints":
        from bot.commands import export

        return export.run(args, settings)
    if args.command == "quiz":
        from bot.commands import quiz as quiz_cli

        return quiz_cli.run(args, settings)
    if args.command == "cso":
        from bot.commands import cso as cso_cli

        return cso_cli.run(args, settings)
    if args.command == "barometer":
        from bot.commands import barometer as barometer_cli

        return barometer_cli.run(args, settings)
    if args.command == "campaign":
        from bot.commands import campaign as campaign_cli

        return campaign_cli.run(args, settings)
    if args.command in ("stats", "report"):
        from bot.commands import stats as stats_cli

        return stats_cli.run(args, settings)
    if args.command == "backup":
        from bot.commands import backup

        return backup.run(settings.db, args.file)
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "chat":
        return asyncio.run(_chat(settings, jsonl=args.jsonl, user=args.user))
    return asyncio.run(_run(settings))


async def _migrate(settings: object) -> int:
    from bot.settings import Settings
    from bot.store import open_store

    assert isinstance(settings, Settings)
    store = await open_store(settings.db, migrate=False)
    try:
        applied = await store.migrate()
    finally:
        await store.close()
    from bot.staff import say

    print(say("migrated", count=len(applied)) if applied else say("up_to_date"))
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
    from bot.store import postgres_url
    from storage.sqlite_lock import AlreadyRunning, WriterLock

    # One writer per SQLite file; PostgreSQL takes any number of processes (and has no file).
    lock = WriterLock(settings.db) if postgres_url(settings.db) is None else None
    try:
        if lock is not None:
            lock.acquire()
    except AlreadyRunning as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        app = await build_app(settings)
        try:
            return await run_channels(app)
        finally:
            await app.close()
    finally:
        if lock is not None:
            lock.release()
