from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backtriage.interfaces.api.deps import Caller, ServiceDep

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"])


@router.get("/findings", summary="The findings backtriage understands")
async def findings(service: ServiceDep, key_id: Caller) -> dict[str, Any]:
    kb = service.engine.kb
    return {
        "kb_version": kb.version,
        "findings": [f.model_dump(mode="json", exclude_defaults=True) for f in kb.findings.values()],
    }


@router.get("/conditions", summary="The causes backtriage considers")
async def conditions(service: ServiceDep, key_id: Caller) -> dict[str, Any]:
    kb = service.engine.kb
    return {
        "kb_version": kb.version,
        "conditions": [
            c.model_dump(
                mode="json",
                include={"id", "name", "lay_name", "icd10", "prior", "base_urgency", "description"},
            )
            for c in kb.conditions.values()
        ],
    }
