"""The one presentation layer: every word a person or a clinician reads, for the terminal, the
page, the summary and the API's `explanation`.

`catalogue` holds the message catalogue (gettext); `words` turns the engine's structured reasons
into sentences; `views` builds what each screen shows; `handover` the summary for a clinician.
`languages` says which language a reader reads (and gives the knowledge base in it); `localise`
puts an assessment or a question into that language's words when it is shown.
"""

from backtriage.interfaces.presentation import words
from backtriage.interfaces.presentation.catalogue import gettext, translations, using
from backtriage.interfaces.presentation.handover import (
    Handover,
    Person,
    handover,
    handover_pdf,
    handover_text,
)
from backtriage.interfaces.presentation.views import (
    CONDITION_FIELDS,
    CauseView,
    Explanation,
    ResultView,
    UrgencyView,
    advice,
    answers_given,
    causes,
    conditions_listing,
    dermatome,
    explanation,
    findings_listing,
    how_to_answer,
    parse_view,
    result_view,
    share_in_ten,
    still_to_ask,
    top_causes,
    urgency_view,
)

__all__ = [
    "CONDITION_FIELDS",
    "CauseView",
    "Explanation",
    "Handover",
    "Person",
    "ResultView",
    "UrgencyView",
    "advice",
    "answers_given",
    "causes",
    "conditions_listing",
    "dermatome",
    "explanation",
    "findings_listing",
    "gettext",
    "handover",
    "handover_pdf",
    "handover_text",
    "how_to_answer",
    "parse_view",
    "result_view",
    "share_in_ten",
    "still_to_ask",
    "top_causes",
    "translations",
    "urgency_view",
    "using",
    "words",
]
