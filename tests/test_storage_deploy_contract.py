"""Storage contract for what a deployment shares: platform rate buckets and leader roles."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.ports_deploy import DeploymentStore
from tests.storage_backends import store as store

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


async def test_both_stores_answer_the_deployment_port(store: Any) -> None:
    assert isinstance(store, DeploymentStore)


async def test_a_full_bucket_grants_its_burst_then_asks_to_wait(store: Any) -> None:
    first = await store.take_rate("whatsapp", 10.0, 4.0, 3, NOW)
    assert (first.granted, first.wait) == (3, 0.0)
    # One token left of the burst: the second take gets it, and learns when the next comes.
    second = await store.take_rate("whatsapp", 10.0, 4.0, 3, NOW)
    assert second.granted == 1
    assert second.wait == pytest.approx(0.1)
    empty = await store.take_rate("whatsapp", 10.0, 4.0, 1, NOW)
    assert empty.granted == 0 and empty.wait == pytest.approx(0.1)


async def test_tokens_come_back_with_time_never_above_the_burst(store: Any) -> None:
    await store.take_rate("telegram", 10.0, 4.0, 4, NOW)
    half = await store.take_rate("telegram", 10.0, 4.0, 4, NOW + timedelta(seconds=0.25))
    assert half.granted == 2  # 0.25 s at 10/s
    later = await store.take_rate("telegram", 10.0, 4.0, 10, NOW + timedelta(hours=1))
    assert later.granted == 4  # an hour idle refills to the burst, not to 36,000


async def test_a_clock_that_goes_back_refills_nothing(store: Any) -> None:
    await store.take_rate("whatsapp", 10.0, 2.0, 2, NOW)
    earlier = await store.take_rate("whatsapp", 10.0, 2.0, 1, NOW - timedelta(seconds=5))
    assert earlier.granted == 0


async def test_scopes_have_their_own_buckets(store: Any) -> None:
    await store.take_rate("whatsapp", 1.0, 1.0, 1, NOW)
    assert (await store.take_rate("telegram", 1.0, 1.0, 1, NOW)).granted == 1
    assert (await store.take_rate("whatsapp", 1.0, 1.0, 1, NOW)).granted == 0


async def test_concurrent_takers_never_share_out_more_than_the_bucket_holds(store: Any) -> None:
    takes = await asyncio.gather(
        *(store.take_rate("whatsapp", 5.0, 20.0, 3, NOW) for _ in range(12))
    )
    assert sum(take.granted for take in takes) == 20


async def test_the_database_clock_serves_when_no_time_is_given(store: Any) -> None:
    # One token per 1000 s: nothing refills between the takes, however loaded the machine
    # (at 100 a second, 50 ms between them gave five tokens back).
    assert (await store.take_rate("whatsapp", 0.001, 5.0, 5)).granted == 5
    assert (await store.take_rate("whatsapp", 0.001, 5.0, 50)).granted == 0


async def test_one_contender_leads_a_role_until_it_releases(store: Any) -> None:
    first, second = store.leader_lock("timers"), store.leader_lock("timers")
    assert await first.acquire()
    assert await first.acquire()  # asking again keeps the role
    assert not await second.acquire()
    other = store.leader_lock("polling")
    assert await other.acquire()  # another role is free
    await other.release()
    assert await first.holding() and not await second.holding()
    await first.release()
    assert not await first.holding()
    assert await second.acquire()
    await second.release()
