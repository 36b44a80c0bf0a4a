"""Races on MariaDB: concurrent helps on one record queue on its row lock (10 friends at once with
3 helps left: exactly 3 helps, the price is the start less the cuts, one success); the same
helper twice at once helps once, and on many records at once within the activity's helps; the last
unit ordered by two successful records at once: one hold; failure-job rounds on several replicas at
once fail each due record once, and a last help racing the expiry either succeeds the record or is
refused as it fails, never both."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from services.bargain import flows
from services.bargain.models import Activity, Help, Record
from services.bargain.schemas import HoldIn
from shared.db import create_engine, make_sessionmaker
from shared.errors import DomainError
from tests.bargain.conftest import NOW, events, help_, make_activity, start, succeeded_record


async def outcomes(calls) -> list:
    return await asyncio.gather(*calls, return_exceptions=True)


def codes(results) -> list[str]:
    assert all(isinstance(r, DomainError) or not isinstance(r, Exception) for r in results), results
    return sorted(r.code if isinstance(r, DomainError) else "ok" for r in results)


async def test_ten_friends_helping_at_once_with_three_helps_left_make_exactly_three(client, tokens, members,
                                                                                    bargain_app):
    bg = bargain_app.state.bargain
    activity_id = await make_activity(client, tokens["admin"], first=10_000, floor=2_500, helpers=5, rmin=1_000,
                                      rmax=2_000, bargain_count=1)
    record = await start(client, members[1001], activity_id)
    for helper in (1002, 1003):
        assert (await help_(client, members[helper], record["id"])).status_code == 201
    results = await outcomes(flows.help_record(bg, record["id"], user, "", "", NOW) for user in range(1010, 1020))
    assert codes(results) == ["BARGAIN_RECORD_NOT_IN_PROGRESS"] * 7 + ["ok"] * 3
    async with bargain_app.state.sessionmaker() as session:
        stored = await session.get(Record, record["id"])
        cuts = (await session.scalars(select(Help.cut).where(Help.record_id == record["id"]))).all()
    assert len(cuts) == 5 and stored.help_count == 5 and stored.status == 2
    assert stored.price == 10_000 - sum(cuts) == 2_500
    assert len(await events(bargain_app, "promo.bargain.succeeded")) == 1


async def test_the_same_helper_twice_at_once_helps_once(client, tokens, members, bargain_app):
    bg = bargain_app.state.bargain
    activity_id = await make_activity(client, tokens["admin"], bargain_count=3)
    record = await start(client, members[1001], activity_id)
    results = await outcomes(flows.help_record(bg, record["id"], 1002, "", "", NOW) for _ in range(4))
    assert codes(results) == ["BARGAIN_HELP_ALREADY_HELPED"] * 3 + ["ok"]
    async with bargain_app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Help)) == 1


async def test_the_last_unit_ordered_by_two_successful_records_at_once_is_held_once(client, tokens, members,
                                                                                    bargain_app):
    bg = bargain_app.state.bargain
    activity_id = await make_activity(client, tokens["admin"], stock=2)
    first = await succeeded_record(client, tokens["admin"], members, user=1001, activity_id=activity_id,
                                   helpers=(1011, 1012, 1013))
    second = await succeeded_record(client, tokens["admin"], members, user=1002, activity_id=activity_id,
                                    helpers=(1014, 1015, 1016))
    third = await succeeded_record(client, tokens["admin"], members, user=1003, activity_id=activity_id,
                                   helpers=(1017, 1018, 1019))
    await flows.hold(bg, HoldIn(order_id=901, user_id=1003, record_id=third["id"], sku_id=5001), NOW)
    results = await outcomes(flows.hold(bg, HoldIn(order_id=order_id, user_id=user, record_id=record["id"],
                                                   sku_id=5001), NOW)
                             for order_id, user, record in ((902, 1001, first), (903, 1002, second)))
    assert codes(results) == ["BARGAIN_STOCK_NOT_ENOUGH", "ok"]
    async with bargain_app.state.sessionmaker() as session:
        assert (await session.get(Activity, activity_id)).stock == 0


async def test_one_helper_on_many_records_at_once_stays_within_the_activitys_helps(client, tokens, members,
                                                                                   bargain_app):
    bg = bargain_app.state.bargain
    activity_id = await make_activity(client, tokens["admin"], bargain_count=2)
    records = [await start(client, members[user], activity_id) for user in range(1001, 1007)]
    results = await outcomes(flows.help_record(bg, record["id"], 1020, "", "", NOW) for record in records)
    assert codes(results) == ["BARGAIN_HELP_LIMIT_REACHED"] * 4 + ["ok"] * 2
    async with bargain_app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Help).where(Help.user_id == 1020)) == 2


async def test_failure_job_rounds_on_several_replicas_at_once_fail_each_due_record_once(client, tokens, members,
                                                                                         bargain_app):
    from datetime import timedelta

    from services.bargain import jobs
    from services.bargain.flows import Bargain

    bg = bargain_app.state.bargain
    engine = create_engine(bargain_app.state.settings.db_url, pool_size=5)  # a second replica's own pool
    other_replica = Bargain(sessions=make_sessionmaker(engine), lifetime_seconds=bg.lifetime_seconds,
                            hold_seconds=bg.hold_seconds)
    due_soon = await make_activity(client, tokens["admin"], spu_id=501, end=NOW + timedelta(hours=2))
    later = await make_activity(client, tokens["admin"], spu_id=502)
    due = [await start(client, members[user], due_soon) for user in range(1001, 1009)]
    kept = await start(client, members[1001], later)
    at = NOW + timedelta(hours=2)
    try:
        results = await asyncio.gather(flows.fail_due_records(bg, at), flows.fail_due_records(bg, at),
                                       flows.fail_due_records(other_replica, at), jobs.run_once(other_replica, at))
    finally:
        await engine.dispose()
    assert sum(results[:3]) + results[3]["records_failed"] == len(due)
    failed = await events(bargain_app, "promo.bargain.failed")
    assert sorted(e.data["record_id"] for e in failed) == sorted(r["id"] for r in due)
    async with bargain_app.state.sessionmaker() as session:
        statuses = dict((await session.execute(select(Record.id, Record.status))).all())
    assert statuses == {**{r["id"]: 3 for r in due}, kept["id"]: 1}
    assert await flows.fail_due_records(bg, at) == 0


async def test_a_last_help_racing_the_expiry_either_succeeds_the_record_or_is_refused_as_it_fails(
        client, tokens, members, bargain_app):
    from datetime import timedelta

    bg = bargain_app.state.bargain
    activity_id = await make_activity(client, tokens["admin"], end=NOW + timedelta(hours=2), bargain_count=1)
    records = [await start(client, members[user], activity_id) for user in range(1001, 1009)]
    for index, record in enumerate(records):
        for helper in (2000 + 10 * index, 2001 + 10 * index):
            await flows.help_record(bg, record["id"], helper, "", "", NOW)
    expiry = NOW + timedelta(hours=2)
    just_before = expiry - timedelta(milliseconds=1)

    async def last_help(index: int, record_id: int):  # spread over the job's round: some land before it
        await asyncio.sleep(index * 0.01)
        return await flows.help_record(bg, record_id, 3000 + index, "", "", just_before)

    last_helps = [last_help(index, record["id"]) for index, record in enumerate(records)]
    rounds = [flows.fail_due_records(bg, expiry), flows.fail_due_records(bg, expiry)]
    results = await outcomes([*rounds[:1], *last_helps, *rounds[1:]])
    helps, failed_count = results[1:-1], results[0] + results[-1]
    assert set(codes(helps)) <= {"ok", "BARGAIN_RECORD_NOT_IN_PROGRESS"}
    async with bargain_app.state.sessionmaker() as session:
        stored = {r.id: r for r in (await session.scalars(select(Record).where(Record.activity_id == activity_id)))}
        help_counts = dict((await session.execute(select(Help.record_id, func.count()).group_by(Help.record_id)))
                           .all())
    succeeded = {e.data["record_id"] for e in await events(bargain_app, "promo.bargain.succeeded")}
    failed = [e.data["record_id"] for e in await events(bargain_app, "promo.bargain.failed")]
    assert len(failed) == len(set(failed)) == failed_count
    for record, helped in zip(records, helps, strict=True):
        row = stored[record["id"]]
        if not isinstance(helped, Exception):  # the help came first: counted, the record succeeded
            assert (row.status, row.help_count, row.price, help_counts[row.id]) == (2, 3, 1_000, 3)
            assert row.id in succeeded and row.id not in failed
        else:  # the job came first: failed, the help refused and not written
            assert helped.code == "BARGAIN_RECORD_NOT_IN_PROGRESS"
            assert (row.status, row.help_count, help_counts[row.id]) == (3, 2, 2)
            assert row.id in failed and row.id not in succeeded
    assert len(succeeded) + len(failed) == len(records)


async def test_new_helpers_on_different_records_of_one_activity_at_once_all_help(client, tokens, members,
                                                                                 bargain_app):
    """Each one's first help makes their helper row: no deadlock between the inserts (a locking
    read of a missing row then an insert made MariaDB pick victims)."""
    bg = bargain_app.state.bargain
    activity_id = await make_activity(client, tokens["admin"], bargain_count=1)
    records = [await start(client, members[user], activity_id) for user in range(1001, 1013)]
    results = await outcomes(flows.help_record(bg, record["id"], 3000 + index, "", "", NOW)
                             for index, record in enumerate(records))
    assert codes(results) == ["ok"] * len(records)
    async with bargain_app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Help)) == len(records)


async def test_one_buyer_starting_the_same_bargain_at_once_gets_one_record(client, tokens, bargain_app):
    bg = bargain_app.state.bargain
    activity_id = await make_activity(client, tokens["admin"])
    results = await outcomes(flows.start(bg, 1001, activity_id, "", "", NOW) for _ in range(4))
    assert codes(results) == ["BARGAIN_RECORD_IN_PROGRESS"] * 3 + ["ok"]
    async with bargain_app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Record)) == 1
