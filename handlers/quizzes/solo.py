"""Quizzes alone, in private chat: one question at a time, explanations, scores, resume."""

from __future__ import annotations

from typing import Any

from content.schema import Quiz
from handlers.audio.play import say_with_voice, voice
from handlers.flow import Flow, Router
from handlers.menu import back_to_menu
from handlers.messages import Choice
from handlers.turn import Turn
from quiz.play import option_order

PSEUDONYM_MIN, PSEUDONYM_MAX = 2, 20


class QuizFlow(Flow):
    """Choose a quiz, answer, learn why, see the score; the progress survives interruptions."""

    name = "quiz"
    stateless_choices = True

    async def start(self, turn: Turn, router: Router) -> None:
        """The list of quizzes with the user's best scores."""
        turn.goto("quiz", "home")
        best = await turn.tx.best_scores(turn.user.key)
        pack, lang = turn.pack, turn.lang
        choices = []
        for quiz in pack.quizzes.values():
            label = pack.pick(quiz.title, lang)
            if quiz.id in best:
                score, total = best[quiz.id]
                label = f"{label} ({score}/{total})"
            choices.append(
                Choice(f"quiz:start:{quiz.id}", label, pack.pick(quiz.short_title, lang) or None)
            )
        choices += [
            Choice("quiz:pseudo", turn.t("quiz.pseudonym")),
            Choice("circle:home", turn.t("circle.mine")),
            back_to_menu(turn),
        ]
        turn.say(turn.t("quiz.home"), choices)

    async def show(self, turn: Turn, router: Router) -> None:
        """Draw the current question (or the step awaiting a pseudonym)."""
        data = turn.data
        if turn.step == "pseudo":
            turn.say(
                turn.t("quiz.ask_pseudonym", min=PSEUDONYM_MIN, max=PSEUDONYM_MAX),
                [back_to_menu(turn)],
            )
            return
        quiz = turn.pack.quizzes.get(str(data.get("quiz")))
        if turn.step != "question" or quiz is None:
            await self.start(turn, router)
            return
        await self._question(turn, quiz, data)

    async def _question(self, turn: Turn, quiz: Quiz, data: dict[str, Any]) -> None:
        pack, lang = turn.pack, turn.lang
        position = int(data["pos"])
        question = quiz.questions[position]
        order = option_order(int(data["seed"]), position, len(question.options))
        key = f"quiz:{quiz.id}:{position + 1}"
        if voice(turn, key) is not None:
            # The recording reads the answers in the pack's order: the numbers must match it.
            order = list(range(len(question.options)))
        text = turn.t(
            "quiz.question",
            n=position + 1,
            total=len(quiz.questions),
            text=pack.pick(question.text, lang),
        )
        await say_with_voice(
            turn,
            key,
            text,
            [
                Choice(f"quiz:a:{position}:{index}", pack.pick(question.options[index].text, lang))
                for index in order
            ],
        )

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Start or resume, answer, go on, finish; pseudonym settings."""
        parts = choice.split(":")
        action = parts[1] if len(parts) > 1 else ""
        if action == "start" and len(parts) >= 3 and parts[2] in turn.pack.quizzes:
            await self._start(turn, parts[2], parts[3] if len(parts) > 3 else "")
        elif action == "pseudo":
            turn.goto("quiz", "pseudo")
            await self.show(turn, router)
        elif turn.flow != "quiz":
            # A step's button pressed in another flow: not our data, a stale choice.
            return False
        elif action == "a" and len(parts) == 4 and parts[2].isdigit() and parts[3].isdigit():
            await self._answer(turn, router, int(parts[2]), int(parts[3]))
        elif action == "next" and turn.step == "question":
            await self.show(turn, router)
        elif action == "finish" and turn.step == "done":
            await self._finish(turn)
        elif action == "listed" and len(parts) == 3 and turn.step == "listed":
            player = await turn.tx.quiz_player(turn.user.key)
            if player is not None:
                turn.tx.save_quiz_player(turn.user.key, player[0], parts[2] == "yes")
            turn.say(turn.t("quiz.listed_yes" if parts[2] == "yes" else "quiz.listed_no"))
            await self.start(turn, router)
        else:
            return False
        return True

    async def on_text(self, turn: Turn, router: Router, text: str) -> bool:
        """A pseudonym, when one was asked."""
        if turn.step != "pseudo":
            return False
        name = " ".join(text.split())
        if not PSEUDONYM_MIN <= len(name) <= PSEUDONYM_MAX:
            turn.say(turn.t("quiz.ask_pseudonym", min=PSEUDONYM_MIN, max=PSEUDONYM_MAX))
            return True
        player = await turn.tx.quiz_player(turn.user.key)
        turn.tx.save_quiz_player(turn.user.key, name, player[1] if player else False)
        turn.goto("quiz", "listed")
        turn.say(
            turn.t("quiz.ask_listed", pseudonym=name),
            [
                Choice("quiz:listed:yes", turn.t("quiz.listed_choice_yes")),
                Choice("quiz:listed:no", turn.t("quiz.listed_choice_no")),
            ],
        )
        return True

    async def _start(self, turn: Turn, quiz_id: str, circle_quiz: str) -> None:
        quiz = turn.pack.quizzes[quiz_id]
        if circle_quiz:
            run = await turn.tx.circle_quiz(circle_quiz)
            if run is None or run.status != "running" or run.quiz_id != quiz_id:
                turn.say(turn.t("circle.quiz_closed"), [back_to_menu(turn)])
                return
        saved = await turn.tx.quiz_progress(turn.user.key, quiz_id, circle_quiz)
        if saved is not None:
            seed, position, score, missed = saved
            turn.say(turn.t("quiz.resume", n=position + 1))
        else:
            seed, position, score, missed = turn.rng.getrandbits(31), 0, 0, []
            turn.say(
                turn.t(
                    "quiz.intro",
                    title=turn.pack.pick(quiz.title, turn.lang),
                    total=len(quiz.questions),
                )
            )
        data = {
            "quiz": quiz_id,
            "cq": circle_quiz,
            "seed": seed,
            "pos": position,
            "score": score,
            "missed": missed,
        }
        if position >= len(quiz.questions):
            turn.goto("quiz", "done", data)
            await self._finish(turn)
            return
        turn.goto("quiz", "question", data)
        await self._question(turn, quiz, data)

    async def _answer(self, turn: Turn, router: Router, position: int, index: int) -> None:
        data = turn.data
        quiz = turn.pack.quizzes.get(str(data.get("quiz")))
        if quiz is None or turn.step != "question" or position != data.get("pos"):
            turn.say(turn.t("quiz.already_answered"))
            await self.show(turn, router)
            return
        question = quiz.questions[position]
        if not 0 <= index < len(question.options):
            turn.say(turn.t("input.stale_choice"))
            return
        pack, lang = turn.pack, turn.lang
        correct = question.options[index].correct
        right = next(o for o in question.options if o.correct)
        data["score"] = int(data["score"]) + int(correct)
        if not correct and question.article not in data["missed"]:
            data["missed"].append(question.article)
        data["pos"] = position + 1
        turn.tx.add_quiz_answer(
            f"{data['seed']}",
            quiz.id,
            question.id,
            index,
            correct,
            "circle" if data.get("cq") else "solo",
            turn.user.gender,
            turn.user.age_group,
            turn.now,
        )
        turn.tx.save_quiz_progress(
            turn.user.key,
            quiz.id,
            str(data.get("cq", "")),
            int(data["seed"]),
            data["pos"],
            data["score"],
            data["missed"],
            turn.now,
        )
        verdict = (
            turn.t("quiz.right")
            if correct
            else turn.t("quiz.wrong", answer=pack.pick(right.text, lang))
        )
        last = data["pos"] >= len(quiz.questions)
        turn.goto("quiz", "done" if last else "question", data)
        turn.say(
            f"{verdict}\n{pack.pick(question.explanation, lang)}",
            [
                Choice(
                    "quiz:finish" if last else "quiz:next",
                    turn.t("quiz.score" if last else "quiz.next"),
                ),
                Choice(f"learn:article:{question.article}", turn.t("quiz.read_article")),
                back_to_menu(turn),
            ],
        )

    async def _finish(self, turn: Turn) -> None:
        data = turn.data
        quiz = turn.pack.quizzes[str(data["quiz"])]
        score, total = int(data["score"]), len(quiz.questions)
        circle_quiz = str(data.get("cq", ""))
        turn.tx.clear_quiz_progress(turn.user.key, quiz.id, circle_quiz)
        turn.tx.add_quiz_result(turn.user.key, quiz.id, score, total, turn.now)
        if circle_quiz:
            turn.tx.add_circle_score(circle_quiz, turn.user.key, score, total)
        pack, lang = turn.pack, turn.lang
        missed = [pack.articles[a] for a in data.get("missed", []) if a in pack.articles]
        text = turn.t("quiz.result", score=score, total=total)
        if missed:
            text += "\n" + turn.t("quiz.to_read")
        elif score == total:
            text += "\n" + turn.t("quiz.perfect")
        best = await turn.tx.best_scores(turn.user.key)
        done = set(best) | {quiz.id}
        if set(pack.quizzes) <= done:
            text += "\n\n" + turn.t("quiz.certificate", count=len(pack.quizzes))
        turn.goto("quiz", "home")
        await say_with_voice(
            turn,
            "ui:quiz.result",
            text,
            [
                Choice(
                    f"learn:article:{a.id}",
                    pack.pick(a.title, lang),
                    pack.pick(a.short_title, lang) or None,
                )
                for a in missed[:5]
            ]
            + [Choice("menu:quiz", turn.t("quiz.other")), back_to_menu(turn)],
        )
