"""Neutral inbound and outbound messages shared by every channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ChatType = Literal["private", "group"]
MediaKind = Literal["photo", "voice", "document", "audio"]


def user_key(channel: str, external_id: str) -> str:
    """Return the stable key of a user: `channel:external_id`."""
    return f"{channel}:{external_id}"


@dataclass(frozen=True, slots=True)
class Location:
    """A point shared by the user."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Media:
    """A photo, voice note or document, referenced by the platform's id."""

    kind: MediaKind
    ref: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a user did: typed text, tapped a choice, shared a location or media."""

    channel: str
    user_id: str
    chat_id: str
    received_at: datetime
    chat_type: ChatType = "private"
    message_id: str | None = None
    name: str | None = None
    lang_hint: str | None = None
    text: str | None = None
    choice: str | None = None
    location: Location | None = None
    media: Media | None = None
    # A platform event instead of a message: "blocked" (the user blocked the bot), "added"
    # or "removed" (the bot was added to or removed from a group).
    event: str | None = None
    # Where the user came from (a deep-link payload: a poster, a radio spot, a training).
    entry: str | None = None
    # Whether the sender administers the group (the channel checks; group quizzes need it).
    admin: bool = False

    @property
    def user_key(self) -> str:
        """The user's key, `channel:external_id`."""
        return user_key(self.channel, self.user_id)

    def __repr__(self) -> str:
        # Message text is personal data: keep it out of reprs that may reach logs.
        return (
            f"Inbound(channel={self.channel!r}, message_id={self.message_id!r}, "
            f"chat_type={self.chat_type!r}, kind={self.kind!r})"
        )

    @property
    def kind(self) -> str:
        """What the user sent: text, choice, location, media or empty."""
        if self.event is not None:
            return "event"
        if self.choice is not None:
            return "choice"
        if self.location is not None:
            return "location"
        if self.media is not None:
            return "media"
        if self.text is not None:
            return "text"
        return "empty"


@dataclass(frozen=True, slots=True)
class Choice:
    """A button or numbered option; `id` is stable, `label` is what the user reads."""

    id: str
    label: str
    short_label: str | None = None


# Reply fields stored in the outbox payload under their own JSON key (the same keys as the
# free `extra` dict used before, so rows written by earlier versions still read back).
_TYPED = (
    "only_for",
    "edit_of",
    "open_private",
    "open_private_label",
    "template",
    "complaint",
    "media_from",
    "media_fallback",
    "media_gone",
)
_JSON_KEYS = {"template": "whatsapp_template"}


@dataclass(frozen=True, slots=True)
class Reply:
    """Something the bot says; `chat=None` means the chat the inbound came from.

    Typed fields say what channels need: `only_for` (a group member who alone sees it),
    `edit_of` (the outbox row whose message this one replaces), `open_private` and its label
    (a button that opens the private chat), `template` (the WhatsApp template to use outside
    the 24-hour window), `complaint` and `partner` (what a CSO forward is about),
    `media_from` (the other platform whose id `media.ref` is: the channel downloads it and
    sends the bytes), `media_fallback` (what to say instead when that media cannot be
    carried to this platform) and `media_gone` (what to say when its platform no longer has
    it). `extra` keeps anything else a channel stored in the payload.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    chat: str | None = None
    channel: str | None = None
    media: Media | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # A voice note played before the text: a path inside the content pack (`audio/...`).
    audio: str | None = None
    only_for: str | None = None
    edit_of: str | None = None
    open_private: str | None = None
    open_private_label: str | None = None
    template: str | None = None
    complaint: str | None = None
    partner: str | None = None
    media_from: str | None = None
    media_fallback: str | None = None
    media_gone: str | None = None

    def __post_init__(self) -> None:
        # Code that still passes these in `extra` gets the typed field all the same.
        if not self.extra:  # nearly every reply: nothing to look for
            return
        lifted = {
            name: self.extra[_JSON_KEYS.get(name, name)]
            for name in (*_TYPED, "partner")
            if _JSON_KEYS.get(name, name) in self.extra and getattr(self, name) is None
        }
        if lifted:
            for name, value in lifted.items():
                object.__setattr__(self, name, str(value))
            keys = {_JSON_KEYS.get(name, name) for name in lifted}
            object.__setattr__(
                self, "extra", {k: v for k, v in self.extra.items() if k not in keys}
            )

    def to_dict(self, default_chat: str) -> dict[str, Any]:
        """Serialise for JSON lines and the outbox."""
        out: dict[str, Any] = {"chat": self.chat or default_chat, "text": self.text}
        choices = []
        for c in self.choices:
            item = {"id": c.id, "label": c.label}
            if c.short_label:
                item["short_label"] = c.short_label
            choices.append(item)
        out["choices"] = choices
        if self.channel:
            out["channel"] = self.channel
        if self.media:
            out["media"] = {"kind": self.media.kind, "ref": self.media.ref}
        for name in (*_TYPED, "partner"):
            value = getattr(self, name)
            if value is not None:
                out[_JSON_KEYS.get(name, name)] = value
        out.update(self.extra)
        if self.audio:
            out["audio"] = self.audio
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        """Rebuild a reply stored in the outbox."""
        media = data.get("media")
        known = {"chat", "text", "choices", "channel", "media", "audio"}
        return cls(
            text=str(data["text"]),
            choices=tuple(
                Choice(str(c["id"]), str(c["label"]), c.get("short_label"))
                for c in data.get("choices", [])
            ),
            chat=data.get("chat"),
            channel=data.get("channel"),
            media=Media(media["kind"], media["ref"]) if media else None,
            # The typed fields are lifted out of these by __post_init__.
            extra={k: v for k, v in data.items() if k not in known},
            audio=data.get("audio"),
        )
