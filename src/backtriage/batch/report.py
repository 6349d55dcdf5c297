"""A screening run as one self-contained HTML page for the analyst who audits the notes: counts by
urgency, how often each red flag was documented, the notes with red flags (discordant first) with
an excerpt of the note around each piece of evidence, and a random sample of the notes without
red flags, to check for misses. No script, style sheet or font from elsewhere; charts are inline
SVG. Findings and rules are named as the knowledge base names them, not by their ids.

It is built from the output file, so it can be made again from an earlier run
(`backtriage screen-report`). The output holds no note text: excerpts come from reading the notes
again (`notes`), once, keeping only the notes the page shows, each excerpt a bounded window around
its words. So the page stays small however large the run, and the note text goes into this file
only, never into a message.
"""

from __future__ import annotations

import heapq
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from backtriage.batch.output import cannot_write, output_format, written_whole
from backtriage.batch.sources import NoteSource
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base

__all__ = ["AROUND", "DEFAULT_UNFLAGGED", "excerpt", "write_report"]

_READ = {"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json_auto"}
_ORDER = ["emergency", "urgent", "routine", "self_care"]
_WORDS = {"self_care": "self-care", "emergency_department": "emergency department"}
_REQUIRED_RANK = {"emergency": 0, "urgent": 1}
#: Characters of the note shown on each side of a piece of evidence.
AROUND = 80
#: The longest evidence shown whole; a longer one is cut in the middle.
LONGEST_WORDS = 200
#: Characters shown from the beginning of a note without red flags.
BEGINNING = 2 * AROUND + 80
#: Excerpts shown for one note (red flags and actions each); the rest are counted.
EXCERPTS_PER_NOTE = 8
#: Notes without red flags listed by default, chosen at random to check for misses.
DEFAULT_UNFLAGGED = 20
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #b1b4b6;padding:.3rem .5rem;text-align:left;vertical-align:top}
.flag{background:#fde2e1;border-bottom:2px solid #b3001b;padding:0 .15rem;color:inherit}
.act{background:#e3ecf9;border-bottom:2px solid #0b4f9c;padding:0 .15rem;color:inherit}
ul.ev{margin:0;padding-left:1rem}ul.ev li{margin-bottom:.4rem}
.excerpt{display:block;font-size:.9rem;color:#383f43;white-space:pre-wrap;overflow-wrap:anywhere}
.note{font-size:.8rem;color:#505a5f}
.figures td:first-child{font-weight:600;width:16rem}svg text{font:13px system-ui,sans-serif}
"""


@dataclass
class _Listed:
    """A note the page shows, its place in the output and input, and its excerpts once read."""

    position: int
    note_id: str
    row: dict[str, Any]
    text: str | None = None
    excerpts: dict[tuple[int, int], tuple[str, str, str]] = field(default_factory=dict)


def write_report(
    output: Path,
    report: Path,
    seconds: float | None = None,
    shown: int = 500,
    *,
    notes: NoteSource | None = None,
    unflagged: int = DEFAULT_UNFLAGGED,
    seed: int = 0,
    loading: float | None = None,
    kb: KnowledgeBase | None = None,
) -> None:
    """Write the report of the rows in `output` to `report`: at most `shown` notes with red flags,
    and `unflagged` notes without, chosen with `seed`. With `notes` (the source the rows were
    screened from, read the same way) each is shown with excerpts of its text. `seconds` is the
    run's time, `loading` the part of it spent loading the reader."""
    kb = kb or load_knowledge_base()
    fmt = output_format(output)
    scan = f"{_READ[fmt]}('{str(output).replace(chr(39), chr(39) * 2)}')"
    if fmt == "csv":  # a CSV holds the lists as text: "[a, b]"
        scan = (
            f"(SELECT * REPLACE ({_csv_list('red_flags')} AS red_flags, "
            f"{_csv_list('alert_rules')} AS alert_rules, discordant::BOOLEAN AS discordant) FROM {scan})"
        )
    with duckdb.connect() as con:
        counts = dict(
            con.execute(f"SELECT coalesce(urgency, 'unreadable'), count(*) FROM {scan} GROUP BY 1").fetchall()
        )
        flags = con.execute(
            f"SELECT flag, count(*) AS n FROM (SELECT unnest(red_flags) AS flag FROM {scan}) "
            "GROUP BY flag ORDER BY n DESC, flag"
        ).fetchall()
        total, discordant, errors, clear, kb_version, text_version = con.execute(
            f"SELECT count(*), count(*) FILTER (discordant), count(*) FILTER (error IS NOT NULL), "
            f"count(*) FILTER (error IS NULL AND coalesce(len(red_flags), 0) = 0), "
            f"max(kb_version), max(text_version) FROM {scan}"
        ).fetchall()[0]
        chosen = sorted(random.Random(seed).sample(range(clear), min(unflagged, clear)))
        listed, sampled = _pick(con, scan, shown, chosen)
    mismatched = _read_notes(notes, listed + sampled) if notes is not None else 0
    figures = [
        ("notes", f"{total:,}"),
        ("discordant (red flag written, action below what it requires)", f"{discordant:,}"),
        ("unreadable notes", f"{errors:,}"),
        ("knowledge base / text resources", f"{kb_version} / {text_version}"),
        ("made", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    if seconds is not None:
        figures.append(("time", _time(seconds, loading, total)))
    if notes is None:
        figures.append(("excerpts", "none: the notes were not given (screen-report --notes)"))
    elif mismatched:
        figures.append(
            (
                "excerpts",
                f"{mismatched:,} notes without: the note at their place in the notes given has "
                "another id or no text (not the notes, or not the options, the run had?)",
            )
        )
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
            _bars(
                [(_plain(u), counts.get(u, 0)) for u in _ORDER + ["unreadable"] if counts.get(u, 0)],
                "notes by urgency",
            ),
            "<h2>Red flags documented</h2>",
            _bars([(_finding(kb, str(f)), int(n)) for f, n in flags], "red flags documented")
            if flags
            else "<p>None.</p>",
            f"<h2>Notes with red flags, discordant first (at most {shown:,})</h2>",
            _table(listed, kb, notes is not None),
            "<h2>Notes without red flags: a random sample to check for misses</h2>",
            _sample(sampled, clear, seed, notes is not None),
            "</body></html>",
        ]
    )
    try:
        with written_whole(report) as partial:
            partial.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise cannot_write(report, exc) from None


def _csv_list(column: str) -> str:
    return f"list_filter(string_split(trim({column}, '[]'), ', '), lambda x: x <> '')"


def _time(seconds: float, loading: float | None, notes: int) -> str:
    if loading is None:
        return f"{seconds:.1f} s ({notes / max(seconds, 1e-9):,.0f} notes/s)"
    reading = max(seconds - loading, 1e-9)
    return f"{seconds:.1f} s: {loading:.1f} s loading the reader, then {notes / reading:,.0f} notes/s"


_COLUMNS = "id, urgency, required, action, discordant, evidence, action_evidence, alert_rules, note_kind"


def _pick(
    con: duckdb.DuckDBPyConnection, scan: str, shown: int, chosen: list[int]
) -> tuple[list[_Listed], list[_Listed]]:
    """One pass over the rows, in order: the `shown` notes with red flags that come first
    (discordant, then by the care required, then by id), and the notes without red flags whose
    places among them are `chosen`. Only the notes kept are held in memory."""
    wanted = iter(chosen)
    next_wanted = next(wanted, None)
    sampled: list[_Listed] = []
    clear_seen = 0

    def flagged_rows() -> Iterator[_Listed]:
        nonlocal next_wanted, clear_seen
        query = (
            f"SELECT {_COLUMNS}, coalesce(len(red_flags), 0) > 0 AS flagged, error IS NULL AS readable "
            f"FROM {scan}"
        )
        reader: Any = con.sql(query).to_arrow_reader(8192)
        base = 0
        for batch in reader:
            flagged = pc.fill_null(batch.column("flagged"), False)
            clear = pc.and_(pc.invert(flagged), pc.fill_null(batch.column("readable"), False))
            places = pc.indices_nonzero(clear).to_pylist()
            while next_wanted is not None and next_wanted < clear_seen + len(places):
                index = places[next_wanted - clear_seen]
                row = batch.slice(index, 1).to_pylist()[0]
                sampled.append(_Listed(base + index, str(row["id"]), row))
                next_wanted = next(wanted, None)
            clear_seen += len(places)
            indices = pc.indices_nonzero(flagged)
            for index, row in zip(indices.to_pylist(), batch.take(indices).to_pylist(), strict=True):
                yield _Listed(base + index, str(row["id"]), row)
            base += batch.num_rows

    def order(item: _Listed) -> tuple[int, int, str, int]:
        row = item.row
        return (
            0 if row["discordant"] else 1,
            _REQUIRED_RANK.get(row["required"], 2),
            item.note_id,
            item.position,
        )

    rows = flagged_rows()
    listed = heapq.nsmallest(shown, rows, key=order)
    for _ in rows:  # the sample is taken on the way: read to the end (nsmallest(0) reads nothing)
        pass
    return listed, sampled


def _read_notes(notes: NoteSource, kept: list[_Listed]) -> int:
    """Read the notes again, in the same order, and keep the excerpts of the notes shown. A note
    is matched by its place and its id; the number that did not match is returned."""
    by_place = {item.position: item for item in kept}
    last, base, mismatched = max(by_place, default=-1), 0, 0
    if last < 0:
        return 0
    for batch in notes.batches(4096):
        here = [p - base for p in by_place if base <= p < base + batch.num_rows]
        for place, row in zip(here, batch.take(pa.array(here, pa.int64())).to_pylist(), strict=True):
            item = by_place[base + place]
            if str(row["id"]) != item.note_id or not isinstance(row["text"], str):
                mismatched += 1
                continue
            _keep_excerpts(item, row["text"])
        base += batch.num_rows
        if base > last:
            break
    else:
        mismatched += sum(1 for p in by_place if p >= base)  # fewer notes than rows
    return mismatched


def _keep_excerpts(item: _Listed, text: str) -> None:
    """The excerpts of one note: around each of its pieces of evidence (at most
    EXCERPTS_PER_NOTE of each kind), or for a note without red flags, its beginning."""
    row = item.row
    spans = [(e.get("start"), e.get("end")) for e in _json(row["evidence"])][:EXCERPTS_PER_NOTE]
    spans += [(a.get("start"), a.get("end")) for a in _json(row["action_evidence"])][:EXCERPTS_PER_NOTE]
    for start, end in spans:
        if isinstance(start, int) and isinstance(end, int):
            item.excerpts[(start, end)] = excerpt(text, start, end)
    item.text = _clean(text[:BEGINNING]) + ("…" if len(text) > BEGINNING else "")


def excerpt(text: str, start: int, end: int, around: int = AROUND) -> tuple[str, str, str]:
    """The words at `start:end` and up to `around` characters each side, as (before, words,
    after), whitespace made single spaces, with an ellipsis where the note goes on. Every part is
    bounded, whatever the note's length."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    start, end = min(start, end), max(start, end)
    words = text[start:end]
    if len(words) > LONGEST_WORDS:
        half = LONGEST_WORDS // 2
        words = words[:half] + " … " + words[-half:]
    before = ("…" if start > around else "") + _clean(text[max(0, start - around) : start])
    after = _clean(text[end : end + around]) + ("…" if end + around < len(text) else "")
    return before, _clean(words), after


def _clean(piece: str) -> str:
    return _SPACE.sub(" ", _CONTROL.sub(" ", piece))


def _kind(kind: object) -> str:
    """The kind of note, under its id: "discharge note", "note without sections"."""
    if not kind:
        return ""
    words = "note without sections" if kind == "message" else f"{_plain(kind)} note"
    return f"<br><span class='note'>{escape(words)}</span>"


def _plain(word: object) -> str:
    """An id in plain words: `self_care` is "self-care", `emergency_department` two words."""
    text = str(word)
    return _WORDS.get(text, text.replace("_", " "))


def _finding(kb: KnowledgeBase, finding: str) -> str:
    known = kb.findings.get(finding)
    return known.label if known else _plain(finding)


def _rule(kb: KnowledgeBase, rule_id: str) -> str:
    return next((r.name for r in kb.rules if r.id == rule_id), _plain(rule_id))


def _bars(items: list[tuple[str, int]], label: str) -> str:
    """A horizontal bar chart as inline SVG, with the numbers written beside the bars; labels
    longer than the space for them are cut, and given whole as the row's title."""
    if not items:
        return "<p>None.</p>"
    top, height = max(n for _, n in items) or 1, 26
    labels = [name if len(name) <= 44 else name[:43] + "…" for name, _ in items]
    left = min(330, 10 + 7 * max(len(name) for name in labels))
    room = 700 - left - 70
    rows = []
    for i, ((name, n), shown) in enumerate(zip(items, labels, strict=True)):
        y, width = i * height, int(room * n / top)
        rows.append(
            f"<g><title>{escape(name)}: {n:,}</title><text x='0' y='{y + 17}'>{escape(shown)}</text>"
            f"<rect x='{left}' y='{y + 4}' width='{max(width, 1)}' height='18' fill='#0b4f9c'/>"
            f"<text x='{left + 6 + width}' y='{y + 17}'>{n:,}</text></g>"
        )
    box = f"0 0 700 {len(items) * height}"
    return f"<svg role='img' aria-label='{escape(label)}' viewBox='{box}' width='100%'>{''.join(rows)}</svg>"


def _table(rows: list[_Listed], kb: KnowledgeBase, with_text: bool) -> str:
    if not rows:
        return "<p>None.</p>"
    names = [
        "note",
        "discordant",
        "care required",
        "action documented",
        "red-flag evidence",
        "actions in the note",
    ]
    head = "<tr>" + "".join(f"<th>{name}</th>" for name in names) + "</tr>"
    body = []
    for item in rows:
        row = item.row
        flags = _evidence(
            item, [(e, _finding(kb, str(e.get("finding", "")))) for e in _json(row["evidence"])], "flag"
        )
        acts = _evidence(
            item, [(a, _plain(a.get("level", ""))) for a in _json(row["action_evidence"])], "act"
        )
        rules = "".join(
            f"<br><span class='note'>{escape(_rule(kb, r))}</span>" for r in row["alert_rules"] or []
        )
        body.append(
            f"<tr><td>{escape(item.note_id)}{_kind(row['note_kind'])}</td>"
            f"<td>{'yes' if row['discordant'] else 'no'}</td>"
            f"<td>{escape(_plain(row['required']))}{rules}</td><td>{escape(_plain(row['action']))}</td>"
            f"<td>{flags}</td><td>{acts or 'none'}</td></tr>"
        )
    note = "" if with_text else "<p class='note'>Excerpts need the notes: screen-report --notes.</p>"
    return f"{note}<table>{head}{''.join(body)}</table>"


def _evidence(item: _Listed, found: list[tuple[dict[str, Any], str]], kind: str) -> str:
    """Each piece of evidence: what it is, in the knowledge base's words, and the note around it
    with the words marked (or the words alone when the note was not read)."""
    if not found:
        return ""
    entries = []
    for evidence, name in found[:EXCERPTS_PER_NOTE]:
        span = (evidence.get("start"), evidence.get("end"))
        section = evidence.get("section")
        where = f" <span class='note'>({escape(str(section))})</span>" if section else ""
        if span in item.excerpts:
            before, words, after = item.excerpts[span]
            quoted = f"{escape(before)}<mark class='{kind}'>{escape(words)}</mark>{escape(after)}"
        else:
            quoted = f"<mark class='{kind}'>{escape(_clean(str(evidence.get('words', ''))))}</mark>"
        entries.append(f"<li>{escape(name)}{where}<span class='excerpt'>{quoted}</span></li>")
    more = len(found) - EXCERPTS_PER_NOTE
    if more > 0:
        entries.append(f"<li class='note'>and {more} more</li>")
    return f"<ul class='ev'>{''.join(entries)}</ul>"


def _sample(rows: list[_Listed], clear: int, seed: int, with_text: bool) -> str:
    if not rows:
        return "<p>None.</p>"
    said = (
        f"<p>{len(rows):,} of the {clear:,} readable notes in which no red flag was found, chosen at "
        f"random (seed {seed}; the same seed chooses the same notes). Read them for red flags the "
        "screen missed.</p>"
    )
    head = "<tr><th>note</th><th>urgency</th><th>beginning of the note</th></tr>"
    body = []
    for item in rows:
        text = escape(item.text) if item.text is not None else "<span class='note'>not read</span>"
        body.append(
            f"<tr><td>{escape(item.note_id)}{_kind(item.row['note_kind'])}</td>"
            f"<td>{escape(_plain(item.row['urgency']))}</td><td><span class='excerpt'>{text}</span></td></tr>"
        )
    note = (
        ""
        if with_text
        else "<p class='note'>The beginning of each note needs the notes: screen-report --notes.</p>"
    )
    return f"{said}{note}<table>{head}{''.join(body)}</table>"


def _json(value: Any) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(value) if isinstance(value, str) else value or []
    except ValueError:
        return []
    return [item for item in parsed if isinstance(item, dict)] if isinstance(parsed, list) else []
