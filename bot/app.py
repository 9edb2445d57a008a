"""Composition root: the store, the content pack and the engine, built from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.ops import MeteredEngine, Metrics
from bot.settings import Settings
from bot.store import open_store
from content.pack import ContentPack, PackError, load_pack
from handlers.engine import EngineSettings, utc_now
from storage.ports import Store

log = logging.getLogger(__name__)


@dataclass
class PackHolder:
    """The pack in use; a reload that fails validation keeps the old one."""

    path: Path
    # Languages whose voice-note drafts are served (issue 18), applied to every loaded pack.
    audio_drafts: frozenset[str] = frozenset()
    current: ContentPack = field(init=False)

    def __post_init__(self) -> None:
        self.current = self._drafts(load_pack(self.path))

    def _drafts(self, pack: ContentPack) -> ContentPack:
        if pack.audio is not None:
            pack.audio.serve_drafts = self.audio_drafts
        return pack

    def get(self) -> ContentPack:
        """The pack in use now."""
        return self.current

    def reload(self) -> bool:
        """Load the pack again; on errors log them all and keep the old pack."""
        try:
            self.current = self._drafts(load_pack(self.path))
        except PackError as exc:
            log.error(
                "content pack refused, keeping the previous one:\n%s", "\n".join(exc.problems)
            )
            return False
        log.info("content pack reloaded")
        return True


@dataclass
class App:
    """What every channel needs."""

    settings: Settings
    store: Store
    packs: PackHolder
    engine: MeteredEngine

    async def close(self) -> None:
        """Release the database."""
        await self.store.close()


async def build_app(settings: Settings) -> App:
    """Open the database (migrating it), load the pack, build the engine."""
    drafts = frozenset(code.strip() for code in settings.audio_drafts.split(",") if code.strip())
    packs = PackHolder(settings.content, drafts)
    store = await open_store(settings.db)
    # Platforms redeliver within minutes or hours; ids older than the retention are dead weight.
    await store.prune_inbound(utc_now() - timedelta(days=settings.inbound_retention_days))
    engine = MeteredEngine(
        store,
        packs.get,
        metrics=Metrics(),
        settings=EngineSettings(
            conversation_ttl=settings.conversation_ttl,
            max_text_length=settings.max_text_length,
            complaint_daily_limit=settings.complaints_per_day,
        ),
    )
    return App(settings, store, packs, engine)
