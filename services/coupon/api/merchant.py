"""/merchant-api/coupon: a merchant (merchant PC directly, the merchant app through the gateway)
runs its own coupon templates, with the operators' rules, and reads their figures. Every route
sees only the token's business: another merchant's template, or the platform's, answers the same
404 as a missing id, and lists show only its own. A merchant's coupons are taken by buyers
(take_type 1): new-user issues and operators' gives stay the platform's."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Response

from services.coupon import flows, pages, service
from services.coupon.api.deps import BusinessZone, RushDep, TemplateQuery
from services.coupon.errors import (
    InvalidTemplate,
    TakeTypePlatformOnly,
    TemplateInUse,
    TemplateNotFound,
    TotalBelowTaken,
)
from services.coupon.schemas import DayStatsOut, StatusIn, TemplateIn, TemplateOut, TemplateStatsOut
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors
from shared.ownership import MerchantScope
from shared.pagination import Page, Paging

router = APIRouter(prefix="/merchant-api/coupon", tags=["merchant: coupon"],
                   dependencies=[Depends(require_role(Role.MERCHANT))], responses=errors(Unauthorized, Forbidden))


@router.post("/templates", status_code=201, response_model=TemplateOut,
             responses=errors(InvalidTemplate, TakeTypePlatformOnly))
async def create_template(body: TemplateIn, rush: RushDep, now: Now, scope: MerchantScope):
    """The merchant's own template (business_id: the token's); its coupons apply to its goods only."""
    return await flows.write_template(rush, lambda session: service.create_template(session, body, now, scope.owner))


@router.get("/templates", response_model=Page[TemplateOut])
async def page_templates(session: Session, paging: Paging, f: TemplateQuery, scope: MerchantScope):
    return await pages.page_templates(session, paging, f, scope)


@router.get("/templates/{template_id}", response_model=TemplateOut, responses=errors(TemplateNotFound))
async def get_template(template_id: PathId, session: Session, scope: MerchantScope):
    return await service.get_template(session, template_id, scope=scope)


@router.get("/templates/{template_id}/stats", response_model=TemplateStatsOut, responses=errors(TemplateNotFound))
async def template_stats(template_id: PathId, session: Session, scope: MerchantScope):
    """Issued, unused, held, used, expired, revoked and recalled coupons; discount given; orders."""
    return await pages.template_stats(session, template_id, scope)


@router.put("/templates/{template_id}", response_model=TemplateOut,
            responses=errors(TemplateNotFound, InvalidTemplate, TotalBelowTaken, TakeTypePlatformOnly))
async def update_template(template_id: PathId, body: TemplateIn, rush: RushDep, now: Now, scope: MerchantScope):
    return await flows.write_template(rush, lambda session: service.update_template(session, template_id, body, now,
                                                                                    scope))


@router.put("/templates/{template_id}/status", response_model=TemplateOut, responses=errors(TemplateNotFound))
async def set_template_status(template_id: PathId, body: StatusIn, rush: RushDep, now: Now, scope: MerchantScope):
    """Disable (1) closes it: no more takes; coupons already taken stay usable. Enable (0) again."""
    return await flows.write_template(rush, lambda session: service.set_template_status(session, template_id,
                                                                                        body.status, now, scope))


@router.delete("/templates/{template_id}", status_code=204, responses=errors(TemplateNotFound, TemplateInUse))
async def delete_template(template_id: PathId, rush: RushDep, scope: MerchantScope):
    """Only a template without unused or held coupons; otherwise disable it."""
    await flows.delete_template(rush, template_id, lambda session: service.delete_template(session, template_id,
                                                                                           scope))
    return Response(status_code=204)


@router.get("/stats/daily", response_model=DayStatsOut)
async def day_stats(session: Session, now: Now, zone: BusinessZone, scope: MerchantScope, day: date | None = None):
    """A business day's coupons of the merchant's own templates: issued, used by paid orders, the
    discount they gave. `day` defaults to today in the business timezone."""
    return await pages.day_stats(session, day or now.astimezone(zone).date(), zone, scope)
