"""Kafka handlers of the cart service: plain async functions, idempotent (the runner's inbox skips
a redelivered event; the order's record in cart_paid_order skips a republished one)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.cart import service
from shared.consumer import Handler
from shared.events import Envelope, OrderPaid


async def on_order_paid(session: AsyncSession, envelope: Envelope) -> None:
    await service.remove_bought(session, OrderPaid.model_validate(envelope.data))


HANDLERS: dict[str, Handler] = {"order.paid": on_order_paid}
