"""Store fixtures: SQLite always; PostgreSQL too when BACKTRIAGE_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from backtriage.storage import AuditStore

PG_URL = os.environ.get("BACKTRIAGE_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    if request.param == "sqlite":
        s = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
        s.upgrade()
        yield s
        s.engine.dispose()
        return
    assert PG_URL is not None
    schema_db = f"bt_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{schema_db}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + schema_db
    s = AuditStore(url)
    s.upgrade()
    yield s
    s.engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{schema_db}"'))
    admin.dispose()
