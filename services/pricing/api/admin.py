"""/admin-api/pricing: platform operators manage limited-time discounts and spend-and-save."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.pricing import domain, service
from services.pricing.api.deps import Coupons
from services.pricing.models import DiscountActivity, RewardActivity
from services.pricing.schemas import DiscountActivityIn, DiscountActivityOut, RewardActivityIn, RewardActivityOut
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Locale, Now
from shared.enums import CommonStatus
from shared.errors import Forbidden, Unauthorized
from shared.http import DependencyUnavailable
from shared.ids import PathId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/admin-api/pricing", tags=["admin: pricing"],
                   dependencies=[Depends(require_role(Role.ADMIN))], responses=errors(Unauthorized, Forbidden))

Name = Annotated[str | None, Query(max_length=50)]
Lifecycle = errors(domain.ActivityClosed, domain.ActivityAlreadyClosed, domain.ActivityNotClosed)


def _filter(name: str | None, status: CommonStatus | None, running: bool, now) -> service.ActivityFilter:
    return service.ActivityFilter(name, status, now if running else None)


# --- limited-time discounts -----------------------------------------------------------------------

@router.post("/discounts", status_code=201, response_model=DiscountActivityOut,
             responses=errors(domain.InvalidActivity, domain.DiscountSkuConflict))
async def create_discount(body: DiscountActivityIn, session: Session, now: Now):
    return await service.create_discount(session, body, now)


@router.get("/discounts", response_model=Page[DiscountActivityOut])
async def page_discounts(session: Session, paging: Paging, now: Now, name: Name = None,
                         status: CommonStatus | None = None, running: bool = False):
    return await service.page_discounts(session, paging, _filter(name, status, running, now), now)


@router.get("/discounts/{activity_id}", response_model=DiscountActivityOut,
            responses=errors(domain.DiscountActivityNotFound))
async def get_discount(activity_id: PathId, session: Session, now: Now):
    return await service.get_discount(session, activity_id, now)


@router.put("/discounts/{activity_id}", response_model=DiscountActivityOut,
            responses=errors(domain.DiscountActivityNotFound, domain.ActivityClosed, domain.InvalidActivity,
                             domain.DiscountSkuConflict))
async def update_discount(activity_id: PathId, body: DiscountActivityIn, session: Session, now: Now):
    return await service.update_discount(session, activity_id, body, now)


@router.post("/discounts/{activity_id}/close", status_code=204,
             responses=errors(domain.DiscountActivityNotFound, domain.ActivityAlreadyClosed))
async def close_discount(activity_id: PathId, session: Session, now: Now):
    """Ends the activity for good (it cannot be reopened)."""
    await service.close_activity(session, DiscountActivity, activity_id, now)
    return Response(status_code=204)


@router.delete("/discounts/{activity_id}", status_code=204,
               responses=errors(domain.DiscountActivityNotFound, domain.ActivityNotClosed))
async def delete_discount(activity_id: PathId, session: Session):
    await service.delete_activity(session, DiscountActivity, activity_id)
    return Response(status_code=204)


# --- spend-and-save -------------------------------------------------------------------------------

@router.post("/rewards", status_code=201, response_model=RewardActivityOut,
             responses=errors(domain.InvalidActivity, domain.RewardScopeConflict, DependencyUnavailable))
async def create_reward(body: RewardActivityIn, session: Session, coupons: Coupons, now: Now, locale: Locale):
    """Each level's gift coupons are checked with the coupon service (they must exist and be admin-give)."""
    return await service.create_reward(session, coupons, body, now, locale)


@router.get("/rewards", response_model=Page[RewardActivityOut])
async def page_rewards(session: Session, paging: Paging, now: Now, locale: Locale, name: Name = None,
                       status: CommonStatus | None = None, running: bool = False):
    return await service.page_rewards(session, paging, _filter(name, status, running, now), now, locale)


@router.get("/rewards/{activity_id}", response_model=RewardActivityOut,
            responses=errors(domain.RewardActivityNotFound))
async def get_reward(activity_id: PathId, session: Session, now: Now, locale: Locale):
    return service.reward_view(await service.get_reward(session, activity_id), now, locale)


@router.put("/rewards/{activity_id}", response_model=RewardActivityOut,
            responses=errors(domain.RewardActivityNotFound, domain.ActivityClosed, domain.InvalidActivity,
                             domain.RewardScopeConflict, DependencyUnavailable))
async def update_reward(activity_id: PathId, body: RewardActivityIn, session: Session, coupons: Coupons, now: Now,
                        locale: Locale):
    return await service.update_reward(session, coupons, activity_id, body, now, locale)


@router.post("/rewards/{activity_id}/close", status_code=204,
             responses=errors(domain.RewardActivityNotFound, domain.ActivityAlreadyClosed))
async def close_reward(activity_id: PathId, session: Session, now: Now):
    await service.close_activity(session, RewardActivity, activity_id, now)
    return Response(status_code=204)


@router.delete("/rewards/{activity_id}", status_code=204,
               responses=errors(domain.RewardActivityNotFound, domain.ActivityNotClosed))
async def delete_reward(activity_id: PathId, session: Session):
    await service.delete_activity(session, RewardActivity, activity_id)
    return Response(status_code=204)
