"""The context of one inbound message as a flow sees it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from content.pack import ContentPack
from handlers.messages import Choice, Inbound, Reply
from storage.ports import Transaction
from storage.records import ConversationRecord, NewOutboxMessage, UserRecord


@dataclass
class Turn:
    """What a flow reads and changes while handling one inbound."""

    inbound: Inbound
    now: datetime
    tx: Transaction
    pack: ContentPack
    user: UserRecord
    conversation: ConversationRecord
    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    forgotten: bool = False

    @property
    def lang(self) -> str:
        """The user's language, or the pack's fallback before they chose one."""
        return self.user.language or self.pack.languages[0]

    @property
    def flow(self) -> str:
        """The flow the conversation is in."""
        return self.conversation.flow

    @property
    def step(self) -> str:
        """The step of that flow."""
        return self.conversation.step

    @property
    def data(self) -> dict[str, Any]:
        """The flow's own data (a copy: write it back with `goto`)."""
        return dict(self.conversation.data)

    def t(self, key: str, **params: Any) -> str:
        """An interface string in the user's language."""
        return self.pack.texts.get(self.lang, key, **params)

    def say(self, text: str, choices: list[Choice] | tuple[Choice, ...] = ()) -> None:
        """Add a reply to this chat; its choices become the ones typed numbers refer to."""
        self.replies.append(Reply(text=text, choices=tuple(choices)))
        if choices:
            self.conversation = replace(
                self.conversation, choices=tuple(choice.id for choice in choices)
            )

    def goto(self, flow: str, step: str, data: dict[str, Any] | None = None) -> None:
        """Move the conversation to a flow and step; offered choices are reset."""
        self.conversation = replace(
            self.conversation, flow=flow, step=step, data=data or {}, choices=()
        )

    def update_user(self, **changes: Any) -> None:
        """Change fields of the user record, saved with the turn."""
        self.user = replace(self.user, **changes)

    async def send_later(self, message: NewOutboxMessage) -> None:
        """Queue a message for another chat, committed with this turn."""
        await self.tx.enqueue(message, self.now)
