"""The JSON shapes of CDS Hooks 2.0: discovery, a hook call, its cards, and feedback.

Field names are the spec's own (camelCase). Responses leave out every field without a value:
the spec forbids `null` and empty values where a field is optional.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backtriage.interop.cds_hooks.prefetch import FHIR_ID

__all__ = [
    "AcceptedSuggestion",
    "Action",
    "Card",
    "CdsResponse",
    "Coding",
    "Discovery",
    "FeedbackIn",
    "FeedbackItem",
    "FeedbackOut",
    "FhirAuthorization",
    "HookContext",
    "HookRequest",
    "Link",
    "OverrideReason",
    "ServiceDefinition",
    "Source",
    "Suggestion",
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _In(BaseModel):
    # Unknown fields are ignored: the spec lets clients add an `extension` anywhere.
    model_config = ConfigDict(extra="ignore")


# ---- discovery -------------------------------------------------------------------------------
class ServiceDefinition(_Out):
    hook: str
    title: str
    description: str
    id: str
    prefetch: dict[str, str]
    usageRequirements: str | None = None


class Discovery(_Out):
    services: list[ServiceDefinition]


# ---- a hook call -----------------------------------------------------------------------------
class FhirAuthorization(_In):
    access_token: str = Field(min_length=1, max_length=16_384)
    token_type: str = Field(pattern=r"^[Bb]earer$")
    expires_in: int | None = Field(default=None, ge=0)
    scope: str | None = Field(default=None, max_length=4096)
    subject: str | None = Field(default=None, max_length=400)
    patient: str | None = Field(default=None, max_length=64)

    def __repr__(self) -> str:  # the token never appears in a repr, a log or an error
        return "FhirAuthorization(...)"


class HookContext(_In):
    userId: str | None = Field(default=None, max_length=400)
    patientId: str = Field(pattern=FHIR_ID, description="The FHIR id of the patient in context.")
    encounterId: str | None = Field(default=None, pattern=FHIR_ID)


class HookRequest(_In):
    """A hook call as the EHR sends it (`patient-view` or `encounter-start`)."""

    hook: str = Field(min_length=1, max_length=100)
    hookInstance: str = Field(min_length=1, max_length=100)
    fhirServer: str | None = Field(default=None, pattern=r"^https?://[^\s]+$", max_length=2000)
    fhirAuthorization: FhirAuthorization | None = Field(default=None, repr=False)
    context: HookContext
    prefetch: dict[str, Any] | None = Field(
        default=None, description="FHIR data for the templates of the service's `prefetch`."
    )

    @model_validator(mode="after")
    def _server_with_token(self) -> HookRequest:
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirServer is required when fhirAuthorization is sent")
        return self

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "hook": "patient-view",
                    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                    "context": {"userId": "Practitioner/example", "patientId": "example"},
                    "prefetch": {"patient": None, "conditions": None, "observations": None, "note": None},
                }
            ]
        },
    )


# ---- the response ----------------------------------------------------------------------------
class Coding(_Out):
    system: str | None = None
    code: str
    display: str | None = None


class Source(_Out):
    label: str
    url: str | None = None
    topic: Coding | None = None


class Action(_Out):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None


class Suggestion(_Out):
    label: str
    uuid: str
    isRecommended: bool | None = None
    actions: list[Action]


class Link(_Out):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None


class Card(_Out):
    uuid: str
    summary: str = Field(max_length=139, description="One sentence, under 140 characters.")
    detail: str | None = Field(default=None, description="GitHub-flavoured Markdown.")
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None
    extension: dict[str, Any] | None = None


class CdsResponse(_Out):
    cards: list[Card]


# ---- feedback --------------------------------------------------------------------------------
class AcceptedSuggestion(_In):
    id: str = Field(min_length=1, max_length=100)


class FeedbackCoding(_In):
    system: str | None = Field(default=None, max_length=400)
    code: str = Field(min_length=1, max_length=100)
    display: str | None = Field(default=None, max_length=400)


class OverrideReason(_In):
    reason: FeedbackCoding | None = None
    userComment: str | None = Field(default=None, max_length=2000)


class FeedbackItem(_In):
    card: str = Field(min_length=1, max_length=64, description="The `uuid` of the card.")
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=20)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: datetime

    @model_validator(mode="after")
    def _accepted_names_a_suggestion(self) -> FeedbackItem:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("an accepted outcome needs acceptedSuggestions")
        if self.outcome == "overridden" and self.acceptedSuggestions:
            raise ValueError("an overridden card accepts no suggestion")
        if self.outcomeTimestamp.tzinfo is None:
            raise ValueError("outcomeTimestamp needs a time zone (UTC)")
        return self


class FeedbackIn(_In):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "feedback": [
                        {
                            "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
                            "outcome": "accepted",
                            "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
                            "outcomeTimestamp": "2026-12-06T09:00:00Z",
                        }
                    ]
                }
            ]
        },
    )


class FeedbackOut(_Out):
    stored: int = Field(description="How many feedback items were recorded.")
