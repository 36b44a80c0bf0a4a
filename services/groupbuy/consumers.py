"""Kafka handlers of the group-buy service. Each runs in the runner's transaction with the inbox
row, and a seat changes state once, so a redelivery changes nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.groupbuy import service
from shared.consumer import Handler
from shared.events import Envelope, OrderCancelled, OrderPaid


async def on_order_paid(session: AsyncSession, envelope: Envelope) -> None:
    paid = OrderPaid.model_validate(envelope.data)
    await service.pay(session, paid.order_id, paid.paid_at, envelope.time)


async def on_order_cancelled(session: AsyncSession, envelope: Envelope) -> None:
    cancelled = OrderCancelled.model_validate(envelope.data)
    await service.cancel_order(session, cancelled.order_id, cancelled.cancelled_at, paid=cancelled.paid)


HANDLERS: dict[str, Handler] = {"order.paid": on_order_paid, "order.cancelled": on_order_cancelled}
