"""The demo seed (`make run`, `promo seed`): once on an empty service, never over existing data;
the demo is running with a points + cash SKU and a points-only SKU, and both can be held."""

from __future__ import annotations

from services.points.seed import seed_demo
from tests.points.conftest import APP, HOLDS, NOW, PRICES, make_activity


async def seed(app) -> bool:
    async with app.state.sessionmaker() as session, session.begin():
        return await seed_demo(session, NOW)


async def test_the_demo_is_added_once_and_both_skus_can_be_exchanged(client, points_app, tokens, members):
    assert await seed(points_app)
    assert not await seed(points_app)
    [demo] = (await client.get(f"{APP}/activities", headers=members[1001])).json()["items"]
    assert demo["spu_id"] == 106 and demo["business_id"] is None
    assert [(p["sku_id"], p["points"], p["price"], p["my_remaining"]) for p in demo["products"]] == [
        (1006, 1_000, 990, 2), (1016, 2_000, 0, 1)]
    priced = await client.post(PRICES, headers=tokens["service"],
                               json={"user_id": 1001, "activity_id": demo["id"], "sku_ids": [1006, 1016]})
    assert priced.json()["prices"] == {"1006": 990, "1016": 0}
    for order_id, sku_id in ((1, 1006), (2, 1016)):
        held = await client.post(HOLDS, headers=tokens["service"], json={
            "order_id": order_id, "user_id": 1001, "activity_id": demo["id"], "sku_id": sku_id, "count": 1})
        assert held.status_code == 201, held.text


async def test_no_demo_over_existing_data(client, tokens, points_app):
    await make_activity(client, tokens["admin"])
    assert not await seed(points_app)
