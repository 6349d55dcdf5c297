"""The audit store on SQLite (and PostgreSQL when configured)."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from backtriage.domain.case import Case
from backtriage.errors import ConflictError
from backtriage.service import TriageService
from backtriage.storage import AuditStore
from backtriage.storage.models import AssessmentRecord, InterviewRecord
from backtriage.storage.store import now


def test_upgrade_is_idempotent(store: AuditStore) -> None:
    store.upgrade()
    store.upgrade()


def test_api_keys_are_hashed_and_revocable(store: AuditStore) -> None:
    key_id, secret = store.create_api_key("clinic")
    assert store.verify_api_key(secret) == key_id
    assert store.verify_api_key(secret + "x") is None
    listed = store.list_api_keys()
    assert listed[0]["name"] == "clinic" and secret not in json.dumps(listed)
    store.revoke_api_key(key_id)
    assert store.verify_api_key(secret) is None


def test_everything_is_recorded_and_exported(store: AuditStore) -> None:
    service = TriageService(store)
    service.assess(Case(answers={"foot_drop": True}), api_key_id=None)
    view = service.start_interview(Case(age=40), text="tingly back after sitting")
    view = service.answer(view.id, {"saddle_anaesthesia": True, "bladder_dysfunction": True})
    assert view.done and view.assessment is not None
    out = io.StringIO()
    assert store.export(out) == 2
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    interview = next(r for r in records if r["type"] == "interview")
    assert interview["status"] == "done" and interview["text"] == "tingly back after sitting"
    assert interview["result"]["urgency"] == "emergency"
    assert [e["answers"] for e in interview["events"]][-1] == {
        "saddle_anaesthesia": True,
        "bladder_dysfunction": True,
    }
    assessment = next(r for r in records if r["type"] == "assessment")
    assert assessment["urgency"] == "urgent" and assessment["kb_version"]


def test_purge_deletes_only_old_records(store: AuditStore) -> None:
    service = TriageService(store)
    old = service.start_interview(Case(answers={"fever": False}))
    service.start_interview(Case(answers={"fever": False}))
    service.assess(Case(answers={"fever": True}))
    with store.transaction() as s:
        s.execute(
            update(InterviewRecord)
            .where(InterviewRecord.id == old.id)
            .values(updated_at=now() - timedelta(days=400))
        )
        s.execute(update(AssessmentRecord).values(created_at=now() - timedelta(days=400)))
    assert store.purge(365) == 2
    out = io.StringIO()
    assert store.export(out) == 1


def test_concurrent_interviews_do_not_interfere(store: AuditStore) -> None:
    service = TriageService(store)
    views = [service.start_interview(Case(age=30 + i)) for i in range(6)]
    errors: list[BaseException] = []

    def run(view_id: str, flag: bool) -> None:
        try:
            service.answer(
                view_id, {"saddle_anaesthesia": flag, "bladder_dysfunction": flag, "bowel_dysfunction": False}
            )
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(v.id, i % 2 == 0)) for i, v in enumerate(views)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for i, v in enumerate(views):
        got = service.get_interview(v.id)
        assert got.answers["saddle_anaesthesia"] is (i % 2 == 0)
        assert got.done is (i % 2 == 0)


def test_parallel_answers_to_one_interview_from_two_workers_are_all_kept(store: AuditStore) -> None:
    """Two server processes share the database: each has its own engine. Twenty answers, each to
    a different finding, posted at once to the same interview: none may be lost."""
    workers = [TriageService(store), TriageService(AuditStore(store.url))]
    view = workers[0].start_interview(Case(age=40))
    findings = [f.id for f in workers[0].engine.kb.asked_findings if not f.red_flag][:20]
    acknowledged: list[str] = []
    errors: list[BaseException] = []

    def run(i: int, finding: str) -> None:
        try:
            workers[i % 2].answer(view.id, {finding: False})
            acknowledged.append(finding)
        except ConflictError:
            pass  # the interview finished first: refused, so nothing was promised
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(findings)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and acknowledged
    stored = workers[1].get_interview(view.id).answers
    assert [f for f in acknowledged if stored.get(f) is not False] == []  # every 200 was kept
    workers[1].store.engine.dispose()


def test_a_failed_statement_never_carries_its_values_into_the_error(store: AuditStore) -> None:
    canary = "CANARY-numb-between-my-legs"
    with store.engine.connect() as conn:
        try:
            conn.exec_driver_sql(
                "INSERT INTO no_such_table VALUES (?)"
                if store.engine.dialect.name == "sqlite"
                else "INSERT INTO no_such_table VALUES (%s)",
                (canary,),
            )
        except Exception as exc:  # noqa: BLE001 - the message is what is checked
            assert canary not in str(exc) and canary not in repr(exc)
        else:
            raise AssertionError("the insert should have failed")


def test_a_forgotten_interview_leaves_no_text_in_the_database_files(tmp_path: Path) -> None:
    canary = "ZQX-erase-canary numb bum"
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    store.upgrade()
    service = TriageService(store)
    view = service.start_interview(Case(), canary)
    kept = service.start_interview(Case(), "another person's back")

    def files() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("audit.db"))

    assert canary.encode() in files()
    service.delete_interview(view.id)
    assert canary.encode() not in files()
    assert service.get_interview(kept.id).id == kept.id
