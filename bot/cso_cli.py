"""`civicbot cso link-code` and `civicbot cso list`: the CSO directory and its chats."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.settings import Settings
from complaints.reference import ALPHABET
from content.pack import PackError, load_pack

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
        partner = pack.partner(args.cso_id)
        if partner is None:
            known = ", ".join(p.id for p in pack.partners)
            print(f"no CSO '{args.cso_id}' in partners.yaml (known: {known})")
            return 1
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        asyncio.run(_save_code(settings, partner.id, code))
        print(f"Link code for {partner.name}: {code}")
        print(f"Send '/lier {code}' from the CSO's chat within {CODE_DAYS} days; it works once.")
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
    for row in rows:
        flags = " [desk]" if row["desk"] else ""
        flags += " [example]" if row["example"] else ""
        area_text = ", ".join(row["regions"] + row["cercles"] + row["communes"]) or "everywhere"
        print(f"{row['id']}{flags}: {row['name']}")
        print(
            f"  area: {area_text}; categories: {', '.join(row['categories'])}; "
            f"acknowledge within {row['ack_days']} days"
        )
        linked = row["chats"]
        print("  chats: " + (", ".join(f"{c['channel']}:{c['chat']}" for c in linked) or "none"))
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
