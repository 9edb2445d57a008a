"""The `safety` part of a pack: help numbers and services for someone in danger."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from content.schema import LangText, Strict, Text, _needs_fallback

Confidence = Literal["A", "B", "C"]
Kind = Literal["self_harm", "sexual", "marriage", "threat", "violence"]
SourceId = Annotated[str, StringConstraints(pattern=r"^N?[0-9]+$")]


class SafetySource(Strict):
    """Where a number or a service comes from (the ids of the facts brief, [N37]...)."""

    id: SourceId
    title: Text
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]


class HelpLine(Strict):
    """A number to call; only numbers confirmed (A or B) are ever shown."""

    label: LangText
    number: Annotated[str, StringConstraints(pattern=r"^[0-9][0-9 ]{1,15}$")]
    confidence: Confidence = Field(description="A: official or two sources; B: one; C: unsure")
    sources: list[SourceId] = Field(min_length=1)
    note: Text | None = Field(default=None, description="for editors, never shown")

    _fallback = field_validator("label")(_needs_fallback)


class HelpService(Strict):
    """A place or organisation that helps, in one or two sentences."""

    text: LangText
    confidence: Confidence
    sources: list[SourceId] = Field(min_length=1)

    _fallback = field_validator("text")(_needs_fallback)


class SafetyFile(Strict):
    """`safety.yaml`: what the bot answers at once to a message about danger."""

    needs_review: list[str] = Field(
        default_factory=list, description="languages whose texts a native speaker must still read"
    )
    reviewed_on: dt.date
    lines: list[HelpLine] = Field(min_length=1)
    services: list[HelpService] = Field(default_factory=list)
    # Per kind of danger: the first words, said without blame.
    opening: dict[Kind, LangText]
    now: LangText = Field(description="what the person can do right now")
    more: LangText = Field(description="what 'read more' shows, before the services")
    verify: LangText = Field(description="a reminder to check numbers locally")
    sources: list[SafetySource] = Field(min_length=1)
    # Per kind of danger: the pack's longer article to offer under the help (optional).
    articles: dict[Kind, str] = Field(
        default_factory=dict, description="article id to offer under the help, per kind"
    )

    _fallback = field_validator("now", "more", "verify")(_needs_fallback)

    @field_validator("opening")
    @classmethod
    def _every_kind(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        missing = sorted(set(Kind.__args__) - set(value))  # type: ignore[attr-defined]
        if missing:
            raise ValueError(f"an opening is needed for every kind; missing: {missing}")
        for kind, texts in value.items():
            if "fr" not in texts:
                raise ValueError(f"{kind}: the French text ('fr') is required")
        return value

    def shown_lines(self) -> list[HelpLine]:
        """The numbers that may be shown: never one whose confidence is C."""
        return [line for line in self.lines if line.confidence != "C"]

    def unknown_sources(self) -> list[str]:
        """Source ids used but not listed, for the pack check."""
        listed = {source.id for source in self.sources}
        used = {s for line in self.lines for s in line.sources}
        used |= {s for service in self.services for s in service.sources}
        return sorted(used - listed)
