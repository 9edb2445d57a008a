"""The campaign file: one message, per language, to an audience; validated by pydantic."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# A campaign's name is also its deep-link code (`c-NAME`): Telegram start payloads allow
# letters, digits, `_` and `-` up to 64 characters; `_` is kept out so that SQL range scans
# on the outbox dedupe keys need no escaping.
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,40}$"
TARGET_PATTERN = r"^(learn:article|quiz:start):[a-z0-9][a-z0-9-]*$"
KIND = "campaign"


class CampaignError(Exception):
    """A campaign file that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LangText(_Strict):
    """A text in French (required) and Bambara (falls back to French)."""

    fr: str = Field(min_length=1, max_length=3500)
    bm: str | None = Field(default=None, min_length=1, max_length=3500)

    def pick(self, lang: str | None) -> str:
        """The text in the user's language, else French."""
        return self.bm if lang == "bm" and self.bm else self.fr


class MediaRef(_Strict):
    """A photo, document or audio already uploaded to the platform, by its id or URL."""

    kind: Literal["photo", "document", "audio"]
    ref: str = Field(min_length=1)


class Button(_Strict):
    """One button that opens an article (`learn:article:ID`) or a quiz (`quiz:start:ID`)."""

    label: LangText
    open: str = Field(pattern=TARGET_PATTERN)

    @property
    def article(self) -> str | None:
        """The article the button opens, if it opens one."""
        return self.open.removeprefix("learn:article:") if self.open.startswith("learn:") else None


class Audience(_Strict):
    """Who receives it: every filter given must match; an empty filter matches everyone."""

    channels: list[Literal["telegram", "whatsapp"]] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    communes: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    gender: list[str] = Field(default_factory=list)
    age_groups: list[str] = Field(default_factory=list)
    entry_sources: list[str] = Field(default_factory=list)
    # Users who opened this article (by id) at least once.
    read_article: str | None = None


class Campaign(_Strict):
    """One public information campaign."""

    name: str = Field(pattern=NAME_PATTERN)
    text: LangText
    media: MediaRef | None = None
    button: Button | None = None
    audience: Audience = Field(default_factory=Audience)
    # The approved WhatsApp template for people outside the 24-hour window; the bot uses the
    # one configured for the kind "campaign" in CIVICBOT_WHATSAPP_TEMPLATES, and `plan` warns
    # when the two differ.
    whatsapp_template: str | None = None

    @property
    def code(self) -> str:
        """The deep-link code that attributes new users to this campaign."""
        return f"c-{self.name}"

    def dedupe_prefix(self) -> str:
        """The outbox dedupe keys of this campaign all start with this."""
        return f"{KIND}:{self.name}:"

    def digest(self) -> str:
        """A fingerprint of what is sent: a resumed send must send the same message."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


def load_campaign(path: Path) -> Campaign:
    """Read and validate a campaign file; every problem is reported at once."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CampaignError([f"{path}: {exc}"]) from None
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{path}: {'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise CampaignError(problems) from None


def check_targets(campaign: Campaign, articles: set[str], quizzes: set[str]) -> list[str]:
    """Problems with the button's article or quiz, or the audience's article, in the pack."""
    problems: list[str] = []
    if campaign.button is not None:
        target = campaign.button.open.rsplit(":", 1)[1]
        kind = "article" if campaign.button.article else "quiz"
        if target not in (articles if kind == "article" else quizzes):
            problems.append(f"button.open: no {kind} '{target}' in the content pack")
    wanted = campaign.audience.read_article
    if wanted is not None and wanted not in articles:
        problems.append(f"audience.read_article: no article '{wanted}' in the content pack")
    return problems


def is_campaign_code(text: str) -> bool:
    """Whether a first message or start payload is a campaign code (`c-NAME`)."""
    return re.fullmatch(r"c-" + NAME_PATTERN[1:], text) is not None
