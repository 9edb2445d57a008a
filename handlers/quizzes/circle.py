"""Private circles: a facilitator's group whose members play in their own private chats."""

from __future__ import annotations

import uuid
from datetime import timedelta

from complaints.reference import ALPHABET
from handlers.engine_support import pseudonym_key
from handlers.flow import Flow, Router
from handlers.menu import back_to_menu
from handlers.messages import Choice, Reply
from handlers.turn import Turn
from storage.records import CircleQuizRecord, NewOutboxMessage

CODE_LENGTH = 6
NAME_MAX = 40
DEADLINES = (2, 24, 72)


def looks_like_code(text: str) -> str | None:
    """An invite code as typed ('ab 12cd'), normalised; None if it cannot be one."""
    code = "".join(text.split()).upper()
    if len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code):
        return code
    return None


class CircleFlow(Flow):
    """Create a circle, invite by code, start a quiz with a deadline, leave at any time."""

    name = "circle"
    stateless_choices = True

    async def start(self, turn: Turn, router: Router) -> None:
        """My circles, and creating one."""
        turn.goto("circle", "home")
        mine = await turn.tx.circles_of(turn.user.key)
        turn.say(
            turn.t("circle.home" if mine else "circle.none"),
            [
                Choice(f"circle:open:{cid}", f"{'★ ' if lead else ''}{name}")
                for cid, name, lead in mine
            ]
            + [Choice("circle:create", turn.t("circle.create")), back_to_menu(turn)],
        )

    async def show(self, turn: Turn, router: Router) -> None:
        """Repeat the question awaiting an answer."""
        if turn.step == "name":
            turn.say(turn.t("circle.ask_name", max=NAME_MAX), [back_to_menu(turn)])
        else:
            await self.start(turn, router)

    async def on_text(self, turn: Turn, router: Router, text: str) -> bool:
        """The name of a new circle."""
        if turn.step != "name":
            return False
        name = " ".join(text.split())[:NAME_MAX]
        code = "".join(turn.rng.choice(ALPHABET) for _ in range(CODE_LENGTH))
        while await turn.tx.circle_by_code(code) is not None:
            code = "".join(turn.rng.choice(ALPHABET) for _ in range(CODE_LENGTH))
        circle_id = uuid.UUID(int=turn.rng.getrandbits(128)).hex[:16]
        turn.tx.save_circle(circle_id, name, turn.user.key, code, turn.now)
        turn.goto("circle", "home")
        turn.say(
            turn.t("circle.created", name=name, code=code),
            [Choice(f"circle:open:{circle_id}", name), back_to_menu(turn)],
        )
        return True

    async def on_free_text(self, turn: Turn, router: Router, text: str) -> bool:
        """An invite code sent to the bot joins its circle."""
        code = looks_like_code(text)
        found = await turn.tx.circle_by_code(code) if code else None
        if found is None:
            return False
        circle_id, name, facilitator = found
        if facilitator == turn.user.key:
            turn.say(turn.t("circle.you_lead", name=name))
            return True
        turn.tx.add_circle_member(circle_id, turn.user.key, turn.now)
        turn.say(turn.t("circle.joined", name=name))
        if await turn.tx.quiz_player(turn.user.key) is None:
            # Members appear to the facilitator by pseudonym only: ask for one now.
            turn.goto("quiz", "pseudo")
            turn.say(turn.t("quiz.ask_pseudonym", min=2, max=20))
        return True

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Open, create, start a quiz, remove a member, leave."""
        parts = choice.split(":")
        action = parts[1] if len(parts) > 1 else ""
        if action == "home":
            await self.start(turn, router)
            return True
        if action == "create":
            turn.goto("circle", "name")
            await self.show(turn, router)
            return True
        circle = await turn.tx.circle(parts[2]) if len(parts) > 2 else None
        if circle is None:
            return False
        circle_id, name, facilitator, code = circle
        lead = facilitator == turn.user.key
        members = await turn.tx.circle_members(circle_id)
        is_member = any(m[0] == turn.user.key for m in members)
        if action == "open" and lead:
            listing = "\n".join(f"• {m[1]}" for m in members) or turn.t("circle.empty")
            turn.say(
                turn.t(
                    "circle.lead_view", name=name, code=code, count=len(members), members=listing
                ),
                [
                    Choice(f"circle:quiz:{circle_id}", turn.t("circle.start_quiz")),
                    Choice(f"circle:remove:{circle_id}", turn.t("circle.remove")),
                    Choice("circle:home", turn.t("circle.back")),
                ],
            )
        elif action == "open" and is_member:
            turn.say(
                turn.t("circle.member_view", name=name, count=len(members)),
                [
                    Choice(f"circle:leave:{circle_id}", turn.t("circle.leave")),
                    Choice("circle:home", turn.t("circle.back")),
                ],
            )
        elif action == "leave" and is_member:
            turn.tx.remove_circle_member(circle_id, turn.user.key)
            turn.say(turn.t("circle.left", name=name), [back_to_menu(turn)])
        elif action == "remove" and lead:
            turn.say(
                turn.t("circle.who_to_remove"),
                [Choice(f"circle:rm:{circle_id}:{pseudonym_key(m[0])}", m[1]) for m in members]
                + [Choice(f"circle:open:{circle_id}", turn.t("circle.back"))],
            )
        elif action == "rm" and lead and len(parts) == 4:
            target = next((m for m in members if pseudonym_key(m[0]) == parts[3]), None)
            if target is not None:
                turn.tx.remove_circle_member(circle_id, target[0])
                turn.say(turn.t("circle.removed", pseudonym=target[1]))
        elif action == "quiz" and lead:
            turn.say(
                turn.t("circle.which_quiz"),
                [
                    Choice(
                        f"circle:q:{circle_id}:{q.id}",
                        turn.pack.pick(q.title, turn.lang),
                        turn.pack.pick(q.short_title, turn.lang) or None,
                    )
                    for q in turn.pack.quizzes.values()
                ],
            )
        elif action == "q" and lead and len(parts) == 4 and parts[3] in turn.pack.quizzes:
            turn.say(
                turn.t("circle.which_deadline"),
                [
                    Choice(f"circle:d:{circle_id}:{parts[3]}:{h}", turn.t("circle.hours", hours=h))
                    for h in DEADLINES
                ],
            )
        elif action == "d" and lead and len(parts) == 5 and parts[3] in turn.pack.quizzes:
            hours = int(parts[4]) if parts[4].isdigit() and int(parts[4]) in DEADLINES else 24
            await self._launch(turn, circle_id, name, parts[3], hours, members)
        else:
            return False
        return True

    async def _launch(
        self,
        turn: Turn,
        circle_id: str,
        name: str,
        quiz_id: str,
        hours: int,
        members: list[tuple[str, str, str, str, str]],
    ) -> None:
        quiz = turn.pack.quizzes[quiz_id]
        run = CircleQuizRecord(
            uuid.UUID(int=turn.rng.getrandbits(128)).hex[:16],
            circle_id,
            quiz_id,
            turn.now + timedelta(hours=hours),
            turn.now,
        )
        turn.tx.start_circle_quiz(run)
        deadline = run.deadline.strftime("%d/%m %H:%M UTC")
        for user_key, _, channel, chat, lang in members:
            title = turn.pack.pick(quiz.title, lang)
            invite = Reply(
                text=turn.pack.texts.get(
                    lang, "circle.invite", name=name, quiz=title, deadline=deadline
                ),
                choices=(
                    Choice(
                        f"quiz:start:{quiz_id}:{run.id}", turn.pack.texts.get(lang, "circle.play")
                    ),
                ),
            )
            turn.send_later(
                NewOutboxMessage(channel, chat, "circle", invite.to_dict(chat), user_key=user_key)
            )
        turn.say(
            turn.t("circle.launched", count=len(members), deadline=deadline), [back_to_menu(turn)]
        )
