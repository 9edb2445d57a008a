"""Storage contract for shared records: writes by intent fail on a stale precondition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.errors import StaleRecord
from storage.records import ComplaintRecord, GroupQuizRecord, UserRecord
from tests.storage_backends import store as store

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def complaint() -> ComplaintRecord:
    return ComplaintRecord(
        id="k1",
        reference="ABCD-EFGH",
        channel="test",
        lang="fr",
        category="eau",
        commune="ML010101",
        description="Pompe en panne",
        status="submitted",
        created_at=NOW,
        updated_at=NOW,
        ack_due_at=NOW,
    )


async def test_a_transition_applies_from_the_status_read(store: Any) -> None:
    async with store.transaction() as tx:
        tx.insert_complaint(complaint())
    async with store.transaction() as tx:
        assert tx.transition_complaint("k1", "submitted", "resolved", NOW) == "resolved"
    async with store.transaction() as tx:
        record = await tx.complaint_by_id("k1")
    assert record.status == "resolved" and record.resolved_at == NOW


async def test_a_transition_from_a_stale_status_changes_nothing(store: Any) -> None:
    async with store.transaction() as tx:
        tx.insert_complaint(complaint())
    async with store.transaction() as tx:
        tx.transition_complaint("k1", "submitted", "ack", NOW)
    with pytest.raises(StaleRecord):
        async with store.transaction() as tx:
            tx.transition_complaint("k1", "submitted", "resolved", NOW)
    async with store.transaction() as tx:
        # Not possible from this status at all: nothing is queued.
        assert tx.transition_complaint("k1", "acknowledged", "reopen", NOW) is None
        record = await tx.complaint_by_id("k1")
    assert record.status == "acknowledged"


async def test_a_voice_is_an_increment_kept_through_a_transition(store: Any) -> None:
    async with store.transaction() as tx:
        tx.save_user(UserRecord("test:1", "test", "1", NOW, NOW))
        tx.insert_complaint(complaint())
    async with store.transaction() as tx:
        tx.add_voice("k1", "test:1", NOW)
        tx.transition_complaint("k1", "submitted", "ack", NOW)
    async with store.transaction() as tx:
        record = await tx.complaint_by_id("k1")
    assert (record.status, record.voices) == ("acknowledged", 2)


async def test_a_group_quiz_advances_only_from_the_position_read(store: Any) -> None:
    run = GroupQuizRecord(
        "q1", "test", "grp", "redevabilite", 1, 0, NOW + timedelta(seconds=30), NOW
    )
    async with store.transaction() as tx:
        tx.start_group_quiz(run)
    async with store.transaction() as tx:
        tx.advance_group_quiz("q1", 0, NOW + timedelta(seconds=60), "row")
    with pytest.raises(StaleRecord):
        async with store.transaction() as tx:
            tx.finish_group_quiz("q1", 0)
    async with store.transaction() as tx:
        tx.finish_group_quiz("q1", 1)
    with pytest.raises(StaleRecord):
        async with store.transaction() as tx:
            tx.advance_group_quiz("q1", 1, NOW, "row")
    async with store.transaction() as tx:
        found = await tx.group_quiz("q1")
    assert (found.status, found.position, found.question_row) == ("finished", 1, "row")


async def test_update_user_writes_only_the_columns_given(store: Any) -> None:
    async with store.transaction() as tx:
        tx.insert_user(UserRecord("test:1", "test", "1", NOW, NOW, language="fr"))
    await store.mark_stopped("test:1")
    async with store.transaction() as tx:
        tx.update_user("test:1", region="ML01", last_seen_at=NOW + timedelta(hours=1))
    async with store.transaction() as tx:
        user = await tx.get_user("test:1")
    assert (user.stopped, user.region, user.language) == (True, "ML01", "fr")
    with pytest.raises(ValueError, match="not a changeable user column"):
        async with store.transaction() as tx:
            tx.update_user("test:1", external_id="someone-else")
