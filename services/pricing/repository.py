"""Every query of the pricing service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.calculator import ProductScope
from services.pricing.models import Checkout, DiscountActivity, DiscountProduct, Mutex, RewardActivity, RewardScope
from shared.enums import CommonStatus
from shared.pagination import PageParams, fetch_page

Activity = DiscountActivity | RewardActivity


@dataclass(frozen=True)
class ActivityFilter:
    name: str | None = None
    status: int | None = None
    running_at: datetime | None = None  # only activities whose window includes this time


async def has_any_discount(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(exists().where(DiscountActivity.id > 0))))


async def lock(session: AsyncSession, name: str) -> None:
    """Serializes conflict checks of one activity kind until the transaction ends."""
    if await session.scalar(select(Mutex.name).where(Mutex.name == name).with_for_update()) is None:
        raise RuntimeError(f"pricing_mutex row {name!r} is missing: run the pricing migrations")


async def get_activity(session: AsyncSession, model: type[Activity], activity_id: int, *,
                       for_update: bool = False) -> Activity | None:
    query = select(model).where(model.id == activity_id).execution_options(populate_existing=True)
    return await session.scalar(query.with_for_update() if for_update else query)


async def page_activities(session: AsyncSession, model: type[Activity], paging: PageParams,
                          f: ActivityFilter) -> tuple[list, int]:
    query = select(model).order_by(model.id.desc())
    if f.name:
        query = query.where(model.name.contains(f.name, autoescape=True))
    if f.status is not None:
        query = query.where(model.status == f.status)
    if f.running_at is not None:
        query = query.where(model.start_time <= f.running_at, model.end_time > f.running_at)
    return await fetch_page(session, query, paging)


async def delete_activity(session: AsyncSession, activity: Activity) -> None:
    child = DiscountProduct if isinstance(activity, DiscountActivity) else RewardScope
    await session.execute(delete(child).where(child.activity_id == activity.id))
    await session.delete(activity)


# --- limited-time discounts -----------------------------------------------------------------------

async def discount_products(session: AsyncSession, activity_ids: Sequence[int]) -> dict[int, list[DiscountProduct]]:
    rows = (await session.scalars(select(DiscountProduct).where(DiscountProduct.activity_id.in_(activity_ids))
                                  .order_by(DiscountProduct.id))).all()
    by_activity: dict[int, list[DiscountProduct]] = {activity_id: [] for activity_id in activity_ids}
    for row in rows:
        by_activity[row.activity_id].append(row)
    return by_activity


async def replace_discount_products(session: AsyncSession, activity_id: int, products: list[DiscountProduct]) -> None:
    await session.execute(delete(DiscountProduct).where(DiscountProduct.activity_id == activity_id))
    session.add_all(products)


async def discount_sku_conflicts(session: AsyncSession, sku_ids: Sequence[int], start: datetime, end: datetime,
                                 exclude_id: int | None) -> list[tuple[int, str]]:
    """(sku_id, other activity name) for SKUs already in an enabled activity whose window overlaps."""
    query = (select(DiscountProduct.sku_id, DiscountActivity.name)
             .join(DiscountActivity, DiscountActivity.id == DiscountProduct.activity_id)
             .where(DiscountProduct.sku_id.in_(sku_ids), DiscountActivity.status == CommonStatus.ENABLED,
                    DiscountActivity.start_time < end, DiscountActivity.end_time > start)
             .order_by(DiscountProduct.sku_id))
    if exclude_id is not None:
        query = query.where(DiscountActivity.id != exclude_id)
    return [(sku_id, name) for sku_id, name in await session.execute(query)]


# Quotes run these two on every cart: built once with expanding parameters, so each call only
# binds values (building the expression per call cost more than running it).
RUNNING_DISCOUNTS = (
    select(DiscountProduct.sku_id, DiscountProduct.activity_id, DiscountProduct.discount_type,
           DiscountProduct.amount_off, DiscountProduct.pay_bp, DiscountActivity.name, DiscountActivity.end_time)
    .join(DiscountActivity, DiscountActivity.id == DiscountProduct.activity_id)
    .where(DiscountProduct.sku_id.in_(bindparam("sku_ids", expanding=True)),
           DiscountActivity.status == CommonStatus.ENABLED,
           DiscountActivity.start_time <= bindparam("now"), DiscountActivity.end_time > bindparam("now"))
    .order_by(DiscountProduct.activity_id))


async def running_discounts(session: AsyncSession, sku_ids: Sequence[int], now: datetime) -> list[tuple]:
    """The discount offers running now on these SKUs, one statement: (sku_id, activity_id,
    discount_type, amount_off, pay_bp, activity name, activity end), plain rows."""
    return list(await session.execute(RUNNING_DISCOUNTS, {"sku_ids": list(sku_ids), "now": now}))


# --- spend-and-save -------------------------------------------------------------------------------

def scope_rows(activity_id: int, scope: ProductScope, values: Sequence[int]) -> list[RewardScope]:
    if scope is ProductScope.ALL:
        return [RewardScope(activity_id=activity_id, kind=int(scope), value=0)]
    return [RewardScope(activity_id=activity_id, kind=int(scope), value=v) for v in values]


async def replace_reward_scope(session: AsyncSession, activity: RewardActivity) -> None:
    await session.execute(delete(RewardScope).where(RewardScope.activity_id == activity.id))
    session.add_all(scope_rows(activity.id, ProductScope(activity.product_scope), activity.product_scope_values))


async def enabled_rewards_overlapping(session: AsyncSession, start: datetime, end: datetime,
                                      exclude_id: int | None) -> Sequence[RewardActivity]:
    query = (select(RewardActivity).where(RewardActivity.status == CommonStatus.ENABLED,
                                          RewardActivity.start_time < end, RewardActivity.end_time > start)
             .order_by(RewardActivity.id))
    if exclude_id is not None:
        query = query.where(RewardActivity.id != exclude_id)
    return (await session.scalars(query)).all()


RUNNING_REWARDS = (
    select(RewardActivity.id, RewardActivity.version, RewardActivity.end_time)
    .where(RewardActivity.id.in_(select(RewardScope.activity_id).where(or_(
               RewardScope.kind == ProductScope.ALL,
               (RewardScope.kind == ProductScope.SPU) & RewardScope.value.in_(bindparam("spu_ids", expanding=True)),
               (RewardScope.kind == ProductScope.CATEGORY)
               & RewardScope.value.in_(bindparam("category_ids", expanding=True))))),
           RewardActivity.status == CommonStatus.ENABLED,
           RewardActivity.start_time <= bindparam("now"), RewardActivity.end_time > bindparam("now"))
    .order_by(RewardActivity.id))


async def running_rewards(session: AsyncSession, spu_ids: Sequence[int], category_ids: Sequence[int],
                          now: datetime) -> list:
    """(id, version, end_time) of the enabled, running activities whose scope touches any of
    these SPUs or categories: one statement."""
    return list(await session.execute(RUNNING_REWARDS, {"spu_ids": list(spu_ids),
                                                        "category_ids": list(category_ids), "now": now}))


async def rewards_by_ids(session: AsyncSession, ids: Sequence[int]) -> list:
    """Rows with what a rule needs: id, version, name, condition_type, product_scope,
    product_scope_values, levels."""
    return list(await session.execute(
        select(RewardActivity.id, RewardActivity.version, RewardActivity.name, RewardActivity.condition_type,
               RewardActivity.product_scope, RewardActivity.product_scope_values, RewardActivity.levels)
        .where(RewardActivity.id.in_(ids))))


# --- checkout -------------------------------------------------------------------------------------

async def get_checkout(session: AsyncSession, order_id: int, *, for_update: bool = False) -> Checkout | None:
    query = select(Checkout).where(Checkout.order_id == order_id).execution_options(populate_existing=True)
    return await session.scalar(query.with_for_update() if for_update else query)


async def set_checkout_status(session: AsyncSession, order_id: int, status: int, now: datetime,
                              only_from: Sequence[int]) -> bool:
    result = await session.execute(
        update(Checkout).where(Checkout.order_id == order_id, Checkout.status.in_(only_from))
        .values(status=status, updated_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1
