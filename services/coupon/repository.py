"""Every query of the coupon service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.coupon.domain import UNLIMITED, CouponStatus, TakeType
from services.coupon.models import Coupon, CouponCode, CouponTemplate
from services.coupon.outcomes import counts_against_the_limit
from shared.enums import CommonStatus
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import PageParams, fetch_page


@dataclass(frozen=True)
class TemplateFilter:
    name: str | None = None
    status: int | None = None
    discount_type: int | None = None
    take_type: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def get_template(session: AsyncSession, template_id: int) -> CouponTemplate | None:
    return await session.get(CouponTemplate, template_id)


async def get_template_for_update(session: AsyncSession, template_id: int) -> CouponTemplate | None:
    """Locks the template row: every issue of one template runs one after the other."""
    return await session.scalar(select(CouponTemplate).where(CouponTemplate.id == template_id)
                                .with_for_update().execution_options(populate_existing=True))


async def page_templates(session: AsyncSession, paging: PageParams, f: TemplateFilter,
                         scope: OwnerScope = EVERYTHING) -> tuple[Sequence[CouponTemplate], int]:
    query = select(CouponTemplate).where(scope.where(CouponTemplate.business_id)).order_by(CouponTemplate.id.desc())
    if f.name:
        query = query.where(CouponTemplate.name.contains(f.name, autoescape=True))
    for column, value in ((CouponTemplate.status, f.status), (CouponTemplate.discount_type, f.discount_type),
                          (CouponTemplate.take_type, f.take_type)):
        if value is not None:
            query = query.where(column == value)
    if f.created_from is not None:
        query = query.where(CouponTemplate.created_at >= f.created_from)
    if f.created_to is not None:
        query = query.where(CouponTemplate.created_at < f.created_to)
    return await fetch_page(session, query, paging)


# The per-user limit counts every coupon received, recalled ones too; a revoked reward does not.
COUNTED = Coupon.status.in_([status for status in CouponStatus if counts_against_the_limit(status)])


async def count_issued_to_user(session: AsyncSession, template_id: int, user_id: int) -> int:
    """Coupons of the template the user received, used or not, recalled too, not revoked (the
    per-user limit). A locking read: it sees every committed take, whatever snapshot the
    transaction already has."""
    return await session.scalar(select(func.count()).select_from(Coupon)
                                .where(Coupon.template_id == template_id, Coupon.user_id == user_id, COUNTED)
                                .with_for_update()) or 0


async def counts_taken_by_users(session: AsyncSession, template_id: int, user_ids: list[int]) -> dict[int, int]:
    """`count_issued_to_user` for several users at once (a locking read, the template row locked
    before it): user -> coupons of the template that count against the limit."""
    rows = await session.execute(select(Coupon.user_id, func.count()).where(
        Coupon.template_id == template_id, Coupon.user_id.in_(user_ids), COUNTED)
        .group_by(Coupon.user_id).with_for_update())
    return {user_id: count for user_id, count in rows}


async def take_counts(session: AsyncSession, template_id: int) -> dict[int, int]:
    """user -> coupons of the template that count against the limit, for every user (Redis's
    per-user counts are derived from it)."""
    rows = await session.execute(select(Coupon.user_id, func.count()).where(Coupon.template_id == template_id, COUNTED)
                                 .group_by(Coupon.user_id))
    return {user_id: count for user_id, count in rows}


async def template_has_open_coupons(session: AsyncSession, template_id: int) -> bool:
    """Coupons of the template still to be used: unused, or held by an unpaid order."""
    return bool(await session.scalar(select(exists().where(
        Coupon.template_id == template_id, Coupon.status.in_([CouponStatus.UNUSED, CouponStatus.HELD])))))


async def add_take_count_if_stock(session: AsyncSession, template_id: int, count: int) -> bool:
    """The database's own guard against over-issue: stock is taken in one conditional statement."""
    result = await session.execute(
        update(CouponTemplate)
        .where(CouponTemplate.id == template_id,
               or_(CouponTemplate.total_count == UNLIMITED,
                   CouponTemplate.take_count + count <= CouponTemplate.total_count))
        .values(take_count=CouponTemplate.take_count + count).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def templates_by_ids(session: AsyncSession, template_ids: list[int]) -> Sequence[CouponTemplate]:
    return (await session.scalars(select(CouponTemplate).where(CouponTemplate.id.in_(template_ids))
                                  .order_by(CouponTemplate.id))).all()


async def takeable_templates(session: AsyncSession, now: datetime, limit: int = 500) -> Sequence[CouponTemplate]:
    """The coupon center: enabled self-take templates, not past their end, with stock left."""
    return (await session.scalars(select(CouponTemplate).where(
        CouponTemplate.status == CommonStatus.ENABLED, CouponTemplate.take_type == TakeType.USER,
        or_(CouponTemplate.valid_end.is_(None), CouponTemplate.valid_end > now),
        or_(CouponTemplate.total_count == UNLIMITED, CouponTemplate.take_count < CouponTemplate.total_count))
        .order_by(CouponTemplate.id.desc()).limit(limit))).all()


async def gated_template_ids(session: AsyncSession, now: datetime) -> Sequence[int]:
    """Templates whose takes go through Redis that may still be taken: enabled, self-take, not past their end."""
    return (await session.scalars(select(CouponTemplate.id).where(
        CouponTemplate.status == CommonStatus.ENABLED, CouponTemplate.take_type == TakeType.USER,
        or_(CouponTemplate.valid_end.is_(None), CouponTemplate.valid_end > now)).order_by(CouponTemplate.id))).all()


async def counts_issued_to_user(session: AsyncSession, user_id: int, template_ids: list[int]) -> dict[int, int]:
    rows = await session.execute(select(Coupon.template_id, func.count()).where(
        Coupon.user_id == user_id, Coupon.template_id.in_(template_ids), COUNTED).group_by(Coupon.template_id))
    return {template_id: count for template_id, count in rows}


async def count_unused(session: AsyncSession, user_id: int, now: datetime,
                       ending_before: datetime | None = None) -> int:
    query = select(func.count()).select_from(Coupon).where(
        Coupon.user_id == user_id, Coupon.status == CouponStatus.UNUSED, Coupon.valid_end > now)
    if ending_before is not None:
        query = query.where(Coupon.valid_end <= ending_before)
    return await session.scalar(query) or 0


async def page_user_coupons(session: AsyncSession, user_id: int, status: CouponStatus | None,
                            paging: PageParams, ending_before: datetime | None = None) -> tuple[Sequence[Coupon], int]:
    query = select(Coupon).where(Coupon.user_id == user_id).order_by(Coupon.id.desc())
    if status is not None:
        query = query.where(Coupon.status == status)
    if ending_before is not None:
        query = query.where(Coupon.valid_end <= ending_before).order_by(None).order_by(Coupon.valid_end, Coupon.id)
    return await fetch_page(session, query, paging)


async def insert_coupons(session: AsyncSession, rows: list[dict]) -> list[int]:
    """Coupons as plain rows in one statement (a batch of takes); their ids in the rows' order."""
    inserted = await session.execute(insert(Coupon.__table__).returning(Coupon.id, sort_by_parameter_order=True),
                                     rows)
    return list(inserted.scalars().all())


# --- system issues ------------------------------------------------------------------------------

async def existing_issue_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    return set((await session.scalars(select(Coupon.issue_key).where(Coupon.issue_key.in_(keys)))).all())


async def enabled_template_ids(session: AsyncSession, take_type: int) -> Sequence[int]:
    return (await session.scalars(select(CouponTemplate.id).where(CouponTemplate.take_type == take_type,
                                                                  CouponTemplate.status == CommonStatus.ENABLED)
                                  .order_by(CouponTemplate.id))).all()


async def add_use_count(session: AsyncSession, template_id: int, delta: int) -> None:
    await session.execute(update(CouponTemplate).where(CouponTemplate.id == template_id)
                          .values(use_count=CouponTemplate.use_count + delta)
                          .execution_options(synchronize_session=False))


async def give_back_stock(session: AsyncSession, template_id: int, count: int) -> None:
    await session.execute(update(CouponTemplate).where(CouponTemplate.id == template_id)
                          .values(take_count=CouponTemplate.take_count - count)
                          .execution_options(synchronize_session=False))


async def page_coupons(session: AsyncSession, paging: PageParams, *, user_id: int | None, template_id: int | None,
                       status: CouponStatus | None, scope: OwnerScope = EVERYTHING) -> tuple[Sequence[Coupon], int]:
    query = select(Coupon).where(scope.where(Coupon.business_id)).order_by(Coupon.id.desc())
    for column, value in ((Coupon.user_id, user_id), (Coupon.template_id, template_id), (Coupon.status, status)):
        if value is not None:
            query = query.where(column == value)
    return await fetch_page(session, query, paging)


async def template_figures(session: AsyncSession, template_id: int) -> dict[int, tuple[int, int, int]]:
    """Per coupon status: (coupons, their discounts in fen as their checkouts said, distinct orders)."""
    rows = await session.execute(
        select(Coupon.status, func.count(), func.coalesce(func.sum(Coupon.use_discount), 0),
               func.count(distinct(Coupon.use_order_id)))
        .where(Coupon.template_id == template_id).group_by(Coupon.status))
    return {status: (count, int(discount), orders) for status, count, discount, orders in rows}


async def day_figures(session: AsyncSession, start: datetime, end: datetime,
                      scope: OwnerScope) -> tuple[int, int, int]:
    """Coupons issued in [start, end), coupons used by orders paid in it, and those orders' discount."""
    issued = await session.scalar(select(func.count()).select_from(Coupon).where(
        Coupon.created_at >= start, Coupon.created_at < end, scope.where(Coupon.business_id)))
    used, discount = (await session.execute(
        select(func.count(), func.coalesce(func.sum(Coupon.use_discount), 0)).where(
            Coupon.status == CouponStatus.USED, Coupon.used_at >= start, Coupon.used_at < end,
            scope.where(Coupon.business_id)))).one()
    return int(issued or 0), int(used), int(discount)


# --- codes ----------------------------------------------------------------------------------------

async def existing_codes(session: AsyncSession, codes: set[str]) -> set[str]:
    return set((await session.scalars(select(CouponCode.code).where(CouponCode.code.in_(codes)))).all())


async def get_code_for_update(session: AsyncSession, code: str) -> CouponCode | None:
    return await session.scalar(select(CouponCode).where(CouponCode.code == code).with_for_update()
                                .execution_options(populate_existing=True))


async def page_codes(session: AsyncSession, template_id: int, redeemed: bool | None,
                     paging: PageParams) -> tuple[Sequence[CouponCode], int]:
    return await fetch_page(session, _codes_query(template_id, redeemed), paging)


async def all_codes(session: AsyncSession, template_id: int, limit: int = 100_000) -> Sequence[CouponCode]:
    return (await session.scalars(_codes_query(template_id, None).limit(limit))).all()


def _codes_query(template_id: int, redeemed: bool | None):
    query = select(CouponCode).where(CouponCode.template_id == template_id).order_by(CouponCode.id)
    if redeemed is not None:
        query = query.where(CouponCode.redeemed_at.is_not(None) if redeemed else CouponCode.redeemed_at.is_(None))
    return query


async def has_any_template(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(exists().where(CouponTemplate.id.is_not(None)))))
