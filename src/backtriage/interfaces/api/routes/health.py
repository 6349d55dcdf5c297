from __future__ import annotations

from fastapi import APIRouter

from backtriage import __version__
from backtriage.interfaces.api.deps import ServiceDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and versions")
async def healthz(service: ServiceDep) -> dict[str, str]:
    return {"status": "ok", "version": __version__, "kb_version": service.engine.kb.version}
