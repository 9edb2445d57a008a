"""One-time link codes: spent once under a race, and not guessable by brute force (issue 13)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from content.pack import ContentPack
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.test_dialog_complaints import World, texts


def first_partner(pack: ContentPack) -> str:
    return pack.partners[0].id


async def test_the_same_code_from_two_chats_at_once_links_only_one(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    partner = first_partner(pack)
    world = World(store, pack, clock)
    for trial in range(10):
        code = f"RACE{trial}XYZ"
        await store.create_link_code(partner, code, clock() + timedelta(days=1))
        chats = (f"groupe-a-{trial}", f"groupe-b-{trial}")
        await asyncio.gather(
            *(world.say(f"m{trial}{c[-3]}", f"/lier {code}", chat=c) for c in chats)
        )
        linked = await store.fetch_all(
            "SELECT COUNT(*) FROM partner_chats WHERE chat_id IN (?, ?)", chats
        )
        assert linked == [(1,)], trial


async def test_link_codes_cannot_be_tried_a_thousand_times(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    world = World(store, pack, clock)
    partner = first_partner(pack)
    await store.create_link_code(partner, "GOODCODE", clock() + timedelta(days=1))
    bad = pack.texts.get("fr", "cso.link_bad")
    for guess in range(20):
        out = await world.say("eve", f"/lier GUESS{guess:04d}", chat="groupe-eve")
        assert bad in texts(out, "groupe-eve")
    # Even the right code is refused to this chat now: guessing gets no hint.
    out = await world.say("eve", "/lier GOODCODE", chat="groupe-eve")
    assert bad in texts(out, "groupe-eve")
    # Another chat, with the right code, is not held back by the guesser.
    out = await world.say("awa", "/lier GOODCODE", chat="groupe-awa")
    assert bad not in texts(out, "groupe-awa")
