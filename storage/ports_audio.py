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


class AudioUploads(Protocol):
    """Platform ids of voice notes already uploaded, shared by every sender of a deployment."""

    async def uploaded_audio(self, channel: str, digest: str) -> tuple[str, datetime] | None:
        """The platform id of a file already uploaded to this channel, and when."""
        ...

    async def save_uploaded_audio(
        self, channel: str, digest: str, remote_id: str, now: datetime
    ) -> None:
        """Keep the platform id of an uploaded file."""
        ...
