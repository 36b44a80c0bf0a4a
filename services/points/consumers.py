"""Kafka handlers of the points service. Each runs in the runner's transaction with the inbox
row, and a hold changes state once, so a redelivery changes nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.points import domain, service
from shared.consumer import Handler
from shared.events import Envelope, OrderCancelled, OrderPaid


async def on_order_paid(session: AsyncSession, envelope: Envelope) -> None:
    paid = OrderPaid.model_validate(envelope.data)
    await service.pay(session, paid.order_id, paid.paid_at, envelope.time)


async def on_order_cancelled(session: AsyncSession, envelope: Envelope) -> None:
    """The units and the buyer's count go back; a paid order's too when it was cancelled after payment."""
    cancelled = OrderCancelled.model_validate(envelope.data)
    await service.release(session, cancelled.order_id, cancelled.cancelled_at, domain.END_CANCELLED,
                          paid_too=cancelled.paid)


HANDLERS: dict[str, Handler] = {"order.paid": on_order_paid, "order.cancelled": on_order_cancelled}
