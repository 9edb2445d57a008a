"""Quizzes through the engine and the terminal channel: alone, in a group, in circles."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from bot.channels.console import ConsoleChannel
from content.pack import ContentPack
from handlers.clocks import run_clocks
from handlers.engine import Engine
from handlers.messages import Inbound
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.storage_backends import store as store  # each test on every backend


class Players:
    """People in private chats and groups, through the terminal channel (JSON-lines shapes)."""

    def __init__(self, store: SqliteStore, pack: ContentPack, clock: FakeClock) -> None:
        self.store, self.pack, self.clock = store, pack, clock
        engine = Engine(store, lambda: pack, clock=clock, rng=random.Random(5))
        self.console = ConsoleChannel(
            engine, store, clock, deadlines=lambda: run_clocks(store, pack, clock())
        )
        self._ids = itertools.count()

    async def send(
        self, user: str, chat: str | None = None, admin: bool = False, **fields: Any
    ) -> list[dict[str, Any]]:
        inbound = Inbound(
            channel="console",
            user_id=user,
            chat_id=chat or user,
            chat_type="group" if chat else "private",
            admin=admin,
            received_at=self.clock(),
            message_id=str(next(self._ids)),
            name=user.title(),
            **fields,
        )
        return await self.console.exchange(inbound)

    async def onboard(self, user: str) -> None:
        await self.send(user, text="bonjour")
        await self.send(user, choice="lang:fr")

    def answers(self, out: list[dict[str, Any]], chat: str) -> list[str]:
        return [c["id"] for r in out if r["chat"] == chat for c in r["choices"]]

    def right_choice(self, out: list[dict[str, Any]], chat: str, quiz_id: str) -> str:
        """The id of the right option among a question's buttons (the test reads the bank)."""
        quiz = self.pack.quizzes[quiz_id]
        for choice in self.answers(out, chat):
            parts = choice.split(":")
            if parts[0] in ("quiz", "gquiz") and len(parts) == 4 and parts[2].isdigit():
                position, index = int(parts[2]), int(parts[3])
                if quiz.questions[position].options[index].correct:
                    return choice
        raise AssertionError(f"no right option in {self.answers(out, chat)}")

    def wrong_choice(self, out: list[dict[str, Any]], chat: str, quiz_id: str) -> str:
        right = self.right_choice(out, chat, quiz_id)
        return next(c for c in self.answers(out, chat) if c != right and c.count(":") == 3)


def text(out: list[dict[str, Any]], chat: str) -> str:
    return "\n".join(r["text"] for r in out if r["chat"] == chat)


@pytest.fixture
def players(store: SqliteStore, pack: ContentPack, clock: FakeClock) -> Players:
    return Players(store, pack, clock)


async def play_solo(
    p: Players, user: str, quiz_id: str, wrong: set[int] = frozenset()
) -> list[dict[str, Any]]:  # type: ignore[assignment]
    out = await p.send(user, choice=f"quiz:start:{quiz_id}")
    total = len(p.pack.quizzes[quiz_id].questions)
    for n in range(total):
        pick = (
            p.wrong_choice(out, user, quiz_id) if n in wrong else p.right_choice(out, user, quiz_id)
        )
        out = await p.send(user, choice=pick)
        out = await p.send(user, choice="quiz:finish" if n == total - 1 else "quiz:next")
    return out


async def test_the_pack_has_four_quizzes_of_forty_questions(pack: ContentPack) -> None:
    assert len(pack.quizzes) >= 4
    assert sum(len(q.questions) for q in pack.quizzes.values()) >= 40
    for quiz in pack.quizzes.values():
        assert quiz.needs_review.get("bm") is True
        for question in quiz.questions:
            assert question.article in pack.articles
            assert len(question.explanation["fr"]) <= 200


async def test_solo_right_wrong_explanation_and_score(players: Players) -> None:
    await players.onboard("awa")
    out = await players.send("awa", text="quiz")
    assert "quiz:start:redevabilite" in players.answers(out, "awa")
    out = await players.send("awa", choice="quiz:start:redevabilite")
    assert "Question 1/10" in text(out, "awa")
    out = await players.send("awa", choice=players.right_choice(out, "awa", "redevabilite"))
    assert "Bonne réponse" in text(out, "awa")
    assert any(c.startswith("learn:article:") for c in players.answers(out, "awa"))
    out = await players.send("awa", choice="quiz:next")
    out = await players.send("awa", choice=players.wrong_choice(out, "awa", "redevabilite"))
    assert "Ce n'est pas ça" in text(out, "awa") and "La bonne réponse" in text(out, "awa")
    # Tapping an old answer again does not count twice.
    again = await players.send("awa", choice=players.answers(out, "awa")[0].replace("next", "x"))
    assert "Bonne réponse" not in text(again, "awa")


