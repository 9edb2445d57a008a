"""The audio port: listening preferences and recordings awaited from CSO members."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class AudioTransaction(Protocol):
    """Voice notes (issue 18): listening preferences and recordings awaited from CSO members."""

    async def prefers_audio(self, user_key: str) -> bool:
        """Whether the person asked to hear voice notes before the text."""
        ...

    def set_prefers_audio(self, user_key: str, listen: bool, now: datetime) -> None:
        """Keep the listening preference."""
        ...

    async def audio_pending(
        self, user_key: str, channel: str, chat_id: str
    ) -> tuple[str, str, str, datetime] | None:
        """(key, language, partner, since) a member said they would record in this chat."""
        ...

    def set_audio_pending(
        self,
        user_key: str,
        channel: str,
        chat_id: str,
        pending: tuple[str, str, str] | None,
        now: datetime,
    ) -> None:
        """Await a recording of (key, language, partner) from a member, or stop awaiting it."""
        ...
