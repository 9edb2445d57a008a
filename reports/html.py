"""The programme report: one self-contained HTML page, inline CSS and SVG, nothing fetched. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222;padding:0 1rem}
h1{color:#14532d}h2{border-bottom:2px solid #14532d;padding-bottom:.2rem;margin-top:2rem}
.kpis{display:flex;flex-wrap:wrap;gap:1rem}.kpi{background:#f0fdf4;border-radius:.5rem;
padding:.6rem 1rem;min-width:9rem}.kpi b{display:block;font-size:1.5rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;
text-align:left}.note{color:#555;font-size:.9rem}svg text{font-size:12px;fill:#222}
"""
_BAR_HEIGHT = 18
_LABEL_WIDTH = 170
_BAR_WIDTH = 380


def _value(value: Any) -> str:
    if value is None:
        return "<5"  # suppressed: fewer than five people
    if isinstance(value, float):
        return f"{value:.0%}" if 0 <= value <= 1 else f"{value:.2f}"
    return escape(str(value))


def bar_chart(title: str, data: Mapping[str, int | float | None]) -> str:
    """A horizontal bar chart in inline SVG; suppressed cells are listed, never drawn."""
    shown = [(k, v) for k, v in data.items() if v is not None]
    if not shown:
        return f'<p class="note">{escape(title)}: no figure large enough to show.</p>'
    top = max(float(v) for _, v in shown) or 1.0
    height = _BAR_HEIGHT * len(shown) + 24
    width = _LABEL_WIDTH + _BAR_WIDTH + 60
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    for n, (label, value) in enumerate(shown):
        y = 22 + n * _BAR_HEIGHT
        length = max(1.0, float(value) / top * _BAR_WIDTH)
        parts += [
            f'<text x="0" y="{y + 13}">{escape(str(label))[:28]}</text>',
            f'<rect class="bar" x="{_LABEL_WIDTH}" y="{y + 2}" width="{length:.1f}" '
            f'height="{_BAR_HEIGHT - 4}" fill="#16a34a"/>',
            f'<text x="{_LABEL_WIDTH + length + 4:.1f}" y="{y + 13}">{_value(value)}</text>',
        ]
    parts.append("</svg>")
    hidden = [k for k, v in data.items() if v is None]
    note = (
        f'<p class="note">Fewer than 5, not shown: {escape(", ".join(map(str, hidden)))}</p>'
        if hidden
        else ""
    )
    return "".join(parts) + note


def _kpis(items: Sequence[tuple[str, Any]]) -> str:
    cells = "".join(f'<div class="kpi"><b>{_value(v)}</b>{escape(k)}</div>' for k, v in items)
    return f'<div class="kpis">{cells}</div>'


def _barometer(section: Mapping[str, Any]) -> str:
    rows = []
    for r in section["by_round"]:
        for commune, figures in r["communes"].items():
            averages = ", ".join(f"{escape(c)} {_value(a)}" for c, a in figures["averages"].items())
            rows.append(
                f"<tr><td>{escape(r['round'])}</td><td>{escape(r['status'])}</td>"
                f"<td>{escape(r['opens'])} – {escape(r['closes'])}</td><td>{escape(commune)}</td>"
                f"<td>{_value(figures['respondents'])}</td><td>{averages or '—'}</td></tr>"
            )
    if not rows:
        return '<p class="note">No barometer round yet.</p>'
    head = "<tr><th>round</th><th>status</th><th>dates</th><th>commune</th>"
    head += "<th>respondents</th><th>averages (1–5)</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def render(figures: Mapping[str, Any], title: str = "Civic bot: programme report") -> str:
    """The whole page."""
    users, quizzes, complaints = figures["users"], figures["quizzes"], figures["complaints"]
    articles, searches = figures["articles"], figures["searches"]
    scope = f"since {figures['since']}" if figures["since"] else "since the start"
    if figures["region"]:
        scope += f", region {figures['region']}"
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">Generated {escape(figures["generated"])}, {escape(scope)}. '
        "Figures about fewer than 5 people are shown as &lt;5.</p>",
        "<h2>Users</h2>",
        _kpis(
            [
                ("users", users["total"]),
                ("new", users["new"]),
                ("active in 7 days", users["active_7d"]),
                ("active in 30 days", users["active_30d"]),
            ]
        ),
        bar_chart("Users by region", users["by_region"]["total"]),
        bar_chart("Active in 30 days by region", users["by_region"]["active_30d"]),
        bar_chart("Users by gender", users["by_gender"]["total"]),
        bar_chart("Users by age group", users["by_age_group"]["total"]),
        bar_chart("Where new users came from", figures["entry_sources"]),
        "<h2>Learning</h2>",
        _kpis(
            [
                ("articles read", articles["reads"]),
                ("searches", searches["total"]),
                ("searches unanswered", searches["share_unanswered"]),
            ]
        ),
        bar_chart(
            "Most read articles (readers)",
            {a["article"]: a["readers"] for a in articles["most_read"]},
        ),
        "<h2>Quizzes</h2>",
        _kpis(
            [
                ("quizzes taken", quizzes["taken"]),
                ("average score", quizzes["average_score"]),
                ("answers right", quizzes["share_right"]),
            ]
        ),
        bar_chart(
            "Average score by gender",
            {g: v["average_score"] for g, v in quizzes["by_gender"].items()},
        ),
        "<h2>Complaints</h2>",
        _kpis(
            [
                ("complaints", complaints["total"]),
                ("median days to acknowledge", complaints["median_days_to_acknowledge"]),
                ("median days to resolve", complaints["median_days_to_resolve"]),
                ("reopened", complaints["share_reopened"]),
            ]
        ),
        bar_chart("Complaints by status", complaints["by_status"]),
        bar_chart("Complaints by category", complaints["by_category"]),
        bar_chart("Complaints by commune", complaints["by_commune"]),
        "<h2>Good Governance Barometer</h2>",
        _kpis(
            [
                ("rounds", figures["barometer"]["rounds"]),
                ("respondents", figures["barometer"]["respondents"]),
            ]
        ),
        _barometer(figures["barometer"]),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
