"""Text understanding: patients' words and clinicians' notes to knowledge-base findings.

Built on spaCy and medspaCy (target matching, section detection, ConText). Importing this
package is cheap; the pipeline itself is built on first use.
"""

from backtriage.text.assess import assess_text, merge_text_and_answers
from backtriage.text.context import ContextAttributes, Experiencer, context_of
from backtriage.text.understand import MAX_TEXT_CHARS, TextFindings, understand

__all__ = [
    "MAX_TEXT_CHARS",
    "ContextAttributes",
    "Experiencer",
    "TextFindings",
    "assess_text",
    "context_of",
    "merge_text_and_answers",
    "understand",
]
