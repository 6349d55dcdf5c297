from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backtriage.interfaces.api.deps import Caller, ServiceDep
from backtriage.interfaces.api.responses import CONDITION_FIELDS, errors

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"])


@router.get("/findings", responses=errors(401, 429, 500), summary="The findings backtriage understands")
async def findings(service: ServiceDep, key_id: Caller) -> dict[str, Any]:
    kb = service.engine.kb
    return {
        "kb_version": kb.version,
        "findings": [f.model_dump(mode="json", exclude_defaults=True) for f in kb.findings.values()],
    }


@router.get("/conditions", responses=errors(401, 429, 500), summary="The causes backtriage considers")
async def conditions(service: ServiceDep, key_id: Caller) -> dict[str, Any]:
    kb = service.engine.kb
    return {
        "kb_version": kb.version,
        "conditions": [c.model_dump(mode="json", include=CONDITION_FIELDS) for c in kb.conditions.values()],
    }
