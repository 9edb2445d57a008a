"""Quizzes in a group chat: nobody's answer is shown to the others, nothing leaves the group."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from content.pack import ContentPack
from content.schema import Quiz
from handlers.flow import Flow, Router
from handlers.messages import Choice, Reply
from handlers.turn import Turn
from quiz.play import group_result, option_order
from storage.ports import Transaction
from storage.records import GroupQuizRecord, NewOutboxMessage

_COMMAND = re.compile(r"^/quiz(?:@\w+)?(?:\s+(\S+))?\s*$", re.IGNORECASE)


def question_reply(pack: ContentPack, quiz: Quiz, run: GroupQuizRecord, lang: str) -> Reply:
    """A question as the group sees it: text and buttons, nothing about who answered."""
    question = quiz.questions[run.position]
    order = option_order(run.seed, run.position, len(question.options))
    text = pack.texts.get(
        lang,
        "quiz.group_question",
        n=run.position + 1,
        total=len(quiz.questions),
        text=pack.pick(question.text, lang),
        seconds=quiz.seconds,
    )
    return Reply(
        text=text,
        choices=tuple(
            Choice(f"gquiz:{run.id}:{run.position}:{i}", pack.pick(question.options[i].text, lang))
            for i in order
        ),
    )


def post(tx: Transaction, run: GroupQuizRecord, reply: Reply, now: datetime) -> str:
    """Post to the group through the outbox (its row id lets the question be edited later)."""
    return tx.enqueue(
        NewOutboxMessage(run.channel, run.chat_id, "quiz", reply.to_dict(run.chat_id)), now
    )


class GroupQuizFlow(Flow):
    """`/quiz` for group admins; members answer with buttons, privately."""

    name = "gquiz"
    stateless_choices = True
    works_in_groups = True

    async def show(self, turn: Turn, router: Router) -> None:
        """Nothing to redraw in private: go to the menu."""
        await router.show_menu(turn)

    async def on_any_text(self, turn: Turn, router: Router, text: str) -> bool:
        """`/quiz`, `/quiz ID` and `/quiz stop` in a group."""
        command = _COMMAND.match(text)
        if command is None or turn.inbound.chat_type != "group":
            return False
        pack, lang = turn.pack, turn.lang
        if not turn.inbound.admin:
            turn.say(turn.t("quiz.admins_only"))
            return True
        argument = (command[1] or "").lower()
        running = await turn.tx.running_group_quiz(turn.inbound.channel, turn.inbound.chat_id)
        if argument == "stop":
            if running is None:
                turn.say(turn.t("quiz.none_running"))
            else:
                await finish(turn.tx, pack, running, turn.now, lang, stopped=True)
            return True
        quiz = pack.quizzes.get(argument)
        if quiz is None:
            listing = "\n".join(
                f"/quiz {q.id} : {pack.pick(q.title, lang)}" for q in pack.quizzes.values()
            )
            turn.say(turn.t("quiz.group_list", quizzes=listing))
            return True
        if running is not None:
            turn.say(turn.t("quiz.already_running"))
            return True
        run = GroupQuizRecord(
            id=uuid.UUID(int=turn.rng.getrandbits(128)).hex[:12],
            channel=turn.inbound.channel,
            chat_id=turn.inbound.chat_id,
            quiz_id=quiz.id,
            seed=turn.rng.getrandbits(31),
            position=0,
            deadline=turn.now + timedelta(seconds=quiz.seconds),
            started_at=turn.now,
        )
        turn.say(
            turn.t(
                "quiz.group_start",
                title=pack.pick(quiz.title, lang),
                total=len(quiz.questions),
                seconds=quiz.seconds,
            )
        )
        row = post(turn.tx, run, question_reply(pack, quiz, run, lang), turn.now)
        turn.tx.start_group_quiz(replace(run, question_row=row))
        return True

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """A member's tap: answered privately, counted once."""
        parts = choice.split(":")
        if len(parts) != 4 or not parts[2].isdigit() or not parts[3].isdigit():
            return False
        run = await turn.tx.group_quiz(parts[1])
        inbound = turn.inbound
        if run is not None and (run.channel, run.chat_id) != (inbound.channel, inbound.chat_id):
            # The group's choice id sent from elsewhere (a private chat): never counted.
            return False
        user = turn.inbound.user_id
        quiz = turn.pack.quizzes.get(run.quiz_id) if run else None
        if run is None or quiz is None or run.status != "running" or run.position != int(parts[2]):
            turn.replies.append(_private(turn.t("quiz.closed"), user))
            return True
        if await turn.tx.group_answered(run.id, run.position, turn.user.key):
            turn.replies.append(_private(turn.t("quiz.once"), user))
            return True
        question = quiz.questions[run.position]
        index = int(parts[3])
        if index >= len(question.options):
            return False
        correct = question.options[index].correct
        turn.tx.add_group_answer(run.id, run.position, turn.user.key, correct)
        turn.tx.add_quiz_answer(
            f"g{run.id}",
            quiz.id,
            question.id,
            index,
            correct,
            "group",
            turn.user.gender,
            turn.user.age_group,
            turn.now,
        )
        pack, lang = turn.pack, turn.lang
        verdict = (
            turn.t("quiz.right")
            if correct
            else turn.t(
                "quiz.wrong",
                answer=pack.pick(next(o for o in question.options if o.correct).text, lang),
            )
        )
        # Only the member who tapped sees this; Telegram shows it as the tap's own answer.
        turn.replies.append(_private(f"{verdict} {pack.pick(question.explanation, lang)}", user))
        return True


def _private(text: str, user_id: str) -> Reply:
    return Reply(text=text, only_for=user_id)


async def finish(
    tx: Transaction,
    pack: ContentPack,
    run: GroupQuizRecord,
    now: datetime,
    lang: str,
    stopped: bool = False,
) -> None:
    """Post the group's average and the leaderboard of those who agreed; forget the answers."""
    scores = await tx.group_scores(run.id)
    listed = await tx.listed_players([key for key, _, _ in scores])
    # The questions actually asked: an admin may stop the quiz early.
    total = run.position + 1
    quiz = pack.quizzes.get(run.quiz_id)
    if quiz is not None:
        # A reloaded pack may have shortened the quiz under a running game.
        total = min(total, len(quiz.questions))
    result = group_result(
        [(right, total) for _, right, _ in scores],
        [(listed[key], right, total) for key, right, _ in scores if key in listed],
    )
    board = "\n".join(
        f"{n}. {s.pseudonym} : {s.score}/{s.total}" for n, s in enumerate(result.board, start=1)
    )
    text = pack.texts.get(
        lang,
        "quiz.group_result" if result.shown else "quiz.group_result_few",
        players=result.players,
        average=round(result.average),
        board=board or "—",
    )
    if stopped:
        text = pack.texts.get(lang, "quiz.stopped") + "\n" + text
    post(tx, run, Reply(text=text), now)
    # Only if nobody moved it meanwhile (the clock, another admin's stop): else tried again.
    tx.finish_group_quiz(run.id, run.position)
    tx.clear_group_answers(run.id)
