"""The staff's command-line messages, in French unless English was asked for."""

from __future__ import annotations

_LANG = ["fr"]

_MESSAGES: dict[str, tuple[str, str]] = {
    # key: (French, English)
    "pack_errors": ("{count} problème(s) dans {path}", "{count} problem(s) in {path}"),
    "pack_valid": (
        "Le pack « {id} » est valide : {articles} articles dans {themes} thèmes, "
        "{categories} catégories de signalement, {quizzes} quiz de {questions} questions",
        "content pack '{id}' is valid: {articles} articles in {themes} themes, "
        "{categories} complaint categories, {quizzes} quizzes of {questions} questions",
    ),
    "coverage_review": (" (interface à relire)", " (interface needs review)"),
    "nothing_found": ("rien trouvé", "nothing found"),
    "not_confident": (
        "pas sûr : le chat proposerait un choix ou dirait qu'il n'a pas d'article",
        "not confident: the chat would offer a choice or say it has no article",
    ),
    "no_gaps": (
        "aucune question sans réponse ces {days} derniers jours",
        "no unanswered questions in the last {days} days",
    ),
    "gaps_head": (
        "{asked:>6}  {none:>6}  question  (article le plus proche)",
        "{asked:>6}  {none:>6}  query  (closest article)",
    ),
    "asked": ("posées", "asked"),
    "unanswered": ("sans", "none"),
    "no_cso": (
        "Aucune association « {id} » dans partners.yaml (connues : {known})",
        "no CSO '{id}' in partners.yaml (known: {known})",
    ),
    "link_code": ("Code de liaison pour {name} : {code}", "Link code for {name}: {code}"),
    "link_how": (
        "Envoyez « /lier {code} » depuis le chat de l'association dans les {days} jours ; "
        "il ne sert qu'une fois.",
        "Send '/lier {code}' from the CSO's chat within {days} days; it works once.",
    ),
    "everywhere": ("partout", "everywhere"),
    "area": (
        "  zone : {area} ; catégories : {categories}",
        "  area: {area}; categories: {categories}",
    ),
    "all_categories": ("toutes", "all"),
    "ack_within": (
        " ; accusé de réception sous {days} jours",
        "; acknowledge within {days} days",
    ),
    "cso_ambiguous": (
        "« {typed} » peut désigner plusieurs associations : {names}. Donnez l'identifiant.",
        "'{typed}' could be several CSOs: {names}. Give the id.",
    ),
    "cso_unknown": (
        "Aucune association « {typed} » (ni identifiant, ni nom, ni lieu couvert)."
        " Connues : {known}",
        "No CSO '{typed}' (no id, name or covered place). Known: {known}",
    ),
    "chats": ("  chats : {chats}", "  chats: {chats}"),
    "none": ("aucun", "none"),
    "desk": (" [bureau]", " [desk]"),
    "migrated": ("{count} migration(s) appliquée(s)", "applied {count} migration(s)"),
    "up_to_date": ("La base de données est à jour", "database is up to date"),
    "no_barometer": (
        "Ce pack de contenu n'a pas de barometer.yaml",
        "this content pack has no barometer.yaml",
    ),
    "to_before_from": ("--to ne doit pas précéder --from", "--to must not be before --from"),
    "to_in_past": (
        "--to est passé : le tour fermerait aussitôt",
        "--to is in the past: the round would close at once",
    ),
    "round_saved": (
        "Tour {id} : {communes}, du {start} au {end}",
        "Round {id}: {communes}, {start} to {end}",
    ),
    "round_later": (
        "Il ouvre le premier jour ; les habitants de ces communes seront invités alors.",
        "It opens on its first day; people of these communes are invited then.",
    ),
    "round_now": (
        "Ouvert maintenant : {count} personne(s) invitée(s) (envoi par le bot en marche).",
        "Open now: {count} people invited (sent by the running bot).",
    ),
    "no_round": ("Aucun tour « {id} »", "no round '{id}'"),
    "actions_done": (
        "Actions ajoutées à {id} ; {count} participant(s) seront prévenus.",
        "Actions attached to {id}; {count} participant(s) will be told.",
    ),
    "no_rounds": ("Aucun tour de baromètre pour l'instant", "no barometer round yet"),
    "round_line": (
        "{id} [{status}] {communes} : du {start} au {end}",
        "{id} [{status}] {communes}: {start} to {end}",
    ),
    "withheld": (
        "Réponses non exportées (moins de {min} participants, ou pour les protéger) : {names}",
        "Answers not exported (fewer than {min} respondents, or to protect them): {names}",
    ),
    "no_db": ("Aucune base de données à {path}", "no database at {path}"),
    "unknown_cso_warning": (
        "Attention : {id} n'est pas dans l'annuaire des associations ({known})",
        "warning: {id} is not in the CSO directory ({known})",
    ),
}


def set_lang(lang: str | None) -> None:
    """Choose the language of the messages (fr unless 'en')."""
    _LANG[0] = "en" if lang == "en" else "fr"


def lang() -> str:
    """The language chosen."""
    return _LANG[0]


def say(key: str, **params: object) -> str:
    """A message in the chosen language."""
    french, english = _MESSAGES[key]
    return (english if _LANG[0] == "en" else french).format(**params)
