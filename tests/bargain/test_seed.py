"""The demo seed (`make run`, `promo seed`): once on an empty service, never over existing data;
the demo activity can succeed (5 friends bring it to its floor)."""

from __future__ import annotations

from services.bargain.seed import seed_demo
from tests.bargain.conftest import APP, NOW, help_, make_activity, start


async def seed(app) -> bool:
    async with app.state.sessionmaker() as session, session.begin():
        return await seed_demo(session, NOW)


async def test_the_demo_is_added_once_and_friends_can_bring_it_to_its_floor(client, bargain_app, members):
    assert await seed(bargain_app)
    assert not await seed(bargain_app)
    demo = (await client.get(f"{APP}/activities")).json()["items"]
    assert [(a["spu_id"], a["sku_id"], a["first_price"], a["floor_price"]) for a in demo] == [(105, 1005, 9900, 990)]
    record = await start(client, members[1001], demo[0]["id"])
    for helper in range(1002, 1007):
        assert (await help_(client, members[helper], record["id"])).status_code == 201
    mine = (await client.get(f"{APP}/my-records", headers=members[1001])).json()["items"][0]
    assert (mine["status"], mine["price"], len(mine["helps"])) == (2, 990, 5)


async def test_no_demo_over_existing_data(client, tokens, bargain_app):
    await make_activity(client, tokens["admin"])
    assert not await seed(bargain_app)
