"""The CDS Hooks 2.0 service: discovery, the hooks and their feedback, under /cds-services."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/cds-services", tags=["cds-hooks"])
