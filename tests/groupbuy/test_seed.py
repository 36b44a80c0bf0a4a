"""The demo seed (`make run`, `promo seed`): once on an empty service, never over existing data."""

from __future__ import annotations

from sqlalchemy import func, select

from services.groupbuy import flows
from services.groupbuy.models import Activity, Group
from services.groupbuy.seed import seed_demo
from tests.groupbuy.conftest import NOW, make_activity, seat


async def count(app, model) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def seed(app) -> bool:
    async with app.state.sessionmaker() as session, session.begin():
        return await seed_demo(session, NOW)


async def test_the_demo_is_added_once(client, groupbuy_app):
    assert await seed(groupbuy_app)
    assert not await seed(groupbuy_app)
    assert await count(groupbuy_app, Activity) == 1
    demo = (await client.get("/app-api/groupbuy/activities")).json()["items"]
    assert [(a["spu_id"], a["products"][0]["leader_price"]) for a in demo] == [(104, 4900)]


async def test_no_demo_over_existing_data_even_once_its_activities_are_deleted(client, tokens, groupbuy_app):
    admin = tokens["admin"]
    activity_id = await make_activity(client, admin)
    assert not await seed(groupbuy_app)
    await flows.hold(groupbuy_app.state.groupbuy, seat(1, 11, activity_id), NOW)
    await flows.release_order(groupbuy_app.state.groupbuy, 1, NOW)  # a void group stays for the record
    await client.post(f"/admin-api/groupbuy/activities/{activity_id}/close", headers=admin)
    assert (await client.delete(f"/admin-api/groupbuy/activities/{activity_id}", headers=admin)).status_code == 204
    assert (await count(groupbuy_app, Activity), await count(groupbuy_app, Group)) == (0, 1)
    assert not await seed(groupbuy_app)
    assert await count(groupbuy_app, Activity) == 0
