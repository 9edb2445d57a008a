"""The programme report: one self-contained HTML page, inline CSS and SVG, nothing fetched. Pure.

It is read on phones: charts scale to the screen (viewBox, width 100 %), every chart has its
numbers in a table that screen readers reach, and the page has landmarks (header, nav, main).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from reports.cells import MIN_CELL
from reports.labels import Labels

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;color:#222;padding:0 1rem 2rem;
line-height:1.4}
header h1{color:#14532d;font-size:1.6rem}h2{border-bottom:2px solid #14532d;padding-bottom:.2rem;
margin-top:2rem}
nav ul{display:flex;flex-wrap:wrap;gap:.3rem 1rem;padding:0;list-style:none}
nav a{color:#14532d}
.kpis{display:flex;flex-wrap:wrap;gap:.6rem}.kpi{background:#f0fdf4;border-radius:.5rem;
padding:.5rem .8rem;flex:1 1 8rem}.kpi b{display:block;font-size:1.4rem}
figure{margin:1rem 0;max-width:100%;position:relative}
figcaption{font-weight:bold;margin-bottom:.3rem}
svg.chart{display:block;width:100%;height:auto;max-width:40rem}
svg.chart text{font-size:13px;fill:#222}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;
text-align:left;vertical-align:top}.note{color:#555;font-size:.9rem}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;
clip:rect(0,0,0,0);white-space:nowrap;border:0}
"""
_BAR_HEIGHT = 22
_LABEL_WIDTH = 190
_BAR_WIDTH = 300
_LABEL_CHARS = 26


def _value(value: Any) -> str:
    if value is None:
        return f"&lt;{MIN_CELL}"  # hidden: too few people, or would give a small cell away
    if isinstance(value, float):
        return f"{value:.0%}" if 0 <= value <= 1 else f"{value:.2f}".replace(".", ",")
    return escape(str(value))


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def bar_chart(
    title: str,
    data: Mapping[str, int | float | None],
    labels: Labels | None = None,
    kind: str = "",
) -> str:
    """A bar chart that scales to its container, with its numbers in a table beside it."""
    words = labels or Labels()
    named = {words.named(kind, str(k)) if kind else str(k): v for k, v in data.items()}
    shown = [(k, v) for k, v in named.items() if v is not None]
    if not shown:
        return f'<p class="note">{escape(words.t("nothing_to_show", title=title))}</p>'
    top = max(float(v) for _, v in shown) or 1.0
    height = _BAR_HEIGHT * len(shown) + 6
    width = _LABEL_WIDTH + _BAR_WIDTH + 60
    # No width or height attribute: the viewBox keeps the proportions at any screen width.
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
    ]
    for n, (label, value) in enumerate(shown):
        y = 4 + n * _BAR_HEIGHT
        length = max(1.0, float(value) / top * _BAR_WIDTH)
        parts += [
            f'<text x="0" y="{y + 15}">{escape(_short(label))}</text>',
            f'<rect class="bar" x="{_LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" '
            f'height="{_BAR_HEIGHT - 6}" fill="#16a34a"/>',
            f'<text x="{_LABEL_WIDTH + length + 4:.1f}" y="{y + 15}">{_value(value)}</text>',
        ]
    parts.append("</svg>")
    rows = "".join(
        f'<tr><th scope="row">{escape(k)}</th><td>{_value(v)}</td></tr>' for k, v in named.items()
    )
    # Read by screen readers, not drawn: a table ignores width 1px, so a box clips it.
    table = (
        f'<div class="sr-only"><table><caption>{escape(words.t("numbers_of", title=title))}'
        f'</caption><tr><th scope="col">{escape(words.t("col.what"))}</th>'
        f'<th scope="col">{escape(words.t("col.value"))}</th></tr>{rows}</table></div>'
    )
    hidden = [k for k, v in named.items() if v is None]
    note = (
        f'<p class="note" aria-hidden="true">'
        f"{escape(words.t('hidden_list', min=MIN_CELL, names=', '.join(hidden)))}</p>"
        if hidden
        else ""
    )
    return (
        f'<figure class="chart-box"><figcaption>{escape(title)}</figcaption>'
        f"{''.join(parts)}{table}{note}</figure>"
    )


def _kpis(items: Sequence[tuple[str, Any]]) -> str:
    cells = "".join(f'<div class="kpi"><b>{_value(v)}</b>{escape(k)}</div>' for k, v in items)
    return f'<div class="kpis">{cells}</div>'


