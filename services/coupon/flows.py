"""Use cases that own their transactions (the only ones of the coupon service; the rest flush and
the request or the consumer runner commits). A checkout's hold runs again after a deadlock, so
it opens its own transaction instead of using the request's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.coupon import lifecycle
from services.coupon.models import Coupon
from shared.db import in_transaction


async def hold_for_order(sessions: async_sessionmaker[AsyncSession], order_id: int, user_id: int,
                         coupons: dict[int, int | None], now: datetime, hold_seconds: int) -> list[Coupon]:
    """`lifecycle.hold` in a transaction of its own. Two holds of one order for two sets at the
    same time each wait for the other's rows to give them back, a deadlock MySQL ends by rolling
    one back; that one runs again, sees the other's holds committed and replaces them."""
    return await in_transaction(sessions, lambda session: lifecycle.hold(session, order_id, user_id, coupons, now,
                                                                         hold_seconds))
