"""The knowledge base: versioned, validated data files and their loader."""

from backtriage.knowledge.loader import (
    KnowledgeBase,
    check_knowledge_base,
    default_data_dir,
    load_knowledge_base,
)

__all__ = ["KnowledgeBase", "check_knowledge_base", "default_data_dir", "load_knowledge_base"]
