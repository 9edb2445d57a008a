"""A CSO's inbox in its own chat: the backlog on `/lier`, `/plaintes`, `/plainte REF`, digest."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest

from content.pack import ContentPack
from handlers.complaints.contact import contact_line, readable
from handlers.complaints.inbox import send_digest
from handlers.complaints.submit import Draft, submit_complaint
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.test_dialog_complaints import REF, World, ids, texts
from tests.test_dialog_complaints import world as world

KAYES = ["ML010101", "ML010102", "ML010103", "ML010104", "ML010105"]


async def file(
    store: SqliteStore, pack: ContentPack, clock: FakeClock, count: int, seed: int = 7
) -> list[str]:
    """Complaints filed in the region of Kayes, one a day; their references, oldest first."""
    rng = random.Random(seed)
    references = []
    for n in range(count):
        async with store.transaction() as tx:
            record, _ = await submit_complaint(
                tx,
                pack,
                clock(),
                rng,
                Draft(category="eau", commune=KAYES[n % 5], description=f"Forage en panne n°{n}"),
                user_key=None,
                channel="console",
                chat_id=None,
                lang="fr",
            )
        references.append(record.reference)
        clock.advance(days=1)
    return references


async def test_the_backlog_arrives_one_by_one_after_lier(
    world: World, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    filed = await file(store, pack, clock, 3)
    clock.advance(days=4)
    out = await world.link("exemple-kayes", "cso-kayes")
    said = texts(out, "cso-kayes")
    assert "vous attendaient avant que ce chat soit relié : 3" in said
    # Oldest first, each with the buttons to act on it.
    # (overdue ones are also reminded by the deadline checker in the same exchange)
    assert list(dict.fromkeys(m[0] for m in REF.finditer(said))) == filed
    assert f"cso:ack:{filed[0].replace('-', '')}" in ids(out, "cso-kayes")
    assert "délai d'accusé de réception dépassé" in said  # the first waited a week
    # A second chat of the same CSO is not flooded again.
    again = await world.link("exemple-kayes", "cso-kayes-2", member="issa")
    assert not REF.search(texts(again, "cso-kayes-2"))


async def test_many_waiting_get_a_summary_paged_by_buttons(
    world: World, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    filed = await file(store, pack, clock, 9)
    out = await world.link("exemple-kayes", "cso-kayes")
    summary = next(r for r in out if "vous attendaient" in r["text"])
    assert "9 signalements vous attendaient" in summary["text"] and "page 1/2" in summary["text"]
    assert [m[0] for m in REF.finditer(summary["text"])] == filed[:6]
    choices = [c["id"] for c in summary["choices"]]
    assert len(choices) <= 8 and "inbox:list:1" in choices
    second = await world.tap("moussa", "inbox:list:1", chat="cso-kayes")
    assert [m[0] for m in REF.finditer(texts(second, "cso-kayes"))] == filed[6:]
    assert "inbox:list:0" in ids(second, "cso-kayes")


async def test_plaintes_and_plainte_ref_in_a_group(
    world: World, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    filed = await file(store, pack, clock, 8)
    await world.tap("awa", f"cso:ack:{filed[2].replace('-', '')}", chat="cso-kayes")
    # Moussa never wrote to the bot: the group's commands work for him anyway.
    listing = texts(await world.say("moussa", "/plaintes", chat="cso-kayes"), "cso-kayes")
    assert "Signalements ouverts : 8 (page 1/2)" in listing
    # Those waiting for an acknowledgement come first; the acknowledged one is last.
    assert "Envoyé :" in listing and filed[2] not in listing
    page2 = texts(await world.say("moussa", "/plaintes 2", chat="cso-kayes"), "cso-kayes")
    assert "Reçu par l'association :" in page2 and filed[2] in page2
    typed = filed[2].replace("-", "").lower()
    one = await world.say("moussa", f"/plainte {typed}", chat="cso-kayes")
    shown = texts(one, "cso-kayes")
    assert filed[2] in shown and "Historique :" in shown
    assert re.search(r"accusé de réception", shown.split("Historique :")[1])
    assert f"cso:progress:{filed[2].replace('-', '')}" in ids(one, "cso-kayes")
    unknown = texts(await world.say("moussa", "/plainte ZZZZ-ZZZZ", chat="cso-kayes"), "cso-kayes")
    assert "Aucun signalement" in unknown


async def test_commands_alone_in_a_group_are_answered(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    usage = texts(await world.say("moussa", "/plainte", chat="cso-kayes"), "cso-kayes")
    assert "/plainte RÉFÉRENCE" in usage
    barometer = texts(await world.say("moussa", "/barometre", chat="cso-kayes"), "cso-kayes")
    assert "/barometre ouvrir" in barometer
    outsider = texts(await world.say("moussa", "/plaintes", chat="other-group"), "other-group")
    assert "/lier" in outsider


async def test_another_cso_cannot_read_a_complaint(
    world: World, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    await world.link("exemple-segou", "cso-segou")
    [reference] = await file(store, pack, clock, 1)
    out = texts(await world.say("ali", f"/plainte {reference}", chat="cso-segou"), "cso-segou")
    assert "Forage en panne" not in out and "Aucun signalement" in out


async def test_every_forward_leads_to_the_inbox_and_the_digest_lists_the_late(
    world: World, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await file(store, pack, clock, 2)
    rows = await store.fetch_all("SELECT payload FROM outbox WHERE kind = 'forward'")
    assert rows and all('"inbox:list:0"' in row[0] for row in rows)
    clock.advance(days=10)
    assert await send_digest(store, pack, clock()) == 1
    [digest] = await store.fetch_all("SELECT payload FROM outbox WHERE kind = 'digest'")
    assert "au-delà du délai : 2" in digest[0]
    await send_digest(store, pack, clock() + timedelta(hours=1))
    assert len(await store.fetch_all("SELECT id FROM outbox WHERE kind = 'digest'")) == 1


async def test_the_forward_names_the_citizen_and_how_to_reach_them(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("22370111222")
    await world.say("22370111222", "plainte")
    await world.tap("22370111222", "complaint:new")
    await world.tap("22370111222", "complaint:cat:eau")
    await world.say("22370111222", "Kayes")
    await world.tap("22370111222", "complaint:skip_place")
    await world.say("22370111222", "La pompe du forage est en panne depuis deux semaines.")
    await world.tap("22370111222", "complaint:media_done")
    asked = texts(await world.tap("22370111222", "complaint:consent:yes"), "22370111222")
    assert "votre nom" in asked  # the citizen is told, in their words, what is shared
    out = await world.tap("22370111222", "complaint:confirm")
    forwarded = texts(out, "cso-kayes")
    assert "Contact (accepté par le citoyen) : 22370111222 — console 22370111222" in forwarded
    assert "votre nom" not in forwarded and "votre identifiant" not in forwarded


def test_contact_lines_per_platform() -> None:
    assert contact_line("Aminata Coulibaly", "whatsapp", "22370111222") == (
        "Aminata Coulibaly — WhatsApp +22370111222"
    )
    assert contact_line("Awa", "telegram", "4410") == "Awa — Telegram tg://user?id=4410"
    # A sentence stored before the change reads the same way.
    old = "votre nom « Aminata Coulibaly » et votre identifiant whatsapp 22370111222"
    assert readable(old) == "Aminata Coulibaly — WhatsApp +22370111222"


async def _forwarded(world: World) -> str:
    from tests.test_dialog_complaints import _submit

    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, out = await _submit(world, "fanta")
    assert "Nouveau signalement" in texts(out, "cso-kayes")
    return reference


async def test_aide_in_a_cso_chat_tells_staff_what_they_can_do(world: World) -> None:
    await _forwarded(world)
    for typed in ["/aide", "aide"]:
        out = await world.say("awa", typed, chat="cso-kayes")
        said = texts(out, "cso-kayes")
        assert "/plaintes" in said and "/plainte" in said, (typed, said)
        assert "message privé" not in said, (typed, said)
        assert "inbox:list:0" in ids(out, "cso-kayes")


async def test_an_action_typed_in_a_cso_chat_is_not_met_with_silence(world: World) -> None:
    # Staff type "resolu" or "1" under a forward as they would in a private chat: the bot
    # cannot tell which complaint they mean, so it says how to act, instead of nothing.
    reference = await _forwarded(world)
    for typed in ["resolu", "Résolu", "1", "pas pour nous", "question au citoyen", "en cours"]:
        out = await world.say("awa", typed, chat="cso-kayes")
        said = texts(out, "cso-kayes")
        assert "bouton" in said and "/plainte" in said, (typed, said)
    async with world.store.transaction() as tx:
        record = await tx.complaint_by_reference(reference)
    assert record is not None and record.status == "submitted"  # nothing was changed


async def test_chatter_among_staff_in_a_cso_chat_stays_unanswered(world: World) -> None:
    await _forwarded(world)
    for typed in ["ok", "merci Awa", "je m'en occupe demain"]:
        assert texts(await world.say("awa", typed, chat="cso-kayes"), "cso-kayes") == ""


async def test_a_note_typed_after_resolu_is_still_the_note(world: World) -> None:
    reference = await _forwarded(world)
    await world.tap("awa", f"cso:done:{reference.replace('-', '')}", chat="cso-kayes")
    out = await world.say("awa", "en cours de réparation, c'est résolu", chat="cso-kayes")
    assert "bouton" not in texts(out, "cso-kayes"), texts(out, "cso-kayes")
    async with world.store.transaction() as tx:
        record = await tx.complaint_by_reference(reference)
    assert record is not None and record.status == "resolved"


@pytest.mark.parametrize("typed", ["1", "sans message"])
async def test_sans_message_typed_or_numbered_under_the_note_prompt_sends_no_message(
    world: World, typed: str
) -> None:
    reference = await _forwarded(world)
    await world.tap("awa", f"cso:done:{reference.replace('-', '')}", chat="cso-kayes")
    out = await world.say("awa", typed, chat="cso-kayes")
    told = texts(out, "fanta")
    assert "résolu" in told and f"« {typed} »" not in told, told
    assert "Message de l'association" not in told, told


async def test_ok_typed_as_the_question_to_the_citizen_asks_again(world: World) -> None:
    reference = await _forwarded(world)
    await world.tap("awa", f"cso:ask:{reference.replace('-', '')}", chat="cso-kayes")
    out = await world.say("awa", "ok", chat="cso-kayes")
    assert texts(out, "fanta") == "", texts(out, "fanta")  # "« ok »" is no question
    assert "Écrivez votre question" in texts(out, "cso-kayes")
    out = await world.say("awa", "Le forage marche-t-il ?", chat="cso-kayes")
    assert "marche-t-il" in texts(out, "fanta")


async def test_ok_typed_as_the_reason_asks_again(world: World) -> None:
    reference = await _forwarded(world)
    await world.tap("awa", f"cso:notours:{reference.replace('-', '')}", chat="cso-kayes")
    out = await world.say("awa", "d'accord", chat="cso-kayes")
    assert "Pourquoi" in texts(out, "cso-kayes") and texts(out, "fanta") == ""
    out = await world.say("awa", "hors de notre zone", chat="cso-kayes")
    assert "renvoyé" in texts(out, "cso-kayes") and "renvoyé" in texts(out, "fanta")
