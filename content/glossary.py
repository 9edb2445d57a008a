"""The pack's glossary: one rendering per civic term and language, and the check that uses it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from content.schema import Id, Strict, Text
from content.text import fold
from content.units import Unit

Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class Rendering(Strict):
    """How one language says a term: the word to use, its accepted forms, the wrong variants."""

    use: Word = Field(description="the one rendering every text of the pack uses")
    forms: list[Word] = Field(
        default_factory=list, description="other accepted forms: plural, with a suffix"
    )
    avoid: list[Word] = Field(
        default_factory=list, description="known wrong or retired variants: the check warns"
    )
    source: Text | None = Field(default=None, description="where the word is seen in this sense")
    needs_review: bool = Field(
        default=False, description="no source yet: a native speaker must confirm it"
    )

    @model_validator(mode="after")
    def _sourced_or_marked(self) -> Self:
        if self.source is None and not self.needs_review:
            raise ValueError("give a source, or mark the rendering needs_review: true")
        return self


class Term(Strict):
    """A French civic term and its rendering in each other language."""

    id: Id
    fr: Text = Field(description="the French term, as the texts use it")
    note: Text | None = None
    context: list[Word] = Field(
        default_factory=list,
        description="warn about a wrong variant only where the French text has one of these "
        "words (or a word starting with it): for variants that are right in other senses",
    )
    translations: dict[str, Rendering] = Field(min_length=1)


class GlossaryFile(Strict):
    """`glossary.yaml`: the civic terms of the pack, one rendering each."""

    terms: list[Term] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Finding:
    """A wrong variant met in a text."""

    unit: Unit
    term: Term
    lang: str
    variant: str

    def __str__(self) -> str:
        return (
            f"{self.unit.context}: '{self.variant}' for « {self.term.fr} »; "
            f"the glossary says '{self.term.translations[self.lang].use}'"
        )


_NON_WORD = re.compile(r"[\W_]+")
# Placeholders ({quiz}) and typed commands (/quiz) are not words of the text.
_CODE = re.compile(r"\{\w+\}|/\w+")


def plain(text: str) -> str:
    """Lower case without tone marks or punctuation, but with ɛ, ɔ, ɲ, ŋ kept: `bizeti` is a
    misspelling of `bizɛti`, while search folds them together."""
    bare = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in bare if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", unicodedata.normalize("NFC", bare)).strip()


def _pattern(
    words: Iterable[str], norm: Callable[[str], str], prefix: bool = False
) -> re.Pattern[str] | None:
    """Whole words or phrases, so `baro` does not match inside `barokɛ` (prefixes if asked)."""
    normed = sorted({norm(w) for w in words if norm(w)}, key=len, reverse=True)
    if not normed:
        return None
    end = "" if prefix else r"(?!\w)"
    return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, normed)) + ")" + end)


class Glossary:
    """The glossary compiled for one language: finds uses and wrong variants in its texts."""

    def __init__(self, terms: Iterable[Term], lang: str) -> None:
        self.lang = lang
        self.terms = [t for t in terms if lang in t.translations]
        self._uses = {
            t.id: _pattern([t.translations[lang].use, *t.translations[lang].forms], fold)
            for t in self.terms
        }
        self._avoid = {t.id: _pattern(t.translations[lang].avoid, plain) for t in self.terms}
        self._context = {t.id: _pattern(t.context, fold, prefix=True) for t in self.terms}

    def used_in(self, text: str) -> list[Term]:
        """The terms whose rendering a text uses (for translators' comments and counts)."""
        folded = fold(text)
        return [t for t in self.terms if (p := self._uses[t.id]) is not None and p.search(folded)]

    def wrong(self, unit: Unit) -> list[Finding]:
        """Every known wrong variant in a unit's translation."""
        if not unit.text:
            return []
        text, french = plain(_CODE.sub(" ", unit.text)), fold(unit.french)
        return [
            Finding(unit, term, self.lang, match)
            for term in self.terms
            if (p := self._avoid[term.id]) is not None
            and ((c := self._context[term.id]) is None or c.search(french))
            for match in dict.fromkeys(p.findall(text))
        ]

    def uses(self, units: Iterable[Unit]) -> Mapping[str, list[str]]:
        """Term id -> the contexts of the texts that use it."""
        found: dict[str, list[str]] = {t.id: [] for t in self.terms}
        for unit in units:
            for term in self.used_in(unit.text or ""):
                found[term.id].append(unit.context)
        return found
