"""Use cases that own their transactions (the only ones of the coupon service; the rest flush and
the request or the consumer runner commits). A checkout's hold runs again after a deadlock, so
it opens its own transaction instead of using the request's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.coupon import lifecycle
from services.coupon.models import Coupon
from shared.db import in_transaction


async def hold_for_order(sessions: async_sessionmaker[AsyncSession], order_id: int, user_id: int, coupon_id: int,
                         now: datetime, hold_seconds: int) -> Coupon:
    """`lifecycle.hold` in a transaction of its own. Two holds of one order for two coupons at the
    same time each wait for the other's row to give it back, a deadlock MySQL ends by rolling one
    back; that one runs again, sees the other's hold committed and replaces it."""
    return await in_transaction(sessions, lambda session: lifecycle.hold(session, order_id, user_id, coupon_id, now,
                                                                         hold_seconds))
