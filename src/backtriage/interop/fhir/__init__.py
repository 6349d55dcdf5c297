"""FHIR R4 (as the R4B models of fhir.resources): an assessment as resources and a Bundle, and
backtriage's own terminology as CodeSystems, a ValueSet and a ConceptMap."""

from backtriage.interop.fhir.resources import assessment_bundle, assessment_resources, kb_source, percent
from backtriage.interop.fhir.terminology_resources import (
    NEXT_QUESTION,
    capability_statement,
    code_systems,
    concept_maps,
    terminology_resource,
    value_sets,
)

__all__ = [
    "NEXT_QUESTION",
    "assessment_bundle",
    "assessment_resources",
    "capability_statement",
    "code_systems",
    "concept_maps",
    "kb_source",
    "percent",
    "terminology_resource",
    "value_sets",
]
