"""Store fixtures: SQLite always; PostgreSQL too when BACKTRIAGE_TEST_DATABASE_URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backtriage.storage import AuditStore
from tests.conftest import DATABASES, fresh_database


@pytest.fixture(params=DATABASES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    with fresh_database(request.param, tmp_path) as url:
        s = AuditStore(url)
        s.upgrade()
        yield s
        s.engine.dispose()
