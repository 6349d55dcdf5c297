"""The interview as an SDC adaptive Questionnaire: FHIR R4 `Questionnaire/$next-question`.

Stateless: the whole interview travels in the QuestionnaireResponse. Each call replays it, question
by question, through the same `Interviewer` the JSON interview uses, so a contained Questionnaire
that is not exactly the one backtriage built from these answers is refused, never trusted; then
the next question is appended, or, once the interviewer stops, the result.

How questions become R4 items (one representation for every client, so none reads them its own
way):

- a yes/no question: a `choice` item, linkId = the finding id, answerOption LOINC Yes / No /
  Unknown, `code` = the finding's HPO terms and its backtriage code;
- a "choose all that apply" question: a `group` (linkId = the question id) holding one yes/no/
  unknown item per option (`<question id>.<finding id>`). A red-flag checklist adds a `boolean`
  item `<question id>.none-of-these`: the only way its unanswered options become "no". Elsewhere
  unanswered options are "no" only where the knowledge base says so (`unchosen_means_no`, never
  on a red flag), exactly as the JSON interview reads them;
- a single-choice question ("how did it start?"): one `choice` item, one answerOption per option;
- the result: a hidden group `result` of read-only items, the urgency and the leading causes with
  their probability (0-1), where SDC puts computed scores.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.questionnaire import Questionnaire, QuestionnaireItem
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from backtriage.domain.assessment import Assessment
from backtriage.domain.case import Case
from backtriage.domain.interview import Question
from backtriage.errors import InvalidInputError
from backtriage.interop.terminology import Terminology, load_terminology
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.reasoning.interview import Interviewer

if TYPE_CHECKING:
    from backtriage.service import InterviewView

__all__ = [
    "ADAPTIVE_EXTENSION",
    "AdaptiveRequestError",
    "Issue",
    "NextStep",
    "completed_questionnaire_response",
    "derived_from",
    "next_question",
    "next_step",
    "operation_outcome",
    "profile_problems",
    "questionnaire_answers",
    "read_request",
    "start_questionnaire_response",
]

_SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
#: Marks the contained Questionnaire as adaptive (SDC `QuestionnaireAdaptiveExtension`).
ADAPTIVE_EXTENSION = _SDC + "sdc-questionnaire-questionnaireAdaptive"
QUESTIONNAIRE_PROFILE = _SDC + "sdc-questionnaire-adapt"
RESPONSE_PROFILE = _SDC + "sdc-questionnaireresponse-adapt"
HIDDEN = "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_CODES = "http://hl7.org/fhir/questionnaire-item-control"

#: The base Questionnaire every adaptive one derives from: `<canonical>/Questionnaire/<this>|<kb>`.
BASE_QUESTIONNAIRE = "back-numbness"
TITLE = "Numbness or tingling in the back"
NONE_OF_THESE = "none-of-these"  # hyphens: never a finding id, so never a clash
NONE_OF_THESE_TEXT = "None of these"  # the words of the Interviewer's own option
RESULT = "result"
GIVEN = "given"  # answers known before the questions (a completed JSON interview's opening text)
#: How many causes the result lists, most likely first.
LEADING_CAUSES = 3
#: The operation's input parameter: SDC STU4 name first, then STU3's (wrongly fixed) `in`.
PARAMETER_NAMES = ("questionnaire-response", "in")
#: Longest part of an element path quoted in an error (a client chooses element names).
_PATH_PART_CHARS = 40

Answers = dict[str, bool | None]


# ---- errors ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue: a FHIR issue-type code, the element (FHIRPath) and what is wrong,
    in our words only, so no answer or free text of the request is ever echoed."""

    code: str
    expression: str
    diagnostics: str


class AdaptiveRequestError(InvalidInputError):
    """A `$next-question` request refused: 400 when the body is not a QuestionnaireResponse that
    parses as R4, 422 when it breaks the SDC adapt profiles or the interview's rules."""

    def __init__(self, status: int, issues: list[Issue]) -> None:
        self.status, self.issues = status, issues
        super().__init__(f"{issues[0].expression}: {issues[0].diagnostics}" if issues else "invalid request")

    def outcome(self) -> OperationOutcome:
        return operation_outcome(self.issues)


def operation_outcome(issues: Iterable[Issue]) -> OperationOutcome:
    return OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": i.code,
                    "diagnostics": i.diagnostics,
                    "expression": [i.expression],
                }
                for i in issues
            ],
        }
    )