async def test_solo_resume_score_articles_and_history(players: Players) -> None:
    await players.onboard("awa")
    out = await players.send("awa", choice="quiz:start:commune-budget")
    out = await players.send("awa", choice=players.wrong_choice(out, "awa", "commune-budget"))
    await players.send("awa", text="menu")  # interrupted
    out = await players.send("awa", choice="quiz:start:commune-budget")
    assert "question 2" in text(out, "awa")
    quiz = players.pack.quizzes["commune-budget"]
    for n in range(1, len(quiz.questions)):
        out = await players.send("awa", choice=players.right_choice(out, "awa", "commune-budget"))
        last = n == len(quiz.questions) - 1
        out = await players.send("awa", choice="quiz:finish" if last else "quiz:next")
    assert "9/10" in text(out, "awa") and "lisez" in text(out, "awa")
    assert f"learn:article:{quiz.questions[0].article}" in players.answers(out, "awa")
    out = await players.send("awa", text="quiz")
    assert any("(9/10)" in c["label"] for r in out for c in r["choices"])


async def test_certificate_after_every_quiz(players: Players) -> None:
    await players.onboard("binta")
    quizzes = list(players.pack.quizzes)
    for quiz_id in quizzes[:-1]:
        out = await play_solo(players, "binta", quiz_id)
        assert "Certificat" not in text(out, "binta")
    out = await play_solo(players, "binta", quizzes[-1])
    assert "Certificat" in text(out, "binta") and "Parfait" in text(out, "binta")


async def test_group_quiz_private_answers_timer_and_leaderboard(
    players: Players, clock: FakeClock
) -> None:
    group = "femmes-kayes"
    for member in ("aicha", "bintou", "coumba"):
        await players.onboard(member)
    await players.send("aicha", choice="quiz:pseudo")
    await players.send("aicha", text="Étoile")
    await players.send("aicha", choice="quiz:listed:yes")
    out = await players.send("bintou", group, text="/quiz redevabilite")
    assert "administrateurs" in text(out, group)
    out = await players.send("adja", group, admin=True, text="/quiz")
    assert "/quiz redevabilite" in text(out, group)
    out = await players.send("adja", group, admin=True, text="/quiz redevabilite")
    assert "Question 1/10" in text(out, group)
    question_row = next(r for r in out if r["chat"] == group and r["choices"])
    right = players.right_choice(out, group, "redevabilite")
    wrong = players.wrong_choice(out, group, "redevabilite")
    a = await players.send("aicha", group, choice=right)
    b = await players.send("bintou", group, choice=wrong)
    again = await players.send("bintou", group, choice=right)
    for reply, who in ((a, "aicha"), (b, "bintou"), (again, "bintou")):
        assert all(r.get("only_for") == who for r in reply), reply
    assert "Bonne réponse" in a[0]["text"] and "Ce n'est pas ça" in b[0]["text"]
    assert "une seule réponse" in again[0]["text"]
    clock.advance(seconds=31)
    out = await players.send("coumba", text="menu")  # any activity runs the clocks
    edit = next(r for r in out if r["chat"] == group and r.get("edit_of"))
    assert "Réponses : 2" in edit["text"] and "Réponse :" in edit["text"]
    assert "Question 2/10" in text(out, group)
    group_messages = [
        r["text"] for r in out + a + b if r["chat"] == group and not r.get("only_for")
    ]
    assert not any("Aicha" in t or "Bintou" in t or "Étoile" in t for t in group_messages)
    assert question_row["text"]
    out = await players.send("adja", group, admin=True, text="/quiz stop")
    final = text(out, group)
    # Two players, one on the board: the average would give the other's score (issue 13).
    assert "Participants : 2" in final and "pas montrés" in final
    assert "moyenne du groupe" not in final and "Étoile" not in final and "Bintou" not in final
    left = await players.store.fetch_all("SELECT COUNT(*) FROM group_answers")
    assert left == [(0,)]


