"""The context of one inbound message as a flow sees it."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from content.pack import ContentPack
from handlers.messages import Choice, Inbound, Reply
from storage.ports import Transaction
from storage.records import ConversationRecord, NewOutboxMessage, UserRecord

# Where drafts live inside the conversation's data; flows never see this key.
DRAFTS_KEY = "_drafts"


@dataclass
class Turn:
    """What a flow reads and changes while handling one inbound."""

    inbound: Inbound
    now: datetime
    tx: Transaction
    pack: ContentPack
    user: UserRecord
    loaded: ConversationRecord
    rng: random.Random = field(default_factory=random.SystemRandom)
    complaint_daily_limit: int = 5
    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    forgotten: bool = False
    # True on the second try of a turn, after a shared record changed under the first.
    retried: bool = False
    # The user columns this turn changed: only these are written back.
    user_changes: dict[str, Any] = field(default_factory=dict)
    flow: str = field(init=False)
    step: str = field(init=False)
    offered: tuple[str, ...] = field(init=False)
    # The labels of `offered` (label, short label), what typed words are matched against.
    labels: tuple[tuple[str, str], ...] = field(init=False)
    _data: dict[str, Any] = field(init=False)
    # Work in progress kept through detours (a complaint, barometer answers), by flow name;
    # saved with the conversation, so it ends when the conversation expires.
    drafts: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.flow = self.loaded.flow
        self.step = self.loaded.step
        self.offered = self.loaded.choices
        self.labels = self.loaded.labels
        self._data = dict(self.loaded.data)
        self.drafts = dict(self._data.pop(DRAFTS_KEY, None) or {})

    @property
    def lang(self) -> str:
        """The user's language, or the pack's fallback before they chose one."""
        hint = self.inbound.lang_hint
        if self.user.language:
            return self.user.language
        return hint if hint in self.pack.languages else self.pack.languages[0]

    @property
    def data(self) -> dict[str, Any]:
        """The flow's own data (a deep copy: write it back with `goto`).

        Deep, because the loaded data is shared with the store's cache: a flow appending to a
        list and then failing must leave no trace of it there.
        """
        return copy.deepcopy(self._data)

    @property
    def conversation(self) -> ConversationRecord:
        """The conversation as this turn leaves it."""
        return ConversationRecord(
            user_key=self.loaded.user_key,
            flow=self.flow,
            step=self.step,
            updated_at=self.now,
            data={**self._data, DRAFTS_KEY: self.drafts} if self.drafts else self._data,
            choices=self.offered,
            labels=self.labels if len(self.labels) == len(self.offered) else (),
        )

    def t(self, key: str, **params: Any) -> str:
        """An interface string in the user's language."""
        return self.pack.texts.get(self.lang, key, **params)

    def say(self, text: str, choices: list[Choice] | tuple[Choice, ...] = ()) -> None:
        """Add a reply to this chat; its choices become the ones typed numbers refer to."""
        self.replies.append(Reply(text=text, choices=tuple(choices)))
        if choices:
            self.offered = tuple(choice.id for choice in choices)
            self.labels = tuple((c.label, c.short_label or "") for c in choices)

    @property
    def screen(self) -> tuple[Choice, ...]:
        """The choices the person has in front of her, with their labels when known."""
        return _screen(self.offered, self.labels)

    def goto(self, flow: str, step: str, data: dict[str, Any] | None = None) -> None:
        """Move the conversation to a flow and step; offered choices are reset."""
        self.flow, self.step, self._data, self.offered = flow, step, data or {}, ()
        self.labels = ()

    def update_user(self, **changes: Any) -> None:
        """Change fields of the user record, saved with the turn (only the fields changed)."""
        self.user = replace(self.user, **changes)
        self.user_changes.update(changes)

    def send_later(self, message: NewOutboxMessage) -> str:
        """Queue a message for another chat, committed with this turn; return its outbox id."""
        return self.tx.enqueue(message, self.now)


@lru_cache(maxsize=4096)
def _screen(offered: tuple[str, ...], labels: tuple[tuple[str, str], ...]) -> tuple[Choice, ...]:
    # Built once per screen (screens repeat a lot); choices are frozen, so shared safely.
    if len(labels) != len(offered):
        return tuple(Choice(c, "") for c in offered)
    return tuple(
        Choice(c, label, short or None) for c, (label, short) in zip(offered, labels, strict=True)
    )
