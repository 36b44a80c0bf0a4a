"""The demo (`make run`, `promo seed`): the seed's test merchant, once on an empty service, never
over existing data; and the README's quick start works on it: SKU 537 bought, listed by the buyer,
verified by staff user 38 of business 194 at store 254."""

from __future__ import annotations

from datetime import UTC, datetime

from services.voucher.seed import seed_demo
from tests.voucher.support import APP, M, buy, make_store, verify


async def seed(app) -> bool:
    async with app.state.sessionmaker() as session, session.begin():
        return await seed_demo(session, datetime.now(UTC))


async def test_the_demo_is_added_once_and_the_quick_start_works(client, people, voucher_app):
    assert await seed(voucher_app)
    assert not await seed(voucher_app)
    stores = (await client.get(f"{M}/stores", headers=people["a"])).json()["items"]
    assert sorted((s["id"], s["review_status"]) for s in stores) == [(254, 2), (255, 2)]
    products = (await client.get(f"{M}/products", headers=people["a"])).json()["items"]
    assert sorted((p["sku_id"], p["spu_id"], p["kind"], p["review_status"]) for p in products) == [
        (537, 537, 1, 2), (555, 555, 2, 2)]
    near = (await client.get(f"{APP}/stores/nearby", params={"lat": 31.2304, "lon": 121.4737,
                                                             "radius_m": 10000})).json()
    assert [s["id"] for s in near["items"]] == [254, 255]

    [voucher] = await buy(voucher_app, 900001, sku_id=537, pay_price=8800)
    mine = (await client.get(f"{APP}/vouchers", headers=people["buyer"])).json()["items"]
    assert [(v["id"], v["name"], v["surplus_value"]) for v in mine] == [(voucher.id, "100元代金券（两店通用）", 10000)]
    answer = await verify(client, people, mine[0]["code"], 254, minus_value=3000, currency="CNY")
    assert answer.status_code == 201 and answer.json()["staff_user_id"] == 38
    assert answer.json()["surplus_value_after"] == 7000
    [car_wash] = await buy(voucher_app, 900002, sku_id=555, pay_price=19900)
    assert (await verify(client, people, car_wash.code, 254)).json()["surplus_times_after"] == 2
    assert (await verify(client, people, car_wash.code, 255)).json()["error"]["code"] == "VOUCHER_STORE_NOT_ACCEPTED"


async def test_no_demo_over_existing_data(client, people, voucher_app):
    await make_store(client, people, approved=False)
    assert not await seed(voucher_app)
