"""A clinical note as a document: what each part of it is for, and what kind of note it is.

A symptom named under "Family history" is a relative's, one named in "Description of
procedure" is an instrument or a step of the operation, one in "Discharge instructions" is advice.
The role of a section says how what is written there is read.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["NoteKind", "SectionRole"]


class SectionRole(StrEnum):
    """What a section of a note tells about the patient."""

    PRESENTING = "presenting"  # chief complaint, history of the present illness, indication
    EXAMINATION = "examination"  # physical and neurological examination, vital signs
    ASSESSMENT = "assessment"  # impression, assessment, diagnoses
    PLAN = "plan"  # plan, recommendations, disposition, hospital or emergency course
    RESULTS = "results"  # laboratory, imaging and other test results
    REVIEW_OF_SYSTEMS = "review_of_systems"  # a checklist of systems, mostly template negatives
    HISTORY = "history"  # past medical, surgical and social history
    FAMILY = "family"  # family history: about relatives
    MEDICATIONS = "medications"  # medicines and allergies: names, not symptoms
    PROCEDURE = "procedure"  # how an operation or procedure was done: steps and instruments
    INSTRUCTIONS = "instructions"  # advice and instructions given to the patient

    @property
    def describes_patient_now(self) -> bool:
        """Sections whose words are the clinician's account of the patient now: what an alert
        may rest on (a review-of-systems tick list is not)."""
        return self in _NOW


_NOW = frozenset(
    {
        SectionRole.PRESENTING,
        SectionRole.EXAMINATION,
        SectionRole.ASSESSMENT,
        SectionRole.PLAN,
        SectionRole.RESULTS,
    }
)


class NoteKind(StrEnum):
    """The kind of document, told by its headings."""

    AUTOPSY = "autopsy"  # a post-mortem report: no care is owed, so never an alert
    OPERATIVE = "operative"  # an operation or procedure report
    DISCHARGE = "discharge"  # a discharge summary
    RADIOLOGY = "radiology"  # an imaging report
    EMERGENCY = "emergency_department"  # an emergency department record
    PROGRESS = "progress"  # a progress or SOAP note
    CONSULT = "consult"  # a consultation, history and physical, or clinic letter
    MESSAGE = "message"  # no document structure: a person's message or a short triage note
