"""/admin-api/coupon: platform operators manage coupon templates."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.coupon import flows, pages, service
from services.coupon.api.deps import BusinessZone, RushDep, TemplateQuery
from services.coupon.domain import CouponStatus
from services.coupon.errors import (
    CouponHeld,
    CouponInUse,
    CouponNotFound,
    CouponTakenBack,
    InvalidTemplate,
    TemplateInUse,
    TemplateNotFound,
    TotalBelowTaken,
    WrongTakeType,
)
from services.coupon.schemas import (
    AdminCouponOut,
    CodeOut,
    CodesIn,
    CodesOut,
    DayStatsOut,
    GiveIn,
    GiveOut,
    StatusIn,
    TemplateIn,
    TemplateOut,
    TemplateStatsOut,
)
from shared.auth import Admin, Role, require_role
from shared.db import Session
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.ownership import AdminScope, OwnerFilterConflict
from shared.pagination import Page, Paging

RecallReason = Annotated[str, Query(max_length=255, description="why, kept with the coupon and sent in the event")]

router = APIRouter(prefix="/admin-api/coupon", tags=["admin: coupon"],
                   dependencies=[Depends(require_role(Role.ADMIN))], responses=errors(Unauthorized, Forbidden))


@router.post("/templates", status_code=201, response_model=TemplateOut, responses=errors(InvalidTemplate))
async def create_template(body: TemplateIn, rush: RushDep, now: Now):
    """The platform's own template (business_id null)."""
    return await flows.write_template(rush, lambda session: service.create_template(session, body, now))


@router.get("/templates", response_model=Page[TemplateOut], responses=errors(OwnerFilterConflict))
async def page_templates(session: Session, paging: Paging, f: TemplateQuery, scope: AdminScope):
    """Every owner's templates, or one merchant's (`business_id`), or the platform's (`platform=true`)."""
    return await pages.page_templates(session, paging, f, scope)


@router.get("/templates/{template_id}", response_model=TemplateOut, responses=errors(TemplateNotFound))
async def get_template(template_id: PathId, session: Session):
    return await service.get_template(session, template_id)


@router.get("/templates/{template_id}/stats", response_model=TemplateStatsOut, responses=errors(TemplateNotFound))
async def template_stats(template_id: PathId, session: Session):
    return await pages.template_stats(session, template_id)


@router.put("/templates/{template_id}", response_model=TemplateOut,
            responses=errors(TemplateNotFound, InvalidTemplate, TotalBelowTaken))
async def update_template(template_id: PathId, body: TemplateIn, rush: RushDep, now: Now):
    return await flows.write_template(rush, lambda session: service.update_template(session, template_id, body, now))


@router.put("/templates/{template_id}/status", response_model=TemplateOut, responses=errors(TemplateNotFound))
async def set_template_status(template_id: PathId, body: StatusIn, rush: RushDep, now: Now):
    return await flows.write_template(rush, lambda session: service.set_template_status(session, template_id,
                                                                                        body.status, now))


@router.delete("/templates/{template_id}", status_code=204,
               responses=errors(TemplateNotFound, TemplateInUse))
async def delete_template(template_id: PathId, rush: RushDep):
    await flows.delete_template(rush, template_id, lambda session: service.delete_template(session, template_id))
    return Response(status_code=204)


@router.post("/templates/{template_id}/give", response_model=GiveOut,
             responses=errors(TemplateNotFound, WrongTakeType))
async def give(template_id: PathId, body: GiveIn, session: Session, now: Now, locale: Locale):
    """One coupon to each user (an admin-give template); the answer says who got one and who not, why."""
    return await service.give(session, template_id, list(dict.fromkeys(body.user_ids)), now, locale)


@router.get("/coupons", response_model=Page[AdminCouponOut], responses=errors(OwnerFilterConflict))
async def page_coupons(session: Session, paging: Paging, locale: Locale, scope: AdminScope, user_id: QueryId = None,
                       template_id: QueryId = None, status: CouponStatus | None = None):
    """Issued coupons; a taken-back one with who, when and why (`revoke_reason_text` in the caller's language).
    Every owner's, or one merchant's (`business_id`), or the platform's (`platform=true`)."""
    return await pages.page_coupons(session, paging, locale, user_id=user_id, template_id=template_id, status=status,
                                    scope=scope)


@router.delete("/coupons/{coupon_id}", status_code=204,
               responses=errors(CouponNotFound, CouponInUse, CouponHeld, CouponTakenBack))
async def recall(coupon_id: PathId, admin: Admin, rush: RushDep, now: Now, reason: RecallReason = ""):
    """Recall: the coupon becomes RECALLED (kept, with who and why), its stock returns."""
    await flows.recall(rush, coupon_id, admin.subject, reason, now)
    return Response(status_code=204)


@router.post("/templates/{template_id}/codes", status_code=201, response_model=CodesOut,
             responses=errors(TemplateNotFound, WrongTakeType))
async def generate_codes(template_id: PathId, body: CodesIn, session: Session, now: Now):
    created = await service.generate_codes(session, template_id, body.count, body.prefix, body.length, now)
    return CodesOut(template_id=template_id, created=created)


@router.get("/templates/{template_id}/codes", response_model=Page[CodeOut])
async def page_codes(template_id: PathId, session: Session, paging: Paging, redeemed: bool | None = None):
    return await pages.page_codes(session, template_id, redeemed, paging)


@router.get("/templates/{template_id}/codes.csv", response_class=Response)
async def export_codes(template_id: PathId, session: Session):
    """All codes of a template as CSV (to print or mail out)."""
    return Response(await pages.export_codes(session, template_id), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="coupon-{template_id}-codes.csv"'})


@router.get("/stats/daily", response_model=DayStatsOut, responses=errors(OwnerFilterConflict))
async def day_stats(session: Session, now: Now, zone: BusinessZone, scope: AdminScope, day: date | None = None):
    """A business day's coupons (every owner's, or one owner's): issued, used by paid orders, the
    discount they gave. `day` defaults to today in the business timezone."""
    return await pages.day_stats(session, day or now.astimezone(zone).date(), zone, scope)
