"""Shared fixtures: the shipped knowledge base, an engine, a writable copy of the data, and fresh
databases (SQLite always; PostgreSQL too when BACKTRIAGE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from backtriage.knowledge.loader import KnowledgeBase, default_data_dir, load_knowledge_base
from backtriage.reasoning.engine import Engine, default_engine

#: Test modules that start servers, browsers, Spark or subprocesses, or read every blind case:
#: marked `slow`, so that `pytest -n 2 -m "not slow"` is a fast loop (under a minute) while CI
#: runs everything.
SLOW_MODULES = frozenset(
    {
        "test_api_crash",
        "test_spark",
        "test_web_browser",
        "test_log_privacy",
        "test_run",
        "test_vocabulary_memory",
        "test_blind_cases",
        "test_prepass",
    }
)


# The disk cache of computed resources (cache.py) goes to a folder of this run, never the
# user's: a test run starts cold and leaves nothing behind.
os.environ.setdefault("BACKTRIAGE_CACHE_DIR", tempfile.mkdtemp(prefix="backtriage-test-cache-"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="session")
def engine() -> Engine:
    return default_engine()


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge-base folder, for breaking on purpose."""
    target = tmp_path / "kb"
    shutil.copytree(default_data_dir(), target)
    return target


SCREEN_NO = {"saddle_anaesthesia": False, "bladder_dysfunction": False, "bowel_dysfunction": False}


PG_URL = os.environ.get("BACKTRIAGE_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database of `kind`, dropped afterwards (PostgreSQL: a new database
    on the test server, so parallel tests never share one)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'audit.db'}"
        return
    assert PG_URL is not None
    name = f"bt_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
