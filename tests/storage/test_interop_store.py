"""The audit store's interoperability tables: CDS Hooks feedback, JWT ids, SMART state."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

from backtriage.storage import AuditStore
from backtriage.storage.store import now


def test_feedback_is_stored_exported_and_purged_with_the_rest(store: AuditStore) -> None:
    items = [
        {"card": "c-1", "outcome": "accepted", "acceptedSuggestions": [{"id": "s-1"}]},
        {"card": "c-2", "outcome": "overridden", "overrideReason": {"userComment": "seen already"}},
    ]
    assert store.add_cds_feedback("back-numbness", "https://ehr.example.org", items) == 2
    rows = store.cds_feedback()
    assert [(r["card"], r["outcome"]) for r in rows] == [("c-1", "accepted"), ("c-2", "overridden")]
    assert (
        rows[0]["acceptedSuggestions"] == [{"id": "s-1"}] and rows[1]["issuer"] == "https://ehr.example.org"
    )
    out = io.StringIO()
    store.export(out)
    assert sum(json.loads(line)["type"] == "cds_feedback" for line in out.getvalue().splitlines()) == 2
    assert store.purge(older_than_days=1) == 0 and len(store.cds_feedback()) == 2


def test_a_token_id_is_accepted_once_per_issuer_until_it_expires(store: AuditStore) -> None:
    later = now() + timedelta(minutes=5)
    assert store.first_use_of_token("https://ehr.example.org", "jti-1", later)
    assert not store.first_use_of_token("https://ehr.example.org", "jti-1", later)  # a replay
    assert store.first_use_of_token("https://other.example.org", "jti-1", later)  # another issuer's
    gone = now() - timedelta(seconds=1)
    assert store.first_use_of_token("https://ehr.example.org", "jti-2", gone)
    # an expired id is forgotten: the token itself is refused for its age, not by this table
    assert store.first_use_of_token("https://ehr.example.org", "jti-2", later)


def test_the_same_token_id_at_the_same_moment_is_accepted_once(store: AuditStore) -> None:
    later, results = now() + timedelta(minutes=5), list[bool]()

    def use() -> None:
        results.append(store.first_use_of_token("https://ehr.example.org", "race", later))

    threads = [threading.Thread(target=use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]


def test_smart_state_is_kept_by_kind_taken_once_and_forgotten_when_expired(store: AuditStore) -> None:
    later = now() + timedelta(minutes=10)
    store.put_smart("state-1", "launch", {"iss": "https://ehr.example.org/fhir", "verifier": "v"}, later)
    assert store.get_smart("state-1", "session") is None  # another kind
    assert store.take_smart("state-1", "launch") == {"iss": "https://ehr.example.org/fhir", "verifier": "v"}
    assert store.take_smart("state-1", "launch") is None  # once only
    store.put_smart("s-1", "session", {"patient": "p1"}, later)
    assert store.get_smart("s-1", "session") == {"patient": "p1"}
    store.put_smart("s-2", "session", {"patient": "p2"}, now() - timedelta(seconds=1))
    assert store.get_smart("s-2", "session") is None and store.take_smart("s-2", "session") is None
