"""Two consumers of the voucher service in one consumer group, on a topic of four partitions of the
real broker: 1,000 `order.paid` events, one consumer stopped after a fifth of them and started
again at once (the group rebalances twice), and still every order's voucher is issued exactly once.
The stopped consumer is stopped from inside its 100th event's handling, after the event's voucher
is committed and before its offset is: that event is delivered again to the partition's next owner,
every run, and the inbox must skip it.

The consumers are the services' own runner (shared/consumer.py) with the group's consumer settings
(shared/kafka.py), in this process so that each delivery's outcome can be counted; the topic is
this test's own (its events are still typed `order.paid`, so the voucher handler takes them): the
session's other apps, which consume `order.paid` themselves, do not see them."""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import func, select

from services.voucher import consumers
from services.voucher.models import Base, Voucher, inbox
from shared import kafka
from shared.clock import SystemClock
from shared.consumer import ConsumerRunner, Outcome
from shared.events import decode
from shared.kafka import make_consumer, make_producer
from tests.conftest import client_on_clean_tables
from tests.replicas.support import until
from tests.voucher.support import SHANGHAI, events, make_product, make_store, paid

EVENTS, PARTITIONS = 1_000, 4
FIRST_PART = 600  # published before the restart, the rest once the group has re-formed
FIRST_ORDER = 500_000
STOP_AT = 100  # the restarted consumer stops within its 100th event, the voucher committed, the offset not
# A shorter session than the client's defaults (10 s, heartbeats every 3 s): the group notices a
# leaving or joining member sooner, so the rebalances are waited for less.
SESSION_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS = 6_000, 1_000


@pytest.fixture
async def client(voucher_app):
    async with client_on_clean_tables(voucher_app, Base.metadata) as client:
        yield client


