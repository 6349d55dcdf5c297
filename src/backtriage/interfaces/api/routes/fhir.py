"""FHIR R4 endpoints under /fhir: the CapabilityStatement, backtriage's terminology resources and
the SDC adaptive questionnaire (`Questionnaire/$next-question`)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/fhir", tags=["fhir"])
