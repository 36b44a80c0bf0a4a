"""Outbox and inbox against real MariaDB and a real Kafka-protocol broker (Tansu)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import Column, Integer, String, Table, func, insert, select

from promo.embedded import free_port, start_tansu
from shared.clock import SystemClock
from shared.consumer import ConsumerRunner, Outcome
from shared.db import BigId, create_engine, make_metadata, make_sessionmaker
from shared.events import Envelope, encode, new_event
from shared.kafka import make_producer
from shared.outbox import OutboxRelay, add_to_outbox, inbox_table, outbox_table
from shared.settings import CommonSettings
from tests.conftest import clear_tables, database_url, recreate_database

metadata = make_metadata()
outbox = outbox_table(metadata, "t")
inbox = inbox_table(metadata, "t")
effects = Table("t_effect", metadata, Column("id", BigId, primary_key=True, autoincrement=True),
                Column("event_id", String(64), nullable=False), Column("amount", Integer, nullable=False))


@pytest.fixture(scope="module")
async def sessionmaker():
    url = database_url("shared")
    await recreate_database(url)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def db(sessionmaker):
    await clear_tables(sessionmaker.kw["bind"], metadata)
    return sessionmaker


def settings_for(bootstrap: str) -> CommonSettings:
    return CommonSettings(_env_file=None, env="test", kafka_bootstrap_servers=bootstrap, kafka_enable_idempotence=False)


def event(event_type: str, amount: int = 1) -> Envelope:
    return new_event(event_type, source="test", subject="order-1", data={"amount": amount}, time=datetime.now(UTC))


async def read_topic(bootstrap: str, topic: str, expect: int, wait_seconds: float = 15) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=f"reader-{uuid.uuid4().hex}")
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + wait_seconds
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            values += [m.value for messages in batch.values() for m in messages]
            if len(values) >= expect and expect > 0:
                await asyncio.sleep(1)  # linger: anything beyond `expect` would be a duplicate
                batch = await consumer.getmany(timeout_ms=500)
                values += [m.value for messages in batch.values() for m in messages]
                break
    finally:
        await consumer.stop()
    return values


def relay_for(db, bootstrap: str) -> OutboxRelay:
    return OutboxRelay(outbox, db, lambda: make_producer(settings_for(bootstrap)), SystemClock())


async def pending(db) -> int:
    async with db() as session:
        return await session.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))


async def count(db, table: Table) -> int:
    async with db() as session:
        return await session.scalar(select(func.count()).select_from(table))


# --- outbox ---------------------------------------------------------------------------------------

async def test_committed_event_reaches_kafka_exactly_once(db, kafka_bootstrap):
    topic = f"test.paid-{uuid.uuid4().hex[:8]}"
    envelope = event(topic)
    async with db() as session, session.begin():
        await session.execute(insert(effects).values(event_id="change", amount=1))
        await add_to_outbox(session, outbox, envelope)
    relay = relay_for(db, kafka_bootstrap)
    try:
        assert await relay.relay_once() == 1
        assert await relay.relay_once() == 0
    finally:
        await relay.close()
    values = await read_topic(kafka_bootstrap, topic, expect=1)
    assert [Envelope.model_validate_json(v).id for v in values] == [envelope.id]
    assert await pending(db) == 0


async def test_rolled_back_transaction_publishes_nothing(db, kafka_bootstrap):
    with pytest.raises(RuntimeError):
        async with db() as session, session.begin():
            await add_to_outbox(session, outbox, event("test.never"))
            raise RuntimeError("use case failed after writing")
    assert await count(db, outbox) == 0
    relay = relay_for(db, kafka_bootstrap)
    try:
        assert await relay.relay_once() == 0
    finally:
        await relay.close()


async def test_broker_down_rows_wait_and_are_delivered_when_it_is_back(db):
    port = free_port()
    broker = start_tansu(port)
    relay = relay_for(db, broker.url)
    topic = f"test.outage-{uuid.uuid4().hex[:8]}"
    try:
        broker.stop()
        async with db() as session, session.begin():
            await add_to_outbox(session, outbox, event(topic))
        with pytest.raises(Exception):  # noqa: B017 - any client error: the broker is gone
            await asyncio.wait_for(relay.relay_once(), 30)
        await relay.close()
        assert await pending(db) == 1
        broker = start_tansu(port)
        assert await relay.relay_once() == 1
        assert len(await read_topic(broker.url, topic, expect=1)) == 1
        assert await pending(db) == 0
    finally:
        await relay.close()
        broker.stop()


async def test_nothing_to_publish_needs_no_broker(db):
    relay = relay_for(db, f"127.0.0.1:{free_port()}")  # nobody listens there
    assert await relay.relay_once() == 0
    assert relay.producer is None


async def test_run_forever_keeps_retrying_until_the_broker_answers(db):
    port = free_port()
    topic = f"test.retry-{uuid.uuid4().hex[:8]}"
    async with db() as session, session.begin():
        await add_to_outbox(session, outbox, event(topic))
    relay = OutboxRelay(outbox, db, lambda: make_producer(settings_for(f"127.0.0.1:{port}")), SystemClock(),
                        poll_seconds=0.1)
    task = asyncio.create_task(relay.run_forever())
    broker = None
    try:
        await asyncio.sleep(1.0)
        assert await pending(db) == 1
        broker = start_tansu(port)
        for _ in range(200):
            if await pending(db) == 0:
                break
            await asyncio.sleep(0.1)
        assert await pending(db) == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.close()
        if broker:
            broker.stop()


# --- inbox / consumer runner -------------------------------------------------------------------

async def add_effect(session, envelope: Envelope) -> None:
    await session.execute(insert(effects).values(event_id=envelope.id, amount=envelope.data["amount"]))


def runner_for(db, handlers, **kwargs) -> ConsumerRunner:
    return ConsumerRunner(handlers=handlers, inbox=inbox, sessionmaker=db, clock=SystemClock(), retry_delay=0.01,
                          **kwargs)


async def test_same_event_twice_is_applied_once(db):
    runner = runner_for(db, {"test.thing": add_effect})
    raw = encode(event("test.thing"))
    assert await runner.process(raw) is Outcome.PROCESSED
    assert await runner.process(raw) is Outcome.DUPLICATE
    assert await count(db, effects) == 1


async def test_concurrent_redeliveries_race_to_one_effect(db):
    runner = runner_for(db, {"test.thing": add_effect})
    raw = encode(event("test.thing"))
    outcomes = await asyncio.gather(*(runner.process(raw) for _ in range(8)))
    assert outcomes.count(Outcome.PROCESSED) == 1 and outcomes.count(Outcome.DUPLICATE) == 7
    assert await count(db, effects) == 1


async def test_failed_attempt_leaves_no_effect_and_a_retry_succeeds(db):
    calls = []

    async def flaky(session, envelope):
        calls.append(envelope.id)
        await add_effect(session, envelope)
        if len(calls) == 1:
            raise ValueError("transient bug")

    runner = runner_for(db, {"test.thing": flaky})
    assert await runner.process(encode(event("test.thing"))) is Outcome.PROCESSED
    assert len(calls) == 2 and await count(db, effects) == 1


async def test_poison_event_is_parked_and_not_retried_forever(db):
    calls = []

    async def broken(session, envelope):
        calls.append(1)
        raise KeyError("bad data")

    runner = runner_for(db, {"test.thing": broken}, max_attempts=3)
    envelope = event("test.thing")
    assert await runner.process(encode(envelope)) is Outcome.PARKED
    assert len(calls) == 3
    assert await runner.process(encode(envelope)) is Outcome.DUPLICATE and len(calls) == 3
    async with db() as session:
        row = (await session.execute(select(inbox).where(inbox.c.event_id == envelope.id))).one()
    assert row.status == "parked" and "bad data" in row.error and row.payload == encode(envelope)
    assert await count(db, effects) == 0


async def test_parked_events_can_be_replayed_once_the_handler_is_fixed(db):
    async def broken(session, envelope):
        raise KeyError("bug")

    first, second = event("test.thing", amount=3), event("test.thing", amount=4)
    parked = runner_for(db, {"test.thing": broken}, max_attempts=1)
    assert [await parked.process(encode(e)) for e in (first, second)] == [Outcome.PARKED, Outcome.PARKED]
    assert await parked.replay([first.id]) == {first.id: Outcome.PARKED}  # still broken: parked again
    fixed = runner_for(db, {"test.thing": add_effect})
    assert await fixed.replay([first.id]) == {first.id: Outcome.PROCESSED}
    assert await fixed.replay() == {second.id: Outcome.PROCESSED}
    assert await fixed.replay() == {}
    assert await fixed.process(encode(first)) is Outcome.DUPLICATE  # a redelivery after the replay
    async with db() as session:
        assert sorted((await session.scalars(select(effects.c.amount))).all()) == [3, 4]


async def test_undecodable_message_is_parked(db):
    runner = runner_for(db, {"test.thing": add_effect})
    assert await runner.process(b"{not json") is Outcome.PARKED
    assert await runner.process(b'{"id": "x"}') is Outcome.PARKED
    async with db() as session:
        statuses = (await session.scalars(select(inbox.c.status))).all()
    assert statuses == ["parked", "parked"]


async def test_runner_consumes_from_kafka_applies_once_and_commits_offsets(db, kafka_bootstrap):
    topic = f"test.flow-{uuid.uuid4().hex[:8]}"
    group = f"group-{uuid.uuid4().hex[:8]}"
    settings = settings_for(kafka_bootstrap)
    envelope = event(topic, amount=5)
    producer = make_producer(settings)
    await producer.start()
    try:
        for _ in range(2):  # the broker delivers the same event twice
            await producer.send_and_wait(topic, encode(envelope), key=b"order-1")
        await producer.send_and_wait(topic, encode(event(topic, amount=7)), key=b"order-1")
    finally:
        await producer.stop()

    from shared.kafka import make_consumer

    runner = runner_for(db, {topic: add_effect},
                        consumer_factory=lambda topics: make_consumer(settings, topics, group))
    task = asyncio.create_task(runner.run_forever())
    try:
        for _ in range(300):
            if await count(db, effects) >= 2:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    async with db() as session:
        amounts = sorted((await session.scalars(select(effects.c.amount))).all())
    assert amounts == [5, 7]

    checker = make_consumer(settings, [topic], group)
    await checker.start()
    try:
        partitions = checker.partitions_for_topic(topic) or {0}
        committed = [await checker.committed(TopicPartition(topic, p)) or 0 for p in partitions]
    finally:
        await checker.stop()
    assert sum(committed) == 3

