"""Leader election: a session-level advisory lock held on a connection of its own.

PostgreSQL releases a session lock when its connection ends, so a leader that dies (SIGKILL,
a lost host) frees the role as soon as the server notices; the others retry every few
seconds and one of them takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

import asyncpg

log = logging.getLogger(__name__)

# The advisory lock namespace of leader roles (1-4: turns, outbox, migrations, inbox).
LOCK_LEADER = 5
# A leader that cannot reach its connection this long stops acting as leader.
CHECK_TIMEOUT = 5.0


def role_key(role: str) -> int:
    """A stable signed 32-bit key for a role's lock."""
    return int.from_bytes(hashlib.blake2b(role.encode(), digest_size=4).digest(), signed=True)


class PgLeaderLock:
    """One contender; it leads while its dedicated connection holds the role's lock."""

    def __init__(self, pool: asyncpg.Pool, role: str) -> None:
        self._pool = pool
        self._key = role_key(role)
        self._conn: asyncpg.Connection | None = None

    async def acquire(self) -> bool:
        """Try the lock once, without waiting; keep its connection while it is held."""
        if self._conn is not None:
            return await self.holding()
        conn = await self._pool.acquire()
        try:
            got = await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", LOCK_LEADER, self._key)
        except BaseException:
            # The server may have granted the lock before the client failed (cancelled while
            # the answer came): pooled connections are not reset, so this one must not go
            # back holding it. Closing it drops the lock, if it was granted.
            conn.terminate()
            await self._pool.release(conn)
            raise
        if not got:
            await self._pool.release(conn)
            return False
        self._conn = conn
        return True

    async def holding(self) -> bool:
        """Whether the lock's connection still answers (the lock lives as long as it does)."""
        conn = self._conn
        if conn is None:
            return False
        try:
            await asyncio.wait_for(conn.fetchval("SELECT 1"), CHECK_TIMEOUT)
        except Exception as exc:
            log.warning("leader connection lost: %s", type(exc).__name__)
            await self._drop()
            return False
        except BaseException:
            await self._drop()  # cancelled mid-check: the connection's state is unknown
            raise
        return True

    async def release(self) -> None:
        """Unlock and give the connection back (another contender may lead at once)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_LEADER, self._key)
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
            conn.terminate()  # not unlocked: closing the connection drops the lock
        except BaseException:
            conn.terminate()  # cancelled: the same, and the cancellation goes on
            raise
        finally:
            # Always back to the pool, or closing the pool would wait for it forever.
            await self._pool.release(conn)

    async def _drop(self) -> None:
        # A broken connection is closed outright: its lock (if the server still has it) goes
        # with it, and it never returns to the pool.
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()
            with contextlib.suppress(Exception):
                await self._pool.release(conn)


class PgLeaderStoreMixin:
    """`leader_lock` for the PostgreSQL store."""

    pool: asyncpg.Pool

    def leader_lock(self, role: str) -> PgLeaderLock:
        """A new contender for `role`."""
        return PgLeaderLock(self.pool, role)
