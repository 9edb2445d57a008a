"""Names next to codes, and the staff's words in French (or English), for stats and the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from content.pack import ContentPack

STAFF_LANGS = ("fr", "en")

# Words that are the same for every pack: statuses, genders, sections of the report.
_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "status.submitted": "envoyé",
        "status.acknowledged": "reçu par l'association",
        "status.in_progress": "en cours de traitement",
        "status.resolved": "résolu",
        "status.not_ours": "en réorientation",
        "status.reopened": "rouvert",
        "status.scheduled": "prévu",
        "status.open": "ouvert",
        "status.closed": "clos",
        "gender.f": "femmes",
        "gender.m": "hommes",
        "gender.x": "préfèrent ne pas dire",
        "unknown": "non renseigné",
        "all": "tout le pays",
        "title": "Bot civique : rapport du programme",
        "generated": "Produit le {when}, {scope}.",
        "since": "depuis le {day}",
        "since_start": "depuis le début",
        "region": "région {name}",
        "hidden_note": "Les chiffres qui concernent moins de {min} personnes sont cachés"
        " (« <{min} »), ainsi que ceux qui permettraient de les retrouver par soustraction.",
        "nothing_to_show": "{title} : aucun chiffre assez grand pour être montré.",
        "hidden_list": "Moins de {min} ou caché pour protéger un petit nombre : {names}",
        "numbers_of": "Chiffres : {title}",
        "contents": "Sommaire",
        "users": "Utilisateurs",
        "learning": "Apprendre",
        "quizzes": "Quiz",
        "complaints": "Signalements",
        "delivery": "Envois",
        "k.duplicates": "messages peut-être reçus deux fois (envoi sans réponse sûre)",
        "barometer": "Baromètre de bonne gouvernance",
        "k.users": "utilisateurs",
        "k.new": "nouveaux",
        "k.new_7d": "nouveaux en 7 jours",
        "k.new_30d": "nouveaux en 30 jours",
        "k.active_7d": "actifs en 7 jours",
        "k.active_30d": "actifs en 30 jours",
        "k.reads": "articles lus",
        "k.searches": "recherches",
        "k.unanswered": "recherches sans réponse",
        "k.uncertain": "recherches à réponse incertaine",
        "k.taken": "quiz terminés",
        "k.average": "score moyen",
        "k.right": "bonnes réponses",
        "k.complaints": "signalements",
        "k.ack_days": "jours pour l'accusé de réception (médiane)",
        "k.resolve_days": "jours pour la résolution (médiane)",
        "k.reopened": "rouverts",
        "k.rounds": "tours",
        "k.respondents": "participants",
        "c.by_region": "Utilisateurs par région",
        "c.active_by_region": "Actifs en 30 jours par région",
        "c.by_gender": "Utilisateurs par genre",
        "c.by_age": "Utilisateurs par âge",
        "c.entry": "D'où viennent les nouveaux utilisateurs",
        "c.articles": "Articles les plus lus (lecteurs)",
        "c.score_gender": "Score moyen par genre",
        "c.status": "Signalements par état",
        "c.category": "Signalements par catégorie",
        "c.commune": "Signalements par commune",
        "col.what": "quoi",
        "col.value": "nombre",
        "col.round": "tour",
        "col.status": "état",
        "col.dates": "dates (dernier jour inclus)",
        "col.commune": "commune",
        "col.respondents": "participants",
        "col.averages": "moyennes (1 à 5)",
        "no_round": "Aucun tour de baromètre pour l'instant.",
        "to": "au",
    },
    "en": {
        "status.submitted": "submitted",
        "status.acknowledged": "acknowledged",
        "status.in_progress": "in progress",
        "status.resolved": "resolved",
        "status.not_ours": "being rerouted",
        "status.reopened": "reopened",
        "status.scheduled": "scheduled",
        "status.open": "open",
        "status.closed": "closed",
        "gender.f": "women",
        "gender.m": "men",
        "gender.x": "prefer not to say",
        "unknown": "not given",
        "all": "whole country",
        "title": "Civic bot: programme report",
        "generated": "Generated on {when}, {scope}.",
        "since": "since {day}",
        "since_start": "since the start",
        "region": "region {name}",
        "hidden_note": "Figures about fewer than {min} people are hidden (“<{min}”), and so are"
        " those that would let them be worked out by subtraction.",
        "nothing_to_show": "{title}: no figure large enough to show.",
        "hidden_list": "Under {min}, or hidden to protect a small number: {names}",
        "numbers_of": "Figures: {title}",
        "contents": "Contents",
        "users": "Users",
        "learning": "Learning",
        "quizzes": "Quizzes",
        "complaints": "Complaints",
        "delivery": "Delivery",
        "k.duplicates": "messages possibly received twice (send without a sure answer)",
        "barometer": "Good Governance Barometer",
        "k.users": "users",
        "k.new": "new",
        "k.new_7d": "new in 7 days",
        "k.new_30d": "new in 30 days",
        "k.active_7d": "active in 7 days",
        "k.active_30d": "active in 30 days",
        "k.reads": "articles read",
        "k.searches": "searches",
        "k.unanswered": "searches unanswered",
        "k.uncertain": "searches with an uncertain answer",
        "k.taken": "quizzes taken",
        "k.average": "average score",
        "k.right": "answers right",
        "k.complaints": "complaints",
        "k.ack_days": "median days to acknowledge",
        "k.resolve_days": "median days to resolve",
        "k.reopened": "reopened",
        "k.rounds": "rounds",
        "k.respondents": "respondents",
        "c.by_region": "Users by region",
        "c.active_by_region": "Active in 30 days by region",
        "c.by_gender": "Users by gender",
        "c.by_age": "Users by age group",
        "c.entry": "Where new users came from",
        "c.articles": "Most read articles (readers)",
        "c.score_gender": "Average score by gender",
        "c.status": "Complaints by status",
        "c.category": "Complaints by category",
        "c.commune": "Complaints by commune",
        "col.what": "what",
        "col.value": "number",
        "col.round": "round",
        "col.status": "status",
        "col.dates": "dates (last day included)",
        "col.commune": "commune",
        "col.respondents": "respondents",
        "col.averages": "averages (1 to 5)",
        "no_round": "No barometer round yet.",
        "to": "to",
    },
}
_MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "en": "January February March April May June July August September October November December",
}

_TABLES = {
    "region": "regions",
    "commune": "communes",
    "category": "categories",
    "article": "articles",
    "criterion": "criteria",
    "age": "ages",
    "entry": "entries",
}


@dataclass(frozen=True)
class Labels:
    """What a code is called, in the staff's language."""

    lang: str = "fr"
    regions: Mapping[str, str] = field(default_factory=dict)
    communes: Mapping[str, str] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)
    articles: Mapping[str, str] = field(default_factory=dict)
    criteria: Mapping[str, str] = field(default_factory=dict)
    ages: Mapping[str, str] = field(default_factory=dict)
    entries: Mapping[str, str] = field(default_factory=dict)

    def t(self, key: str, **params: object) -> str:
        """A fixed phrase of the report."""
        words = _WORDS.get(self.lang, _WORDS["fr"])
        return words.get(key, _WORDS["fr"].get(key, key)).format(**params)

    def named(self, kind: str, code: str) -> str:
        """'Segou (ML04)', 'femmes', 'envoyé', 'Eau potable': a code as staff read it."""
        if code in ("", "unknown"):
            return self.t("unknown")
        if kind in ("status", "gender"):
            return self.t(f"{kind}.{code}") if f"{kind}.{code}" in _WORDS["fr"] else code
        table: Mapping[str, str] = getattr(self, _TABLES.get(kind, "entries"))
        name = table.get(code)
        if name is None:
            return code
        return f"{name} ({code})" if kind in ("region", "commune") else name

    def day(self, iso_day: str) -> str:
        """'2026-12-02' -> '2 décembre 2026' (Mali keeps UTC all year)."""
        try:
            year, month, day = (int(part) for part in iso_day[:10].split("-"))
        except ValueError:
            return iso_day
        months = _MONTHS.get(self.lang, _MONTHS["fr"]).split()
        return f"{day} {months[month - 1]} {year}"

    def moment(self, iso_moment: str) -> str:
        """'2026-12-02T09:05:00+00:00' -> '2 décembre 2026 à 09 h 05 (heure du Mali)'."""
        when = self.day(iso_moment)
        if len(iso_moment) >= 16 and iso_moment[10] == "T":
            clock = iso_moment[11:16]
            if self.lang == "fr":
                return f"{when} à {clock.replace(':', ' h ')} (heure du Mali)"
            return f"{when} at {clock} (Mali time)"
        return when


def labels_from_pack(pack: ContentPack, lang: str = "fr") -> Labels:
    """Every name a report may need, from the content pack."""
    content_lang = lang if lang in pack.languages else pack.languages[0]
    regions = {r.pcode: r.name for r in pack.communes.regions}
    communes = {c.pcode: c.name for c in pack.communes.communes}
    categories = {c.id: pack.pick(c.label, content_lang) for c in pack.categories}
    articles = {a.id: pack.pick(a.title, content_lang) for a in pack.articles.values()}
    criteria: dict[str, str] = {}
    if pack.barometer is not None:
        for criterion in pack.barometer.criteria:
            criteria[criterion.id] = pack.pick(criterion.title, content_lang)
    texts = pack.texts
    ages = {
        key: texts.get(content_lang, f"profile.age.{key}")
        for key in ("u15", "15-19", "20-24", "25-30", "31-34", "35p")
    }
    return Labels(lang, regions, communes, categories, articles, criteria, ages)
