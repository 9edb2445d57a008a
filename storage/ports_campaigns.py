"""Campaign ports: audiences, campaign rows and their outbox rows, counts and outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from storage.campaign_records import AudienceMember, CampaignRecord, NewCampaignRow


class CampaignStore(Protocol):
    """What `civicbot campaign` needs from the database."""

    async def campaign_audience(
        self,
        *,
        channels: Sequence[str],
        regions: Sequence[str] = (),
        communes: Sequence[str] = (),
        languages: Sequence[str] = (),
        genders: Sequence[str] = (),
        age_groups: Sequence[str] = (),
        entry_sources: Sequence[str] = (),
        read_article: str | None = None,
    ) -> list[AudienceMember]:
        """People matching every filter, stopped ones included (flagged) so they can be counted."""
        ...

    async def get_campaign(self, name: str) -> CampaignRecord | None:
        """A campaign by name."""
        ...

    async def campaign_definition(self, name: str) -> str | None:
        """The campaign file's content as recorded when it was first sent."""
        ...

    async def begin_campaign(
        self, name: str, digest: str, definition: str, now: datetime
    ) -> CampaignRecord:
        """Record a campaign about to be enqueued."""
        ...

    async def campaign_recipients(self, prefix: str) -> dict[str, str]:
        """Who already has a row of this campaign: user key -> channel."""
        ...

    async def campaign_last_due(self, prefix: str, channel: str) -> datetime | None:
        """When the campaign's last row on a channel is due."""
        ...

    async def enqueue_campaign_rows(self, rows: Sequence[NewCampaignRow], now: datetime) -> None:
        """Add recipients' outbox rows in one transaction."""
        ...

    async def update_campaign(self, name: str, **fields: Any) -> None:
        """Change a campaign's status and counters."""
        ...

    async def campaign_counts(self, prefix: str) -> dict[str, int]:
        """The campaign's rows by state, with platform receipts."""
        ...

    async def cancel_campaign(self, name: str, prefix: str, now: datetime) -> int:
        """Mark the campaign cancelled and its unsent rows dead; return how many rows."""
        ...

    async def campaign_outcomes(
        self, prefix: str, code: str, article: str | None
    ) -> dict[str, int]:
        """Opened the linked article after receiving it, stopped since, and new users by link."""
        ...
