"""Kafka handlers of the pricing service: the checkout snapshot follows the order's fate (the
owners of each hold commit or release on the same events themselves)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing import snapshots
from shared.consumer import Handler
from shared.events import Envelope, OrderCancelled, OrderPaid


async def on_order_paid(session: AsyncSession, envelope: Envelope) -> None:
    paid = OrderPaid.model_validate(envelope.data)
    await snapshots.mark_paid(session, paid.order_id, paid.paid_at)


async def on_order_cancelled(session: AsyncSession, envelope: Envelope) -> None:
    cancelled = OrderCancelled.model_validate(envelope.data)
    await snapshots.mark_cancelled(session, cancelled.order_id, cancelled.user_id, cancelled.cancelled_at)


HANDLERS: dict[str, Handler] = {
    "order.paid": on_order_paid,
    "order.cancelled": on_order_cancelled,
}
