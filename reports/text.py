"""`civicbot stats` as people read it: sections, names next to codes, hidden cells marked. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.cells import MIN_CELL
from reports.labels import Labels


def _value(value: Any, lang: str) -> str:
    if value is None:
        return f"<{MIN_CELL}"
    if isinstance(value, float):
        if 0 <= value <= 1:
            shown = f"{value * 100:.0f} %"
            return shown if lang == "fr" else shown.replace(" ", "")
        return f"{value:.2f}".replace(".", ",") if lang == "fr" else f"{value:.2f}"
    return str(value)


def _breakdown(w: Labels, title: str, data: Mapping[str, Any], kind: str, lines: list[str]) -> None:
    if not data:
        return
    lines.append(f"  {title} :" if w.lang == "fr" else f"  {title}:")
    for key, value in data.items():
        lines.append(f"    {w.named(kind, str(key))} : {_value(value, w.lang)}")


def render_text(figures: Mapping[str, Any], labels: Labels | None = None) -> str:
    """Every figure of `civicbot stats`, in sections."""
    w = labels or Labels()
    colon = " :" if w.lang == "fr" else ":"

    def kpi(key: str, value: Any) -> str:
        return f"  {w.t(key)}{colon} {_value(value, w.lang)}"

    scope = w.t("since", day=w.day(figures["since"])) if figures["since"] else w.t("since_start")
    scope += ", " + (
        w.t("region", name=w.named("region", figures["region"]))
        if figures["region"]
        else w.t("all")
    )
    users, quizzes, complaints = figures["users"], figures["quizzes"], figures["complaints"]
    articles, searches, barometer = figures["articles"], figures["searches"], figures["barometer"]
    lines = [
        w.t("title"),
        w.t("generated", when=w.moment(figures["generated"]), scope=scope),
        w.t("hidden_note", min=MIN_CELL),
        "",
        w.t("users").upper(),
        kpi("k.users", users["total"]),
        kpi("k.new", users["new"]),
        kpi("k.new_7d", users["new_7d"]),
        kpi("k.new_30d", users["new_30d"]),
        kpi("k.active_7d", users["active_7d"]),
        kpi("k.active_30d", users["active_30d"]),
    ]
    _breakdown(w, w.t("c.by_region"), users["by_region"]["total"], "region", lines)
    _breakdown(w, w.t("c.active_by_region"), users["by_region"]["active_30d"], "region", lines)
    _breakdown(w, w.t("c.by_gender"), users["by_gender"]["total"], "gender", lines)
    _breakdown(w, w.t("c.by_age"), users["by_age_group"]["total"], "age", lines)
    _breakdown(w, w.t("c.entry"), figures["entry_sources"], "entry", lines)
    lines += [
        "",
        w.t("learning").upper(),
        kpi("k.reads", articles["reads"]),
        kpi("k.searches", searches["total"]),
        kpi("k.unanswered", searches["share_unanswered"]),
        kpi("k.uncertain", searches["share_uncertain"]),
    ]
    most_read = {a["article"]: a["readers"] for a in articles["most_read"]}
    _breakdown(w, w.t("c.articles"), most_read, "article", lines)
    lines += [
        "",
        w.t("quizzes").upper(),
        kpi("k.taken", quizzes["taken"]),
        kpi("k.average", quizzes["average_score"]),
        kpi("k.right", quizzes["share_right"]),
    ]
    by_gender = {g: v["average_score"] for g, v in quizzes["by_gender"].items()}
    _breakdown(w, w.t("c.score_gender"), by_gender, "gender", lines)
    lines += [
        "",
        w.t("complaints").upper(),
        kpi("k.complaints", complaints["total"]),
        kpi("k.ack_days", complaints["median_days_to_acknowledge"]),
        kpi("k.resolve_days", complaints["median_days_to_resolve"]),
        kpi("k.reopened", complaints["share_reopened"]),
    ]
    _breakdown(w, w.t("c.status"), complaints["by_status"], "status", lines)
    _breakdown(w, w.t("c.category"), complaints["by_category"], "category", lines)
    _breakdown(w, w.t("c.commune"), complaints["by_commune"], "commune", lines)
    lines += [
        "",
        w.t("barometer").upper(),
        kpi("k.rounds", barometer["rounds"]),
        kpi("k.respondents", barometer["respondents"]),
    ]
    for r in barometer["by_round"]:
        dates = f"{w.day(r['opens'])} {w.t('to')} {w.day(r['last_day'])}"
        lines.append(f"  {r['round']} ({w.named('status', r['status'])}, {dates})")
        for commune, figures_of in r["communes"].items():
            respondents = _value(figures_of["respondents"], w.lang)
            lines.append(f"    {w.named('commune', commune)}{colon} {respondents}")
    if "delivery" in figures:
        # Messages, not people: shown whatever the size, so an operator sees the doubt.
        lines += ["", w.t("delivery").upper()]
        lines.append(kpi("k.duplicates", figures["delivery"]["possible_duplicates"]))
    return "\n".join(lines)
