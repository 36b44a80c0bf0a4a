"""Queries of an issued coupon's life with orders: holds, payments (on time or late), releases,
cancelled orders, the revocation of an order's rewards (the rest is in repository.py). Every
change of a coupon's status is one conditional statement, or made on rows this transaction locked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.coupon.domain import IN_USE, CouponStatus
from services.coupon.models import CancelledOrder, Coupon

# --- cancelled orders ------------------------------------------------------------------------------


async def is_cancelled(session: AsyncSession, order_id: int) -> bool:
    """A locking read: a cancel being written for the order is waited for, and (MySQL's gap lock)
    a cancel cannot be written until this transaction ends, so a hold or a payment and the cancel
    of one order never overlap. Also sees cancels committed after this transaction's snapshot."""
    return await session.scalar(select(CancelledOrder.order_id).where(CancelledOrder.order_id == order_id)
                                .with_for_update(read=True)) is not None


async def record_cancelled(session: AsyncSession, order_id: int, at: datetime) -> None:
    """Once per order, whatever the redeliveries (an existing row is left as it is)."""
    await session.execute(insert(CancelledOrder).values(order_id=order_id, cancelled_at=at)
                          .prefix_with("IGNORE", dialect="mysql").prefix_with("OR IGNORE", dialect="sqlite"))


# --- holds ------------------------------------------------------------------------------------------

async def owners_of(session: AsyncSession, coupon_ids: list[int]) -> dict[int, int | None]:
    """The owner (`business_id`) of each of these coupons that exists: it never changes."""
    rows = await session.execute(select(Coupon.id, Coupon.business_id).where(Coupon.id.in_(coupon_ids)))
    return {coupon_id: business_id for coupon_id, business_id in rows}


async def hold_if_unused(session: AsyncSession, coupon_id: int, user_id: int, order_id: int, now: datetime,
                         until: datetime, discount: int | None = None) -> bool:
    """Unused and valid now -> held by the order, in one statement: two orders cannot both win.
    `discount`: what it takes off the order, as the checkout said (None: not said)."""
    result = await session.execute(
        update(Coupon).where(Coupon.id == coupon_id, Coupon.user_id == user_id, Coupon.status == CouponStatus.UNUSED,
                             Coupon.valid_start <= now, Coupon.valid_end > now)
        .values(status=CouponStatus.HELD, use_order_id=order_id, hold_expires_at=until, use_discount=discount,
                updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def extend_hold(session: AsyncSession, coupon_id: int, user_id: int, order_id: int, now: datetime,
                      until: datetime, discount: int | None = None) -> bool:
    """The order asks again for a coupon it holds: the hold runs from now (never answered due),
    with the discount the checkout says this time."""
    result = await session.execute(
        update(Coupon).where(Coupon.id == coupon_id, Coupon.user_id == user_id, Coupon.status == CouponStatus.HELD,
                             Coupon.use_order_id == order_id)
        .values(hold_expires_at=until, use_discount=discount, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _released(now: datetime, by_order: int | None = None) -> dict:
    """A coupon an order gives back: unused while still valid, else expired (domain.released_status).
    `by_order`: the order whose hold ended unpaid, remembered for its late payment (otherwise the
    order remembered on it, if any, stays)."""
    values = dict(status=case((Coupon.valid_end > now, CouponStatus.UNUSED), else_=CouponStatus.EXPIRED),
                  use_order_id=None, used_at=None, hold_expires_at=None, updated_at=now)
    # The discount the order said stays while the order is remembered (its late payment uses it).
    return {**values, "use_discount": None} if by_order is None else {**values, "released_order_id": by_order}


async def release_other_holds(session: AsyncSession, order_id: int, keep_coupon_ids: list[int], now: datetime) -> int:
    """The order's holds on coupons other than `keep_coupon_ids` go back (a retried checkout chose others)."""
    result = await session.execute(
        update(Coupon).where(Coupon.use_order_id == order_id, Coupon.status == CouponStatus.HELD,
                             Coupon.id.not_in(keep_coupon_ids))
        .values(**_released(now)).execution_options(synchronize_session=False))
    return result.rowcount


async def forget_released(session: AsyncSession, order_id: int, coupon_id: int | None = None) -> int:
    """The order no longer claims the coupon(s) it was remembered on (`coupon_id`: that one only)."""
    query = update(Coupon).where(Coupon.released_order_id == order_id)
    if coupon_id is not None:
        query = query.where(Coupon.id == coupon_id)
    result = await session.execute(query.values(released_order_id=None).execution_options(synchronize_session=False))
    return result.rowcount


async def release_held(session: AsyncSession, order_id: int, now: datetime) -> int:
    """A failed checkout: the order's HELD coupons go back. A USED one (paid) is never touched."""
    result = await session.execute(
        update(Coupon).where(Coupon.use_order_id == order_id, Coupon.status == CouponStatus.HELD)
        .values(**_released(now)).execution_options(synchronize_session=False))
    return result.rowcount


async def expired_holds(session: AsyncSession, now: datetime, limit: int = 500) -> Sequence[tuple[int, int]]:
    """(coupon id, order id) of holds past their time. A plain read: each release re-checks."""
    return (await session.execute(select(Coupon.id, Coupon.use_order_id).where(
        Coupon.status == CouponStatus.HELD, Coupon.hold_expires_at <= now).order_by(Coupon.id).limit(limit))).all()


async def release_expired_hold(session: AsyncSession, coupon_id: int, order_id: int, now: datetime) -> bool:
    """One expired hold goes back, if it is still held by that order and still due (a payment or
    a retried checkout committed meanwhile leaves it alone). The order is remembered."""
    result = await session.execute(
        update(Coupon).where(Coupon.id == coupon_id, Coupon.status == CouponStatus.HELD,
                             Coupon.use_order_id == order_id, Coupon.hold_expires_at <= now)
        .values(**_released(now, by_order=order_id)).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def get_coupon(session: AsyncSession, coupon_id: int, *, for_update: bool = False) -> Coupon | None:
    query = select(Coupon).where(Coupon.id == coupon_id).execution_options(populate_existing=True)
    return await session.scalar(query.with_for_update() if for_update else query)


# --- payments and cancels ----------------------------------------------------------------------------

async def commit_holds(session: AsyncSession, order_id: int, now: datetime) -> Sequence[Coupon]:
    """The order's held coupons become used; returns them (none when already committed)."""
    held = (await session.scalars(select(Coupon).where(Coupon.use_order_id == order_id,
                                                       Coupon.status == CouponStatus.HELD)
                                  .with_for_update().execution_options(populate_existing=True))).all()
    for coupon in held:
        coupon.status, coupon.used_at, coupon.hold_expires_at, coupon.updated_at = CouponStatus.USED, now, None, now
    return held


async def released_to(session: AsyncSession, order_id: int, user_id: int) -> Sequence[Coupon]:
    """The coupons whose hold by the order ended unpaid, locked (one per owner: the order's last set)."""
    return (await session.scalars(select(Coupon).where(Coupon.released_order_id == order_id,
                                                       Coupon.user_id == user_id)
                                  .order_by(Coupon.id).with_for_update()
                                  .execution_options(populate_existing=True))).all()


async def take_for_late_payment(session: AsyncSession, coupon_id: int, order_id: int, paid_at: datetime,
                                now: datetime) -> bool:
    """UNUSED -> USED by the order remembered on it, if valid when paid: one conditional statement."""
    result = await session.execute(
        update(Coupon).where(Coupon.id == coupon_id, Coupon.status == CouponStatus.UNUSED,
                             Coupon.released_order_id == order_id, Coupon.valid_start <= paid_at,
                             Coupon.valid_end > paid_at)
        .values(status=CouponStatus.USED, use_order_id=order_id, used_at=paid_at, released_order_id=None,
                updated_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def release_order(session: AsyncSession, order_id: int, now: datetime) -> Sequence[tuple[int, bool]]:
    """order.cancelled: the order's coupons, held or used, go back: unused while still valid, else
    expired. Returns (template_id, was_used) for each coupon released."""
    taken = (await session.execute(select(Coupon.template_id, Coupon.status)
                                   .where(Coupon.use_order_id == order_id, Coupon.status.in_(IN_USE))
                                   .with_for_update())).all()
    if taken:
        await session.execute(
            update(Coupon).where(Coupon.use_order_id == order_id, Coupon.status.in_(IN_USE))
            .values(**_released(now)).execution_options(synchronize_session=False))
    return [(template_id, status == CouponStatus.USED) for template_id, status in taken]


async def rewards_to_revoke(session: AsyncSession, order_id: int) -> Sequence[Coupon]:
    """The order's reward coupons not used yet (unused, or held by another unpaid order), locked:
    they are about to be revoked; a hold waits for them, and then finds them revoked."""
    return (await session.scalars(select(Coupon).where(Coupon.source_order_id == order_id,
                                                       Coupon.status.in_([CouponStatus.UNUSED, CouponStatus.HELD]))
                                  .order_by(Coupon.id).with_for_update()
                                  .execution_options(populate_existing=True))).all()


async def expire_unused(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        update(Coupon).where(Coupon.status == CouponStatus.UNUSED, Coupon.valid_end <= now)
        .values(status=CouponStatus.EXPIRED, updated_at=now).execution_options(synchronize_session=False))
    return result.rowcount
