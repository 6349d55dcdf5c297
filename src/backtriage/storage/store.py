"""Database access for the audit store (SQLite by default, PostgreSQL by URL).

Every write happens inside one transaction (`AuditStore.transaction`), so a record is never half
written, and asks the call's commit gate (`storage.gate`) just before COMMIT, so a call whose
caller has given up stores nothing. An interview row is locked while it is being answered so two
answers to one interview cannot interleave (SELECT ... FOR UPDATE on PostgreSQL; SQLite
serialises writers).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TextIO, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, create_engine, delete, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backtriage.errors import NotFoundError
from backtriage.storage.gate import before_commit
from backtriage.storage.models import (
    ApiKey,
    AssessmentRecord,
    CdsFeedback,
    InterviewEvent,
    InterviewRecord,
    SeenToken,
    SmartRecord,
)

__all__ = ["AuditStore", "hash_secret", "now"]


def now() -> datetime:
    return datetime.now(UTC)


def hash_secret(secret: str) -> str:
    """API keys are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _migrations_dir() -> str:
    return str(resources.files("backtriage.storage") / "migrations")


#: Interview ids are UUIDs; anything else is unknown without asking the database.
_INTERVIEW_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def unknown_interview(interview_id: str) -> str:
    """The not-found message, quoting at most 40 printable characters of the id."""
    shown = "".join(c for c in interview_id[:40] if c.isprintable())
    return f"no interview with id '{shown}{'...' if len(interview_id) > 40 else ''}'"


