"""Quiz clocks: a group question's time is up, a circle's deadline has passed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from content.pack import ContentPack
from handlers.group_quiz import finish, post, question_reply
from handlers.messages import Reply
from quiz.play import group_result
from storage.ports import Store
from storage.records import NewOutboxMessage


async def tick_quizzes(store: Store, pack: ContentPack, now: datetime) -> int:
    """Close due group questions (show the answer, post the next) and due circle quizzes."""
    done = 0
    lang = pack.languages[0]
    for run in await store.group_quizzes_due(now):
        quiz = pack.quizzes.get(run.quiz_id)
        async with store.transaction() as tx:
            if quiz is None:
                tx.save_group_quiz(replace(run, status="finished"))
                continue
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
            post(tx, run, Reply(text=closed, extra={"edit_of": run.question_row or ""}), now)
            if run.position + 1 < len(quiz.questions):
                following = replace(
                    run, position=run.position + 1, deadline=now + timedelta(seconds=quiz.seconds)
                )
                row = post(tx, following, question_reply(pack, quiz, following, lang), now)
                tx.save_group_quiz(replace(following, question_row=row))
            else:
                await finish(tx, pack, run, now, lang)
        done += 1
    for circle_run in await store.circle_quizzes_due(now):
        async with store.transaction() as tx:
            circle = await tx.circle(circle_run.circle_id)
            quiz = pack.quizzes.get(circle_run.quiz_id)
            tx.save_circle_quiz(replace(circle_run, status="finished"))
            if circle is None or quiz is None:
                continue
            members = await tx.circle_members(circle_run.circle_id)
            scores = await tx.circle_scores(circle_run.id)
            listed = await tx.listed_players([key for key, _, _ in scores])
            result = group_result(
                [(s, t) for _, s, t in scores],
                [(listed[k], s, t) for k, s, t in scores if k in listed],
            )
            board = "\n".join(
                f"{n}. {s.pseudonym} : {s.score}/{s.total}"
                for n, s in enumerate(result.board, start=1)
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
        done += 1
    return done
