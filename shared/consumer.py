"""The consumer runner: decode -> inbox row + handler in one transaction -> commit -> offset.

Handlers are plain `async def handler(session, envelope)` functions in a dict keyed by event
type (= topic). They can be called directly in tests. The runner guarantees:
- an event id seen before is skipped (the inbox row is written with the handler's effects);
- a handler that keeps failing (`max_attempts`) gets its event parked (inbox status
  `parked`, with the error and the raw payload) and the stream moves on;
- a database outage is not a poison event: the runner waits and retries the same message
  without committing its offset.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock
from shared.events import Envelope, InvalidEvent, decode

log = logging.getLogger("shared.consumer")

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


class Outcome(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    PARKED = "parked"
    IGNORED = "ignored"


class DatabaseUnavailable(Exception):
    pass


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError | OSError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


class ConsumerRunner:
    def __init__(self, *, handlers: dict[str, Handler], inbox: Table,
                 sessionmaker: async_sessionmaker[AsyncSession], clock: Clock,
                 consumer_factory: Callable[[list[str]], AIOKafkaConsumer] | None = None,
                 max_attempts: int = 3, retry_delay: float = 0.2) -> None:
        self.handlers = handlers
        self.inbox = inbox
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.consumer_factory = consumer_factory
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay

    async def process(self, raw: bytes | None) -> Outcome:
        try:
            envelope = decode(raw)
        except InvalidEvent as exc:
            digest = hashlib.sha256(raw or b"").hexdigest()[:48]
            await self._park(f"undecodable-{digest}", "undecodable", raw, str(exc))
            return Outcome.PARKED
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return Outcome.IGNORED
        failures = 0
        while True:
            try:
                return await self._apply(handler, envelope)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if _is_transient(exc):
                    raise DatabaseUnavailable(str(exc)) from exc
                failures += 1
                log.warning("handler for %s %s failed (%d/%d): %r", envelope.type, envelope.id,
                            failures, self.max_attempts, exc)
                if failures >= self.max_attempts:
                    await self._park(envelope.id, envelope.type, raw, repr(exc))
                    log.error("event %s %s parked after %d attempts", envelope.type, envelope.id, failures)
                    return Outcome.PARKED
                await asyncio.sleep(self.retry_delay * 2 ** (failures - 1))

    async def _apply(self, handler: Handler, envelope: Envelope) -> Outcome:
        async with self.sessionmaker() as session, session.begin():
            seen = await session.scalar(select(self.inbox.c.event_id)
                                        .where(self.inbox.c.event_id == envelope.id))
            if seen is not None:
                return Outcome.DUPLICATE
            try:
                async with session.begin_nested():
                    await session.execute(insert(self.inbox).values(
                        event_id=envelope.id, event_type=envelope.type, status=Outcome.PROCESSED,
                        received_at=self.clock.now()))
            except IntegrityError:  # a concurrent delivery got there first
                return Outcome.DUPLICATE
            await handler(session, envelope)
        return Outcome.PROCESSED

    async def _park(self, event_id: str, event_type: str, raw: bytes | None, error: str) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                if await session.scalar(select(self.inbox.c.event_id)
                                        .where(self.inbox.c.event_id == event_id)) is None:
                    await session.execute(insert(self.inbox).values(
                        event_id=event_id, event_type=event_type[:128], status=Outcome.PARKED,
                        received_at=self.clock.now(), error=error[:4000], payload=raw))
        except Exception as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def replay(self, event_ids: list[str] | None = None) -> dict[str, Outcome]:
        """Process parked events again (all of them, or the ids given), e.g. after a bug fix.
        Each is taken out of the inbox and handled as if just delivered; it parks again if it
        still fails."""
        inbox = self.inbox
        query = select(inbox.c.event_id, inbox.c.payload).where(inbox.c.status == Outcome.PARKED)
        if event_ids is not None:
            query = query.where(inbox.c.event_id.in_(event_ids))
        async with self.sessionmaker() as session:
            parked = (await session.execute(query.order_by(inbox.c.received_at))).all()
        outcomes: dict[str, Outcome] = {}
        for event_id, payload in parked:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(delete(inbox).where(inbox.c.event_id == event_id,
                                                          inbox.c.status == Outcome.PARKED))
            outcomes[event_id] = await self.process(payload)
        return outcomes

    async def run_forever(self) -> None:
        assert self.consumer_factory is not None
        while True:
            consumer = self.consumer_factory(sorted(self.handlers))
            current: asyncio.Future | None = None
            try:
                await consumer.start()
                async for message in consumer:
                    # An event is not cancelled half-way (a query cut off by cancellation leaves
                    # its connection out of the pool): stopping waits for it below.
                    current = asyncio.ensure_future(self._process_until_done(message.value))
                    await asyncio.shield(current)
                    await consumer.commit({TopicPartition(message.topic, message.partition):
                                           message.offset + 1})
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer stopped (%r); restarting in 2s", exc)
                await asyncio.sleep(2)
            finally:
                if current is not None and not current.done():
                    await asyncio.wait([current], timeout=10)
                await consumer.stop()

    async def _process_until_done(self, raw: bytes | None) -> Outcome:
        delay = 0.5
        while True:
            try:
                return await self.process(raw)
            except DatabaseUnavailable as exc:
                log.warning("database unavailable while consuming, retrying in %.1fs: %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
