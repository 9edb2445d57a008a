"""Quiz clocks: a group question's time is up, a circle's deadline has passed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from content.pack import ContentPack
from handlers.messages import Reply
from handlers.quizzes.group import finish, post, question_reply
from quiz.play import group_result
from storage.ports import StaleRecord, Store
from storage.records import CircleQuizRecord, GroupQuizRecord, NewOutboxMessage


async def tick_quizzes(store: Store, pack: ContentPack, now: datetime) -> int:
    """Close due group questions (show the answer, post the next) and due circle quizzes."""
    done = 0
    lang = pack.languages[0]
    for run in await store.group_quizzes_due(now):
        try:
            await _close_question(store, pack, run, now, lang)
        except StaleRecord:
            # Stopped or moved on meanwhile (an admin's `/quiz stop`): nothing to close.
            continue
        done += 1
    for circle_run in await store.circle_quizzes_due(now):
        try:
            await _close_circle(store, pack, circle_run, now, lang)
        except StaleRecord:
            continue
        done += 1
    return done


async def _close_question(
    store: Store, pack: ContentPack, run: GroupQuizRecord, now: datetime, lang: str
) -> None:
    """Show the answer to the group's current question and post the next, or the results."""
    quiz = pack.quizzes.get(run.quiz_id)
    async with store.transaction() as tx:
        if quiz is None or run.position >= len(quiz.questions):
            # The quiz left the pack, or a reload shortened it: end the game with what was asked.
            await finish(tx, pack, run, now, lang)
            return
        question = quiz.questions[run.position]
        right = next(o for o in question.options if o.correct)
        count = await tx.group_answer_count(run.id, run.position)
        closed = pack.texts.get(
            lang,
            "quiz.group_closed",
            n=run.position + 1,
            total=len(quiz.questions),
            text=pack.pick(question.text, lang),
            answer=pack.pick(right.text, lang),
            count=count,
        )
        # The question itself is edited: the answer and a count, never who answered what.
        post(tx, run, Reply(text=closed, edit_of=run.question_row or ""), now)
        if run.position + 1 < len(quiz.questions):
            following = replace(
                run, position=run.position + 1, deadline=now + timedelta(seconds=quiz.seconds)
            )
            row = post(tx, following, question_reply(pack, quiz, following, lang), now)
            tx.advance_group_quiz(run.id, run.position, following.deadline, row)
        else:
            await finish(tx, pack, run, now, lang)


async def _close_circle(
    store: Store, pack: ContentPack, circle_run: CircleQuizRecord, now: datetime, lang: str
) -> None:
    """Close a circle quiz past its deadline and send each member the results."""
    async with store.transaction() as tx:
        circle = await tx.circle(circle_run.circle_id)
        quiz = pack.quizzes.get(circle_run.quiz_id)
        tx.finish_circle_quiz(circle_run.id)
        if circle is None or quiz is None:
            return
        members = await tx.circle_members(circle_run.circle_id)
        scores = await tx.circle_scores(circle_run.id)
        listed = await tx.listed_players([key for key, _, _ in scores])
        result = group_result(
            [(s, t) for _, s, t in scores],
            [(listed[k], s, t) for k, s, t in scores if k in listed],
        )
        board = "\n".join(
            f"{n}. {s.pseudonym} : {s.score}/{s.total}" for n, s in enumerate(result.board, start=1)
        )
        recipients = [(key, channel, chat, lang) for key, _, channel, chat, lang in members]
        facilitator = await tx.get_user(circle[2])
        if facilitator is not None:
            recipients.append(
                (
                    facilitator.key,
                    facilitator.channel,
                    facilitator.external_id,
                    facilitator.language or lang,
                )
            )
        for key, channel, chat, language in recipients:
            # Each member reads the results in their own language.
            text = pack.texts.get(
                language,
                "circle.results" if result.shown else "circle.results_few",
                name=circle[1],
                quiz=pack.pick(quiz.title, language),
                players=result.players,
                members=len(members),
                average=round(result.average),
                board=board or "—",
            )
            tx.enqueue(
                NewOutboxMessage(
                    channel, chat, "circle", {"text": text, "choices": []}, user_key=key
                ),
                now,
            )
