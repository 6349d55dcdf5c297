"""Tables of the audit store (SQLAlchemy 2). Schema changes go through Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ApiKey",
    "AssessmentRecord",
    "Base",
    "CdsFeedback",
    "InterviewEvent",
    "InterviewRecord",
    "SeenToken",
    "SmartRecord",
]


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class InterviewRecord(Base):
    __tablename__ = "interviews"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # active | done
    kb_version: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)  # personal health information: never logged
    age: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(8))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    asked: Mapped[list[Any]] = mapped_column(JSON)
    current_question: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    api_key_id: Mapped[str | None] = mapped_column(String(36))

    events: Mapped[list[InterviewEvent]] = relationship(
        back_populates="interview", order_by="InterviewEvent.id", cascade="all, delete-orphan"
    )


class InterviewEvent(Base):
    """One answer given during an interview, as received."""

    __tablename__ = "interview_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    question_id: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)

    interview: Mapped[InterviewRecord] = relationship(back_populates="events")


class AssessmentRecord(Base):
    """A one-shot assessment (`/v1/assess`, CLI), with its inputs and result."""

    __tablename__ = "assessments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    kb_version: Mapped[str] = mapped_column(String(32))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    urgency: Mapped[str] = mapped_column(String(16))
    api_key_id: Mapped[str | None] = mapped_column(String(36))


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the key
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CdsFeedback(Base):
    """What a clinician did with one of our CDS Hooks cards, as the EHR reported it."""

    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    service_id: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str | None] = mapped_column(String(400))  # the EHR that sent it (JWT `iss`)
    card: Mapped[str] = mapped_column(String(64))  # the card's uuid
    outcome: Mapped[str] = mapped_column(String(16))  # accepted | overridden
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # accepted suggestions, override reason, time


class SeenToken(Base):
    """A JWT id already used, kept until its token expires so a replay is refused."""

    __tablename__ = "seen_tokens"

    issuer: Mapped[str] = mapped_column(String(400), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SmartRecord(Base):
    """Server-side state of a SMART launch: `launch` rows live from the redirect to the callback
    (keyed by `state`), `session` rows from the callback until the token expires."""

    __tablename__ = "smart_state"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # launch | session
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # holds tokens: never logged or exported
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
