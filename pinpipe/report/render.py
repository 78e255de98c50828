"""Writes the report: one self-contained HTML file (styles and charts inline, no scripts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from pinpipe.contract import streaming_table
from pinpipe.report import gold
from pinpipe.report.charts import Bar, bar_chart, number
from pinpipe.report.figures import Figures, age
from pinpipe.spark import lake


@dataclass
class GoldSection:
    name: str
    question: str
    chart: Markup | None
    shown: int
    total: int
    columns: list[str]
    rows: list[dict[str, Any]]


def gold_sections(figures: Figures) -> list[GoldSection]:
    sections = []
    for name, spec in gold.CHARTS.items():
        rows = figures.gold.get(name)
        if not rows:
            sections.append(GoldSection(name, spec.question, None, 0, 0, [], []))
            continue
        all_bars = gold.bars(spec, rows)
        shown = all_bars[: gold.MAX_BARS]
        chart = Markup(bar_chart(shown, spec.value.replace("_", " ")))
        sections.append(
            GoldSection(name, spec.question, chart, len(shown), len(all_bars), list(rows[0]), rows)
        )
    return sections


def pipeline_rows(figures: Figures) -> list[dict[str, Any]]:
    """One row per figure, with a column per source table."""
    t = figures.tables

    def rows_of(name: str) -> int | None:
        return t[name].rows if name in t else None

    def quarantined(path: str, table: str) -> int:
        return sum(n for p, tb, _, n in figures.quarantine_reasons if p == path and tb == table)

    streaming = {tb: rows_of(streaming_table(figures.uid, tb)) for tb in lake.SILVER}
    return [
        {"path": "batch", "figure": "records in Kafka (sent)", **figures.kafka_records},
        {"path": "batch", "figure": "records landed in S3", **figures.landed_records},
        {"path": "batch", "figure": "silver rows", **{tb: rows_of(tb) for tb in lake.SILVER}},
        {
            "path": "batch",
            "figure": "quarantined",
            **{tb: quarantined("batch", tb) for tb in lake.SILVER},
        },
        {"path": "stream", "figure": "records in Kinesis (sent)", **figures.kinesis_records},
        {"path": "stream", "figure": "rows in the streaming tables", **streaming},
        {
            "path": "stream",
            "figure": "quarantined",
            **{tb: quarantined("stream", tb) for tb in lake.SILVER},
        },
    ]


def freshness_rows(figures: Figures) -> list[dict[str, Any]]:
    return [
        {"table": name, "rows": st.rows, "updated": age(st.updated_at, figures.generated_at),
         "at": st.updated_at.isoformat(timespec="seconds") if st.updated_at else ""}
        for name, st in figures.tables.items()
    ]  # fmt: skip


def timing_chart(figures: Figures) -> Markup | None:
    if not figures.run or not figures.run.get("steps"):
        return None
    steps = figures.run["steps"]
    bars = [Bar(st["name"], round(st["seconds"], 1), st.get("detail", "")) for st in steps]
    return Markup(bar_chart(bars, "seconds", " s"))


def cell(value: Any) -> Any:
    """A table cell: numbers with thousands separators, a dash for nothing."""
    if value is None:
        return "-"
    return number(value) if isinstance(value, int | float) else value


def render(figures: Figures) -> str:
    env = Environment(
        loader=PackageLoader("pinpipe.report", "."), autoescape=select_autoescape(["j2", "html"])
    )
    env.filters["number"] = cell
    css = (Path(__file__).parent / "report.css").read_text()
    return env.get_template("report.html.j2").render(
        f=figures,
        css=Markup(css),
        gold=gold_sections(figures),
        pipeline=pipeline_rows(figures),
        tables=list(lake.SILVER),
        freshness=freshness_rows(figures),
        timings=timing_chart(figures),
    )


def write(figures: Figures, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(figures), encoding="utf-8")
    return out
