"""The Good Governance Barometer in chat: rate your commune, criterion by criterion."""

from __future__ import annotations

from typing import Any

from content.schema import BarometerFile
from content.text import clean_input
from handlers.audio.play import say_with_voice
from handlers.barometer.rounds import commune_name, last_day
from handlers.flow import Flow, Router
from handlers.menu import back_to_menu
from handlers.messages import Choice
from handlers.turn import Turn
from handlers.typed.drafts import draft, drop_draft
from storage.barometer_records import BarometerAnswers, BarometerRound

COMMENT_MAX = 500


class BarometerFlow(Flow):
    """Choose the commune of an open round, answer each question 1..5, add a comment."""

    name = "barometer"
    # Invitations arrive as messages: their button must work whatever the user is doing.
    stateless_choices = True

    async def start(self, turn: Turn, router: Router) -> None:
        """Enter the round of the user's commune, or choose among the open communes."""
        rounds = await turn.tx.open_barometer_rounds()
        places = [(r, c) for r in rounds for c in r.communes if turn.now < r.closes_at]
        mine = [(r, c) for r, c in places if c == turn.user.commune]
        if turn.pack.barometer is None or not places:
            turn.goto("menu", "main")
            turn.say(turn.t("barometer.none_open"), [back_to_menu(turn)])
        elif mine or len(places) == 1:
            record, commune = (mine or places)[0]
            await self._enter(turn, record, commune, change=False)
        else:
            self._choose(turn, places)

    def _choose(self, turn: Turn, places: list[tuple[BarometerRound, str]]) -> None:
        turn.goto("barometer", "commune")
        turn.say(
            turn.t("barometer.choose_commune"),
            [Choice(f"barometer:go:{r.id}:{c}", commune_name(turn.pack, c)) for r, c in places[:9]]
            + [back_to_menu(turn)],
        )

    async def show(self, turn: Turn, router: Router) -> None:
        """Draw the current question or the comment step again."""
        barometer = turn.pack.barometer
        if turn.step == "question" and barometer is not None:
            await self._question(turn, barometer, turn.data)
        elif turn.step == "comment":
            self._ask_comment(turn)
        else:
            await self.start(turn, router)

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Invitation, commune, change, an answer, no comment."""
        parts = choice.split(":")
        action = parts[1] if len(parts) > 1 else ""
        if action == "round" and len(parts) == 3:
            record = await turn.tx.barometer_round(parts[2])
            if not self._is_open(turn, record):
                turn.say(turn.t("barometer.closed"), [back_to_menu(turn)])
            elif record is not None:
                if turn.user.commune in record.communes or len(record.communes) == 1:
                    commune = turn.user.commune if turn.user.commune in record.communes else None
                    await self._enter(turn, record, commune or record.communes[0], change=False)
                else:
                    self._choose(turn, [(record, c) for c in record.communes])
        elif action in ("go", "change") and len(parts) == 4:
            record = await turn.tx.barometer_round(parts[2])
            if record is None or not self._is_open(turn, record) or parts[3] not in record.communes:
                turn.say(turn.t("barometer.closed"), [back_to_menu(turn)])
            else:
                await self._enter(turn, record, parts[3], change=action == "change")
        elif turn.flow != "barometer":
            # An old answer button pressed in another flow (a quiz also has a "question"
            # step): its data is not ours, so the engine answers as for any stale choice.
            return False
        elif action == "a" and len(parts) == 4 and parts[2].isdigit() and parts[3].isdigit():
            await self._answer(turn, router, int(parts[2]), int(parts[3]))
        elif action == "nocomment" and turn.step == "comment":
            await self._save(turn, None)
        else:
            return False
        return True

    async def on_text(self, turn: Turn, router: Router, text: str) -> bool:
        """The optional comment, when it is asked for."""
        if turn.step != "comment":
            return False
        await self._save(turn, clean_input(text, COMMENT_MAX))
        return True

    def _is_open(self, turn: Turn, record: BarometerRound | None) -> bool:
        return record is not None and record.status == "open" and turn.now < record.closes_at

    async def _enter(self, turn: Turn, record: BarometerRound, commune: str, change: bool) -> None:
        barometer = turn.pack.barometer
        if barometer is None:
            turn.say(turn.t("barometer.none_open"), [back_to_menu(turn)])
            return
        name = commune_name(turn.pack, commune)
        if not change and await turn.tx.barometer_answers(record.id, turn.user.key) is not None:
            turn.goto("menu", "main")
            turn.say(
                turn.t("barometer.already", commune=name, closes=last_day(record)),
                [
                    Choice(f"barometer:change:{record.id}:{commune}", turn.t("barometer.change")),
                    back_to_menu(turn),
                ],
            )
            return
        kept = draft(turn, "barometer")
        if kept and kept[1].get("round") == record.id and kept[1].get("commune") == commune:
            # Answers begun before a detour: carry on where the person stopped.
            turn.goto("barometer", kept[0], kept[1])
            if kept[0] == "comment":
                self._ask_comment(turn)
            else:
                await self._question(turn, barometer, kept[1])
            return
        data = {"round": record.id, "commune": commune, "pos": 0, "answers": {}}
        turn.goto("barometer", "question", data)
        turn.say(
            turn.t(
                "barometer.intro",
                title=turn.pack.pick(barometer.title, turn.lang),
                commune=name,
                intro=turn.pack.pick(barometer.intro, turn.lang),
                count=len(barometer.questions()),
                closes=last_day(record),
            )
        )
        await self._question(turn, barometer, data)

    async def _question(self, turn: Turn, barometer: BarometerFile, data: dict[str, Any]) -> None:
        pack, lang = turn.pack, turn.lang
        questions = barometer.questions()
        position = int(data["pos"])
        criterion, question = questions[position]
        scale = [
            Choice(f"barometer:a:{position}:{n}", f"{n}. {pack.pick(label, lang)}")
            for n, label in enumerate(barometer.scale, start=1)
        ]
        await say_with_voice(
            turn,
            f"barometer:{question.id}",
            turn.t(
                "barometer.question",
                criterion=pack.pick(criterion.title, lang),
                n=position + 1,
                total=len(questions),
                text=pack.pick(question.text, lang),
            ),
            [*scale, Choice(f"barometer:a:{position}:0", turn.t("barometer.dont_know"))],
        )

    async def _answer(self, turn: Turn, router: Router, position: int, score: int) -> None:
        barometer, data = turn.pack.barometer, turn.data
        if barometer is None or turn.step != "question" or position != data.get("pos"):
            # An old button of an earlier question: show where the user really is.
            await self.show(turn, router)
            return
        questions = barometer.questions()
        if not 0 <= score <= len(barometer.scale) or position >= len(questions):
            turn.say(turn.t("input.stale_choice"))
            return
        answers = dict(data["answers"])
        if score:  # 0 is "I don't know": no score for that question.
            answers[questions[position][1].id] = score
        data["answers"], data["pos"] = answers, position + 1
        if data["pos"] < len(questions):
            turn.goto("barometer", "question", data)
            await self._question(turn, barometer, data)
        elif barometer.comment:
            turn.goto("barometer", "comment", data)
            self._ask_comment(turn)
        else:
            turn.goto("barometer", "comment", data)
            await self._save(turn, None)

    def _ask_comment(self, turn: Turn) -> None:
        turn.say(
            turn.t("barometer.comment_ask"),
            [Choice("barometer:nocomment", turn.t("barometer.no_comment"))],
        )

    async def _save(self, turn: Turn, comment: str | None) -> None:
        data = turn.data
        record = await turn.tx.barometer_round(str(data.get("round")))
        drop_draft(turn, "barometer")
        turn.goto("menu", "main")
        if record is None or not self._is_open(turn, record):
            turn.say(turn.t("barometer.closed"), [back_to_menu(turn)])
            return
        commune = str(data["commune"])
        turn.tx.save_barometer_answers(
            record.id,
            turn.user.key,
            BarometerAnswers(commune, dict(data["answers"]), comment or None, turn.now),
        )
        turn.say(
            turn.t(
                "barometer.thanks",
                commune=commune_name(turn.pack, commune),
                closes=last_day(record),
            ),
            [back_to_menu(turn)],
        )
