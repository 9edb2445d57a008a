"""The quizzes port on every backend: progress resumes, scores add up, circles and clocks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storage.records import CircleQuizRecord, GroupQuizRecord, UserRecord
from tests.storage_backends import store as store
from tests.test_storage_contract import NOW

AWA = UserRecord("test:1", "test", "1", NOW, NOW, language="bm")
BABA = UserRecord("test:2", "test", "2", NOW, NOW)


async def test_a_solo_quiz_resumes_and_keeps_the_best_score(store: Any) -> None:
    async with store.transaction() as tx:
        tx.save_user(AWA)
        tx.save_quiz_progress(AWA.key, "vote", "", 7, 2, 1, ["art-1"], NOW)
        tx.save_quiz_progress(AWA.key, "vote", "", 7, 3, 2, ["art-1", "art-2"], NOW)
        tx.save_quiz_player(AWA.key, "Lion", False)
        tx.save_quiz_player(AWA.key, "Lionne", True)
    async with store.transaction() as tx:
        assert await tx.quiz_progress(AWA.key, "vote") == (7, 3, 2, ["art-1", "art-2"])
        assert await tx.quiz_player(AWA.key) == ("Lionne", True)
        tx.clear_quiz_progress(AWA.key, "vote")
        tx.add_quiz_result(AWA.key, "vote", 4, 5, NOW)
        tx.add_quiz_result(AWA.key, "vote", 3, 5, NOW)
        tx.add_quiz_answer("s1", "vote", "q1", 2, True, "solo", "f", "15-19", NOW)
    async with store.transaction() as tx:
        assert await tx.quiz_progress(AWA.key, "vote") is None
        assert await tx.best_scores(AWA.key) == {"vote": (4, 5)}
        assert await tx.listed_players([AWA.key, BABA.key]) == {AWA.key: "Lionne"}
    assert [tuple(r) for r in await store.quiz_answer_rows()] == [
        ("s1", "vote", "q1", 2, 1, "f", "15-19")
    ]


async def test_a_group_quiz_counts_each_members_first_answer(store: Any) -> None:
    run = GroupQuizRecord("g1", "test", "group", "vote", 3, 0, NOW + timedelta(seconds=30), NOW)
    async with store.transaction() as tx:
        tx.start_group_quiz(run)
        tx.add_group_answer("g1", 0, AWA.key, True)
        tx.add_group_answer("g1", 0, AWA.key, False)
        tx.add_group_answer("g1", 0, BABA.key, False)
    async with store.transaction() as tx:
        assert await tx.running_group_quiz("test", "group") == run
        assert await tx.group_answered("g1", 0, AWA.key)
        assert await tx.group_answer_count("g1", 0) == 2
        assert sorted(await tx.group_scores("g1")) == [(AWA.key, 1, 1), (BABA.key, 0, 1)]
    assert await store.group_quizzes_due(NOW) == []
    assert [g.id for g in await store.group_quizzes_due(NOW + timedelta(seconds=30))] == ["g1"]


async def test_a_circle_plays_until_its_deadline(store: Any) -> None:
    async with store.transaction() as tx:
        tx.save_user(AWA)
        tx.save_user(BABA)
        tx.save_quiz_player(BABA.key, "Baba", False)
        tx.save_circle("c1", "Club", AWA.key, "JOIN1", NOW)
        tx.add_circle_member("c1", BABA.key, NOW)
        tx.add_circle_member("c1", BABA.key, NOW)
        tx.start_circle_quiz(CircleQuizRecord("cq1", "c1", "vote", NOW + timedelta(days=1), NOW))
        tx.add_circle_score("cq1", BABA.key, 2, 5)
        tx.add_circle_score("cq1", BABA.key, 3, 5)
    async with store.transaction() as tx:
        assert await tx.circle_by_code("JOIN1") == ("c1", "Club", AWA.key)
        assert await tx.circles_of(AWA.key) == [("c1", "Club", True)]
        assert await tx.circles_of(BABA.key) == [("c1", "Club", False)]
        assert await tx.circle_members("c1") == [(BABA.key, "Baba", "test", "2", "fr")]
        assert await tx.circle_scores("cq1") == [(BABA.key, 3, 5)]
    assert await store.circle_quizzes_due(NOW) == []
    assert [c.id for c in await store.circle_quizzes_due(NOW + timedelta(days=1))] == ["cq1"]
    async with store.transaction() as tx:
        tx.finish_circle_quiz("cq1")
        tx.remove_circle_member("c1", BABA.key)
    async with store.transaction() as tx:
        assert await tx.circle_members("c1") == []
        assert await tx.circle_scores("cq1") == []
        finished = await tx.circle_quiz("cq1")
    assert finished is not None and finished.status == "finished"
