"""The operators' port: what /readyz and /metrics read from the database."""

from __future__ import annotations

from typing import Protocol


class OpsStore(Protocol):
    """Schema state and outbox figures, the same for every process of a deployment."""

    async def schema_versions(self) -> tuple[int, int]:
        """(highest migration applied, highest shipped); raises if the database is away."""
        ...

    async def outbox_depth(self) -> list[tuple[str, str, int]]:
        """Outbox rows counted by (kind, state)."""
        ...

    async def delivery_failures(self) -> list[tuple[str, int]]:
        """Failed and dead rows counted by their last error."""
        ...

    async def campaign_states(self) -> list[tuple[str, str, int]]:
        """Campaign rows counted by (campaign name, state)."""
        ...
