"""/merchant-api/pricing: a merchant (merchant PC directly, the merchant app through the gateway)
runs its own limited-time discounts and spend-and-save, with the admin's rules. Every route sees
only the token's own business: another merchant's or the platform's activity is 404, as if it did
not exist, and never shows in a list. Conflicts stay global (one SKU in one discount at a time,
whoever owns it); one with another owner's activity does not name it."""

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
    QuoteIn,
    QuoteOut,
    RewardActivityIn,
    RewardActivityOut,
)
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized
from shared.http import DependencyUnavailable
from shared.ids import PathId
from shared.openapi import errors
from shared.ownership import MerchantScope
from shared.pagination import Page, Paging
from shared.responses import prebuilt_json

router = APIRouter(prefix="/merchant-api/pricing", tags=["merchant: pricing"],
                   dependencies=[Depends(require_role(Role.MERCHANT))], responses=errors(Unauthorized, Forbidden))


# --- limited-time discounts -----------------------------------------------------------------------

@router.post("/discounts", status_code=201, response_model=DiscountActivityOut,
             responses=errors(domain.InvalidActivity, domain.DiscountSkuConflict))
async def create_discount(body: DiscountActivityIn, session: Session, now: Now, mine: MerchantScope):
    """My shop's discount. A SKU already in an enabled discount with an overlapping window
    (anyone's) is refused."""
    return await service.create_discount(session, body, now, mine)


@router.get("/discounts", response_model=Page[DiscountActivityOut])
async def page_discounts(session: Session, paging: Paging, now: Now, f: ActivityQuery, mine: MerchantScope):
    return await service.page_discounts(session, paging, replace(f, owner=mine), now)


@router.get("/discounts/{activity_id}", response_model=DiscountActivityOut,
            responses=errors(domain.DiscountActivityNotFound))
async def get_discount(activity_id: PathId, session: Session, now: Now, mine: MerchantScope):
    return await service.get_discount(session, activity_id, now, mine)


@router.put("/discounts/{activity_id}", response_model=DiscountActivityOut,
            responses=errors(domain.DiscountActivityNotFound, domain.ActivityClosed, domain.InvalidActivity,
                             domain.DiscountSkuConflict))
async def update_discount(activity_id: PathId, body: DiscountActivityIn, session: Session, now: Now,
                          mine: MerchantScope):
    return await service.update_discount(session, activity_id, body, now, mine)


@router.post("/discounts/{activity_id}/close", status_code=204,
             responses=errors(domain.DiscountActivityNotFound, domain.ActivityAlreadyClosed))
async def close_discount(activity_id: PathId, session: Session, now: Now, mine: MerchantScope):
    """Ends the activity for good (it cannot be reopened)."""
    await service.close_activity(session, DiscountActivity, activity_id, now, mine)
    return Response(status_code=204)


@router.delete("/discounts/{activity_id}", status_code=204,
               responses=errors(domain.DiscountActivityNotFound, domain.ActivityNotClosed))
async def delete_discount(activity_id: PathId, session: Session, mine: MerchantScope):
    """Only a closed activity (close it first)."""
    await service.delete_activity(session, DiscountActivity, activity_id, mine)
    return Response(status_code=204)


@router.get("/discounts/{activity_id}/stats", response_model=ActivityStatsOut,
            responses=errors(domain.DiscountActivityNotFound))
async def discount_stats(activity_id: PathId, session: Session, mine: MerchantScope):
    """Orders checked out with it (awaiting payment, paid, cancelled) and the fen it took off."""
    return await service.activity_stats(session, DiscountActivity, activity_id, mine)


# --- spend-and-save -------------------------------------------------------------------------------

@router.post("/rewards", status_code=201, response_model=RewardActivityOut,
             responses=errors(domain.InvalidActivity, domain.RewardScopeConflict, DependencyUnavailable))
async def create_reward(body: RewardActivityIn, session: Session, coupons: Coupons, now: Now, locale: Locale,
                        mine: MerchantScope):
    """My shop's spend-and-save. Each level's gift coupons are checked with the coupon service:
    they must exist, be admin-give and be my shop's own templates."""
    return await service.create_reward(session, coupons, body, now, locale, mine)


@router.get("/rewards", response_model=Page[RewardActivityOut])
async def page_rewards(session: Session, paging: Paging, now: Now, locale: Locale, f: ActivityQuery,
                       mine: MerchantScope):
    return await service.page_rewards(session, paging, replace(f, owner=mine), now, locale)


@router.get("/rewards/{activity_id}", response_model=RewardActivityOut,
            responses=errors(domain.RewardActivityNotFound))
async def get_reward(activity_id: PathId, session: Session, now: Now, locale: Locale, mine: MerchantScope):
    return service.reward_view(await service.get_reward(session, activity_id, mine), now, locale)


@router.put("/rewards/{activity_id}", response_model=RewardActivityOut,
            responses=errors(domain.RewardActivityNotFound, domain.ActivityClosed, domain.InvalidActivity,
                             domain.RewardScopeConflict, DependencyUnavailable))
async def update_reward(activity_id: PathId, body: RewardActivityIn, session: Session, coupons: Coupons, now: Now,
                        locale: Locale, mine: MerchantScope):
    return await service.update_reward(session, coupons, activity_id, body, now, locale, mine)


@router.post("/rewards/{activity_id}/close", status_code=204,
             responses=errors(domain.RewardActivityNotFound, domain.ActivityAlreadyClosed))
async def close_reward(activity_id: PathId, session: Session, now: Now, mine: MerchantScope):
    """Ends the activity for good (it cannot be reopened)."""
    await service.close_activity(session, RewardActivity, activity_id, now, mine)
    return Response(status_code=204)


@router.delete("/rewards/{activity_id}", status_code=204,
               responses=errors(domain.RewardActivityNotFound, domain.ActivityNotClosed))
async def delete_reward(activity_id: PathId, session: Session, mine: MerchantScope):
    """Only a closed activity (close it first)."""
    await service.delete_activity(session, RewardActivity, activity_id, mine)
    return Response(status_code=204)


@router.get("/rewards/{activity_id}/stats", response_model=ActivityStatsOut,
            responses=errors(domain.RewardActivityNotFound))
async def reward_stats(activity_id: PathId, session: Session, mine: MerchantScope):
    """Orders checked out with it (awaiting payment, paid, cancelled) and the fen it took off."""
    return await service.activity_stats(session, RewardActivity, activity_id, mine)


# --- the console's price simulator -------------------------------------------------------------------

@router.post("/simulate", response_model=QuoteOut, responses=errors(*PRICING_ERRORS))
async def simulate(body: QuoteIn, session: Session, pricing: PricingContext, now: Now, locale: Locale):
    """Price a cart as an anonymous buyer would see it, every promotion applied or skipped and why
    (the buyers' coupons are theirs: a merchant simulates without them). Nothing is held."""
    return prebuilt_json(await quotes.quote(session, pricing, None, body, now, locale))
