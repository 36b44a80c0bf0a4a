"""Use cases that own their transactions (the rest flush and the request or the consumer runner
commits):

- a checkout's hold runs again after a deadlock, so it opens its own transaction instead of
  using the request's;
- a write to a template (create, edit, status, delete) or a recall (its stock returns) is
  committed, then Redis's gate of the template is rebuilt from the database and this process's
  cached terms forgotten (rush.py): a reload must read what was committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.coupon import lifecycle
from services.coupon.flows.rush import Rush
from services.coupon.models import Coupon, CouponTemplate
from shared.db import in_transaction


async def hold_for_order(sessions: async_sessionmaker[AsyncSession], order_id: int, user_id: int,
                         coupons: dict[int, int | None], now: datetime, hold_seconds: int) -> list[Coupon]:
    """`lifecycle.hold` in a transaction of its own. Two holds of one order for two sets at the
    same time each wait for the other's rows to give them back, a deadlock MySQL ends by rolling
    one back; that one runs again, sees the other's holds committed and replaces them."""
    return await in_transaction(sessions, lambda session: lifecycle.hold(session, order_id, user_id, coupons, now,
                                                                         hold_seconds))


async def write_template(rush: Rush, work: Callable[[AsyncSession], Awaitable[CouponTemplate]]) -> CouponTemplate:
    """`work` (a service.py template write) committed, then Redis and the cache follow."""
    async with rush.sessions() as session, session.begin():
        template = await work(session)
    await rush.written(template.id)
    return template


async def delete_template(rush: Rush, template_id: int, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    async with rush.sessions() as session, session.begin():
        await work(session)
    await rush.written(template_id)


async def recall(rush: Rush, coupon_id: int, by: str, reason: str, now: datetime) -> Coupon:
    """`lifecycle.recall` committed; the stock it returns reaches Redis."""
    async with rush.sessions() as session, session.begin():
        coupon = await lifecycle.recall(session, coupon_id, by, reason, now)
    await rush.written(coupon.template_id)
    return coupon
