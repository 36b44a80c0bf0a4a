"""/internal/coupon: the order service and pricing (service token only; never forwarded by the gateway)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.coupon import service
from services.coupon.schemas import MatchOut, ServiceCartIn
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized
from shared.openapi import errors

router = APIRouter(prefix="/internal/coupon", tags=["internal: coupon"],
                   dependencies=[Depends(require_role(Role.SERVICE))], responses=errors(Unauthorized, Forbidden))


@router.post("/match", response_model=MatchOut)
async def match(body: ServiceCartIn, session: Session, now: Now, locale: Locale):
    return await service.match_cart(session, body.user_id, body.lines, now, locale)
