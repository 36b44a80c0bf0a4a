"""Kafka handlers of the voucher service: plain async functions, idempotent (the runner's inbox
skips redeliveries; each effect is keyed as well: a voucher per order, SKU and unit, a cancel per
order). The business timezone (a voucher valid N days ends at its midnight) is bound when the app
is built."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.voucher import issuing
from shared.consumer import Handler
from shared.events import Envelope, OrderCancelled, OrderPaid


def handlers(zone: ZoneInfo) -> dict[str, Handler]:
    async def on_order_paid(session: AsyncSession, envelope: Envelope) -> None:
        await issuing.order_paid(session, OrderPaid.model_validate(envelope.data), zone)

    async def on_order_cancelled(session: AsyncSession, envelope: Envelope) -> None:
        await issuing.order_cancelled(session, OrderCancelled.model_validate(envelope.data))

    return {"order.paid": on_order_paid, "order.cancelled": on_order_cancelled}
