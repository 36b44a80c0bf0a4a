"""/app-api/points: the buyer's points mall (积分商城). Public; a member token adds what the
buyer may still exchange of each SKU. An exchange is bought through pricing's checkout."""

from __future__ import annotations

from fastapi import APIRouter

from services.points import activities, domain
from services.points.schemas import AppActivityOut
from shared.auth import MaybePrincipal, Principal, Role
from shared.db import Session
from shared.deps import Now
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/app-api/points", tags=["app: points"])


def _member(principal: Principal | None) -> int | None:
    return principal.user_id if principal is not None and principal.role == Role.MEMBER else None


@router.get("/activities", response_model=Page[AppActivityOut])
async def running_activities(session: Session, paging: Paging, now: Now, principal: MaybePrincipal,
                             spu_id: QueryId = None):
    """Activities running now, each with its SKUs: points and cash per unit, units left, and with a
    member token `my_remaining` (null without). For a product page: `?spu_id=`."""
    return await activities.running_page(session, now, spu_id, paging, _member(principal))


@router.get("/activities/{activity_id}", response_model=AppActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed))
async def activity(activity_id: PathId, session: Session, principal: MaybePrincipal):
    return await activities.app_activity(session, activity_id, _member(principal))
