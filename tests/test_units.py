"""Small units a user still notices: locks, strings, keywords, settings, terminal layout."""

from __future__ import annotations

import ast
import asyncio
import contextlib
from pathlib import Path

import pytest

from bot.channels.console import render
from bot.settings import Settings
from content.pack import ContentPack, PackError, load_pack
from content.strings import COMMANDS
from content.text import _fold_remembered, fold
from handlers.engine import Engine
from handlers.locks import KeyedLocks
from handlers.messages import Choice, Inbound
from handlers.profile import AGE_GROUPS, GENDERS
from handlers.typed.words import _pick_remembered, _words_remembered, pick, words_of
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parent.parent


async def test_keyed_locks_serialise_a_key_and_forget_it() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def work(key: str, tag: str) -> None:
        async with locks.hold(key):
            order.append(f"{tag}-in")
            await asyncio.sleep(0.01)
            order.append(f"{tag}-out")

    await asyncio.gather(work("a", "1"), work("a", "2"), work("b", "3"))
    assert order.index("1-out") < order.index("2-in")
    assert len(locks) == 0


async def test_a_waiter_cancelled_leaves_the_key_free() -> None:
    locks = KeyedLocks()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("a"):
            entered.set()
            await release.wait()

    async def waiter() -> None:
        async with locks.hold("a"):
            raise AssertionError("a cancelled waiter never gets the lock")

    first = asyncio.create_task(holder())
    await entered.wait()
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    second.cancel()
    release.set()
    await first
    with contextlib.suppress(asyncio.CancelledError):
        await second
    assert len(locks) == 0
    async with locks.hold("a"):  # and the key can be held again at once
        assert len(locks) == 1


async def test_engine_locks_do_not_grow_with_users(engine: Engine, clock: FakeClock) -> None:
    await asyncio.gather(
        *(
            engine.handle(
                Inbound(
                    channel="t", user_id=str(i), chat_id=str(i), received_at=clock(), text="bonjour"
                )
            )
            for i in range(300)
        )
    )
    assert engine.locks_in_use == 0


def _string_keys_used() -> set[str]:
    keys: set[str] = set()
    for path in (ROOT / "handlers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("t", "get")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and "." in node.args[0].value
            ):
                keys.add(node.args[0].value)
    # Keys built from values: enumerate the values.
    keys |= {f"profile.age.{band}" for band in AGE_GROUPS}
    keys |= {f"profile.gender.{g}" for g in GENDERS}
    return keys


def test_every_string_key_used_exists_in_french(pack: ContentPack) -> None:
    used = _string_keys_used()
    assert len(used) > 30
    missing = sorted(k for k in used if k not in pack.texts.catalogs["fr"])
    assert missing == []


def test_every_command_has_keywords_in_every_language(pack: ContentPack) -> None:
    for command in COMMANDS:
        assert command in pack.texts.keywords.values()
    for word, command in [
        ("aide", "help"),
        ("dɛmɛ", "help"),
        ("ɲinɛ", "forget"),
        ("OUBLIER", "forget"),
        ("Langue", "language"),
        ("stop", "stop"),
    ]:
        assert pack.texts.command_for(word) == command


def test_bambara_interface_is_marked_for_review(pack: ContentPack) -> None:
    assert "bm" in pack.ui_needs_review


def test_missing_translation_falls_back_to_french(pack: ContentPack) -> None:
    assert pack.texts.get("bm", "lang.first_contact") == pack.texts.get("fr", "lang.first_contact")
    assert pack.texts.get("fr", "no.such.key") == "no.such.key"


def test_broken_ui_file_is_reported_with_file_and_path(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "pack"
    shutil.copytree(ROOT / "content" / "packs" / "mali", copy)
    ui = copy / "ui" / "bm.yaml"
    ui.write_text(ui.read_text(encoding="utf-8") + "\nsurprise: 1\n", encoding="utf-8")
    (copy / "ui" / "fr.yaml").write_text("strings: [", encoding="utf-8")
    with pytest.raises(PackError) as caught:
        load_pack(copy)
    text = "\n".join(caught.value.problems)
    assert "ui/bm.yaml: surprise" in text and "ui/fr.yaml: not valid YAML" in text


def test_settings_from_environment_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICBOT_TELEGRAM_TOKEN", "123:SECRET-TOKEN")
    monkeypatch.setenv("CIVICBOT_DB", "elsewhere.sqlite3")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert str(settings.db) == "elsewhere.sqlite3"
    assert settings.channels == ["telegram"]
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings.model_dump())


def test_terminal_layout_fits_80_columns() -> None:
    out = render(
        {
            "chat": "me",
            "text": "mot " * 60,
            "choices": [{"id": "a", "label": "Connaître mes droits " * 6}],
        },
        own_chat="me",
    )
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "  1. Connaître" in out
    assert render({"chat": "cso", "text": "x", "choices": []}, own_chat="me").startswith("[to cso]")


async def test_info_logs_carry_no_message_text_or_user_id(
    engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    for text in ("bonjour 76123456", "1", "mon secret 76123456"):
        await engine.handle(
            Inbound(
                channel="whatsapp",
                user_id="22376123456",
                chat_id="22376123456",
                received_at=clock(),
                message_id=text,
                text=text,
            )
        )
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelname == "INFO")
    assert "handled" in logged
    assert "76123456" not in logged and "secret" not in logged


def test_log_pseudonyms_cannot_be_recomputed_from_a_phone_number() -> None:
    import hashlib

    from handlers.engine_support import pseudonym_key

    key = "whatsapp:22376123456"
    token = pseudonym_key(key)
    assert token == pseudonym_key(key)  # stable within a run, so logs can be followed
    # Someone who tries every phone number with an unkeyed hash does not find it.
    for size in (5, 6):
        assert token != hashlib.blake2s(key.encode(), digest_size=size).hexdigest()


@pytest.mark.parametrize(
    "text", ["appelez moi au 76 12 34 56", "ma voisine me frappe tous les jours", "99887766"]
)
def test_typed_text_that_could_be_personal_is_not_cached(text: str) -> None:
    # Matching typed words is sped up by caches of what people type to move around; what
    # could be personal (a phone number, a sentence about oneself) must not stay in them.
    screen = (Choice("menu:main", "Menu"), Choice("complaint:cancel", "Annuler"))
    caches = (_fold_remembered, _words_remembered, _pick_remembered)
    pick(screen, "suite")  # the screen's labels are content: they may be cached
    before = [c.cache_info() for c in caches]
    fold(text)
    words_of(text)
    pick(screen, text)
    assert [c.cache_info() for c in caches] == before
    fold("menu")
    words_of("menu")
    pick(screen, "menu")
    after = [c.cache_info() for c in caches]
    assert all(a.hits + a.misses > b.hits + b.misses for a, b in zip(after, before, strict=True))
