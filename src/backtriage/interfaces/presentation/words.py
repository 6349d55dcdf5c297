"""Structured reasons into words: the one place the engine's decisions become sentences.

Reasoning says *which* rule fired on *which* findings, *which* cause passed *which* threshold,
*why* a question is asked; these functions say it, once for a person and once for a clinician.
Every sentence goes through the message catalogue; the words of findings, causes and rules come
from the knowledge base (a language is a folder of data).
"""

from __future__ import annotations

from collections.abc import Sequence

from backtriage.domain.assessment import (
    Assessment,
    ReadingNote,
    TextReading,
    UrgencyReason,
    UrgencyReasonKind,
)
from backtriage.domain.interview import Question, QuestionOption, StopReason, WhyAsked
from backtriage.domain.urgency import UrgencyLevel
from backtriage.interfaces.presentation import catalogue
from backtriage.interfaces.presentation.catalogue import gettext as _
from backtriage.interfaces.presentation.catalogue import ngettext
from backtriage.knowledge.loader import KnowledgeBase

__all__ = [
    "absent",
    "also_read",
    "answer_first",
    "chance",
    "count_reason",
    "counted_as",
    "disclaimer",
    "join",
    "language_name",
    "more_questions",
    "not_read",
    "not_read_for_clinician",
    "note",
    "option_text",
    "reason_for_clinician",
    "reason_for_person",
    "reading_legend",
    "scope",
    "stopped",
    "threshold",
    "urgency_name",
    "why_asked",
    "words_not_read",
]


def urgency_name(level: UrgencyLevel) -> str:
    return {
        UrgencyLevel.EMERGENCY: _("Emergency"),
        UrgencyLevel.URGENT: _("Urgent"),
        UrgencyLevel.ROUTINE: _("Routine"),
        UrgencyLevel.SELF_CARE: _("Self-care"),
    }[level]


def disclaimer(emergency_number: str) -> str:
    return _(
        "backtriage gives information, not a diagnosis, and is not a substitute for a clinician. "
        "In an emergency call %(number)s."
    ) % {"number": emergency_number}


def chance(probability: float) -> str:
    """A probability as people read it best, the one way it is stated everywhere: "about 3 in
    10" (natural frequencies)."""
    tenths = round(probability * 10)
    if tenths == 0:
        return _("fewer than 1 in 10")
    if tenths == 10:
        return _("more than 9 in 10")
    return _("about %(n)d in 10") % {"n": tenths}


def threshold(probability: float) -> str:
    """A decision threshold: exact, since a rounded line would misstate where it lies."""
    return _("%(n)g in 100") % {"n": round(probability * 100, 1)}


