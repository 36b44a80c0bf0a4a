"""Races on MariaDB: concurrent helps on one record queue on its row lock (10 friends at once with
3 helps left: exactly 3 helps, the price is the start less the cuts, one success); the same
helper twice at once helps once, and on many records at once within the activity's helps; the last
unit ordered by two successful records at once: one hold."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from services.bargain import flows
from services.bargain.models import Activity, Help, Record
from services.bargain.schemas import HoldIn
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