class AuditStore:
    def __init__(self, url: str) -> None:
        self.url = url
        connect_args: dict[str, Any] = {}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            connect_args = {"check_same_thread": False, "timeout": 30}
        # hide_parameters: a failed statement's error never carries its values (patient text)
        # into a log or a traceback.
        self.engine: Engine = create_engine(url, connect_args=connect_args, future=True, hide_parameters=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reads never wait for SQLite's write lock (with WAL a reader sees the last commit).
        self._read_sessions = sessionmaker(
            self.engine.execution_options(read_only=True), expire_on_commit=False
        )

    # ---- schema --------------------------------------------------------------------------
    def upgrade(self) -> None:
        """Bring the schema to the newest migration (safe to call every start)."""
        config = Config()
        config.set_main_option("script_location", _migrations_dir())
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write: all of it or none of it, one writer at a time; nothing at all if the caller
        gave up while it waited for the lock or worked (`storage.gate`)."""
        with self._sessions.begin() as session:
            yield session
            session.flush()  # every statement first, so the gate is asked just before COMMIT
            before_commit()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read: a consistent snapshot that never waits for a writer."""
        with self._read_sessions.begin() as session:
            yield session

    def interview_for_update(self, session: Session, interview_id: str) -> InterviewRecord:
        if not _INTERVIEW_ID.fullmatch(interview_id):
            raise NotFoundError(unknown_interview(interview_id))  # e.g. a NUL or 70 KB id
        stmt = select(InterviewRecord).where(InterviewRecord.id == interview_id)
        if self.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        record = session.scalars(stmt).first()
        if record is None:
            raise NotFoundError(unknown_interview(interview_id))
        return record

    # ---- API keys ------------------------------------------------------------------------
    def create_api_key(self, name: str) -> tuple[str, str]:
        key_id, secret = str(uuid.uuid4()), "bt_" + secrets.token_urlsafe(32)
        with self.transaction() as s:
            s.add(
                ApiKey(
                    id=key_id, name=name, secret_hash=hash_secret(secret), created_at=now(), revoked_at=None
                )
            )
        return key_id, secret

    def revoke_api_key(self, key_id: str) -> None:
        with self.transaction() as s:
            key = s.get(ApiKey, key_id)
            if key is None:
                raise NotFoundError(f"no API key with id '{key_id}'")
            key.revoked_at = key.revoked_at or now()

    def verify_api_key(self, secret: str) -> str | None:
        with self.reading() as s:
            key = s.scalars(select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret))).first()
            return key.id if key is not None and key.revoked_at is None else None

    def list_api_keys(self) -> list[dict[str, Any]]:
        with self.reading() as s:
            return [
                {
                    "id": k.id,
                    "name": k.name,
                    "created_at": k.created_at.isoformat(),
                    "revoked": k.revoked_at is not None,
                }
                for k in s.scalars(select(ApiKey).order_by(ApiKey.created_at))
            ]

    # ---- audit -----------------------------------------------------------------------------
    def add_assessment(
        self,
        inputs: dict[str, Any],
        result: dict[str, Any],
        urgency: str,
        kb_version: str,
        api_key_id: str | None,
    ) -> str:
        # A plain insert, not the ORM's unit of work: this runs on every API call, and the
        # session's bookkeeping cost more than the write itself.
        record_id = str(uuid.uuid4())
        with self.engine.begin() as connection:
            connection.execute(
                insert(AssessmentRecord),
                {
                    "id": record_id,
                    "created_at": now(),
                    "kb_version": kb_version,
                    "inputs": inputs,
                    "result": result,
                    "urgency": urgency,
                    "api_key_id": api_key_id,
                },
            )
            before_commit()
        return record_id

    def export(self, out: TextIO) -> int:
        """Write every interview (with its answers) and assessment as JSON lines."""
        count = 0
        with self.reading() as s:
            for rec in s.scalars(select(InterviewRecord).order_by(InterviewRecord.created_at)):
                out.write(
                    json.dumps(
                        {
                            "type": "interview",
                            "id": rec.id,
                            "created_at": rec.created_at.isoformat(),
                            "updated_at": rec.updated_at.isoformat(),
                            "status": rec.status,
                            "kb_version": rec.kb_version,
                            "text": rec.text,
                            "age": rec.age,
                            "sex": rec.sex,
                            "answers": rec.answers,
                            "asked": rec.asked,
                            "events": [
                                {
                                    "at": e.created_at.isoformat(),
                                    "question": e.question_id,
                                    "answers": e.answers,
                                }
                                for e in rec.events
                            ],
                            "result": rec.result,
                        }
                    )
                    + "\n"
                )
                count += 1
            for a in s.scalars(select(AssessmentRecord).order_by(AssessmentRecord.created_at)):
                out.write(
                    json.dumps(
                        {
                            "type": "assessment",
                            "id": a.id,
                            "created_at": a.created_at.isoformat(),
                            "kb_version": a.kb_version,
                            "urgency": a.urgency,
                            "inputs": a.inputs,
                            "result": a.result,
                        }
                    )
                    + "\n"
                )
                count += 1
            for f in s.scalars(select(CdsFeedback).order_by(CdsFeedback.id)):
                out.write(json.dumps({"type": "cds_feedback", **_feedback_row(f)}) + "\n")
                count += 1
        return count

    # ---- interoperability ------------------------------------------------------------------
    def add_cds_feedback(self, service_id: str, issuer: str | None, items: list[dict[str, Any]]) -> int:
        """Store each feedback item (`card`, `outcome` and the rest as sent); returns how many."""
        received = now()
        with self.transaction() as s:
            for item in items:
                detail = {k: v for k, v in item.items() if k not in {"card", "outcome"}}
                s.add(
                    CdsFeedback(
                        received_at=received,
                        service_id=service_id,
                        issuer=issuer,
                        card=str(item["card"]),
                        outcome=str(item["outcome"]),
                        detail=detail,
                    )
                )
        return len(items)

    def cds_feedback(self) -> list[dict[str, Any]]:
        """Every feedback item, oldest first."""
        with self.reading() as s:
            rows = s.scalars(select(CdsFeedback).order_by(CdsFeedback.id))
            return [_feedback_row(f) for f in rows]

    def first_use_of_token(self, issuer: str, jti: str, expires_at: datetime) -> bool:
        """Record a JWT id; False if this issuer used it before (a replay). Ids are kept until
        their token expires, then forgotten."""
        try:
            with self.transaction() as s:
                s.execute(delete(SeenToken).where(SeenToken.expires_at < now()))
                if s.get(SeenToken, (issuer, jti)) is not None:
                    return False
                s.add(SeenToken(issuer=issuer, jti=jti, expires_at=expires_at))
        except IntegrityError:  # the same id, recorded at the same moment by another process
            return False
        return True

    def put_smart(self, key: str, kind: str, data: dict[str, Any], expires_at: datetime) -> None:
        """Keep SMART launch state server-side (`kind` launch or session), replacing any."""
        with self.transaction() as s:
            s.execute(delete(SmartRecord).where(SmartRecord.expires_at < now()))
            s.merge(SmartRecord(id=key, kind=kind, data=data, expires_at=expires_at))

    def get_smart(self, key: str, kind: str) -> dict[str, Any] | None:
        """The state kept under `key`, if it is of this kind and has not expired."""
        with self.reading() as s:
            record = s.get(SmartRecord, key)
            if record is None or record.kind != kind or _aware(record.expires_at) < now():
                return None
            return dict(record.data)

    def take_smart(self, key: str, kind: str) -> dict[str, Any] | None:
        """The state kept under `key`, removed as it is read, so it can be used only once."""
        with self.transaction() as s:
            record = s.get(SmartRecord, key)
            if record is None or record.kind != kind:
                return None
            data, expires = dict(record.data), _aware(record.expires_at)
            s.delete(record)
        return data if expires >= now() else None

    def erase_deleted(self) -> None:
        """Make deleted records unrecoverable from the files themselves: SQLite keeps a deleted
        row's text in its write-ahead log until a checkpoint (freed pages are overwritten, see
        `secure_delete`). Best effort: a reader holding the log open keeps it until it is done."""
        if not self.url.startswith("sqlite"):
            return
        raw = self.engine.raw_connection()  # outside any transaction, which would hold the log
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()

    def purge(self, older_than_days: int) -> int:
        """Delete records older than the retention period; returns how many were deleted."""
        cutoff = now() - timedelta(days=older_than_days)
        with self.transaction() as s:
            old = list(s.scalars(select(InterviewRecord.id).where(InterviewRecord.updated_at < cutoff)))
            if old:
                s.execute(delete(InterviewEvent).where(InterviewEvent.interview_id.in_(old)))
                s.execute(delete(InterviewRecord).where(InterviewRecord.id.in_(old)))
            # A DML statement yields a CursorResult (which has rowcount), but Session.execute
            # is typed as returning the general Result.
            gone = cast(
                CursorResult[Any],
                s.execute(delete(AssessmentRecord).where(AssessmentRecord.created_at < cutoff)),
            )
            count = len(old) + (gone.rowcount or 0)
            feedback = cast(
                CursorResult[Any], s.execute(delete(CdsFeedback).where(CdsFeedback.received_at < cutoff))
            )
            count += feedback.rowcount or 0
            s.execute(delete(SeenToken).where(SeenToken.expires_at < now()))
            s.execute(delete(SmartRecord).where(SmartRecord.expires_at < now()))
        self.erase_deleted()
        return count


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _feedback_row(f: CdsFeedback) -> dict[str, Any]:
    return {
        "received_at": _aware(f.received_at).isoformat(),
        "service": f.service_id,
        "issuer": f.issuer,
        "card": f.card,
        "outcome": f.outcome,
        **f.detail,
    }


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock when a transaction starts, not at its first write: otherwise two
    server processes can both read an interview, both add an answer, and one answer is lost.
    Reads (`AuditStore.reading`) begin without it, so a held lock never stalls them."""
    read_only = connection.get_execution_options().get("read_only", False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun explicitly (BEGIN IMMEDIATE), not by the sqlite3 module.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL still never leaves a half-written transaction; a power cut can lose the
    # last commits, which a local single-file store accepts for far fewer disk syncs.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted records are overwritten, not left in free pages, when a person asks to be forgotten.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
