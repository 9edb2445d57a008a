"""The leader of a SQLite deployment: its one process (the file admits one writer)."""

from __future__ import annotations


class SoleLeader:
    """A contender that leads once no other contender of this store does (one process)."""

    def __init__(self, role: str, holders: set[str]) -> None:
        self._role = role
        self._holders = holders
        self._held = False

    async def acquire(self) -> bool:
        """Lead unless another contender of this store already leads the role."""
        if not self._held and self._role not in self._holders:
            self._holders.add(self._role)
            self._held = True
        return self._held

    async def holding(self) -> bool:
        """Whether this contender leads."""
        return self._held

    async def release(self) -> None:
        """Stop leading."""
        if self._held:
            self._holders.discard(self._role)
            self._held = False


class LeaderStoreMixin:
    """`leader_lock` for the SQLite store: the one-writer file lock already elects it."""

    _leaders: set[str]

    def leader_lock(self, role: str) -> SoleLeader:
        """A contender for `role` within this process."""
        return SoleLeader(role, self._leaders)
