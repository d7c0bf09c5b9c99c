"""Pipeline health: the queries in health/*.sql (one query a file, also read by the stack's dashboard and alerts), run
on a SparkSession, and a static, self-contained HTML report of their results (inline SVG charts, no scripts).

A query file starts with ``-- title:`` and ``-- description:`` lines (``-- alert:`` where an alert reads it) and names
tables as ``${members_table}``, ``${quarantine_table}``, ``${load_log_table}``; no query selects a PII column.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .config import LoadConfig
from .contract import CONTRACT

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER = re.compile(r"^--\s*([a-z]+):\s*(.*)$")


@dataclass(frozen=True)
class HealthQuery:
    name: str  # the file name without .sql
    title: str
    description: str
    sql: str  # as in the file, placeholders included


def query_files() -> dict[str, HealthQuery]:
    """Every health/*.sql of the package by name, sorted."""
    out = {}
    for entry in sorted(resources.files(__package__).joinpath("health").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        text = entry.read_text(encoding="utf-8")
        header = dict(m.groups() for line in text.splitlines() if (m := _HEADER.match(line.strip())))
        name = entry.name[: -len(".sql")]
        out[name] = HealthQuery(name, header.get("title", name), header.get("description", ""), text)
    return out


def placeholders(cfg: LoadConfig) -> dict[str, str]:
    """The values a query may name: the three tables (fully qualified, backticked) and the PII retention."""
    return {
        "members_table": cfg.members_table,
        "quarantine_table": cfg.quarantine_table,
        "load_log_table": cfg.load_log_table,
        "pii_retention_days": str(int(cfg.pii_retention_days)),
    }


def substitute(sql: str, values: dict[str, str]) -> str:
    """``${name}`` -> values[name]; a name not in values is an error (a typo must not reach the warehouse)."""
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(sql)} - set(values))
    if unknown:
        raise ValueError(f"unknown placeholder(s) {', '.join('${' + u + '}' for u in unknown)}; known: {', '.join(sorted(values))}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], sql)


def health_queries(cfg: LoadConfig) -> dict[str, str]:
    """name -> SQL ready to run against cfg's tables."""
    values = placeholders(cfg)
    return {name: substitute(q.sql, values) for name, q in query_files().items()}


def run_health_queries(spark, cfg: LoadConfig) -> dict[str, list[dict]]:
    """name -> rows (dicts) of every health query."""
    return {name: [r.asDict() for r in spark.sql(sql).collect()] for name, sql in health_queries(cfg).items()}


# ---- the HTML report -------------------------------------------------------------------------------------------------

DAILY_SERIES = (
    ("merged", "rows loaded", "#2f6db5"),
    ("inserted", "inserted", "#3a9a5b"),
    ("updated", "updated", "#e0a030"),
    ("flagged_deleted", "flagged deleted", "#c0504d"),
    ("quarantined", "quarantined", "#8064a2"),
    ("batches_refused", "batches refused", "#555555"),
)


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _num(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def bar_chart(title: str, labels: list[str], values: list[float | int | None], color: str, width: int = 420, height: int = 170) -> str:
    """An inline SVG bar chart: one bar per label, its value written above it."""
    left, bottom, top = 8, 34, 24
    n = max(len(labels), 1)
    width = max(width, 130 * n + 16)  # room for each label
    top_value = max([v for v in values if v is not None] + [0]) or 1
    slot = (width - 2 * left) / n
    bar = max(min(slot * 0.7, 60), 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{_esc(title)}">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{_esc(title)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" stroke="#999"/>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = float(value or 0) / float(top_value) * (height - bottom - top - 14)
        x = left + i * slot + (slot - bar) / 2
        y = height - bottom - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{color}"><title>{_esc(label)}: {_num(value)}</title></rect>'
        )
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="middle">{_num(value)}</text>')
        for n, line in enumerate(label.split("\n")):  # a label of two lines: date, then what
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14 + 12 * n}" font-size="10" text-anchor="middle">{_esc(line)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def gauge(title: str, hours: float | None, stale_after_hours: float, width: int = 420, height: int = 90) -> str:
    """Freshness as a horizontal bar against the staleness threshold (green below it, red above)."""
    hours = None if hours is None else float(hours)
    scale = max(stale_after_hours * 1.5, hours or 0) or 1
    inner = width - 16
    w = (hours or 0) / scale * inner
    mark = 8 + stale_after_hours / scale * inner
    color = "#999" if hours is None else ("#3a9a5b" if hours <= stale_after_hours else "#c0504d")
    text = "never loaded" if hours is None else f"{hours:,.2f} h since the last load"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{_esc(title)}">'
        f'<text x="8" y="16" font-size="13" font-weight="bold">{_esc(title)}</text>'
        f'<rect x="8" y="28" width="{inner}" height="22" fill="#eee"/>'
        f'<rect x="8" y="28" width="{w:.1f}" height="22" fill="{color}"/>'
        f'<line x1="{mark:.1f}" y1="24" x2="{mark:.1f}" y2="54" stroke="#333" stroke-dasharray="3,2"/>'
        f'<text x="8" y="72" font-size="12">{_esc(text)}</text>'
        f'<text x="{mark:.1f}" y="84" font-size="10" text-anchor="middle">stale after {stale_after_hours:g} h</text>'
        "</svg>"
    )


def _table(rows: list[dict]) -> str:
    if not rows:
        return "<p class=none>No rows.</p>"
    cols = list(rows[0])
    head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_esc(_num(r[c]))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _charts(name: str, rows: list[dict], stale_after_hours: float) -> list[str]:
    if name == "freshness" and rows:
        return [gauge("Hours since the last loaded batch", rows[0]["hours_since_last_load"], stale_after_hours)]
    if name == "daily_loads":
        days = [str(r["ingest_date"]) for r in rows]
        return [bar_chart(f"{label} per day", days, [r[col] for r in rows], color) for col, label, color in DAILY_SERIES]
    if name == "quarantine_by_reason":
        return [
            bar_chart(
                "quarantined rows by reason",
                [f"{r['ingest_date']}\n{r['reason']}" for r in rows],
                [r["quarantined"] for r in rows],
                "#8064a2",
            )
        ]
    if name == "run_durations":
        labels = [f"{r['ingest_date']}\n{r['status']}" for r in rows]
        return [bar_chart("seconds per batch load", labels, [r["seconds"] for r in rows], "#4bacc6")]
    if name == "erasure_backlog" and rows:
        r = rows[0]
        return [
            bar_chart("members flagged deleted with PII", ["with PII", "due for erasure"], [r["deleted_with_pii"], r["due_for_erasure"]], "#c0504d")
        ]
    return []


# The report's sections, first to last (a query not listed comes after them).
REPORT_ORDER = ("freshness", "daily_loads", "quarantine_by_reason", "refused_batches", "run_durations", "erasure_backlog")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin: 28px 0 4px; }
p.meta, p.description { color: #555; font-size: 13px; margin: 2px 0 8px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.charts svg { background: #fafafa; border: 1px solid #e4e4e4; font-family: system-ui, sans-serif; }
table { border-collapse: collapse; font-size: 12px; margin-top: 8px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th { background: #f0f0f0; }
"""


def render_health_report(
    results: dict[str, list[dict]], *, title: str = "Members pipeline health", stale_after_hours: float = CONTRACT["healthStaleAfterHours"]
) -> str:
    """The report as one HTML document: per query its title, description, charts and rows; the freshness gauge marks
    ``stale_after_hours`` (by default the deployed staleness alert's default, contract.json)."""
    queries = query_files()
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    sections = []
    for name in sorted(results, key=lambda n: REPORT_ORDER.index(n) if n in REPORT_ORDER else len(REPORT_ORDER)):
        rows, q = results[name], queries.get(name)
        charts = "".join(_charts(name, rows, stale_after_hours))
        sections.append(
            f'<section id="{_esc(name)}"><h2>{_esc(q.title if q else name)}</h2>'
            f'<p class="description">{_esc(q.description if q else "")}</p>'
            f'<div class="charts">{charts}</div>{_table(rows)}</section>'
        )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title><style>{STYLE}</style></head>'
        f'<body><h1>{_esc(title)}</h1><p class="meta">Generated {generated} from the queries in members_pipeline/health/</p>'
        + "".join(sections)
        + "</body></html>\n"
    )


def write_health_report(results: dict[str, list[dict]], path: str | Path, **kwargs) -> Path:
    """Write render_health_report(results) to ``path`` (its folder created); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_health_report(results, **kwargs), encoding="utf-8")
    return out
