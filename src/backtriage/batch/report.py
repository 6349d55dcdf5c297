"""A screening run as one self-contained HTML page: counts by urgency, how often each red flag was
documented, the discordant notes first with their evidence, and the run's figures. No script,
style sheet or font from elsewhere; charts are inline SVG. Built from the output file, so it can
be made again from an earlier run (`backtriage screen-report`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import duckdb

from backtriage.batch.output import cannot_write, output_format, written_whole

__all__ = ["write_report"]

_READ = {"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json_auto"}
_ORDER = ["emergency", "urgent", "routine", "self_care"]
_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;max-width:64rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #b1b4b6;padding:.3rem .5rem;text-align:left;vertical-align:top}
.flag{background:#fde2e1;border-bottom:2px solid #b3001b;padding:0 .15rem}
.act{background:#e3ecf9;border-bottom:2px solid #0b4f9c;padding:0 .15rem}
.figures td:first-child{font-weight:600;width:16rem}svg text{font:13px system-ui,sans-serif}
"""


def write_report(output: Path, report: Path, seconds: float | None = None, shown: int = 500) -> None:
    """Write the report of the rows in `output` to `report`; at most `shown` notes are listed."""
    fmt = output_format(output)
    scan = f"{_READ[fmt]}('{str(output).replace(chr(39), chr(39) * 2)}')"
    if fmt == "csv":  # a CSV holds the list of red flags as text: "[a, b]"
        flags_list = "list_filter(string_split(trim(red_flags, '[]'), ', '), lambda x: x <> '')"
        scan = (
            f"(SELECT * REPLACE ({flags_list} AS red_flags, discordant::BOOLEAN AS discordant) FROM {scan})"
        )
    with duckdb.connect() as con:
        counts = dict(
            con.execute(f"SELECT coalesce(urgency, 'unreadable'), count(*) FROM {scan} GROUP BY 1").fetchall()
        )
        flags = con.execute(
            f"SELECT flag, count(*) AS n FROM (SELECT unnest(red_flags) AS flag FROM {scan}) "
            "GROUP BY flag ORDER BY n DESC"
        ).fetchall()
        total, discordant, errors, kb, text = con.execute(
            f"SELECT count(*), count(*) FILTER (discordant), count(*) FILTER (error IS NOT NULL), "
            f"max(kb_version), max(text_version) FROM {scan}"
        ).fetchone() or (0, 0, 0, None, None)
        listed = con.execute(
            f"SELECT id, urgency, required, action, discordant, evidence, action_evidence FROM {scan} "
            "WHERE len(red_flags) > 0 ORDER BY discordant DESC, "
            "CASE required WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END, id "
            f"LIMIT {int(shown)}"
        ).fetchall()
    figures = [
        ("notes", f"{total:,}"),
        ("discordant (red flag written, action below what it requires)", f"{discordant:,}"),
        ("unreadable notes", f"{errors:,}"),
        ("knowledge base / text resources", f"{kb} / {text}"),
        ("made", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    if seconds is not None:
        figures.append(("time", f"{seconds:.1f} s ({total / max(seconds, 1e-9):,.0f} notes/s)"))
    html = "\n".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>backtriage screening report</title><style>{_STYLE}</style></head><body>",
            "<h1>Red flags in clinical notes: screening report</h1>",
            "<table class='figures'>"
            + "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in figures)
            + "</table>",
            "<h2>Notes by urgency</h2>",
            _bars([(u, counts.get(u, 0)) for u in _ORDER + ["unreadable"] if counts.get(u, 0)], "urgency"),
            "<h2>Red flags documented</h2>",
            _bars([(str(f), int(n)) for f, n in flags], "red flags") if flags else "<p>None.</p>",
            f"<h2>Notes with red flags, discordant first (at most {shown})</h2>",
            _table(listed),
            "</body></html>",
        ]
    )
    try:
        with written_whole(report) as partial:
            partial.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise cannot_write(report, exc) from None


def _bars(items: list[tuple[str, int]], label: str) -> str:
    """A horizontal bar chart as inline SVG, with the numbers written beside the bars."""
    if not items:
        return "<p>None.</p>"
    top, height = max(n for _, n in items) or 1, 26
    rows = []
    for i, (name, n) in enumerate(items):
        y, width = i * height, int(420 * n / top)
        rows.append(
            f"<text x='0' y='{y + 17}'>{escape(name)}</text>"
            f"<rect x='200' y='{y + 4}' width='{max(width, 1)}' height='18' fill='#0b4f9c'/>"
            f"<text x='{206 + width}' y='{y + 17}'>{n:,}</text>"
        )
    box = f"0 0 700 {len(items) * height}"
    return f"<svg role='img' aria-label='{escape(label)}' viewBox='{box}' width='100%'>{''.join(rows)}</svg>"


def _table(rows: list[tuple[Any, ...]]) -> str:
    names = ["note", "discordant", "required", "action", "red-flag evidence", "action documented"]
    head = "<tr>" + "".join(f"<th>{name}</th>" for name in names) + "</tr>"
    body = []
    for note_id, _urgency, required, action, discordant, evidence, actions in rows:
        flags = "; ".join(
            f"<span class='flag'>{escape(e['words'])}</span> ({escape(e['finding'])})"
            for e in _json(evidence)
        )
        acts = "; ".join(
            f"<span class='act'>{escape(a['words'])}</span> ({escape(a['level'])})" for a in _json(actions)
        )
        body.append(
            f"<tr><td>{escape(str(note_id))}</td><td>{'yes' if discordant else 'no'}</td>"
            f"<td>{escape(str(required))}</td><td>{escape(str(action))}</td><td>{flags}</td>"
            f"<td>{acts or 'none'}</td></tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"


def _json(value: Any) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(value) if isinstance(value, str) else value or []
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []
