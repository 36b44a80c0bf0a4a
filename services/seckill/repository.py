"""Every query of the seckill service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, delete, func, insert, literal, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.seckill.domain import LATE_PAYABLE, ReservationStatus
from services.seckill.models import Activity, Product, Reservation, Slot, UserQuota
from shared import pagination
from shared.db import UTCDateTime
from shared.enums import CommonStatus
from shared.ownership import OwnerScope
from shared.pagination import ActivityFilter, PageParams, fetch_page

# --- slots ----------------------------------------------------------------------------------------


async def all_slots(session: AsyncSession) -> list[Slot]:
    return list((await session.scalars(select(Slot).order_by(Slot.start_time, Slot.id))).all())


async def has_any_slot_or_activity(session: AsyncSession) -> bool:
    return (await session.scalar(select(Slot.id).limit(1)) is not None
            or await session.scalar(select(Activity.id).limit(1)) is not None)


async def get_slot(session: AsyncSession, slot_id: int) -> Slot | None:
    return await session.get(Slot, slot_id)


async def activity_using_slot(session: AsyncSession, slot_id: int) -> Activity | None:
    """An enabled activity that lists the slot (slot ids are a short JSON list: checked here)."""
    for activity in (await session.scalars(select(Activity).where(Activity.status == CommonStatus.ENABLED))).all():
        if slot_id in activity.slot_ids:
            return activity
    return None


# --- activities -----------------------------------------------------------------------------------

async def get_activity(session: AsyncSession, activity_id: int, *, for_update: bool = False) -> Activity | None:
    query = select(Activity).where(Activity.id == activity_id)
    return await session.scalar(query.with_for_update() if for_update else query)


async def page_activities(session: AsyncSession, f: ActivityFilter, scope: OwnerScope,
                          paging: PageParams) -> tuple[list[Activity], int]:
    return await pagination.page_activities(session, Activity, f, paging, scope)


async def enabled_activities_of_spu(session: AsyncSession, spu_id: int, exclude_id: int | None) -> list[Activity]:
    query = select(Activity).where(Activity.spu_id == spu_id, Activity.status == CommonStatus.ENABLED)
    if exclude_id is not None:
        query = query.where(Activity.id != exclude_id)
    return list((await session.scalars(query.order_by(Activity.id))).all())


async def activities_on(session: AsyncSession, day: date) -> list[Activity]:
    """Enabled activities whose dates include `day`."""
    return list((await session.scalars(
        select(Activity).where(Activity.status == CommonStatus.ENABLED, Activity.start_date <= day,
                               Activity.end_date >= day)
        .order_by(Activity.sort.desc(), Activity.id))).all())


async def products_of(session: AsyncSession, activity_ids: Sequence[int]) -> dict[int, list[Product]]:
    rows = (await session.scalars(select(Product).where(Product.activity_id.in_(activity_ids))
                                  .order_by(Product.id))).all()
    found: dict[int, list[Product]] = {activity_id: [] for activity_id in activity_ids}
    for row in rows:
        found[row.activity_id].append(row)
    return found


async def delete_activity(session: AsyncSession, activity: Activity) -> None:
    await session.execute(delete(Product).where(Product.activity_id == activity.id))
    await session.delete(activity)


# --- stock and quotas: the database's guard -------------------------------------------------------

async def take_stock(session: AsyncSession, activity_id: int, sku_id: int, count: int) -> bool:
    result = await session.execute(
        update(Product).where(Product.activity_id == activity_id, Product.sku_id == sku_id, Product.stock >= count)
        .values(stock=Product.stock - count).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def sku_stock(session: AsyncSession, activity_id: int, sku_id: int) -> int | None:
    """What is left now: a locking read, as a plain one answers from the transaction's snapshot,
    which may predate the writes (another replica's) that left the row short."""
    return await session.scalar(select(Product.stock).where(Product.activity_id == activity_id,
                                                            Product.sku_id == sku_id).with_for_update())


async def give_stock_back(session: AsyncSession, activity_id: int, sku_id: int, count: int) -> None:
    await session.execute(
        update(Product).where(Product.activity_id == activity_id, Product.sku_id == sku_id)
        .values(stock=Product.stock + count).execution_options(synchronize_session=False))


async def ensure_quotas(session: AsyncSession, activity_id: int, user_ids: Sequence[int]) -> None:
    """The users' quota rows, made if missing and locked for update, in user order (two writers
    lock them alike). A reservation's update of a missing row would take gap locks, which
    deadlock; so would INSERT IGNORE, which share-locks an existing row that the update then locks
    exclusively: two writers (two replicas) holding the same buyer each wait for the other's
    shared lock. On MySQL the duplicate is "updated" to itself instead, which locks it exclusively
    at once."""
    rows = [{"activity_id": activity_id, "user_id": u, "bought": 0} for u in sorted(user_ids)]
    if session.get_bind().dialect.name == "mysql":
        await session.execute(mysql_insert(UserQuota).values(rows).on_duplicate_key_update(bought=UserQuota.bought))
    else:
        await session.execute(insert(UserQuota).values(rows).prefix_with("OR IGNORE", dialect="sqlite"))


async def add_to_quotas(session: AsyncSession, activity_id: int, by_user: dict[int, int], limit: int) -> bool:
    """Every user's total grows by their count, or (if one would pass `limit`, 0 = none) none does."""
    added = case(by_user, value=UserQuota.user_id)
    query = (update(UserQuota).where(UserQuota.activity_id == activity_id, UserQuota.user_id.in_(list(by_user)))
             .values(bought=UserQuota.bought + added).execution_options(synchronize_session=False))
    if limit:
        query = query.where(UserQuota.bought + added <= limit)
    return (await session.execute(query)).rowcount == len(by_user)


async def take_from_quota(session: AsyncSession, activity_id: int, user_id: int, count: int) -> None:
    await session.execute(
        update(UserQuota).where(UserQuota.activity_id == activity_id, UserQuota.user_id == user_id)
        .values(bought=UserQuota.bought - count).execution_options(synchronize_session=False))


async def quota_of(session: AsyncSession, activity_id: int, user_id: int) -> int:
    """How many the user holds or bought in the activity (0 without a row)."""
    return await session.scalar(select(UserQuota.bought).where(UserQuota.activity_id == activity_id,
                                                                UserQuota.user_id == user_id)) or 0


async def quotas(session: AsyncSession, activity_id: int) -> dict[int, int]:
    rows = await session.execute(select(UserQuota.user_id, UserQuota.bought)
                                 .where(UserQuota.activity_id == activity_id, UserQuota.bought > 0))
    return {user_id: bought for user_id, bought in rows}


async def stock_of(session: AsyncSession, activity_id: int) -> dict[int, int]:
    rows = await session.execute(select(Product.sku_id, Product.stock).where(Product.activity_id == activity_id))
    return {sku_id: stock for sku_id, stock in rows}


# --- reservations ---------------------------------------------------------------------------------

async def reservation_by_token(session: AsyncSession, token: str) -> Reservation | None:
    return await session.scalar(select(Reservation).where(Reservation.token == token))


async def statuses_by_token(session: AsyncSession, tokens: Sequence[str]) -> dict[str, ReservationStatus]:
    if not tokens:
        return {}
    rows = await session.execute(select(Reservation.token, Reservation.status).where(Reservation.token.in_(tokens)))
    return {token: ReservationStatus(status) for token, status in rows}


async def reservation_by_order(session: AsyncSession, order_id: int) -> Reservation | None:
    return await session.scalar(select(Reservation).where(Reservation.order_id == order_id))


async def get_reservation(session: AsyncSession, reservation_id: int) -> Reservation | None:
    return await session.get(Reservation, reservation_id)


async def held_reservations(session: AsyncSession, activity_id: int) -> list[Reservation]:
    return list((await session.scalars(select(Reservation).where(
        Reservation.activity_id == activity_id, Reservation.status == ReservationStatus.HELD))).all())


async def set_status(session: AsyncSession, reservation_id: int, to: ReservationStatus, now: datetime,
                     only_from: Sequence[ReservationStatus] = (ReservationStatus.HELD,)) -> bool:
    """`only_from` -> `to`, once: the caller that gets True does what the change implies."""
    result = await session.execute(
        update(Reservation).where(Reservation.id == reservation_id, Reservation.status.in_(only_from))
        .values(status=to, updated_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def commit(session: AsyncSession, reservation_id: int, paid_at: datetime, now: datetime,
                 only_from: Sequence[ReservationStatus] = (ReservationStatus.HELD,)) -> bool:
    """`only_from` -> committed (paid), once."""
    result = await session.execute(
        update(Reservation).where(Reservation.id == reservation_id, Reservation.status.in_(only_from))
        .values(status=ReservationStatus.COMMITTED, paid_at=paid_at, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def record_cancellation(session: AsyncSession, reservation_id: int, cancelled_at: datetime, paid: bool,
                              now: datetime) -> None:
    """order.cancelled, whatever the reservation's state: the first cancellation stays; one said
    paid marks the payment handled (the order service refunds it; a late order.paid is not taken
    again). Locks the row until the transaction ends, so a late payment waits and then sees it."""
    at = literal(cancelled_at, UTCDateTime())  # stored in UTC whatever its offset, as the columns are
    values: dict = {"cancelled_at": func.coalesce(Reservation.cancelled_at, at), "updated_at": now}
    if paid:
        values["paid_at"] = func.coalesce(Reservation.paid_at, at)
    await session.execute(update(Reservation).where(Reservation.id == reservation_id).values(**values)
                          .execution_options(synchronize_session=False))


async def claim_late_payment(session: AsyncSession, reservation_id: int, paid_at: datetime, now: datetime) -> bool:
    """A payment for a reservation that gave its stock back is handled once: the first caller
    marks it paid (and holds the row until its transaction ends)."""
    result = await session.execute(
        update(Reservation).where(Reservation.id == reservation_id, Reservation.paid_at.is_(None),
                                  Reservation.status.in_(LATE_PAYABLE))
        .values(paid_at=paid_at, updated_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def bind_order(session: AsyncSession, reservation_id: int, order_id: int, now: datetime) -> bool:
    result = await session.execute(
        update(Reservation).where(Reservation.id == reservation_id, Reservation.status == ReservationStatus.HELD,
                                  Reservation.order_id.is_(None), Reservation.expires_at > now)
        .values(order_id=order_id, updated_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def due_reservations(session: AsyncSession, now: datetime, limit: int = 500) -> list[Reservation]:
    return list((await session.scalars(
        select(Reservation).where(Reservation.status == ReservationStatus.HELD, Reservation.expires_at <= now)
        .order_by(Reservation.expires_at).limit(limit))).all())


async def my_reservations(session: AsyncSession, user_id: int, paging: PageParams) -> tuple[list[Reservation], int]:
    return await fetch_page(session, select(Reservation).where(Reservation.user_id == user_id)
                            .order_by(Reservation.id.desc()), paging)


@dataclass(frozen=True)
class Figures:
    reservations: int
    units: int
    amount: int  # fen: price x units


NO_FIGURES = Figures(0, 0, 0)


async def reservation_figures(session: AsyncSession, activity_id: int) -> dict[ReservationStatus, Figures]:
    """The activity's reservations by state: how many, their units and their amount."""
    rows = await session.execute(
        select(Reservation.status, func.count(), func.sum(Reservation.count),
               func.sum(Reservation.count * Reservation.price))
        .where(Reservation.activity_id == activity_id).group_by(Reservation.status))
    return {ReservationStatus(status): Figures(int(n), int(units or 0), int(amount or 0))
            for status, n, units, amount in rows}