def _refuse(status: int, code: str, expression: str, diagnostics: str) -> AdaptiveRequestError:
    return AdaptiveRequestError(status, [Issue(code, expression, diagnostics)])


# ---- reading the request -----------------------------------------------------------------------
def read_request(body: bytes | str | Mapping[str, Any]) -> QuestionnaireResponse:
    """The QuestionnaireResponse of a `$next-question` body: the resource itself, or a Parameters
    holding it as `questionnaire-response` (SDC STU4) or `in` (STU3)."""
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise _refuse(400, "structure", "$", "the request body is not valid JSON") from None
    if not isinstance(data, Mapping):
        raise _refuse(400, "structure", "$", "the request body must be a JSON object")
    kind = data.get("resourceType")
    if kind == "QuestionnaireResponse":
        return _validated(QuestionnaireResponse, data, "QuestionnaireResponse")
    if kind != "Parameters":
        raise _refuse(
            400,
            "structure",
            "resourceType",
            "the body must be a QuestionnaireResponse or a Parameters resource",
        )
    parameters = _validated(Parameters, data, "Parameters")
    held = [(i, p) for i, p in enumerate(parameters.parameter or []) if p.name in PARAMETER_NAMES]
    if len(held) != 1:
        raise _refuse(
            400,
            "required",
            "Parameters.parameter",
            "exactly one parameter named 'questionnaire-response' (or 'in') must hold the response",
        )
    index, parameter = held[0]
    if not isinstance(parameter.resource, QuestionnaireResponse):
        raise _refuse(
            400,
            "structure",
            f"Parameters.parameter[{index}].resource",
            "the parameter's resource must be a QuestionnaireResponse",
        )
    return parameter.resource


M = TypeVar("M", bound=Resource)


