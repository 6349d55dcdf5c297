"""SMART App Launch 2.x (EHR launch) of the patient's page: /smart/launch and /smart/callback."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/smart", include_in_schema=False)
