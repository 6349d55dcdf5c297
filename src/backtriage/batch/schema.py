"""The rows `screen` writes, apart from the code that fills them, so that the main process can
write an empty output or a failed batch's rows without loading the reader."""

from __future__ import annotations

import pyarrow as pa

__all__ = ["FULL_SCHEMA", "SLIM_SCHEMA"]

#: One slim row per note (about half a kilobyte): the answer to "red flag written, nothing done?".
SLIM_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("urgency", pa.string()),
        ("red_flags", pa.list_(pa.string())),
        ("evidence", pa.string()),  # JSON: [{finding, words, start, end, section, alert}]
        ("required", pa.string()),  # none | urgent | emergency: what the alerting rules require
        ("alert_rules", pa.list_(pa.string())),  # the red-flag rules an alert rests on
        ("note_kind", pa.string()),  # operative | discharge | radiology | ... | message
        ("action", pa.string()),  # none | routine | urgent | emergency
        ("action_evidence", pa.string()),  # JSON: [{level, words, start, end}]
        ("discordant", pa.bool_()),
        ("kb_version", pa.string()),
        ("text_version", pa.string()),
        ("error", pa.string()),
    ]
)
FULL_SCHEMA = SLIM_SCHEMA.append(pa.field("assessment", pa.string()))
