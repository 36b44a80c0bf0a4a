"""Stores near a point, against MariaDB: approved, open stores with vouchers on sale, within the
radius, nearest first, paged; a buyer's voucher's stores by distance; bad points refused; and the
query reads the (lat_e6, lon_e6, ...) index, not the whole table."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import insert, text

from services.voucher import domain
from services.voucher import repository as repo
from services.voucher.models import Product, ProductStore, Store
from tests.voucher.support import APP, JINGAN, LUJIAZUI, A, M, buy, make_product, make_store, terms_body

PEOPLE_SQUARE = (31.230416, 121.473701)
HONGQIAO = (31.194068, 121.320631)  # about 15 km west
NOW = datetime(2026, 11, 22, tzinfo=UTC)


async def near(client, at=PEOPLE_SQUARE, **params) -> dict:
    answer = await client.get(f"{APP}/stores/nearby", params={"lat": at[0], "lon": at[1], **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_stores_with_vouchers_on_sale_nearest_first(client, people):
    jingan = await make_store(client, people)
    lujiazui = await make_store(client, people, name="陆家嘴店", at=LUJIAZUI)
    hongqiao = await make_store(client, people, name="虹桥店", at=HONGQIAO)
    await make_store(client, people, name="待审核的店", at=PEOPLE_SQUARE, approved=False)
    closed = await make_store(client, people, name="停业的店", at=PEOPLE_SQUARE)
    await client.put(f"{M}/stores/{closed['id']}/status", json={"status": 1}, headers=people["a"])
    empty = await make_store(client, people, name="没有券的店", at=PEOPLE_SQUARE)
    product = await make_product(client, people, [jingan["id"], lujiazui["id"], hongqiao["id"], closed["id"]])
    assert empty["id"]
    found = await near(client, radius_m=10_000)
    assert [s["id"] for s in found["items"]] == [jingan["id"], lujiazui["id"]] and found["total"] == 2
    assert 2_700 < found["items"][0]["distance_m"] < found["items"][1]["distance_m"] < 3_000
    assert [p["id"] for p in found["items"][0]["products"]] == [product["id"]]
    assert "cost" not in found["items"][0]["products"][0], "the settlement cost is the merchant's business"
    wide = await near(client, radius_m=50_000, size=2, page=2)
    assert ([s["id"] for s in wide["items"]], wide["total"]) == ([hongqiao["id"]], 3)
    assert (await near(client, radius_m=1_000))["items"] == []


async def test_only_stores_of_the_product_asked_and_products_on_sale(client, people):
    jingan = await make_store(client, people)
    lujiazui = await make_store(client, people, name="陆家嘴店", at=LUJIAZUI)
    one = await make_product(client, people, [jingan["id"]])
    two = await make_product(client, people, [lujiazui["id"]], sku_id=555)
    assert [s["id"] for s in (await near(client, radius_m=10_000, product_id=two["id"]))["items"]] == [lujiazui["id"]]
    await client.put(f"{M}/products/{one['id']}/status", json={"status": 1}, headers=people["a"])
    assert [s["id"] for s in (await near(client, radius_m=10_000))["items"]] == [lujiazui["id"]], \
        "a store whose only product is off the shelf has nothing on sale"
    change = await client.put(f"{M}/products/{two['id']}", json=terms_body([jingan["id"]]), headers=people["a"])
    assert [s["id"] for s in (await near(client, radius_m=10_000))["items"]] == [lujiazui["id"]], \
        "a change waiting for review moves nothing"
    await client.post(f"{A}/reviews/{change.json()['pending_review_id']}/approve", headers=people["admin"])
    assert [s["id"] for s in (await near(client, radius_m=10_000))["items"]] == [jingan["id"]]


async def test_a_buyer_s_voucher_lists_where_it_can_be_used(client, people, voucher_app):
    jingan = await make_store(client, people)
    lujiazui = await make_store(client, people, name="陆家嘴店", at=LUJIAZUI)
    await make_product(client, people, [jingan["id"], lujiazui["id"]])
    [voucher] = await buy(voucher_app, 9801)
    url = f"{APP}/vouchers/{voucher.id}/stores"
    from_lujiazui = (await client.get(url, params={"lat": LUJIAZUI[0], "lon": LUJIAZUI[1]},
                                      headers=people["buyer"])).json()
    assert [s["id"] for s in from_lujiazui["items"]] == [lujiazui["id"], jingan["id"]]
    assert from_lujiazui["items"][0]["distance_m"] == 0 and from_lujiazui["items"][1]["distance_m"] > 5_000
    no_point = (await client.get(url, headers=people["buyer"])).json()
    assert [s["id"] for s in no_point["items"]] == [jingan["id"], lujiazui["id"]]
    assert no_point["items"][0]["distance_m"] is None
    half = await client.get(url, params={"lat": 31.2}, headers=people["buyer"])
    assert half.status_code == 422 and half.json()["error"]["code"] == "VOUCHER_LOCATION_INCOMPLETE"


async def test_points_and_radii_out_of_range_are_refused(client):
    for params in ({"lat": 90.5, "lon": 0}, {"lat": 0, "lon": -180.01}, {"lat": 0}, {"lat": "x", "lon": 0},
                   {"lat": 0, "lon": 0, "radius_m": 0}, {"lat": 0, "lon": 0, "radius_m": 50_001},
                   {"lat": 0, "lon": 0, "product_id": 0}):
        answer = await client.get(f"{APP}/stores/nearby", params=params)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "VALIDATION_FAILED", params
    for params in ({"lat": 90, "lon": 180}, {"lat": -90, "lon": -180, "radius_m": 50_000}):
        assert (await client.get(f"{APP}/stores/nearby", params=params)).status_code == 200


async def test_the_search_reads_the_index_on_mariadb(client, voucher_app):
    """3,000 approved stores spread over the city's region: EXPLAIN of the repository's own query
    shows a range on the coordinates' index, and the answer equals a full scan's."""
    rng = random.Random(7)
    async with voucher_app.state.sessionmaker() as session, session.begin():
        rows = [{"id": n, "business_id": 1, "name": f"s{n}", "address": "", "phone": "", "opening_hours": "",
                 "lat_e6": domain.to_e6(rng.uniform(30.7, 31.9)), "lon_e6": domain.to_e6(rng.uniform(120.9, 122.0)),
                 "status": 0, "review_status": 2, "last_editor": "t", "created_at": NOW, "updated_at": NOW}
                for n in range(1, 3001)]
        await session.execute(insert(Store), rows)
        await session.execute(insert(Product), [{
            "id": 1, "business_id": 1, "spu_id": 1, "sku_id": 1, "name": "p", "kind": 1, "value": 100,
            "currency": "CNY", "max_using_times": 1, "cost": 0, "bright_desc": "", "image_url": "",
            "validity_type": 2, "valid_days": 1, "selling_store_id": 1, "store_ids": [1], "status": 0,
            "review_status": 2, "last_editor": "t", "created_at": NOW, "updated_at": NOW}])
        await session.execute(insert(ProductStore), [{"product_id": 1, "store_id": n} for n in range(1, 3001, 2)])
        await session.execute(text("ANALYZE TABLE voucher_store"))
    origin = (domain.to_e6(JINGAN[0]), domain.to_e6(JINGAN[1]))
    box = domain.bounding_box(*origin, 5_000)
    query = repo.nearby_query(box)
    async with voucher_app.state.engine.connect() as conn:
        compiled = query.compile(voucher_app.state.engine, compile_kwargs={"literal_binds": True})
        plan = (await conn.execute(text(f"EXPLAIN {compiled}"))).mappings().all()
    stores_row = next(row for row in plan if row["table"] == "voucher_store")
    assert stores_row["key"] == "ix_voucher_store_lat_e6_lon_e6_review_status_status", plan
    assert stores_row["type"] == "range" and int(stores_row["rows"]) < 500, plan
    assert "Using index" in stores_row["Extra"], "from the index alone"
    async with voucher_app.state.sessionmaker() as session:
        found = domain.nearest(origin, await repo.nearby_candidates(session, box), 5_000)
        selling = await repo.stores_selling(session, [store_id for store_id, _ in found])
    everything = [(row["id"], row["lat_e6"], row["lon_e6"]) for row in rows]
    assert found == domain.nearest(origin, everything, 5_000), "the box loses nothing a full scan finds"
    assert len(found) > 10 and selling == {store_id for store_id, _ in found if store_id % 2 == 1}
