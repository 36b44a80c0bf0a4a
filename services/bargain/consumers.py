"""Kafka handlers of the bargain service. Each runs in the runner's transaction with the inbox
row, and an order hold changes state once, so a redelivery changes nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.bargain import service
from shared.consumer import Handler
from shared.events import Envelope, OrderCancelled, OrderPaid


async def on_order_paid(session: AsyncSession, envelope: Envelope) -> None:
    paid = OrderPaid.model_validate(envelope.data)
    await service.pay(session, paid.order_id, paid.paid_at, envelope.time)


async def on_order_cancelled(session: AsyncSession, envelope: Envelope) -> None:
    """Recorded on the order's hold; the unit and the record go back, held or paid (the record may be
    ordered again while it is valid). See service.cancel."""
    cancelled = OrderCancelled.model_validate(envelope.data)
    await service.cancel(session, cancelled.order_id, cancelled.cancelled_at, said_paid=cancelled.paid)


HANDLERS: dict[str, Handler] = {"order.paid": on_order_paid, "order.cancelled": on_order_cancelled}
