"""Voice notes on WhatsApp, end to end: the real aiohttp app against the fake Graph API."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from content.audio import silent_opus
from content.pack import BUNDLED_PACK, load_pack
from tests.fake_graph import Sent, document, voice
from tests.test_whatsapp import Rig, close_rig, make_rig

CSO, DESK = "22370000101", "22370000102"
KEY = "article:quota-genre:1"


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    shutil.copytree(BUNDLED_PACK, tmp_path / "pack")
    r = await make_rig(tmp_path, load_pack(tmp_path / "pack"))
    for partner, wa_id in (("exemple-kayes", CSO), ("bureau-programme", DESK)):
        code = f"W{wa_id[-4:]}"
        await r.onboard(wa_id)  # on WhatsApp a CSO's chat is a member's own private chat
        await r.store.create_link_code(partner, code, datetime.now(UTC) + timedelta(days=1))
        assert "relié" in (await r.say(wa_id, f"/lier {code}"))[0].text
    yield r
    await close_rig(r)


def pack_dir(rig: Rig) -> Path:
    return rig.engine.content().path


async def listener(rig: Rig, wa_id: str) -> None:
    await rig.onboard(wa_id)
    await rig.tap(wa_id, "menu:profile")
    out = await rig.tap(wa_id, "profile:listen:on")
    assert "note vocale" in out[0].text


async def record(rig: Rig, media_id: str, data: bytes) -> list[Sent]:
    out = await rig.say(CSO, "/enregistrer quota-genre 1 fr")
    assert "Répondez à ce message par une note vocale" in out[0].text
    rig.graph.add_media(media_id, data)
    return await rig.send(CSO, voice(CSO, media_id))


async def test_recorded_on_whatsapp_approved_heard_by_media_id_and_uploaded_again(rig: Rig) -> None:
    graph = rig.graph
    out = await record(rig, "MEDIA-REC-1", silent_opus(25))
    assert out[0].type == "audio" and "brouillon" in out[1].text
    assert graph.uploads == [graph.media["MEDIA-REC-1"]]  # played back from our own upload
    index = yaml.safe_load((pack_dir(rig) / "audio.yaml").read_text())
    assert index["recordings"][KEY]["fr"]["recorded_by"] == "exemple-kayes"
    assert CSO not in yaml.safe_dump(index)

    await rig.worker().run_once()  # the desk hears the draft in its chat
    desk = graph.sent(DESK)
    assert desk[-2].type == "audio" and "Nouvel enregistrement" in desk[-1].text
    approve = next(b["id"] for b in desk[-1].buttons if b["title"] == "Approuver")
    out = await rig.tap(DESK, approve)
    assert "approuvé" in out[0].text

    await listener(rig, "22370000201")
    out = await rig.tap("22370000201", "learn:article:quota-genre")
    first_id = out[0].payload["audio"]["id"]
    assert out[0].type == "audio" and out[1].text.startswith("Loi 2015-052")
    assert len(graph.uploads) == 1  # the same media id as the playback: no new upload

    graph.expire_media()  # thirty days later, Meta has forgotten the file
    out = await rig.tap("22370000201", "learn:article:quota-genre")
    assert [kind for kind, _ in graph.refused] == ["131053"]
    assert out[0].type == "audio" and out[0].payload["audio"]["id"] != first_id
    assert len(graph.uploads) == 2
    out = await rig.tap("22370000201", "learn:article:quota-genre")
    assert len(graph.uploads) == 2 and out[0].payload["audio"]["id"] not in graph.expired


async def test_bad_recordings_on_whatsapp(rig: Rig) -> None:
    out = await rig.say(CSO, "/enregistrer quota-genre 7 fr")
    assert "n'existe pas" in out[0].text
    out = await rig.say(CSO, "/enregistrer article-inconnu 1 fr")
    assert "Aucun article" in out[0].text
    await rig.say(CSO, "/enregistrer quota-genre 2 fr")
    rig.graph.add_media("MEDIA-PDF", b"%PDF-1.4")
    out = await rig.send(CSO, document(CSO, "MEDIA-PDF"))
    assert "J'attends une note vocale" in out[0].text
    rig.graph.add_media("MEDIA-LONG", silent_opus(400))
    out = await rig.send(CSO, voice(CSO, "MEDIA-LONG"))
    assert "trop long" in out[0].text
    assert not (pack_dir(rig) / "audio.yaml").exists() and not rig.graph.uploads


async def test_a_whole_quiz_by_ear_answered_with_typed_numbers(rig: Rig) -> None:
    pack = rig.engine.content()
    assert pack.audio is not None
    quiz = next(iter(pack.quizzes.values()))
    for n in range(1, len(quiz.questions) + 1):
        key = f"quiz:{quiz.id}:{n}"
        pack.audio.save_draft(
            key,
            "fr",
            silent_opus(8 + n),
            recorded_by="bureau-programme",
            recorder=None,
            now=datetime.now(UTC),
        )
        pack.audio.set_state(key, "fr", "approved")
    citizen = "22370000301"
    await listener(rig, citizen)
    out = await rig.say(citizen, "quiz")
    number = 1 + [row["id"] for row in out[-1].rows or out[-1].buttons].index(
        f"quiz:start:{quiz.id}"
    )
    out = await rig.say(citizen, str(number))
    heard = set()
    for question in quiz.questions:
        assert out[-2].type == "audio", [s.type for s in out]
        heard.add(out[-2].payload["audio"]["id"])
        # The recording reads the answers in the pack's order: their numbers follow it.
        right = 1 + next(i for i, option in enumerate(question.options) if option.correct)
        out = await rig.say(citizen, str(right))
        assert "Bonne réponse" in out[0].text
        out = await rig.say(citizen, "1")  # next question, or the score after the last
    assert f"{len(quiz.questions)}/{len(quiz.questions)}" in " ".join(s.text for s in out)
    assert len(heard) == len(quiz.questions) == len(rig.graph.uploads)
