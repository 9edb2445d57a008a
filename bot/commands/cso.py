"""`civicbot cso link-code` and `civicbot cso list`: the CSO directory and its chats."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.settings import Settings
from bot.staff import lang, say
from complaints.reference import ALPHABET
from content.pack import PackError, load_pack
from content.places import resolver

CODE_LENGTH = 8
CODE_DAYS = 7


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch a cso command."""
    try:
        pack = load_pack(settings.content)
    except PackError as exc:
        print("\n".join(exc.problems))
        return 1
    if args.action == "link-code":
        from bot.commands.cso_names import find_partner

        partner, problem = find_partner(pack, args.cso_id)
        if partner is None:
            print(problem, file=sys.stderr)
            return 1
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        asyncio.run(_save_code(settings, partner.id, code))
        print(say("link_code", name=partner.name, code=code))
        print(say("link_how", code=code, days=CODE_DAYS))
        return 0
    chats = asyncio.run(_chats(settings))
    rows: list[dict[str, Any]] = []
    for partner in pack.partners:
        area = partner.area
        rows.append(
            {
                "id": partner.id,
                "name": partner.name,
                "example": partner.example,
                "desk": partner.desk,
                "regions": area.regions,
                "cercles": area.cercles,
                "communes": area.communes,
                "categories": partner.categories or ["*"],
                "ack_days": partner.ack_days,
                "chats": [
                    {"channel": channel, "chat": chat, "linked_at": at.isoformat()}
                    for pid, channel, chat, at in chats
                    if pid == partner.id
                ],
            }
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    places = resolver(pack.communes)
    for row in rows:
        flags = say("desk") if row["desk"] else ""
        flags += " [exemple]" if row["example"] and lang() == "fr" else ""
        flags += " [example]" if row["example"] and lang() == "en" else ""
        codes = row["regions"] + row["cercles"] + row["communes"]
        # Names next to codes: 'Segou (ML04)'.
        area_text = ", ".join(f"{places.name(c)} ({c})" for c in codes) or say("everywhere")
        categories = [
            pack.pick(category.label, "fr") if (category := pack.category(c)) else c
            for c in row["categories"]
            if c != "*"
        ]
        print(
            f"{row['id']}{flags} : {row['name']}"
            if lang() == "fr"
            else f"{row['id']}{flags}: {row['name']}"
        )
        print(
            say("area", area=area_text, categories=", ".join(categories) or say("all_categories"))
            + say("ack_within", days=row["ack_days"])
        )
        linked = row["chats"]
        print(
            say(
                "chats",
                chats=", ".join(f"{c['channel']}:{c['chat']}" for c in linked) or say("none"),
            )
        )
    return 0


async def _save_code(settings: Settings, partner_id: str, code: str) -> None:
    from bot.store import open_store

    store = await open_store(settings.db)
    try:
        await store.create_link_code(
            partner_id, code, datetime.now(UTC) + timedelta(days=CODE_DAYS)
        )
    finally:
        await store.close()


async def _chats(settings: Settings) -> list[tuple[str, str, str, datetime]]:
    from bot.store import open_store

    store = await open_store(settings.db)
    try:
        return await store.linked_chats()
    finally:
        await store.close()
