"""Kafka handlers of the content service. Content reacts to no events yet; the dict stays so
every service has the same shape (see shared/consumer.py for the runner)."""

from shared.consumer import Handler

HANDLERS: dict[str, Handler] = {}