async def test_two_groups_do_not_interfere(players: Players) -> None:
    out1 = await players.send("x", "g1", admin=True, text="/quiz redevabilite")
    out2 = await players.send("y", "g2", admin=True, text="/quiz femmes-jeunes")
    tap1 = players.right_choice(out1, "g1", "redevabilite")
    tap2 = players.right_choice(out2, "g2", "femmes-jeunes")
    r = await players.send("z", "g2", choice=tap1)  # a g1 button pressed in g2's context
    assert "plus valable" in r[0]["text"]  # only the quiz's own group answers it (issue 13)
    r = await players.send("z", "g2", choice=tap2)
    assert "Bonne réponse" in r[0]["text"]


async def test_circle_join_play_results_and_leave(players: Players, clock: FakeClock) -> None:
    await players.onboard("lead")
    await players.send("lead", text="cercle")
    await players.send("lead", choice="circle:create")
    out = await players.send("lead", text="Femmes de Niono")
    code = out[0]["text"].split("invitation : ")[1].split()[0]
    for member in ("mariam", "safi"):
        await players.onboard(member)
        out = await players.send(member, text=code.lower())
        assert "rejoint" in text(out, member) and "pseudonyme" in text(out, member)
        await players.send(member, text=f"{member[:3]}-star")
        await players.send(
            member, choice="quiz:listed:yes" if member == "mariam" else "quiz:listed:no"
        )
    circle = next(
        c
        for c in players.answers(await players.send("lead", choice="circle:home"), "lead")
        if c.startswith("circle:open:")
    )
    out = await players.send("lead", choice=circle)
    assert "mar-star" in text(out, "lead") and "Mariam" not in text(out, "lead")
    cid = circle.split(":")[2]
    await players.send("lead", choice=f"circle:quiz:{cid}")
    await players.send("lead", choice=f"circle:q:{cid}:femmes-jeunes")
    out = await players.send("lead", choice=f"circle:d:{cid}:femmes-jeunes:24")
    invites = [r for r in out if r["chat"] in ("mariam", "safi")]
    assert len(invites) == 2
    start = invites[0]["choices"][0]["id"]
    out = await players.send("mariam", choice=start)
    quiz = players.pack.quizzes["femmes-jeunes"]
    for n in range(len(quiz.questions)):
        out = await players.send(
            "mariam", choice=players.right_choice(out, "mariam", "femmes-jeunes")
        )
        out = await players.send(
            "mariam", choice="quiz:finish" if n == len(quiz.questions) - 1 else "quiz:next"
        )
    await players.send("safi", choice=start)
    out = await players.send("safi", choice=f"circle:leave:{cid}")
    assert "quitté" in text(out, "safi")
    clock.advance(hours=25)
    out = await players.send("lead", text="menu")
    results = text(out, "mariam")
    assert "membres ayant joué : 1 sur 1" in results and "mar-star : 10/10" in results
    assert text(out, "lead") and not text(out, "safi")
    late = await players.send("mariam", choice=start)
    assert "terminé" in text(late, "mariam")


@pytest.mark.sqlite_only(reason="reads the table's columns with a SQLite PRAGMA")
async def test_quiz_answers_are_kept_anonymous_for_statistics(players: Players) -> None:
    await players.onboard("stat")
    await play_solo(players, "stat", "redevabilite", wrong={0})
    rows = await players.store.fetch_all("SELECT * FROM quiz_answers LIMIT 1")
    columns = [r[1] for r in await players.store.fetch_all("PRAGMA table_info(quiz_answers)")]
    assert "user_key" not in columns and rows


async def test_forget_deletes_quiz_data_but_keeps_anonymous_answers(players: Players) -> None:
    await players.onboard("zara")
    await players.send("zara", choice="quiz:pseudo")
    await players.send("zara", text="Zaza")
    await players.send("zara", choice="quiz:listed:yes")
    await play_solo(players, "zara", "redevabilite")
    await players.send("zara", text="oublier")
    out = await players.send("zara", choice="privacy:forget_yes")
    assert "scores" in text(out, "zara")
    for table in ("quiz_results", "quiz_players", "quiz_progress"):
        assert await players.store.fetch_all(f"SELECT COUNT(*) FROM {table}") == [(0,)]
    assert (await players.store.fetch_all("SELECT COUNT(*) FROM quiz_answers"))[0][0] == 10