def join(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return _("%(first)s and %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


def _lay(kb: KnowledgeBase, finding: str) -> str:
    f = kb.findings.get(finding)
    return (f.lay_label or f.label) if f is not None else finding


def _clinical(kb: KnowledgeBase, finding: str) -> str:
    f = kb.findings.get(finding)
    return f.label if f is not None else finding


def _cause(kb: KnowledgeBase, condition: str, lay: bool) -> str:
    c = kb.conditions.get(condition)
    if c is None:
        return condition
    return c.lay_name if lay else c.name


def reason_for_person(kb: KnowledgeBase, a: Assessment, reason: UrgencyReason) -> str:
    """Why the urgency is at least this, in a person's words."""
    kind = reason.kind
    if kind is UrgencyReasonKind.RULE:
        return you_said([_lay(kb, f) for f in reason.findings])
    if kind is UrgencyReasonKind.DIFFERENTIAL:
        assert reason.ref is not None and reason.probability is not None
        return _("%(cause)s is likely enough to need a check (%(chance)s people with these answers).") % {
            "cause": _cause(kb, reason.ref, lay=True),
            "chance": chance(reason.probability),
        }
    if kind is UrgencyReasonKind.PENDING_SCREEN:
        return _(
            "Some warning signs have not been asked about yet, so looking after it at home cannot be advised."
        )
    if kind is UrgencyReasonKind.NO_BENIGN_PATTERN:
        return _(
            "Looking after it at home needs a pattern known to be harmless, such as numbness from sitting "
            "that goes when you move; none has been shown yet."
        )
    return _("There is no warning sign, and the pattern is a harmless one.")


def you_said(lay_labels: Sequence[str]) -> str:
    """What a person said, in their words: "You said: numb between the legs; new trouble peeing."
    (Semicolons: a lay label may hold a comma of its own.)"""
    return _("You said: %(said)s.") % {"said": "; ".join(dict.fromkeys(lay_labels))}


def not_said(lay_label: str) -> str:
    """An answer "no", in a person's words."""
    return _("no to \u201c%(finding)s\u201d") % {"finding": lay_label}


def reason_for_clinician(kb: KnowledgeBase, a: Assessment, reason: UrgencyReason) -> str:
    """Why the urgency is at least this, naming the rule, findings, threshold and sources."""
    kind = reason.kind
    level = urgency_name(reason.urgency)
    if kind is UrgencyReasonKind.RULE:
        rule = next((r for r in a.rules_fired if r.id == reason.ref), None)
        name = rule.name if rule is not None else str(reason.ref)
        return _("%(level)s: %(rule)s; present: %(findings)s.") % {
            "level": level,
            "rule": name,
            "findings": join([_clinical(kb, f).lower() for f in reason.findings]),
        }
    if kind is UrgencyReasonKind.DIFFERENTIAL:
        assert reason.ref is not None and reason.probability is not None and reason.threshold is not None
        return _("%(level)s: %(cause)s at %(chance)s, above the line of %(line)s for this urgency.") % {
            "level": level,
            "cause": _cause(kb, reason.ref, lay=False),
            "chance": chance(reason.probability),
            "line": threshold(reason.threshold),
        }
    if kind is UrgencyReasonKind.PENDING_SCREEN:
        return _("%(level)s: the mandatory red-flag screen is not complete (open: %(open)s).") % {
            "level": level,
            "open": join([_clinical(kb, f).lower() for f in reason.findings]),
        }
    if kind is UrgencyReasonKind.NO_BENIGN_PATTERN:
        still = join([_clinical(kb, f).lower() for f in reason.findings])
        text = _("%(level)s: no harmless pattern has been shown.") % {"level": level}
        return text + (" " + _("Still needed: %(still)s.") % {"still": still} if still else "")
    return _("%(level)s: no red flag, red-flag screen answered no, harmless pattern shown.") % {
        "level": level
    }


def scope(kb: KnowledgeBase, a: Assessment) -> str | None:
    """Whether this may not be a back problem at all, naming what must be ruled out."""
    if not a.outside_back:
        return None
    causes = join([_cause(kb, c, lay=True).lower() for c in a.outside_back])
    if a.scope.value == "possibly_not_back" and a.urgency >= UrgencyLevel.URGENT:
        lead = _("This may not be only a back problem: %(causes)s must be ruled out first.")
    else:
        lead = _("This may not be a back problem: it could be %(causes)s.")
    text = lead % {"causes": causes}
    if a.urgency is UrgencyLevel.EMERGENCY:
        text += " " + _("Get emergency help now.")
    return text


def why_asked(kb: KnowledgeBase, question: Question) -> str:
    """Why this question is asked now: a reason a person can weigh."""
    why = question.why
    if why.kind is WhyAsked.RED_FLAG_CHECKLIST:
        return _("Any of these can be a sign of an emergency, so they are asked about before anything else.")
    if why.kind is WhyAsked.SAFETY_SCREEN:
        return _(
            "This is a warning sign: it has to be ruled out before looking after it at home can be advised."
        )
    if why.kind is WhyAsked.HARMLESS_PATTERN:
        return _(
            "A 'yes' or 'no' here shows whether this fits a harmless pattern "
            "that can be looked after at home."
        )
    if why.kind is WhyAsked.DECIDES_TIMING:
        return _(
            "It decides how quickly you need to be seen: symptoms like these "
            "that are new need help within hours."
        )
    if why.kind is WhyAsked.WOULD_RAISE:
        return _("A 'yes' would mean you need to be seen sooner.")
    if why.kind is WhyAsked.COVERS_SEVERAL:
        return _("One answer here saves several questions.")
    causes = [_cause(kb, c, lay=True).lower() for c in why.conditions]
    return _("It helps tell apart %(causes)s.") % {"causes": join(causes)}


def option_text(option: QuestionOption) -> str:
    """An option as shown: the knowledge base's words, or ours for "None of these"."""
    if option.id == "none" and option.finding is None:
        return _("None of these")
    return option.text


def stopped(stop: StopReason) -> str:
    return {
        StopReason.EMERGENCY: _("A warning sign means this is an emergency: get help now."),
        StopReason.QUESTION_LIMIT: _("That is all the questions there are time for."),
        StopReason.SETTLED: _("No further question would change the advice."),
    }[stop]


def note(n: ReadingNote, language: str | None = None) -> str:
    """A reading note in words; `language` is the text's (ISO 639-1) for `language_not_read`."""
    if n is ReadingNote.LANGUAGE_NOT_READ:
        if language is None:
            return _(
                "Your words seem to be in a language backtriage cannot read yet, so nothing you "
                "wrote was used."
            )
        return _(
            "Your words seem to be in %(language)s, which backtriage cannot read yet, so nothing you "
            "wrote was used."
        ) % {"language": language_name(language)}
    return {
        ReadingNote.EMPTY: _("The text is empty, so nothing could be read from it."),
        ReadingNote.ABOUT_SOMEONE_ELSE: _(
            "The text seems to be about someone else (a relative or friend), so what it says of them "
            "is read as the patient's own."
        ),
        ReadingNote.NOTHING_FOUND: _(
            "No symptoms were recognised in the text. It may not describe back symptoms, may be in "
            "another language, or may use words we do not know yet; the warning-sign questions still "
            "need answering."
        ),
    }[n]


def language_name(code: str) -> str:
    """A language's name in the language being read (Babel's CLDR names): "French", "francés"."""
    from babel import Locale, UnknownLocaleError

    reading = str(catalogue._active().info().get("language") or "en").replace("-", "_")
    try:
        return Locale.parse(code).get_display_name(Locale.parse(reading)) or code
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def words_not_read(a: Assessment) -> bool:
    """The text was in a language backtriage cannot read, so nothing in it was used."""
    return a.text is not None and ReadingNote.LANGUAGE_NOT_READ in a.text.notes


def not_read(a: Assessment) -> str:
    """What leads a result whose words were not read: that they were not used, and, when the
    answers gave an outcome all the same, that it comes from them alone."""
    assert a.text is not None
    said = note(ReadingNote.LANGUAGE_NOT_READ, a.text.language)
    if a.pending_red_flags and a.urgency is not UrgencyLevel.EMERGENCY:
        return said
    return said + " " + _("The advice here comes from your answers alone.")


def not_read_for_clinician(a: Assessment) -> str:
    """The same notice for the clinician's summary: the person's words were not used."""
    assert a.text is not None
    if a.text.language:
        return _(
            "They wrote in %(language)s, which backtriage cannot read yet: nothing they wrote was used, "
            "and the outcome comes from their answers alone."
        ) % {"language": language_name(a.text.language)}
    return _(
        "They wrote in a language backtriage cannot read yet: nothing they wrote was used, and the "
        "outcome comes from their answers alone."
    )


def answer_first(emergency_number: str) -> str:
    """What to do when the words were not read and warning-sign questions are open."""
    return _(
        "Answer the questions below. A yes to any of them means you need help today or sooner; "
        "in an emergency call %(number)s now."
    ) % {"number": emergency_number}


def counted_as(value: str) -> str:
    return {"present": _("present"), "absent": _("absent"), "ignored": _("ignored")}.get(value, value)


def count_reason(code: str) -> str:
    return {
        "in_medicines": _("in a list of medicines or allergies"),
        "in_procedure": _("in the account of how a procedure was done"),
        "in_instructions": _("in advice or instructions given to the patient"),
        "about_family": _("about a relative"),
        "about_other": _("about someone else"),
        "hypothetical": _("hypothetical (advice, or a question)"),
        "uncertain": _("uncertain (possible, suspected, to be ruled out)"),
        "past": _("in the past, not now"),
        "negated_denial": _("a negated denial"),
        "denial": _("said to be absent"),
        "negated": _("negated"),
        "affirmed": _("affirmed"),
    }.get(code, code)


def absent(label: str) -> str:
    """A finding answered "no", for a clinician's table."""
    return _("%(finding)s (absent)") % {"finding": label}


def more_questions(n: int) -> str:
    return ngettext("and %(n)d more question", "and %(n)d more questions", n) % {"n": n}


def reading_legend() -> str:
    return _("Read from the text (red = present, green = absent, yellow = ignored)")


def also_read(reading: TextReading) -> list[str]:
    """Age, sex, duration and onset, each with the words they were read from."""
    facts = []
    if reading.age is not None:
        facts.append(_('age %(age)d (from "%(words)s")') % {"age": reading.age, "words": reading.age_text})
    if reading.sex is not None:
        sex = {"female": _("female"), "male": _("male")}.get(reading.sex, reading.sex)
        facts.append(_('%(sex)s (from "%(words)s")') % {"sex": sex, "words": reading.sex_text})
    if reading.duration_days is not None:
        facts.append(
            _('for about %(days)g days (from "%(words)s")')
            % {"days": reading.duration_days, "words": reading.duration_text}
        )
    if reading.onset:
        onset = {"sudden": _("sudden"), "gradual": _("gradual")}.get(reading.onset, reading.onset)
        facts.append(_("onset: %(onset)s") % {"onset": onset})
    return facts
