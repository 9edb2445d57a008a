"""Pydantic models of the pack's YAML files: every field a content editor may write."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=48)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
LangText = dict[str, Text]
LangList = dict[str, list[Text]]

FALLBACK = "fr"


def _needs_fallback(value: dict[str, object] | None) -> dict[str, object] | None:
    if value is not None and FALLBACK not in value:
        raise ValueError(
            f"the French text ('{FALLBACK}') is required; other languages fall back to it"
        )
    return value


class Strict(BaseModel):
    """Unknown fields are errors, so a typo never silently drops content."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """A law or document that backs what an article says."""

    title: Text = Field(description="the law or document, as its official title reads")
    articles: Text | None = Field(default=None, description="article numbers, e.g. 'art. 1 à 3'")
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    kind: Literal["law", "official", "press"] | None = Field(
        default=None,
        description="what was read at the URL: the text itself (law), a public body's page "
        "(official), or press, thesis, encyclopaedia (press: shown as such to readers)",
    )


class Action(Strict):
    """A button under an article; today: report a problem in a complaint category."""

    complaint: Id = Field(description="a category id of complaints.yaml")


class Article(Strict):
    """One article of the learning content."""

    id: Id = Field(description="kebab-case, stable: buttons and statistics use it")
    theme: Id
    title: LangText = Field(description="at most 60 characters")
    short_title: LangText | None = Field(
        default=None, description="at most 20 characters, for buttons, when the title is longer"
    )
    summary: LangText = Field(description="one or two sentences")
    body: LangText = Field(description="paragraphs separated by blank lines")
    keywords: LangList = Field(default_factory=dict)
    questions: LangList = Field(default_factory=dict, description="how people ask it")
    sources: list[Source] = Field(min_length=1)
    reviewed_on: dt.date
    related: list[Id] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    audio: dict[str, Text] = Field(
        default_factory=dict, description="a voice recording per language: file id or URL"
    )
    needs_review: dict[str, bool] = Field(
        default_factory=dict, description="languages whose text a native speaker must review"
    )

    _french = field_validator("title", "summary", "body")(_needs_fallback)
    _french_short = field_validator("short_title")(_needs_fallback)


class Theme(Strict):
    """A learning theme: a menu entry grouping articles."""

    id: Id
    title: LangText
    short_title: LangText | None = None
    needs_review: dict[str, bool] = Field(default_factory=dict)

    _french = field_validator("title")(_needs_fallback)
    _french_short = field_validator("short_title")(_needs_fallback)


class ThemesFile(Strict):
    """`themes.yaml`: the themes in menu order."""

    themes: list[Theme] = Field(min_length=1)


class ComplaintCategory(Strict):
    """A kind of problem a citizen can report, with its Open311 service code."""

    id: Id
    label: LangText
    short_label: LangText | None = None
    description: LangText
    service_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$")]
    sensitive: bool = Field(
        default=False, description="never listed one by one in public (Open311, open data)"
    )
    needs_review: dict[str, bool] = Field(default_factory=dict)

    _french = field_validator("label", "description")(_needs_fallback)
    _french_short = field_validator("short_label")(_needs_fallback)


class ComplaintsFile(Strict):
    """`complaints.yaml`: the complaint categories in menu order."""

    categories: list[ComplaintCategory] = Field(min_length=1)


PCode = Annotated[str, StringConstraints(pattern=r"^ML\d{2}(\d{2}(\d{2})?)?$")]


class Area(Strict):
    """Where a CSO works: regions, cercles or communes, by OCHA P-code (empty: everywhere)."""

    regions: list[PCode] = Field(default_factory=list, description="e.g. ML01")
    cercles: list[PCode] = Field(default_factory=list, description="e.g. ML0101")
    communes: list[PCode] = Field(default_factory=list, description="e.g. ML010101")


class Partner(Strict):
    """A CSO that receives complaints for an area and some categories."""

    id: Id
    name: Text
    example: bool = Field(default=False, description="a placeholder, not a real organisation")
    desk: bool = Field(default=False, description="the programme desk: gets what nobody covers")
    area: Area = Field(default_factory=Area)
    categories: list[Id] = Field(default_factory=list, description="empty: every category")
    ack_days: int = Field(default=5, ge=1, le=60, description="days to acknowledge a complaint")


class PartnersFile(Strict):
    """`partners.yaml`: the CSO directory used to route complaints."""

    partners: list[Partner] = Field(min_length=1)


OPTION_LIMIT = 60
EXPLANATION_LIMIT = 200


class QuizOption(Strict):
    """One answer to a quiz question."""

    text: LangText = Field(description=f"at most {OPTION_LIMIT} characters in French")
    correct: bool = False

    _french = field_validator("text")(_needs_fallback)


class QuizQuestion(Strict):
    """A question, its options (exactly one right), why, and the article that teaches it."""

    id: Id
    text: LangText
    options: list[QuizOption] = Field(min_length=2, max_length=4)
    explanation: LangText = Field(description=f"at most {EXPLANATION_LIMIT} characters")
    article: Id

    _french = field_validator("text", "explanation")(_needs_fallback)


class Quiz(Strict):
    """`quizzes/<id>.yaml`: a quiz bank."""

    id: Id
    title: LangText
    short_title: LangText | None = None
    description: LangText
    seconds: int = Field(default=30, ge=10, le=600, description="per question in groups")
    needs_review: dict[str, bool] = Field(default_factory=dict)
    questions: list[QuizQuestion] = Field(min_length=1)

    _french = field_validator("title", "description")(_needs_fallback)
    _french_short = field_validator("short_title")(_needs_fallback)


SCALE_POINTS = 5


class BarometerQuestion(Strict):
    """One question of the scorecard, answered on the 1..5 scale."""

    id: Id = Field(description="stable: results and comparisons between rounds use it")
    text: LangText

    _french = field_validator("text")(_needs_fallback)


class BarometerCriterion(Strict):
    """A criterion of the local governance barometer, with one to three questions."""

    id: Id
    title: LangText = Field(description="at most 20 characters, it is shown on results")
    questions: list[BarometerQuestion] = Field(min_length=1, max_length=3)

    _french = field_validator("title")(_needs_fallback)


class BarometerFile(Strict):
    """`barometer.yaml`: the Good Governance Barometer scorecard."""

    title: LangText
    intro: LangText
    scale: list[LangText] = Field(
        min_length=SCALE_POINTS,
        max_length=SCALE_POINTS,
        description="the words of 1 (very bad) to 5 (very good), in order; button labels",
    )
    comment: bool = Field(default=True, description="offer an optional comment at the end")
    needs_review: dict[str, bool] = Field(default_factory=dict)
    criteria: list[BarometerCriterion] = Field(min_length=1)

    _french = field_validator("title", "intro")(_needs_fallback)

    @field_validator("scale")
    @classmethod
    def _scale_french(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        for label in value:
            _needs_fallback(label)  # type: ignore[arg-type]
        return value

    def questions(self) -> list[tuple[BarometerCriterion, BarometerQuestion]]:
        """Every question in order, with its criterion."""
        return [(c, q) for c in self.criteria for q in c.questions]
