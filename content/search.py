"""Search over the articles, for questions typed the way people really type.

Text is folded once at load time (case, accents, Bambara letters), common SMS spellings are
expanded and function words dropped; then two scores are mixed: a BM25-style score over weighted
fields (titles and keywords count most), where a misspelt word still matches its closest
vocabulary words, and the closeness of the whole question to the article's titles, keywords and
example questions. The second score catches short queries and phrasings; the first ranks.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Protocol

from rapidfuzz import fuzz, process

from content.text import fold

if TYPE_CHECKING:
    from content.schema import Article


class Indexable(Protocol):
    """What the index needs of a pack: its articles (so search does not import the pack)."""

    @property
    def articles(self) -> Mapping[str, Article]:
        """Every article, by id."""
        ...


# SMS and phone spellings -> the word they stand for (after folding).
SMS: Mapping[str, str] = {
    "koi": "quoi",
    "kwa": "quoi",
    "koa": "quoi",
    "kesako": "quoi",
    "keske": "quoi",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pkoi": "pourquoi",
    "pourkoi": "pourquoi",
    "ki": "qui",
    "ke": "que",
    "kel": "quel",
    "kelle": "quelle",
    "koman": "comment",
    "cmt": "comment",
    "cmnt": "comment",
    "ds": "dans",
    "bcp": "beaucoup",
    "tt": "tout",
    "tjr": "toujours",
    "tjs": "toujours",
    "pr": "pour",
    "vs": "vous",
    "ns": "nous",
    "jsui": "suis",
    "chui": "suis",
    "jsuis": "suis",
    "fo": "faut",
    "fr": "faire",
    "asso": "association",
    "assos": "association",
    "asos": "association",
    "gouv": "gouvernement",
    "gvt": "gouvernement",
    "admin": "administration",
    "doc": "document",
    "docs": "document",
    "mairi": "mairie",
    "meri": "meri",
    "ecol": "ecole",
    "elu": "elu",
    "bjr": "bonjour",
    "slt": "salut",
    "mrc": "merci",
    "mci": "merci",
    "dmd": "demande",
    "pb": "probleme",
    "pbm": "probleme",
    "prob": "probleme",
    "infos": "information",
    "info": "information",
    "svp": "plait",
    "stp": "plait",
}

# Words that carry no subject: French function words, question words, Bambara particles.
STOPWORDS = frozenset(
    [
        "a",
        "au",
        "aux",
        "avec",
        "c",
        "ca",
        "ce",
        "ces",
        "cet",
        "cette",
        "d",
        "de",
        "des",
        "du",
        "en",
        "et",
        "est",
        "etre",
        "il",
        "ils",
        "elle",
        "elles",
        "j",
        "je",
        "l",
        "la",
        "le",
        "les",
        "leur",
        "leurs",
        "lui",
        "m",
        "ma",
        "mais",
        "me",
        "mes",
        "moi",
        "mon",
        "n",
        "ne",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "par",
        "pas",
        "plus",
        "pour",
        "qu",
        "que",
        "quel",
        "quelle",
        "quelles",
        "quels",
        "qui",
        "quoi",
        "s",
        "sa",
        "se",
        "ses",
        "si",
        "son",
        "sont",
        "sur",
        "t",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "y",
        "comment",
        "pourquoi",
        "quand",
        "combien",
        "dans",
        "faut",
        "faire",
        "fait",
        "peut",
        "peux",
        "veux",
        "veut",
        "suis",
        "es",
        "sommes",
        "etes",
        "ont",
        "avoir",
        "ai",
        "as",
        "avez",
        "sera",
        "quoi",
        "cest",
        "kest",
        "qd",
        "alors",
        "donc",
        "tout",
        "tous",
        "toute",
        "toutes",
        "tres",
        "bien",
        "aussi",
        "comme",
        "c",
        "est",
        "ya",
        "il",
        "y",
        "dire",
        "dit",
        "savoir",
        "sais",
        "connaitre",
        "explique",
        "expliquer",
        "parle",
        "parler",
        "beaucoup",
        "plait",
        "merci",
        "toujours",
        "ye",
        "ka",
        "ni",
        "ko",
        "bi",
        "be",
        "te",
        "min",
        "mun",
        "don",
        "wa",
        "yan",
        "o",
        "u",
        "an",
        "aw",
        "ne",
        "i",
        "n",
        "k",
        "b",
        "t",
    ]
)

FIELD_WEIGHTS: Mapping[str, float] = {
    "title": 5.0,
    "keywords": 4.0,
    "questions": 2.5,
    "summary": 1.0,
    "body": 0.3,
}
SATURATION = 1.5
STRONG = FIELD_WEIGHTS["keywords"]  # a word this heavy in an article fully covers it
MIX = 0.7  # share of the field score in the final score; the rest is phrase closeness
CONFIDENT = 0.5
CONFIDENT_MARGIN = 0.1
UNCERTAIN = 0.25
MIN_COVERAGE = 0.4  # share of the question's weight an article must match to be offered
SURE_COVERAGE = 0.8  # ... and to be opened directly
MAX_CANDIDATES = 40


def stem(token: str) -> str:
    """A light French stem: plurals and a few endings, so 'depenses' meets 'depense'."""
    if len(token) > 4 and token.endswith(("s", "x")) and not token.endswith("ss"):
        token = token[:-1]
    return token


# Written with a Bambara letter, a word is Bambara even when its folded form is a French
# function word: 'tɔn' (association) folds to 'ton'.
_BAMBARA_LETTERS = frozenset("ɛɔɲŋƐƆƝŊ")


def terms(text: str) -> list[str]:
    """Folded, SMS-expanded, stemmed content words of a text."""
    out: list[str] = []
    for token in text.split():
        bambara = not _BAMBARA_LETTERS.isdisjoint(token)
        for raw in fold(token).split():
            word = SMS.get(raw, raw)
            if (word in STOPWORDS and not bambara) or (len(word) < 2 and not word.isdigit()):
                continue
            out.append(stem(word))
    return out


@dataclass(frozen=True, slots=True)
class Hit:
    """One article found, with a score between 0 and 1 and the share of the question it covers."""

    article_id: str
    score: float
    coverage: float = 1.0
    # The whole question is one of this article's keywords, and no other article's.
    named: bool = False


Outcome = Literal["confident", "uncertain", "none"]


def decide(hits: list[Hit]) -> Outcome:
    """Open the article, offer a choice, or say that no article answers the question."""
    # An article that matches one word of a longer question is a guess, not an answer.
    if not hits or hits[0].score < UNCERTAIN or hits[0].coverage < MIN_COVERAGE:
        return "none"
    top = hits[0].score
    second = hits[1].score if len(hits) > 1 else 0.0
    # A close second does not make "mes droits" doubtful when only one article names it.
    clear = top - second >= CONFIDENT_MARGIN or hits[0].named
    if top >= CONFIDENT and clear and hits[0].coverage >= SURE_COVERAGE:
        return "confident"
    return "uncertain"


def _fields(article: Article) -> Iterable[tuple[str, str]]:
    for field, weight_key in (
        ("title", "title"),
        ("short_title", "title"),
        ("summary", "summary"),
        ("body", "body"),
    ):
        for text in (getattr(article, field) or {}).values():
            yield weight_key, text
    for phrases in article.keywords.values():
        for phrase in phrases:
            yield "keywords", phrase
    for phrases in article.questions.values():
        for phrase in phrases:
            yield "questions", phrase


class SearchIndex:
    """An inverted index with fuzzy term expansion, and each article's phrases."""

    def __init__(
        self,
        ids: list[str],
        weights: dict[str, dict[int, float]],
        phrases: list[list[str]],
        keywords: dict[str, set[int]] | None = None,
    ) -> None:
        self._ids = ids
        self._postings = weights
        self._phrases = phrases
        # Keyword phrases (as terms) declared by exactly one article: that article's name.
        self._named = {
            phrase: next(iter(docs)) for phrase, docs in (keywords or {}).items() if len(docs) == 1
        }
        total = len(ids)
        self._idf = {
            term: math.log(1 + (total - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in weights.items()
        }
        self._vocabulary = sorted(weights)
        self._by_length: dict[int, list[str]] = defaultdict(list)
        for term in self._vocabulary:
            self._by_length[len(term)].append(term)
        idfs = sorted(self._idf.values())
        self._unknown_idf = idfs[len(idfs) // 2] if idfs else 1.0
        self._expand = lru_cache(maxsize=20_000)(self._expansions)

    @classmethod
    def build(cls, pack: Indexable) -> SearchIndex:
        """Index every article of a pack (all languages: people mix them)."""
        ids = list(pack.articles)
        postings: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        phrases: list[list[str]] = []
        keywords: dict[str, set[int]] = defaultdict(set)
        for n, article in enumerate(pack.articles.values()):
            own: list[str] = []
            for field, text in _fields(article):
                found = terms(text)
                for term in set(found):
                    postings[term][n] += FIELD_WEIGHTS[field]
                if field in ("title", "keywords", "questions") and found:
                    own.append(" ".join(found))
                if field == "keywords" and found:
                    keywords[" ".join(found)].add(n)
            phrases.append(sorted(set(own)))
        return cls(ids, {t: dict(p) for t, p in postings.items()}, phrases, keywords)

    def __len__(self) -> int:
        return len(self._ids)

    def _expansions(self, term: str) -> tuple[tuple[str, float], ...]:
        """Vocabulary terms a query term stands for, with how sure we are."""
        if term in self._postings:
            return ((term, 1.0),)
        if len(term) < 4 or term.isdigit():
            return ()
        found: dict[str, float] = {}
        nearby = [
            word
            for size in range(len(term) - 2, len(term) + 3)
            for word in self._by_length.get(size, ())
        ]
        for word, score, _ in process.extract(
            term, nearby, scorer=fuzz.ratio, score_cutoff=80, limit=3
        ):
            found[word] = score / 100
        # Same start, other ending: 'decentraliser' meets 'decentralisation'.
        if len(term) >= 6:
            prefix = term[: max(6, int(len(term) * 0.75))]
            start = bisect.bisect_left(self._vocabulary, prefix)
            for word in self._vocabulary[start : start + 8]:
                if not word.startswith(prefix):
                    break
                found[word] = max(found.get(word, 0.0), 0.85)
        return tuple(sorted(found.items(), key=lambda item: -item[1])[:4])

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        """Articles that answer `query`, best first, with scores in [0, 1]."""
        words = terms(query)
        if not words:
            return []
        scores: dict[int, float] = defaultdict(float)
        covered: dict[int, float] = defaultdict(float)
        possible = 0.0
        for word in dict.fromkeys(words):
            expansions = self._expand(word)
            if not expansions:
                possible += self._unknown_idf
                continue
            weight_of_word = max(self._idf[term] for term, _ in expansions)
            possible += weight_of_word
            best: dict[int, float] = {}
            # How well the word is matched: in a title, keyword or question, or only in passing.
            strength: dict[int, float] = {}
            for term, sure in expansions:
                idf = self._idf[term]
                for doc, weight in self._postings[term].items():
                    value = sure * idf * weight / (weight + SATURATION)
                    if value > best.get(doc, 0.0):
                        best[doc] = value
                    strength[doc] = max(strength.get(doc, 0.0), sure * min(1.0, weight / STRONG))
            for doc, value in best.items():
                scores[doc] += value
                covered[doc] += weight_of_word * strength[doc]
        if not scores:
            return []
        candidates = sorted(scores, key=scores.__getitem__, reverse=True)[:MAX_CANDIDATES]
        normal = " ".join(words)
        named = self._named.get(normal)
        mixed: list[Hit] = []
        for doc in candidates:
            field_score = scores[doc] / possible if possible else 0.0
            phrase = 0.0
            if self._phrases[doc]:
                best_phrase = process.extractOne(normal, self._phrases[doc], scorer=fuzz.WRatio)
                phrase = best_phrase[1] / 100 if best_phrase else 0.0
            score = MIX * min(field_score, 1.0) + (1 - MIX) * phrase
            coverage = covered[doc] / possible if possible else 0.0
            mixed.append(Hit(self._ids[doc], score, min(coverage, 1.0), doc == named))
        mixed.sort(key=lambda hit: hit.score, reverse=True)
        return mixed[:limit]
