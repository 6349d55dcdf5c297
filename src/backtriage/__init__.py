"""backtriage: transparent, safety-first triage for numbness and tingling in the back.

>>> import backtriage
>>> result = backtriage.assess({"saddle_anaesthesia": True, "bladder_dysfunction": True})
>>> result.urgency
<UrgencyLevel.EMERGENCY: 'emergency'>
"""

from backtriage.domain.assessment import Assessment, ConditionResult, EvidenceItem, FiredRule
from backtriage.domain.case import Case, Sex
from backtriage.domain.urgency import UrgencyLevel
from backtriage.errors import (
    BacktriageError,
    InvalidInputError,
    KnowledgeBaseError,
    UnknownFindingError,
)
from backtriage.knowledge.loader import KnowledgeBase, load_knowledge_base
from backtriage.reasoning.engine import Engine, assess

__version__ = "0.1.0"

__all__ = [
    "Assessment",
    "BacktriageError",
    "Case",
    "ConditionResult",
    "Engine",
    "EvidenceItem",
    "FiredRule",
    "InvalidInputError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Sex",
    "UnknownFindingError",
    "UrgencyLevel",
    "assess",
    "load_knowledge_base",
]
