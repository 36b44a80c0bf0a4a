"""/app-api/coupon: buyers take coupons and see their own."""

from __future__ import annotations

from fastapi import APIRouter

from services.coupon import repository as repo
from services.coupon import service
from services.coupon.domain import (
    CouponStatus,
    OutOfStock,
    TakeLimitReached,
    TakeType,
    TemplateDisabled,
    TemplateExpired,
    WrongTakeType,
)
from services.coupon.schemas import CartIn, CouponOut, MatchOut, TakeOut
from shared.auth import Member
from shared.db import Session
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors
from shared.pagination import Page, Paging, to_page

router = APIRouter(prefix="/app-api/coupon", tags=["app: coupon"], responses=errors(Unauthorized, Forbidden))


@router.post("/templates/{template_id}/take", status_code=201, response_model=TakeOut,
             responses=errors(service.TemplateNotFound, TemplateDisabled, WrongTakeType, TemplateExpired,
                              TakeLimitReached, OutOfStock))
async def take(template_id: PathId, member: Member, session: Session, now: Now):
    coupons, again = await service.issue(session, template_id, member.user_id, TakeType.USER, now)
    return TakeOut(coupon_id=coupons[0].id, can_take_again=again)


@router.get("/coupons", response_model=Page[CouponOut])
async def my_coupons(member: Member, session: Session, paging: Paging, status: CouponStatus | None = None):
    return to_page(CouponOut, await repo.page_user_coupons(session, member.user_id, status, paging), paging)


@router.post("/match", response_model=MatchOut)
async def match_my_cart(body: CartIn, member: Member, session: Session, now: Now, locale: Locale):
    """The cart page: which of my coupons fit this cart, why the others don't, and the best."""
    return await service.match_cart(session, member.user_id, body.lines, now, locale)
