"""/admin-api/pricing: platform operators manage limited-time discounts and spend-and-save. What
they create is the platform's (`business_id` null); they see, close and change every activity,
a merchant's too, and narrow a list to one owner (`?business_id=`, `?platform=true`)."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Depends, Response

from services.pricing import domain, service
from services.pricing import quote as quotes
from services.pricing.api.deps import ActivityQuery, Coupons, PricingContext
from services.pricing.api.internal import PRICING_ERRORS
from services.pricing.models import DiscountActivity, RewardActivity
from services.pricing.schemas import (
    ActivityStatsOut,
    DiscountActivityIn,
    DiscountActivityOut,
    QuoteOut,
    RewardActivityIn,
    RewardActivityOut,
    SimulateIn,
)
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized
from shared.http import DependencyUnavailable
from shared.ids import PathId
from shared.openapi import errors
from shared.ownership import AdminScope, OwnerFilterConflict
from shared.pagination import Page, Paging
from shared.responses import prebuilt_json

router = APIRouter(prefix="/admin-api/pricing", tags=["admin: pricing"],
                   dependencies=[Depends(require_role(Role.ADMIN))], responses=errors(Unauthorized, Forbidden))


# --- limited-time discounts -----------------------------------------------------------------------

@router.post("/discounts", status_code=201, response_model=DiscountActivityOut,
             responses=errors(domain.InvalidActivity, domain.DiscountSkuConflict))
async def create_discount(body: DiscountActivityIn, session: Session, now: Now):
    return await service.create_discount(session, body, now)


@router.get("/discounts", response_model=Page[DiscountActivityOut], responses=errors(OwnerFilterConflict))
async def page_discounts(session: Session, paging: Paging, now: Now, f: ActivityQuery, owner: AdminScope):
    """Every owner's, or one owner's: `business_id` (a merchant's) or `platform=true` (the platform's)."""
    return await service.page_discounts(session, paging, replace(f, owner=owner), now)


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


@router.get("/discounts/{activity_id}/stats", response_model=ActivityStatsOut,
            responses=errors(domain.DiscountActivityNotFound))
async def discount_stats(activity_id: PathId, session: Session):
    """Orders checked out with it (awaiting payment, paid, cancelled) and the fen it took off."""
    return await service.activity_stats(session, DiscountActivity, activity_id)


# --- spend-and-save -------------------------------------------------------------------------------

@router.post("/rewards", status_code=201, response_model=RewardActivityOut,
             responses=errors(domain.InvalidActivity, domain.RewardScopeConflict, DependencyUnavailable))
async def create_reward(body: RewardActivityIn, session: Session, coupons: Coupons, now: Now, locale: Locale):
    """Each level's gift coupons are checked with the coupon service (they must exist and be admin-give)."""
    return await service.create_reward(session, coupons, body, now, locale)


@router.get("/rewards", response_model=Page[RewardActivityOut], responses=errors(OwnerFilterConflict))
async def page_rewards(session: Session, paging: Paging, now: Now, locale: Locale, f: ActivityQuery,
                       owner: AdminScope):
    """Every owner's, or one owner's: `business_id` (a merchant's) or `platform=true` (the platform's)."""
    return await service.page_rewards(session, paging, replace(f, owner=owner), now, locale)


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


@router.get("/rewards/{activity_id}/stats", response_model=ActivityStatsOut,
            responses=errors(domain.RewardActivityNotFound))
async def reward_stats(activity_id: PathId, session: Session):
    """Orders checked out with it (awaiting payment, paid, cancelled) and the fen it took off."""
    return await service.activity_stats(session, RewardActivity, activity_id)


# --- the console's price simulator -------------------------------------------------------------------

@router.post("/simulate", response_model=QuoteOut, responses=errors(*PRICING_ERRORS))
async def simulate(body: SimulateIn, session: Session, pricing: PricingContext, now: Now, locale: Locale):
    """Price a cart as the buyer would see it (anonymous, or as `user_id` with that buyer's coupons),
    every promotion applied or skipped and why: how an operator checks a campaign before it goes
    live. Nothing is held or recorded."""
    return prebuilt_json(await quotes.quote(session, pricing, body.user_id, body, now, locale))
