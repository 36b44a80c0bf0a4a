"""Kafka handlers of the coupon service: plain async functions, idempotent (the runner's inbox
skips redeliveries; each effect is conditional as well)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.coupon import payments, service
from shared.consumer import Handler
from shared.events import Envelope, OrderCancelled, OrderPaid, UserRegistered


async def on_order_paid(session: AsyncSession, envelope: Envelope) -> None:
    await payments.order_paid(session, OrderPaid.model_validate(envelope.data))


async def on_order_cancelled(session: AsyncSession, envelope: Envelope) -> None:
    await payments.order_cancelled(session, OrderCancelled.model_validate(envelope.data))


async def on_user_registered(session: AsyncSession, envelope: Envelope) -> None:
    registered = UserRegistered.model_validate(envelope.data)
    await service.issue_new_user_coupons(session, registered.user_id, registered.registered_at)


HANDLERS: dict[str, Handler] = {
    "order.paid": on_order_paid,
    "order.cancelled": on_order_cancelled,
    "user.registered": on_user_registered,
}