def _barometer(section: Mapping[str, Any], words: Labels) -> str:
    rows = []
    for r in section["by_round"]:
        dates = f"{words.day(r['opens'])} {words.t('to')} {words.day(r['last_day'])}"
        for commune, figures in r["communes"].items():
            averages = ", ".join(
                f"{escape(words.named('criterion', c))} {_value(a)}"
                for c, a in figures["averages"].items()
            )
            rows.append(
                f"<tr><td>{escape(r['round'])}</td>"
                f"<td>{escape(words.named('status', r['status']))}</td>"
                f"<td>{escape(dates)}</td><td>{escape(words.named('commune', commune))}</td>"
                f"<td>{_value(figures['respondents'])}</td><td>{averages or '—'}</td></tr>"
            )
    if not rows:
        return f'<p class="note">{escape(words.t("no_round"))}</p>'
    head = "".join(
        f'<th scope="col">{escape(words.t(k))}</th>'
        for k in (
            "col.round",
            "col.status",
            "col.dates",
            "col.commune",
            "col.respondents",
            "col.averages",
        )
    )
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(rows)}</table></div>'


def render(
    figures: Mapping[str, Any], title: str | None = None, labels: Labels | None = None
) -> str:
    """The whole page, in the staff's language, names next to codes."""
    w = labels or Labels()
    title = title or w.t("title")
    users, quizzes, complaints = figures["users"], figures["quizzes"], figures["complaints"]
    articles, searches = figures["articles"], figures["searches"]
    scope = w.t("since", day=w.day(figures["since"])) if figures["since"] else w.t("since_start")
    if figures["region"]:
        scope += ", " + w.t("region", name=w.named("region", figures["region"]))
    sections = [
        (
            "users",
            [
                _kpis(
                    [
                        (w.t("k.users"), users["total"]),
                        (w.t("k.new"), users["new"]),
                        (w.t("k.active_7d"), users["active_7d"]),
                        (w.t("k.active_30d"), users["active_30d"]),
                    ]
                ),
                bar_chart(w.t("c.by_region"), users["by_region"]["total"], w, "region"),
                bar_chart(w.t("c.active_by_region"), users["by_region"]["active_30d"], w, "region"),
                bar_chart(w.t("c.by_gender"), users["by_gender"]["total"], w, "gender"),
                bar_chart(w.t("c.by_age"), users["by_age_group"]["total"], w, "age"),
                bar_chart(w.t("c.entry"), figures["entry_sources"], w, "entry"),
            ],
        ),
        (
            "learning",
            [
                _kpis(
                    [
                        (w.t("k.reads"), articles["reads"]),
                        (w.t("k.searches"), searches["total"]),
                        (w.t("k.unanswered"), searches["share_unanswered"]),
                    ]
                ),
                bar_chart(
                    w.t("c.articles"),
                    {a["article"]: a["readers"] for a in articles["most_read"]},
                    w,
                    "article",
                ),
            ],
        ),
        (
            "quizzes",
            [
                _kpis(
                    [
                        (w.t("k.taken"), quizzes["taken"]),
                        (w.t("k.average"), quizzes["average_score"]),
                        (w.t("k.right"), quizzes["share_right"]),
                    ]
                ),
                bar_chart(
                    w.t("c.score_gender"),
                    {g: v["average_score"] for g, v in quizzes["by_gender"].items()},
                    w,
                    "gender",
                ),
            ],
        ),
        (
            "complaints",
            [
                _kpis(
                    [
                        (w.t("k.complaints"), complaints["total"]),
                        (w.t("k.ack_days"), complaints["median_days_to_acknowledge"]),
                        (w.t("k.resolve_days"), complaints["median_days_to_resolve"]),
                        (w.t("k.reopened"), complaints["share_reopened"]),
                    ]
                ),
                bar_chart(w.t("c.status"), complaints["by_status"], w, "status"),
                bar_chart(w.t("c.category"), complaints["by_category"], w, "category"),
                bar_chart(w.t("c.commune"), complaints["by_commune"], w, "commune"),
            ],
        ),
        (
            "barometer",
            [
                _kpis(
                    [
                        (w.t("k.rounds"), figures["barometer"]["rounds"]),
                        (w.t("k.respondents"), figures["barometer"]["respondents"]),
                    ]
                ),
                _barometer(figures["barometer"], w),
            ],
        ),
    ]
    if "delivery" in figures:
        duplicates = figures["delivery"]["possible_duplicates"]
        sections.append(("delivery", [_kpis([(w.t("k.duplicates"), duplicates)])]))
    nav = "".join(f'<li><a href="#{key}">{escape(w.t(key))}</a></li>' for key, _ in sections)
    main = "".join(
        f'<section aria-labelledby="{key}"><h2 id="{key}">{escape(w.t(key))}</h2>'
        f"{''.join(parts)}</section>"
        for key, parts in sections
    )
    generated = w.t("generated", when=w.moment(figures["generated"]), scope=scope)
    header = (
        f'<header><h1>{escape(title)}</h1><p class="note">{escape(generated)} '
        f"{escape(w.t('hidden_note', min=MIN_CELL))}</p></header>"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(w.lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f'<body>{header}<nav aria-label="{escape(w.t("contents"))}"><ul>{nav}</ul></nav>'
        f"<main>{main}</main></body></html>\n"
    )
