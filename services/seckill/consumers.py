"""Kafka handlers of the seckill service: idempotent (the runner's inbox skips redeliveries, and
each reservation changes state once)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.seckill.context import Seckill
from services.seckill.flows import orders
from shared.consumer import Handler
from shared.events import Envelope, OrderCancelled, OrderPaid


def handlers(seckill: Callable[[], Seckill]) -> dict[str, Handler]:
    """`seckill()` is the app's context once it has started. The reservation's own transactions
    do the work (MySQL, then Redis); the runner's session records the event in the inbox."""

    async def on_order_paid(session: AsyncSession, envelope: Envelope) -> None:
        paid = OrderPaid.model_validate(envelope.data)
        await orders.commit_order(seckill(), paid.order_id, paid.paid_at, seckill().clock.now())

    async def on_order_cancelled(session: AsyncSession, envelope: Envelope) -> None:
        cancelled = OrderCancelled.model_validate(envelope.data)
        await orders.cancel_order(seckill(), cancelled.order_id,
                                  orders.Cancellation(cancelled.cancelled_at, cancelled.paid), seckill().clock.now())

    return {"order.paid": on_order_paid, "order.cancelled": on_order_cancelled}
