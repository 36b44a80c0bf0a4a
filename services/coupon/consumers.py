"""Kafka handlers of the coupon service: plain async functions, idempotent (the runner's inbox
skips redeliveries; each effect is conditional as well)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.coupon import lifecycle, service
from shared.consumer import Handler
from shared.events import Envelope, OrderCancelled, OrderPaid, UserRegistered


async def on_order_paid(session: AsyncSession, envelope: Envelope) -> None:
    paid = OrderPaid.model_validate(envelope.data)
    await lifecycle.commit_order(session, paid.order_id, paid.paid_at)
    if paid.give_coupons:
        await service.grant_order_rewards(session, paid.order_id, paid.user_id, paid.give_coupons, paid.paid_at)


async def on_order_cancelled(session: AsyncSession, envelope: Envelope) -> None:
    cancelled = OrderCancelled.model_validate(envelope.data)
    await lifecycle.release_order(session, cancelled.order_id, cancelled.cancelled_at)
    await lifecycle.revoke_order_rewards(session, cancelled.order_id, cancelled.reason.value, cancelled.cancelled_at)


async def on_user_registered(session: AsyncSession, envelope: Envelope) -> None:
    registered = UserRegistered.model_validate(envelope.data)
    await service.issue_new_user_coupons(session, registered.user_id, registered.registered_at)


HANDLERS: dict[str, Handler] = {
    "order.paid": on_order_paid,
    "order.cancelled": on_order_cancelled,
    "user.registered": on_user_registered,
}
