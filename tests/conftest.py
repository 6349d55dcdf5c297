"""Shared fixtures: the shipped knowledge base, an engine, and a writable copy of the data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backtriage.knowledge.loader import KnowledgeBase, default_data_dir, load_knowledge_base
from backtriage.reasoning.engine import Engine, default_engine


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