class Member:
    """One consumer of the group: the service's runner, counting what each delivery came to."""

    def __init__(self, app, topic: str, group: str, outcomes: Counter, duplicates: list[str],
                 stop_at: int | None = None) -> None:
        settings = app.state.settings
        self.consumers = []
        self.stopped_within: str | None = None  # the event whose handling it was stopped in
        member = self

        def consumer(_topics):  # the group's own topic instead of `order.paid`
            self.consumers.append(make_consumer(settings, [topic], group))
            return self.consumers[-1]

        class Counted(ConsumerRunner):
            async def process(self, raw):
                outcome = await super().process(raw)
                outcomes[outcome] += 1
                if outcome == Outcome.DUPLICATE:
                    duplicates.append(decode(raw).id)
                if outcome == Outcome.PROCESSED and outcomes[outcome] == stop_at:
                    # the effect is committed; the runner commits the offset only once this returns,
                    # and being cancelled now it never does (it lets the event in hand finish and stops)
                    member.stopped_within = decode(raw).id
                    member.task.cancel()
                return outcome

        runner = Counted(handlers=consumers.handlers(SHANGHAI), inbox=inbox, sessionmaker=app.state.sessionmaker,
                         clock=SystemClock(), consumer_factory=consumer)
        self.task = asyncio.create_task(runner.run_forever())

    def partitions(self) -> set[int]:
        current = self.consumers[-1] if self.consumers and not self.task.done() else None
        return {tp.partition for tp in current.assignment()} if current is not None else set()

    async def stop(self) -> None:
        """As the service's shutdown stops it: the event in hand finished, its offset not committed."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def said(outcomes: Counter) -> str:
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "none"


async def committed_offsets(settings, topic: str, group: str) -> dict[int, int]:
    """The group's committed offsets by partition, read by a consumer given the partitions (one
    subscribing would join the group and wait for a rebalance)."""
    checker = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group,
                               enable_auto_commit=False)
    await checker.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        checker.assign(partitions)
        async with asyncio.timeout(20):
            return {tp.partition: await checker.committed(tp) for tp in partitions}
    finally:
        await checker.stop()


async def test_a_consumer_restarted_mid_stream_loses_nothing_and_applies_nothing_twice(
        client, people, voucher_app, capsys, monkeypatch):
    settings = voucher_app.state.settings
    # the group's consumers as shared/kafka.py makes them, with the shorter session
    monkeypatch.setattr(kafka, "AIOKafkaConsumer", functools.partial(
        kafka.AIOKafkaConsumer, session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS))
    store = await make_store(client, people)
    product = await make_product(client, people, [store["id"]])
    topic, group = f"order.paid.rebalance-{uuid.uuid4().hex[:8]}", f"voucher-rebalance-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        await admin.close()

    a_outcomes, b_outcomes, b2_outcomes = Counter(), Counter(), Counter()
    duplicates: list[str] = []
    a = Member(voucher_app, topic, group, a_outcomes, duplicates)
    b = Member(voucher_app, topic, group, b_outcomes, duplicates, stop_at=STOP_AT)
    b2 = None
    timings: dict[str, float] = {}

    def handled() -> int:
        return sum(a_outcomes.values()) + sum(b_outcomes.values()) + sum(b2_outcomes.values())

    def shared_by(*members: Member) -> bool:
        held = [m.partitions() for m in members]
        return all(held) and set().union(*held) == set(range(PARTITIONS))

    sent: set[str] = set()  # this test's events: the session's other tests feed the same inbox table

    async def publish(orders: range) -> None:
        producer = make_producer(settings)
        await producer.start()
        try:
            for order_id in orders:
                raw = paid(order_id, [(product["sku_id"], 1, 8800)], user_id=order_id % 50 + 1)
                sent.add(decode(raw).id)
                await producer.send(topic, raw, key=str(order_id).encode())
            await producer.flush()
        finally:
            await producer.stop()

    try:
        timings["group formed"] = await until(lambda: shared_by(a, b))
        started = time.monotonic()
        await publish(range(FIRST_ORDER, FIRST_ORDER + FIRST_PART))
        await until(lambda: b.task.done())  # it stopped itself within its STOP_AT-th event
        at_restart = handled()
        stopped = time.monotonic()
        await b.stop()
        b2 = Member(voucher_app, topic, group, b2_outcomes, duplicates)  # started again at once
        await until(lambda: shared_by(a, b2), 45)
        timings["rebalance, from the stop to both holding partitions again"] = time.monotonic() - stopped
        at_rejoined = handled()
        await publish(range(FIRST_ORDER + FIRST_PART, FIRST_ORDER + EVENTS))  # the stream goes on

        async def all_in() -> bool:
            async with voucher_app.state.sessionmaker() as session:
                return await session.scalar(select(func.count()).select_from(inbox).where(
                    inbox.c.event_id.in_(sent))) >= EVENTS

        await until(all_in, 30)
        await until(lambda: b.stopped_within in duplicates, 30)  # the event it stopped in, delivered again
        await asyncio.sleep(1)  # anything else still to come arrives
        timings["all handled"] = time.monotonic() - started
    finally:
        for member in (a, b, b2):
            if member is not None:
                await member.stop()

    outcomes = a_outcomes + b_outcomes + b2_outcomes
    async with voucher_app.state.sessionmaker() as session:
        per_order = Counter((await session.scalars(select(Voucher.order_id).where(
            Voucher.order_id >= FIRST_ORDER))).all())
        inbox_rows = await session.scalar(select(func.count()).select_from(inbox).where(inbox.c.event_id.in_(sent)))
    issued = Counter(e["order_id"] for e in await events(voucher_app, "promo.voucher.issued"))
    committed = await committed_offsets(settings, topic, group)
    with capsys.disabled():
        print(f"\nrebalance: {EVENTS} order.paid events on {PARTITIONS} partitions, 2 consumers in one group; "
              f"one stopped within its {STOP_AT}th event after {at_restart} handled in all, started again at once, "
              f"{at_rejoined} "
              f"handled when the group had re-formed, the last {EVENTS - FIRST_PART} published then\n"
              f"  session {SESSION_TIMEOUT_MS} ms, heartbeats every {HEARTBEAT_INTERVAL_MS} ms\n"
              f"  outcomes {said(outcomes)}; by consumer: A {said(a_outcomes)}, B {said(b_outcomes)}, "
              f"B restarted {said(b2_outcomes)}\n"
              f"  vouchers issued {sum(per_order.values())} for {len(per_order)} orders, inbox rows {inbox_rows}, "
              f"issued events {sum(issued.values())}, committed offsets {committed}\n"
              f"  seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in timings.items()))
    orders = range(FIRST_ORDER, FIRST_ORDER + EVENTS)
    assert per_order == dict.fromkeys(orders, 1), "every order's voucher, once"
    assert issued == dict.fromkeys(orders, 1), "one issued event per voucher"
    assert outcomes[Outcome.PROCESSED] == EVENTS == inbox_rows, "each event applied once"
    assert set(outcomes) <= {Outcome.PROCESSED, Outcome.DUPLICATE}, outcomes
    assert b.stopped_within is not None and b_outcomes[Outcome.PROCESSED] == STOP_AT, b_outcomes
    assert outcomes[Outcome.DUPLICATE] >= 1 and b.stopped_within in duplicates, (
        "the event the stopped consumer had applied but not committed came again and was skipped")
    assert len(duplicates) == outcomes[Outcome.DUPLICATE], duplicates
    assert a_outcomes[Outcome.PROCESSED] and b_outcomes[Outcome.PROCESSED] and b2_outcomes[Outcome.PROCESSED], (
        "each consumer had a share")
    assert sum(committed.values()) == EVENTS, committed
