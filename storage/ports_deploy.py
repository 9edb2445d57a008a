"""Deployment ports: what several bot processes on one database share (a leader, a rate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class RateGrant:
    """Tokens taken from a shared bucket, and the seconds until the next one if short."""

    granted: int
    wait: float


def rate_grant(taken: int, left: float, want: int, rate: float) -> RateGrant:
    """What a take returns: the wait is until the bucket holds one whole token again."""
    wait = 0.0 if taken >= want else max(0.0, 1.0 - left) / rate
    return RateGrant(taken, wait)


class LeaderLock(Protocol):
    """One contender for a deployment-wide role; at most one holder leads at a time."""

    async def acquire(self) -> bool:
        """Try to lead now, without waiting; True if this contender leads (or already did)."""
        ...

    async def holding(self) -> bool:
        """Whether this contender still leads (False once its hold on the database is lost)."""
        ...

    async def release(self) -> None:
        """Stop leading (another contender may take over at once)."""
        ...


@runtime_checkable
class DeploymentStore(Protocol):
    """Leader election and platform rate budgets shared by every process of a deployment."""

    def leader_lock(self, role: str) -> LeaderLock:
        """A new contender for `role`; it leads only once `acquire` says so."""
        ...

    async def take_rate(
        self, scope: str, rate: float, burst: float, want: int, now: datetime | None = None
    ) -> RateGrant:
        """Take up to `want` tokens from the `scope` bucket (refilled at `rate` per second up
        to `burst`) in one atomic step; `now=None` uses the database's clock."""
        ...
