"""What the routes list: pages, counts, lookups and the codes export. Reads only."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.coupon import repository as repo
from services.coupon import service
from services.coupon.domain import CouponStatus
from services.coupon.models import CouponCode
from services.coupon.schemas import (
    CodeOut,
    CouponOut,
    CouponSummaryOut,
    DayStatsOut,
    TemplateBriefOut,
    TemplateLookupOut,
    TemplateOut,
    TemplateStatsOut,
    admin_coupons_page,
)
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import PageParams, to_page

TemplateFilter = repo.TemplateFilter
CODES_CSV_HEADER = ("code", "redeemed_by", "redeemed_at", "coupon_id")


async def page_templates(session: AsyncSession, paging: PageParams, f: TemplateFilter,
                         scope: OwnerScope = EVERYTHING) -> dict:
    return to_page(TemplateOut, await repo.page_templates(session, paging, f, scope), paging)


async def page_coupons(session: AsyncSession, paging: PageParams, locale: str, *, user_id: int | None,
                       template_id: int | None, status: CouponStatus | None, scope: OwnerScope = EVERYTHING) -> dict:
    """Issued coupons for operators, each stored revoke reason also in words of `locale`."""
    result = await repo.page_coupons(session, paging, user_id=user_id, template_id=template_id, status=status,
                                     scope=scope)
    return admin_coupons_page(result, paging, locale)


async def template_stats(session: AsyncSession, template_id: int, scope: OwnerScope = EVERYTHING) -> TemplateStatsOut:
    """A template's figures (if `scope` sees it, else 404): its coupons by status, the discount the
    used ones gave, their orders."""
    template = await service.get_template(session, template_id, scope=scope)
    figures = await repo.template_figures(session, template.id)

    def count(status: CouponStatus) -> int:
        return figures.get(status, (0, 0, 0))[0]

    used = figures.get(CouponStatus.USED, (0, 0, 0))
    return TemplateStatsOut(
        template_id=template.id, business_id=template.business_id, issued=sum(f[0] for f in figures.values()),
        unused=count(CouponStatus.UNUSED), held=count(CouponStatus.HELD), used=used[0],
        expired=count(CouponStatus.EXPIRED), revoked=count(CouponStatus.REVOKED),
        recalled=count(CouponStatus.RECALLED), discount_given=used[1], orders=used[2])


async def day_stats(session: AsyncSession, day: date, zone: ZoneInfo, scope: OwnerScope) -> DayStatsOut:
    """One business day's figures (the dashboard's "today"): coupons issued, used, the discount given."""
    start = datetime.combine(day, time.min, zone)
    issued, used, discount = await repo.day_figures(session, start, start + timedelta(days=1), scope)
    return DayStatsOut(day=day, issued=issued, used=used, discount_given=discount)


async def page_my_coupons(session: AsyncSession, user_id: int, paging: PageParams, now: datetime,
                          status: CouponStatus | None, expiring_within_days: int | None) -> dict:
    """A buyer's coupons, newest first; with `expiring_within_days`, those ending by then, soonest first."""
    ending = now + timedelta(days=expiring_within_days) if expiring_within_days else None
    return to_page(CouponOut, await repo.page_user_coupons(session, user_id, status, paging, ending), paging)


async def coupon_summary(session: AsyncSession, user_id: int, now: datetime,
                         expiring_within_days: int) -> CouponSummaryOut:
    """Badge counts: unused coupons, and those among them ending within the days asked."""
    ending = now + timedelta(days=expiring_within_days)
    return CouponSummaryOut(unused=await repo.count_unused(session, user_id, now),
                            expiring_soon=await repo.count_unused(session, user_id, now, ending),
                            expiring_within_days=expiring_within_days)


async def lookup_templates(session: AsyncSession, template_ids: list[int]) -> TemplateLookupOut:
    """The templates of those ids that exist, by id (a missing id is simply absent)."""
    found = await repo.templates_by_ids(session, list(dict.fromkeys(template_ids)))
    return TemplateLookupOut(templates=[TemplateBriefOut.model_validate(t) for t in found])


async def page_codes(session: AsyncSession, template_id: int, redeemed: bool | None, paging: PageParams) -> dict:
    return to_page(CodeOut, await repo.page_codes(session, template_id, redeemed, paging), paging)


async def export_codes(session: AsyncSession, template_id: int) -> str:
    """Every code of a template as CSV text (to print or mail out)."""
    return codes_csv(await repo.all_codes(session, template_id))


def codes_csv(codes: Sequence[CouponCode]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CODES_CSV_HEADER)
    for code in codes:
        writer.writerow([code.code, code.redeemed_by or "", code.redeemed_at.isoformat() if code.redeemed_at else "",
                         code.coupon_id or ""])
    return out.getvalue()
