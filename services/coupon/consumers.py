"""Kafka handlers of the coupon service: plain async functions, idempotent (the runner's inbox
skips redeliveries; each effect is conditional as well)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.coupon import service
from shared.consumer import Handler
from shared.events import Envelope, OrderCancelled, OrderPaid


async def on_order_paid(session: AsyncSession, envelope: Envelope) -> None:
    paid = OrderPaid.model_validate(envelope.data)
    await service.commit_order(session, paid.order_id, paid.paid_at)


async def on_order_cancelled(session: AsyncSession, envelope: Envelope) -> None:
    cancelled = OrderCancelled.model_validate(envelope.data)
    await service.release_order(session, cancelled.order_id, cancelled.cancelled_at)


HANDLERS: dict[str, Handler] = {
    "order.paid": on_order_paid,
    "order.cancelled": on_order_cancelled,
}