def _validated(model: type[M], data: Mapping[str, Any], root: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues = [
            Issue("structure", _path(root, e["loc"], e["type"]), _message(e)) for e in exc.errors()[:10]
        ]
        raise AdaptiveRequestError(400, issues) from None
    except (KeyError, TypeError, ValueError, AttributeError):  # e.g. an unknown contained resourceType
        raise _refuse(400, "structure", root, "not a valid FHIR R4 resource") from None


def _path(root: str, loc: Iterable[int | str], kind: str) -> str:
    parts = [root]
    for part in loc:
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
        else:
            text = str(part)
            parts.append(text if len(text) <= _PATH_PART_CHARS else text[:_PATH_PART_CHARS] + "...")
    if kind == "extra_forbidden":  # the element's name is the client's own text
        parts[-1] = "(unknown element)"
    return ".".join(parts)


def _message(error: Mapping[str, Any]) -> str:
    """pydantic's message, unless it quotes the value it was given."""
    message = str(error.get("msg", "invalid"))
    value = error.get("input")
    if isinstance(value, str) and value and value in message:
        return "invalid value"
    return message


# ---- the SDC adapt profiles, checked by hand -----------------------------------------------------
def derived_from(kb: KnowledgeBase, terms: Terminology | None = None) -> str:
    """The canonical of the base Questionnaire, with the knowledge-base version it was built from."""
    terms = terms or load_terminology()
    return f"{terms.url('Questionnaire', BASE_QUESTIONNAIRE)}|{kb.version}"


def profile_problems(qr: QuestionnaireResponse, kb: KnowledgeBase) -> list[Issue]:
    """Where `qr` breaks `sdc-questionnaireresponse-adapt` or its contained `sdc-questionnaire-adapt`
    (fhir.resources checks neither profiles nor bindings). Empty when it conforms."""
    root = "QuestionnaireResponse"
    issues: list[Issue] = []
    contained = list(qr.contained or [])
    if not contained:
        issues.append(Issue("required", f"{root}.contained", "the adaptive Questionnaire must be contained"))
    reference = qr.questionnaire or ""
    if not reference.startswith("#") or len(reference) < 2:
        issues.append(
            Issue(
                "required", f"{root}.questionnaire", "must reference the contained Questionnaire as '#<id>'"
            )
        )
    else:
        targets = [
            (i, r) for i, r in enumerate(contained) if isinstance(r, Questionnaire) and r.id == reference[1:]
        ]
        if len(targets) != 1:
            issues.append(
                Issue("not-found", f"{root}.questionnaire", "must name exactly one contained Questionnaire")
            )
        else:
            index, questionnaire = targets[0]
            issues += _questionnaire_problems(questionnaire, f"{root}.contained[{index}]", kb)
    if qr.subject is None:
        issues.append(Issue("required", f"{root}.subject", "a subject (the Patient) is required"))
    elif not _is_patient(qr.subject, contained):
        issues.append(Issue("value", f"{root}.subject", "must be a Reference to a Patient"))
    if qr.authored is None:
        issues.append(
            Issue("required", f"{root}.authored", "authored (when the answers were given) is required")
        )
    return issues


def _questionnaire_problems(q: Questionnaire, where: str, kb: KnowledgeBase) -> list[Issue]:
    issues: list[Issue] = []
    adaptive = [e for e in q.extension or [] if e.url == ADAPTIVE_EXTENSION]
    if len(adaptive) != 1:
        issues.append(
            Issue(
                "required", f"{where}.extension", f"exactly one extension '{ADAPTIVE_EXTENSION}' is required"
            )
        )
    elif adaptive[0].valueBoolean is not True and not adaptive[0].valueUrl:
        issues.append(
            Issue(
                "value", f"{where}.extension", "questionnaireAdaptive must be valueBoolean true or a valueUrl"
            )
        )
    if q.url is not None:
        issues.append(Issue("invariant", f"{where}.url", "an adaptive Questionnaire has no url of its own"))
    if not q.title:
        issues.append(Issue("required", f"{where}.title", "a title is required"))
    expected = derived_from(kb)
    if list(q.derivedFrom or []) != [expected]:
        issues.append(Issue("value", f"{where}.derivedFrom", f"must be exactly ['{expected}']"))
    issues += _untitled(q.item or [], f"{where}.item")
    return issues


def _untitled(items: Iterable[QuestionnaireItem], where: str) -> list[Issue]:
    issues = []
    for k, item in enumerate(items):
        if not item.text:
            issues.append(Issue("required", f"{where}[{k}].text", "every item needs its text"))
        issues += _untitled(item.item or [], f"{where}[{k}].item")
    return issues


def _is_patient(subject: Reference, contained: list[Resource]) -> bool:
    reference = subject.reference
    if reference is None:
        return subject.type == "Patient" and subject.identifier is not None
    if subject.type not in (None, "Patient"):
        return False
    if reference.startswith("#"):
        return any(r.id == reference[1:] and r.get_resource_type() == "Patient" for r in contained)
    parts = reference.split("?")[0].split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    return len(parts) >= 2 and parts[-2] == "Patient" and bool(parts[-1])


# ---- questions as items ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Option:
    id: str
    text: str
    finding: str | None
    value: bool = True


@dataclass(frozen=True)
class _Asked:
    """One question as the items show it: what the Interviewer asked, or rebuilt from the
    knowledge base. `options` of a multi-choice question hold a finding each ("None of these" is
    the `none_of_these` flag, not an option)."""

    id: str
    kind: Literal["yes_no", "single_choice", "multi_choice"]
    text: str
    help: str | None
    finding: str | None = None
    options: tuple[_Option, ...] = ()
    none_of_these: bool = False
    unchosen_means_no: bool = False

    @classmethod
    def of(cls, q: Question) -> _Asked:
        options = [_Option(o.id, o.text, o.finding, o.value) for o in q.options]
        if q.kind == "multi_choice":
            options = _one_per_finding(options)
        return cls(
            q.id, q.kind, q.text, q.help, q.finding, tuple(options), q.none_of_these, q.unchosen_means_no
        )

    @classmethod
    def from_kb(
        cls, kb: KnowledgeBase, question_id: str, without: set[str] | frozenset[str] = frozenset()
    ) -> _Asked:
        """The question with this id as the knowledge base has it; a multi-choice question
        without the options whose findings are in `without` (the Interviewer leaves out what
        is known)."""
        choice = kb.questions.get(question_id)
        if choice is None:
            finding = kb.findings[question_id]
            return cls(finding.id, "yes_no", finding.question or finding.label, finding.help, finding.id)
        options = [_Option(o.id, o.text, o.finding, o.value) for o in choice.options]
        if choice.kind == "multi_choice":
            options = [o for o in _one_per_finding(options) if o.finding not in without]
        return cls(
            choice.id,
            choice.kind,
            choice.text,
            choice.help,
            None,
            tuple(options),
            choice.none_of_these,
            choice.unchosen_means_no,
        )

    def complete(self, answers: Answers) -> Answers:
        """What the JSON interview's `Question.complete` adds: unchosen options as "no" where the
        question says so (never a red-flag checklist)."""
        if self.unchosen_means_no:
            for o in self.options:
                if o.finding and o.finding not in answers:
                    answers[o.finding] = not o.value
        return answers


def _one_per_finding(options: list[_Option]) -> list[_Option]:
    seen: set[str] = set()
    kept = []
    for o in options:
        if o.finding is not None and o.finding not in seen:
            seen.add(o.finding)
            kept.append(o)
    return kept


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    return coding | ({"display": display} if display else {})


def _answer_codings(terms: Terminology) -> dict[bool | None, dict[str, Any]]:
    return {
        value: _coding(terms.systems.loinc, terms.answers[key].code, terms.answers[key].display)
        for value, key in ((True, "yes"), (False, "no"), (None, "unknown"))
    }


def _finding_codes(kb: KnowledgeBase, terms: Terminology, finding_id: str) -> list[dict[str, Any]]:
    finding = kb.findings[finding_id]
    hpo = [_coding(terms.systems.hpo, code) for code in finding.hpo]
    return [*hpo, _coding(terms.url("CodeSystem", "finding"), finding.id, finding.label)]


def _yes_no_item(
    link_id: str, text: str, finding: str, kb: KnowledgeBase, terms: Terminology
) -> dict[str, Any]:
    return {
        "linkId": link_id,
        "text": text,
        "type": "choice",
        "code": _finding_codes(kb, terms, finding),
        "answerOption": [{"valueCoding": c} for c in _answer_codings(terms).values()],
    }


def _help_item(link_id: str, text: str) -> dict[str, Any]:
    control = {"coding": [_coding(ITEM_CONTROL_CODES, "help", "Help-Button")], "text": "Help-Button"}
    return {
        "linkId": f"{link_id}.help",
        "text": text,
        "type": "display",
        "extension": [{"url": ITEM_CONTROL, "valueCodeableConcept": control}],
    }


def _question_item(asked: _Asked, kb: KnowledgeBase, terms: Terminology) -> dict[str, Any]:
    """The Questionnaire item (a dict, as FHIR JSON) that asks `asked`."""
    helps = [_help_item(asked.id, asked.help)] if asked.help else []
    if asked.kind == "yes_no":
        assert asked.finding is not None
        item = _yes_no_item(asked.id, asked.text, asked.finding, kb, terms)
        return item | ({"item": helps} if helps else {})
    if asked.kind == "single_choice":
        system = terms.url("CodeSystem", "question-option")
        options = [{"valueCoding": _coding(system, f"{asked.id}.{o.id}", o.text)} for o in asked.options]
        item = {"linkId": asked.id, "text": asked.text, "type": "choice", "answerOption": options}
        return item | ({"item": helps} if helps else {})
    none_link = f"{asked.id}.{NONE_OF_THESE}"
    # Ticking "None of these" hides the options (answered or left, the enableWhen is true).
    unticked = [
        {"question": none_link, "operator": "exists", "answerBoolean": False},
        {"question": none_link, "operator": "=", "answerBoolean": False},
    ]
    children = []
    for o in asked.options:
        assert o.finding is not None
        child = _yes_no_item(f"{asked.id}.{o.finding}", o.text, o.finding, kb, terms)
        if asked.none_of_these:
            child |= {"enableWhen": unticked, "enableBehavior": "any"}
        children.append(child)
    if asked.none_of_these:
        children.append({"linkId": none_link, "text": NONE_OF_THESE_TEXT, "type": "boolean"})
    return {"linkId": asked.id, "text": asked.text, "type": "group", "item": helps + children}


@lru_cache(maxsize=512)
def _expected_item(asked: _Asked, kb: KnowledgeBase) -> str:
    """The item asking `asked` as the R4B model writes it (JSON), to compare with what a client
    echoes; cached, as every call replays every question asked so far."""
    item = QuestionnaireItem.model_validate(_question_item(asked, kb, load_terminology()))
    return json.dumps(item.model_dump(mode="json", exclude_none=True), sort_keys=True)


# ---- answers as items, and back ---------------------------------------------------------------------
def _response_item(
    asked: _Asked, answers: Mapping[str, bool | None], terms: Terminology
) -> dict[str, Any] | None:
    """The QuestionnaireResponse item answering `asked` as `answers` say; None if they say nothing."""
    codings = _answer_codings(terms)
    if asked.kind == "yes_no":
        assert asked.finding is not None
        if asked.finding not in answers:
            return None
        return {
            "linkId": asked.id,
            "text": asked.text,
            "answer": [{"valueCoding": codings[answers[asked.finding]]}],
        }
    if asked.kind == "single_choice":
        system = terms.url("CodeSystem", "question-option")
        for o in asked.options:
            if o.finding is not None and o.finding in answers and answers[o.finding] is o.value:
                chosen = _coding(system, f"{asked.id}.{o.id}", o.text)
                return {"linkId": asked.id, "text": asked.text, "answer": [{"valueCoding": chosen}]}
        return None
    given = [o for o in asked.options if o.finding in answers]
    if not given:
        return None
    if asked.none_of_these and len(given) == len(asked.options):
        if all(answers[o.finding] is (not o.value) for o in given if o.finding):
            none = {"linkId": f"{asked.id}.{NONE_OF_THESE}", "answer": [{"valueBoolean": True}]}
            return {"linkId": asked.id, "text": asked.text, "item": [none]}
    children = []
    for o in given:
        assert o.finding is not None
        value = answers[o.finding]
        said = None if value is None else value is o.value
        children.append(
            {"linkId": f"{asked.id}.{o.finding}", "text": o.text, "answer": [{"valueCoding": codings[said]}]}
        )
    return {"linkId": asked.id, "text": asked.text, "item": children}


def _read(asked: _Asked, response: Mapping[str, Any] | None, where: str, terms: Terminology) -> Answers:
    """The answers one response item gives to `asked` (None: not answered), read as the JSON
    interview reads the same answers. An item sent without an answer is not answered."""
    answers: Answers = {}
    if response is None:
        return asked.complete(answers)
    help_link = f"{asked.id}.help"
    if asked.kind != "multi_choice":
        _no_children(response, where, help_link)
        answer = _single(response, where)
        if answer is None:
            return answers
        if asked.kind == "yes_no":
            assert asked.finding is not None
            return {asked.finding: _yes_no(answer, where, terms)}
        code = _code(answer, where, terms.url("CodeSystem", "question-option"))
        option = next((o for o in asked.options if f"{asked.id}.{o.id}" == code), None)
        if option is None:
            raise _refuse(422, "code-invalid", f"{where}.answer[0]", "not one of this item's answerOptions")
        return {option.finding: option.value} if option.finding else {}
    if response.get("answer"):
        raise _refuse(422, "structure", f"{where}.answer", "a group is answered through its items")
    options = {f"{asked.id}.{o.finding}": o for o in asked.options}
    none_link = f"{asked.id}.{NONE_OF_THESE}"
    allowed = set(options) | ({none_link} if asked.none_of_these else set())
    none_ticked = False
    for k, child, link in _children(response, where, allowed, help_link):
        here = f"{where}.item[{k}]"
        _no_children(child, here, None)
        answer = _single(child, here)
        if answer is None:
            continue
        if link == none_link:
            none_ticked = _boolean(answer, here)
            continue
        option = options[link]
        assert option.finding is not None
        said = _yes_no(answer, here, terms)
        answers[option.finding] = None if said is None else said is option.value
    if none_ticked and not any(answers.get(o.finding) is o.value for o in asked.options if o.finding):
        # "None of these", and no option says "yes": what is left unanswered is "no". An option
        # answered "yes" always stands (it raises the urgency; the tick cannot drop it).
        for o in asked.options:
            if o.finding and o.finding not in answers:
                answers[o.finding] = not o.value
    return asked.complete(answers)


def _children(
    response: Mapping[str, Any], where: str, allowed: set[str], help_link: str
) -> Iterable[tuple[int, Mapping[str, Any], str]]:
    """A group's answered items; its help text, if a client sends it back unanswered, is skipped."""
    seen: set[str] = set()
    for k, child in enumerate(response.get("item", [])):
        link = child.get("linkId")
        if link == help_link and not child.get("answer") and not child.get("item"):
            continue
        if link not in allowed or link in seen:
            raise _refuse(
                422,
                "not-found",
                f"{where}.item[{k}].linkId",
                "not an item of this question, or answered twice",
            )
        seen.add(link)
        yield k, child, link


def _no_children(response: Mapping[str, Any], where: str, help_link: str | None) -> None:
    """A question's answers hold no items (its help text, sent back unanswered, aside)."""
    nested = [*response.get("item", []), *(i for a in response.get("answer", []) for i in a.get("item", []))]
    for child in nested:
        if child.get("linkId") != help_link or child.get("answer") or child.get("item"):
            raise _refuse(
                422, "structure", f"{where}.item", "this question has no items of its own to answer"
            )


def _single(response: Mapping[str, Any], where: str) -> Mapping[str, Any] | None:
    given = response.get("answer", [])
    if not given:
        return None
    if len(given) != 1:
        raise _refuse(422, "structure", f"{where}.answer", "one answer expected")
    return given[0]  # type: ignore[no-any-return]


def _yes_no(answer: Mapping[str, Any], where: str, terms: Terminology) -> bool | None:
    coding = answer.get("valueCoding") or {}
    for value, expected in _answer_codings(terms).items():
        if coding.get("system") == expected["system"] and coding.get("code") == expected["code"]:
            return value
    raise _refuse(
        422, "code-invalid", f"{where}.answer[0]", "must be LOINC LA33-6 (yes), LA32-8 (no) or LA4489-6"
    )


def _code(answer: Mapping[str, Any], where: str, system: str) -> str | None:
    coding = answer.get("valueCoding") or {}
    if coding.get("system") != system:
        raise _refuse(422, "code-invalid", f"{where}.answer[0]", "not one of this item's answerOptions")
    code = coding.get("code")
    return code if isinstance(code, str) else None


def _boolean(answer: Mapping[str, Any], where: str) -> bool:
    if not isinstance(answer.get("valueBoolean"), bool):
        raise _refuse(422, "structure", f"{where}.answer", "'None of these' is answered valueBoolean")
    return bool(answer["valueBoolean"])


def _answered_items(response: Mapping[str, Any], held: list[str]) -> dict[str, tuple[int, Mapping[str, Any]]]:
    """The response's top-level items by linkId; an item the Questionnaire does not hold (a
    question never asked) or one answered twice is refused, naming its place, not its linkId."""
    by_link: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for j, item in enumerate(response.get("item", [])):
        link = item.get("linkId")
        if link not in held or link in by_link:
            raise _refuse(
                422,
                "not-found",
                f"QuestionnaireResponse.item[{j}].linkId",
                "answers an item the contained Questionnaire does not hold (a question never asked), "
                "or answers one twice",
            )
        by_link[link] = (j, item)
    return by_link


# ---- the result -----------------------------------------------------------------------------------
def _result_items(
    kb: KnowledgeBase, terms: Terminology, assessment: Assessment
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The hidden, read-only result items: (Questionnaire item, its answers)."""
    hidden = [{"url": HIDDEN, "valueBoolean": True}]
    urgency_system = terms.url("CodeSystem", "urgency")
    condition_system = terms.url("CodeSystem", "cause")

    def read_only(link: str, text: str, kind: str, **more: Any) -> dict[str, Any]:
        return {"linkId": link, "text": text, "type": kind, "readOnly": True, "extension": hidden, **more}

    urgency_options = [
        {"valueCoding": _coding(urgency_system, u.code.value, u.display)} for u in terms.urgency
    ]
    cause_options = [{"valueCoding": _coding(condition_system, c.id, c.name)} for c in kb.conditions.values()]
    question = read_only(
        RESULT,
        "Result of the triage",
        "group",
        item=[
            read_only(f"{RESULT}.urgency", "Urgency", "choice", answerOption=urgency_options),
            read_only(
                f"{RESULT}.cause",
                "Leading causes, most likely first",
                "group",
                repeats=True,
                item=[
                    read_only(f"{RESULT}.cause.condition", "Cause", "choice", answerOption=cause_options),
                    read_only(f"{RESULT}.cause.probability", "Probability (0 to 1)", "decimal"),
                ],
            ),
        ],
    )
    urgency = terms.urgency_concept(assessment.urgency)
    causes = [
        {
            "linkId": f"{RESULT}.cause",
            "item": [
                {
                    "linkId": f"{RESULT}.cause.condition",
                    "answer": [{"valueCoding": _coding(condition_system, c.id, c.name)}],
                },
                {
                    "linkId": f"{RESULT}.cause.probability",
                    "answer": [{"valueDecimal": round(c.probability, 3)}],
                },
            ],
        }
        for c in assessment.conditions[:LEADING_CAUSES]
    ]
    answered = {
        "linkId": RESULT,
        "item": [
            {
                "linkId": f"{RESULT}.urgency",
                "answer": [{"valueCoding": _coding(urgency_system, urgency.code.value, urgency.display)}],
            },
            *causes,
        ],
    }
    return question, answered


# ---- the operation -------------------------------------------------------------------------------
@dataclass(frozen=True)
class NextStep:
    """What one `$next-question` call produced: the response to send, the answers it holds, and
    the assessment once the interview has ended (for the audit store)."""

    response: QuestionnaireResponse
    answers: Answers
    assessment: Assessment | None


def next_question(interviewer: Interviewer, body: bytes | str | Mapping[str, Any]) -> QuestionnaireResponse:
    """`$next-question`: the response with the next question appended to its contained
    Questionnaire, or `completed` with the result once the interview ends."""
    return next_step(interviewer, body).response


def next_step(interviewer: Interviewer, body: bytes | str | Mapping[str, Any]) -> NextStep:
    """`next_question`, with the answers read and the assessment once it is complete."""
    kb, terms = interviewer.kb, load_terminology()
    qr = read_request(body)
    issues = profile_problems(qr, kb)
    if qr.status != "in-progress":
        issues.append(
            Issue(
                "business-rule",
                "QuestionnaireResponse.status",
                "must be 'in-progress' to ask the next question",
            )
        )
    if issues:
        raise AdaptiveRequestError(422, issues)
    data = qr.model_dump(mode="json", exclude_none=True)
    index, questionnaire = _contained_questionnaire(data)
    items: list[dict[str, Any]] = list(questionnaire.get("item", []))
    responses = _answered_items(data, [i["linkId"] for i in items])
    answers: Answers = {}
    asked: list[str] = []
    for k, item in enumerate(items):
        step = interviewer.step(Case(answers=answers), asked)
        expected = None if step.question is None else _Asked.of(step.question)
        if expected is None or _expected_item(expected, kb) != json.dumps(item, sort_keys=True):
            raise _refuse(
                422,
                "business-rule",
                f"QuestionnaireResponse.contained[{index}].item[{k}]",
                "not the question backtriage asked after the answers before it: send the contained "
                "Questionnaire back unchanged, and earlier answers unchanged",
            )
        j, response = responses.get(item["linkId"], (None, None))
        answers.update(_read(expected, response, f"QuestionnaireResponse.item[{j}]", terms))
        asked.append(expected.id)
    step = interviewer.step(Case(answers=answers), asked)
    finished = step.done or step.question is None
    if finished:
        question, answered = _result_items(kb, terms, step.assessment)
        items.append(question)
        data["item"] = [*data.get("item", []), answered]
        data["status"] = "completed"
    else:
        assert step.question is not None
        items.append(_question_item(_Asked.of(step.question), kb, terms))
    questionnaire["item"] = items
    data["contained"][index] = questionnaire
    _add_profile(data, RESPONSE_PROFILE)
    completed = QuestionnaireResponse.model_validate(data)
    return NextStep(completed, answers, step.assessment if finished else None)


def _contained_questionnaire(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    wanted = data["questionnaire"][1:]
    return next(
        (i, r)
        for i, r in enumerate(data["contained"])
        if r.get("resourceType") == "Questionnaire" and r.get("id") == wanted
    )


def _add_profile(resource: dict[str, Any], profile: str) -> None:
    meta = resource.setdefault("meta", {})
    if profile not in meta.get("profile", []):
        meta["profile"] = [*meta.get("profile", []), profile]


# ---- starting, finishing, reading ----------------------------------------------------------------------
def _shell(
    kb: KnowledgeBase,
    terms: Terminology,
    subject: str,
    authored: datetime,
    status: str,
    items: list[dict[str, Any]],
    answered: list[dict[str, Any]],
) -> QuestionnaireResponse:
    if authored.tzinfo is None:  # an R4 dateTime with a time needs its zone; ours are in UTC
        authored = authored.replace(tzinfo=UTC)
    questionnaire: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": BASE_QUESTIONNAIRE,
        "meta": {"profile": [QUESTIONNAIRE_PROFILE]},
        "extension": [{"url": ADAPTIVE_EXTENSION, "valueBoolean": True}],
        "version": kb.version,
        "title": TITLE,
        "derivedFrom": [derived_from(kb, terms)],
        "status": "active",
        "subjectType": ["Patient"],
    }
    if items:
        questionnaire["item"] = items
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "meta": {"profile": [RESPONSE_PROFILE]},
        "contained": [questionnaire],
        "questionnaire": f"#{BASE_QUESTIONNAIRE}",
        "status": status,
        "subject": {"reference": subject},
        "authored": authored.isoformat(),
    }
    if answered:
        data["item"] = answered
    qr = QuestionnaireResponse.model_validate(data)
    problems = profile_problems(qr, kb)
    if problems:
        raise ValueError("; ".join(f"{p.expression}: {p.diagnostics}" for p in problems))
    return qr


def start_questionnaire_response(
    kb: KnowledgeBase, subject: str, authored: datetime
) -> QuestionnaireResponse:
    """The first `$next-question` body: in progress, its contained Questionnaire without items.
    `subject` is a reference such as `Patient/123`."""
    return _shell(kb, load_terminology(), subject, authored, "in-progress", [], [])


def completed_questionnaire_response(
    kb: KnowledgeBase, interview_view: InterviewView, subject: str, authored: datetime
) -> QuestionnaireResponse:
    """A finished JSON interview as a completed adaptive QuestionnaireResponse of the shape
    `$next-question` ends with. Questions are rebuilt from the knowledge base in the order asked,
    each answer held by the first item that can hold it; what none can hold (known before any
    question, from an opening text or answers) goes in a `given` group first. The view does not
    say which answers came from the opening, so one a later question could hold is shown there."""
    if not interview_view.done or interview_view.assessment is None:
        raise ValueError("the interview is not finished")
    terms = load_terminology()
    answers: Answers = dict(interview_view.answers)
    held: set[str] = set()
    items: list[dict[str, Any]] = []
    answered: list[dict[str, Any]] = []
    for question_id in interview_view.asked:
        rest = {f: v for f, v in answers.items() if f not in held}
        asked = _Asked.from_kb(kb, question_id, without=held)
        if asked.kind == "multi_choice":
            if asked.unchosen_means_no:  # an option left out of the answers would read as "no"
                asked = replace(asked, options=tuple(o for o in asked.options if o.finding in rest))
            if not asked.options:
                continue
        items.append(_question_item(asked, kb, terms))
        response = _response_item(asked, rest, terms)
        if response is not None:
            answered.append(response)
            held |= set(_read(asked, response, "", terms))
    before = [f.id for f in kb.findings.values() if f.id in answers and f.id not in held]
    if before:
        given = _Asked(
            GIVEN,
            "multi_choice",
            "Known before the questions",
            None,
            options=tuple(_Option(f, kb.findings[f].question or kb.findings[f].label, f) for f in before),
        )
        items.insert(0, _question_item(given, kb, terms))
        response = _response_item(given, answers, terms)
        assert response is not None
        answered.insert(0, response)
    question, result = _result_items(kb, terms, interview_view.assessment)
    return _shell(kb, terms, subject, authored, "completed", [*items, question], [*answered, result])


def questionnaire_answers(kb: KnowledgeBase, qr: QuestionnaireResponse) -> Answers:
    """The answers (finding id -> yes/no/unknown) a backtriage adaptive QuestionnaireResponse
    holds, read as `$next-question` reads them; the result items are not answers."""
    terms = load_terminology()
    data = qr.model_dump(mode="json", exclude_none=True)
    _, questionnaire = _contained_questionnaire(data)
    items = [i for i in questionnaire.get("item", []) if i["linkId"] != RESULT]
    responses = _answered_items(
        {"item": [r for r in data.get("item", []) if r.get("linkId") != RESULT]}, [i["linkId"] for i in items]
    )
    answers: Answers = {}
    for item in items:
        asked = _asked_from_item(kb, item)
        j, response = responses.get(item["linkId"], (None, None))
        answers.update(_read(asked, response, f"QuestionnaireResponse.item[{j}]", terms))
    return answers


def _asked_from_item(kb: KnowledgeBase, item: Mapping[str, Any]) -> _Asked:
    link = item["linkId"]
    if link == GIVEN:
        findings = [c["linkId"].split(".", 1)[1] for c in item.get("item", []) if c.get("type") == "choice"]
        return _Asked(
            GIVEN,
            "multi_choice",
            item.get("text", ""),
            None,
            options=tuple(_Option(f, "", f) for f in findings),
        )
    if link in kb.questions and kb.questions[link].kind == "multi_choice":
        shown = {c["linkId"].split(".", 1)[1] for c in item.get("item", [])}
        everything = _Asked.from_kb(kb, link)
        return _Asked.from_kb(kb, link, without={o.finding for o in everything.options if o.finding} - shown)
    if link in kb.questions or link in kb.findings:
        return _Asked.from_kb(kb, link)
    raise _refuse(422, "not-found", "Questionnaire.item", "an item backtriage does not ask")
