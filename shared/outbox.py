"""Transactional outbox: an event row is written in the same transaction as the change it
describes; the relay task publishes pending rows to Kafka and marks them published.

A crash between send and mark publishes a row twice; consumers' inboxes make that harmless.
Several replicas may relay at once: rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED.
Give the relay a READ COMMITTED sessionmaker (`shared.db.read_committed`): under REPEATABLE
READ its gap locks deadlocked business transactions inserting outbox rows (hot-coupon bench).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from sqlalchemy import Column, Index, LargeBinary, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock
from shared.db import BigId, UTCDateTime
from shared.events import Envelope, encode

log = logging.getLogger("shared.outbox")


def outbox_table(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}_outbox", metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("topic", String(128), nullable=False),
        Column("key", String(128), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("published_at", UTCDateTime(), nullable=True),
        Index(f"ix_{prefix}_outbox_published_at_id", "published_at", "id"),
    )


def inbox_table(metadata: MetaData, prefix: str) -> Table:
    """Events this service has handled (status processed) or given up on (status parked)."""
    return Table(
        f"{prefix}_inbox", metadata,
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(128), nullable=False),
        Column("status", String(16), nullable=False),
        Column("received_at", UTCDateTime(), nullable=False),
        Column("error", Text, nullable=True),
        Column("payload", LargeBinary, nullable=True),
    )


def outbox_row(envelope: Envelope, *, topic: str | None = None) -> dict:
    return {"event_id": envelope.id, "topic": topic or envelope.type, "key": envelope.subject,
            "payload": encode(envelope), "created_at": envelope.time}


async def add_to_outbox(session: AsyncSession, table: Table, envelope: Envelope, *,
                        topic: str | None = None) -> None:
    await session.execute(insert(table).values(outbox_row(envelope, topic=topic)))


async def add_all_to_outbox(session: AsyncSession, table: Table, envelopes: list[Envelope]) -> None:
    """Several events in one statement (a batch of takes)."""
    if envelopes:
        await session.execute(insert(table), [outbox_row(envelope) for envelope in envelopes])


class OutboxRelay:
    def __init__(self, table: Table, sessionmaker: async_sessionmaker[AsyncSession],
                 producer_factory: Callable[[], AIOKafkaProducer], clock: Clock, *,
                 poll_seconds: float = 0.5, batch_size: int = 100, retention_hours: int = 72) -> None:
        self.table = table
        self.sessionmaker = sessionmaker
        self.producer_factory = producer_factory
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.retention = timedelta(hours=retention_hours)
        self.producer: AIOKafkaProducer | None = None
        self._round: asyncio.Future | None = None

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many were published. The producer
        starts with the first row, so a service with nothing to publish never needs the broker."""
        t = self.table
        async with self.sessionmaker() as session, session.begin():
            rows = (await session.execute(
                select(t.c.id, t.c.topic, t.c.key, t.c.payload)
                .where(t.c.published_at.is_(None)).order_by(t.c.id).limit(self.batch_size)
                .with_for_update(skip_locked=True)
            )).all()
            if not rows:
                return 0
            producer = await self._producer()
            acks = [await producer.send(r.topic, r.payload, key=r.key.encode()) for r in rows]
            await asyncio.gather(*acks)
            await session.execute(update(t).where(t.c.id.in_([r.id for r in rows]))
                                  .values(published_at=self.clock.now()))
        return len(rows)

    async def prune(self) -> None:
        cutoff = self.clock.now() - self.retention
        async with self.sessionmaker() as session, session.begin():
            await session.execute(delete(self.table).where(self.table.c.published_at < cutoff))

    async def run_forever(self) -> None:
        backoff, rounds = self.poll_seconds, 0
        while True:
            try:
                # A round is not cancelled half-way (a query cut off by cancellation leaves its
                # connection out of the pool): stopping waits for it in close().
                self._round = asyncio.ensure_future(self.relay_once())
                published = await asyncio.shield(self._round)
                backoff = self.poll_seconds
                rounds += 1
                if rounds % 1000 == 0:
                    await self.prune()
                if published == self.batch_size:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database down: rows wait, we retry
                log.warning("outbox relay failed, retrying in %.1fs: %r", backoff, exc)
                await self._drop_producer()
                backoff = min(backoff * 2, 10.0)
            await asyncio.sleep(backoff)

    async def close(self) -> None:
        if self._round is not None and not self._round.done():
            await asyncio.wait([self._round], timeout=10)
        await self._drop_producer()

    async def _producer(self) -> AIOKafkaProducer:
        if self.producer is None:
            producer = self.producer_factory()
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self.producer = producer
        return self.producer

    async def _drop_producer(self) -> None:
        producer, self.producer = self.producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception as exc:
                log.debug("producer stop failed: %r", exc)
