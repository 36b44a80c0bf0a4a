"""Kafka handlers of the coupon service (user.registered, order.paid, order.cancelled come with
the rest of issue 3)."""

from shared.consumer import Handler

HANDLERS: dict[str, Handler] = {}
