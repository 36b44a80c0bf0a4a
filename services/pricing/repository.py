"""Every query of the pricing service."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, TextClause, bindparam, delete, exists, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util import greenlet_spawn

from services.pricing.models import Checkout, DiscountActivity, DiscountProduct, Mutex, RewardActivity
from shared.db import take_mutex
from shared.enums import CommonStatus
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import PageParams, fetch_page

Activity = DiscountActivity | RewardActivity


@dataclass(frozen=True)
class ActivityFilter:
    name: str | None = None
    status: int | None = None
    running_at: datetime | None = None  # only activities whose window includes this time
    owner: OwnerScope = EVERYTHING  # whose activities (a merchant: its own only)


async def has_any_discount(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(exists().where(DiscountActivity.id > 0))))


async def touch(session: AsyncSession, kind: str) -> None:
    """Bumps the kind's version, so quotes reload its promotions once this transaction commits.
    The row stays locked until then, which also puts conflict checks of one kind in a line."""
    await take_mutex(session, Mutex.__table__, kind)


# Every quote runs it: a Core statement on the table (no ORM compile or loading step; measured
# against the ORM select in bench/results/pricing.md), read as plain tuples.
CATALOG_VERSIONS = select(Mutex.__table__.c.name, Mutex.__table__.c.version)


async def catalog_versions(session: AsyncSession) -> dict[str, int]:
    return dict((await session.execute(CATALOG_VERSIONS)).all())


def _read_catalog_versions(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(CATALOG_VERSIONS).all())


async def read_catalog_versions(engine: AsyncEngine) -> dict[str, int]:
    """`catalog_versions` on a connection of its own: checkout, statement and return in one step of
    SQLAlchemy's bridge to its synchronous core (greenlet_spawn), not a session's several."""
    return await greenlet_spawn(_read_catalog_versions, engine.sync_engine)


async def get_activity(session: AsyncSession, model: type[Activity], activity_id: int, *,
                       for_update: bool = False) -> Activity | None:
    query = select(model).where(model.id == activity_id).execution_options(populate_existing=True)
    return await session.scalar(query.with_for_update() if for_update else query)


async def page_activities(session: AsyncSession, model: type[Activity], paging: PageParams,
                          f: ActivityFilter) -> tuple[list, int]:
    query = select(model).where(f.owner.where(model.business_id)).order_by(model.id.desc())
    if f.name:
        query = query.where(model.name.contains(f.name, autoescape=True))
    if f.status is not None:
        query = query.where(model.status == f.status)
    if f.running_at is not None:
        query = query.where(model.start_at <= f.running_at, model.end_at > f.running_at)
    return await fetch_page(session, query, paging)


async def delete_activity(session: AsyncSession, activity: Activity) -> None:
    if isinstance(activity, DiscountActivity):
        await session.execute(delete(DiscountProduct).where(DiscountProduct.activity_id == activity.id))
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
                                 exclude_id: int | None) -> list[tuple[int, int, str, int | None]]:
    """(sku_id, other activity's id, name and owner) for SKUs already in an enabled activity whose
    window overlaps, whoever owns it (conflicts are global)."""
    query = (select(DiscountProduct.sku_id, DiscountActivity.id, DiscountActivity.name, DiscountActivity.business_id)
             .join(DiscountActivity, DiscountActivity.id == DiscountProduct.activity_id)
             .where(DiscountProduct.sku_id.in_(sku_ids), DiscountActivity.status == CommonStatus.ENABLED,
                    DiscountActivity.start_at < end, DiscountActivity.end_at > start)
             .order_by(DiscountProduct.sku_id))
    if exclude_id is not None:
        query = query.where(DiscountActivity.id != exclude_id)
    return [(sku_id, other_id, name, owner) for sku_id, other_id, name, owner in await session.execute(query)]


async def unended_discounts(session: AsyncSession, now: datetime) -> list[tuple]:
    """Every SKU offer of the enabled activities that have not ended, whoever owns them, lowest
    activity id first: (sku_id, activity_id, discount_type, amount_off, pay_bp, name, start_at,
    end_at, business_id)."""
    return list(await session.execute(
        select(DiscountProduct.sku_id, DiscountProduct.activity_id, DiscountProduct.discount_type,
               DiscountProduct.amount_off, DiscountProduct.pay_bp, DiscountActivity.name,
               DiscountActivity.start_at, DiscountActivity.end_at, DiscountActivity.business_id)
        .join(DiscountActivity, DiscountActivity.id == DiscountProduct.activity_id)
        .where(DiscountActivity.status == CommonStatus.ENABLED, DiscountActivity.end_at > now)
        .order_by(DiscountProduct.activity_id, DiscountProduct.id)))


# --- spend-and-save -------------------------------------------------------------------------------

async def enabled_rewards_overlapping(session: AsyncSession, start: datetime, end: datetime,
                                      exclude_id: int | None, owner: int | None) -> Sequence[RewardActivity]:
    """`owner`'s enabled spend-and-save activities (the platform's for None) running in the window."""
    owned = RewardActivity.business_id.is_(None) if owner is None else RewardActivity.business_id == owner
    query = (select(RewardActivity).where(RewardActivity.status == CommonStatus.ENABLED, owned,
                                          RewardActivity.start_at < end, RewardActivity.end_at > start)
             .order_by(RewardActivity.id))
    if exclude_id is not None:
        query = query.where(RewardActivity.id != exclude_id)
    return (await session.scalars(query)).all()


async def unended_rewards(session: AsyncSession, now: datetime) -> list:
    """The enabled activities that have not ended, whoever owns them, with what a rule needs (its
    owner too: a merchant's touches its own lines only)."""
    return list(await session.execute(
        select(RewardActivity.id, RewardActivity.name, RewardActivity.condition_type, RewardActivity.product_scope,
               RewardActivity.product_scope_values, RewardActivity.levels, RewardActivity.start_at,
               RewardActivity.end_at, RewardActivity.business_id)
        .where(RewardActivity.status == CommonStatus.ENABLED, RewardActivity.end_at > now)
        .order_by(RewardActivity.id)))


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


def _applied(session: AsyncSession, kind: str, activity_id: int) -> ColumnElement[bool] | TextClause:
    """Checkouts whose priced result lists this promotion as applied (`result.promotions`)."""
    if session.get_bind().dialect.name == "mysql":
        candidate = json.dumps({"kind": kind, "id": activity_id, "applied": True})
        return func.json_contains(Checkout.result, bindparam("candidate", candidate), "$.promotions") == 1
    return text(
        "EXISTS (SELECT 1 FROM json_each(pricing_checkout.result, '$.promotions') AS p "
        "WHERE json_extract(p.value, '$.kind') = :kind AND json_extract(p.value, '$.id') = :activity_id "
        "AND json_extract(p.value, '$.applied') = 1)").bindparams(kind=kind, activity_id=activity_id)


async def checkouts_applying(session: AsyncSession, kind: str, activity_id: int) -> list[tuple[int, dict]]:
    """(status, priced result) of every checkout that applied the activity. A scan of the
    checkouts: fine for an operator's figures, not for a hot path."""
    rows = await session.execute(select(Checkout.status, Checkout.result)
                                 .where(_applied(session, kind, activity_id)))
    return [(status, result) for status, result in rows]
