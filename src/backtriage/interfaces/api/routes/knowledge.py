from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backtriage.interfaces import presentation
from backtriage.interfaces.api.deps import Caller, ServiceDep
from backtriage.interfaces.api.responses import errors

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"])


@router.get("/findings", responses=errors(401, 429, 500), summary="The findings backtriage understands")
async def findings(service: ServiceDep, key_id: Caller) -> dict[str, Any]:
    return presentation.findings_listing(service.engine.kb)


@router.get("/conditions", responses=errors(401, 429, 500), summary="The causes backtriage considers")
async def conditions(service: ServiceDep, key_id: Caller) -> dict[str, Any]:
    return presentation.conditions_listing(service.engine.kb)
