"""/app-api/coupon: buyers take coupons and see their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.coupon import pages, service
from services.coupon.api.deps import BusinessZone, RushDep
from services.coupon.domain import CouponStatus
from services.coupon.errors import (
    CodeAlreadyRedeemed,
    CodeNotFound,
    OutOfStock,
    TakeLimitReached,
    TemplateDisabled,
    TemplateExpired,
    TemplateNotFound,
    WrongTakeType,
)
from services.coupon.flows.rush import take as take_coupon
from services.coupon.schemas import (
    CartIn,
    CenterTemplateOut,
    CouponOut,
    CouponSummaryOut,
    MatchOut,
    RedeemIn,
    TakeOut,
)
from shared.auth import MaybePrincipal, Member, Role
from shared.db import Session
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/app-api/coupon", tags=["app: coupon"], responses=errors(Unauthorized, Forbidden))


@router.post("/templates/{template_id}/take", status_code=201, response_model=TakeOut,
             responses=errors(TemplateNotFound, TemplateDisabled, WrongTakeType, TemplateExpired,
                              TakeLimitReached, OutOfStock))
async def take(template_id: PathId, member: Member, rush: RushDep, now: Now):
    """The coupon rush's route: stock and the per-user limit checked in Redis first, the database last."""
    taken = await take_coupon(rush, template_id, member.user_id, now)
    return TakeOut(coupon_id=taken.coupon_id, can_take_again=taken.can_take_again)


Days = Annotated[int | None, Query(ge=1, le=365, description="only coupons ending within this many days")]


@router.get("/templates", response_model=list[CenterTemplateOut])
async def coupon_center(session: Session, now: Now, caller: MaybePrincipal, spu_id: QueryId = None,
                        category_id: QueryId = None):
    """The coupon center (anonymous allowed). With a product: only coupons that apply to it."""
    user_id = caller.user_id if caller and caller.role is Role.MEMBER else None
    return await service.coupon_center(session, user_id, spu_id, category_id, now)


@router.get("/coupons", response_model=Page[CouponOut])
async def my_coupons(member: Member, session: Session, paging: Paging, now: Now, status: CouponStatus | None = None,
                     expiring_within_days: Days = None):
    return await pages.page_my_coupons(session, member.user_id, paging, now, status, expiring_within_days)


@router.get("/coupons/summary", response_model=CouponSummaryOut)
async def my_coupon_summary(member: Member, session: Session, now: Now,
                            expiring_within_days: Annotated[int, Query(ge=1, le=365)] = 3):
    """Badge counts: unused coupons, and those among them ending soon."""
    return await pages.coupon_summary(session, member.user_id, now, expiring_within_days)


@router.post("/match", response_model=MatchOut)
async def match_my_cart(body: CartIn, member: Member, session: Session, now: Now, locale: Locale, zone: BusinessZone):
    """The cart page: which of my coupons fit this cart, why the others don't, and the best."""
    return await service.match_cart(session, member.user_id, body.lines, now, locale, zone)


@router.post("/codes/redeem", status_code=201, response_model=CouponOut,
             responses=errors(CodeNotFound, CodeAlreadyRedeemed, TemplateDisabled, TemplateExpired,
                              TakeLimitReached, OutOfStock))
async def redeem_code(body: RedeemIn, member: Member, session: Session, now: Now):
    return await service.redeem_code(session, body.code, member.user_id, now)
