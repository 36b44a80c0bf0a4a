"""A merchant sees, changes, verifies and reports only its own: merchant B tries every merchant
endpoint on merchant A's stores, products, vouchers and records and gets 404 (or finds nothing in
its lists); a buyer sees only their own vouchers; members and operators cannot verify."""

from __future__ import annotations

from services.voucher.api import merchant
from tests.voucher.support import APP, LUJIAZUI, A, M, make_product, make_store, shop, store_body, terms_body, verify


async def a_and_b(client, people, app) -> dict:
    """Merchant A's store, product, voucher and a verification of it; merchant B's own store and product."""
    store, product, voucher = await shop(client, people, app)
    record = (await verify(client, people, voucher.code, store["id"], minus_value=1000, currency="CNY")).json()
    theirs = await make_store(client, people, "b", name="B 的店", at=LUJIAZUI)
    their_product = await make_product(client, people, [theirs["id"]], "b", sku_id=777)
    return {"store": store["id"], "product": product["id"], "code": voucher.code, "voucher": voucher.id,
            "record": record["id"], "b_store": theirs["id"], "b_product": their_product["id"]}


def requests(ids: dict) -> list[tuple[str, str, str, dict]]:
    """(method, route template, url, json) for every merchant route, aimed at merchant A's things."""
    store, product, record = ids["store"], ids["product"], ids["record"]
    return [
        ("GET", "/stores/{store_id}", f"/stores/{store}", {}),
        ("PUT", "/stores/{store_id}", f"/stores/{store}", {"json": store_body()}),
        ("PUT", "/stores/{store_id}/status", f"/stores/{store}/status", {"json": {"status": 1}}),
        ("GET", "/stores/{store_id}/reviews", f"/stores/{store}/reviews", {}),
        ("GET", "/products/{product_id}", f"/products/{product}", {}),
        ("PUT", "/products/{product_id}", f"/products/{product}", {"json": terms_body([ids["b_store"]])}),
        ("PUT", "/products/{product_id}/status", f"/products/{product}/status", {"json": {"status": 1}}),
        ("GET", "/products/{product_id}/reviews", f"/products/{product}/reviews", {}),
        ("POST", "/products", "/products", {"json": {**terms_body([store]), "spu_id": 888, "sku_id": 888}}),
        ("GET", "/codes/{code}", f"/codes/{ids['code']}", {}),
        ("POST", "/verifications", "/verifications",
         {"json": {"code": ids["code"], "store_id": ids["b_store"], "minus_value": 100, "currency": "CNY"}}),
        ("GET", "/verifications/{record_id}", f"/verifications/{record}", {}),
        ("POST", "/verifications/{record_id}/reversal", f"/verifications/{record}/reversal", {}),
    ]


LISTS = ["/stores", "/products", "/verifications", "/reports/daily", "/reports/daily.csv"]
MADE_BY_B = ["/stores"]  # POST /stores makes B's own store: nothing of A's to reach


async def test_another_merchant_gets_404_on_every_merchant_endpoint(client, people, voucher_app):
    ids = await a_and_b(client, people, voucher_app)
    routes = {(method, route.path.removeprefix(M)) for route in merchant.router.routes for method in route.methods}
    tried = {(method, template) for method, template, _, _ in requests(ids)}
    assert routes == tried | {("GET", path) for path in LISTS} | {("POST", path) for path in MADE_BY_B}, \
        "every merchant route is tried"
    for method, _, url, kwargs in requests(ids):
        answer = await client.request(method, M + url, headers={**people["b"], "Idempotency-Key": "k"}, **kwargs)
        assert answer.status_code == 404, (method, url, answer.text)
    store = (await client.get(f"{M}/stores/{ids['store']}", headers=people["a"])).json()
    assert (store["status"], store["pending_review_id"]) == (0, None), "nothing of A's changed"
    product = (await client.get(f"{M}/products/{ids['product']}", headers=people["a"])).json()
    assert (product["status"], product["pending_review_id"]) == (0, None)


async def test_another_merchant_s_lists_and_reports_hold_nothing_of_another(client, people, voucher_app):
    ids = await a_and_b(client, people, voucher_app)
    assert [s["id"] for s in (await client.get(f"{M}/stores", headers=people["b"])).json()["items"]] == \
        [ids["b_store"]]
    assert [p["id"] for p in (await client.get(f"{M}/products", headers=people["b"])).json()["items"]] == \
        [ids["b_product"]]
    for params in ({}, {"store_id": ids["store"]}, {"voucher_id": ids["voucher"]}):
        assert (await client.get(f"{M}/verifications", params=params, headers=people["b"])).json()["total"] == 0
    report = (await client.get(f"{M}/reports/daily", params={"store_id": ids["store"]}, headers=people["b"])).json()
    assert (report["total"], report["totals"]) == (0, [])
    csv = (await client.get(f"{M}/reports/daily.csv", headers=people["b"])).text
    assert csv.strip().count("\n") == 0, "the header only"
    mine = (await client.get(f"{M}/reports/daily", headers=people["a"])).json()
    assert mine["total"] == 1 and mine["items"][0]["store_id"] == ids["store"]


async def test_b_s_voucher_at_a_s_store_is_not_found(client, people, voucher_app):
    ids = await a_and_b(client, people, voucher_app)
    from tests.voucher.support import buy
    [their_voucher] = await buy(voucher_app, 9901, sku_id=777)
    answer = await verify(client, people, their_voucher.code, ids["store"], "a", minus_value=1, currency="CNY")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "VOUCHER_CODE_NOT_FOUND"
    answer = await verify(client, people, their_voucher.code, ids["store"], "b", minus_value=1, currency="CNY")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "VOUCHER_STORE_NOT_FOUND"


async def test_a_buyer_sees_only_their_own_vouchers(client, people, voucher_app):
    ids = await a_and_b(client, people, voucher_app)
    assert (await client.get(f"{APP}/vouchers", headers=people["other_buyer"])).json()["total"] == 0
    for url in (f"{APP}/vouchers/{ids['voucher']}", f"{APP}/vouchers/{ids['voucher']}/stores"):
        answer = await client.get(url, headers=people["other_buyer"])
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "VOUCHER_NOT_FOUND"
        assert (await client.get(url, headers=people["buyer"])).status_code == 200
        assert (await client.get(url)).status_code == 401


async def test_only_merchants_reach_merchant_endpoints_and_only_operators_admin_ones(client, people, voucher_app):
    ids = await a_and_b(client, people, voucher_app)
    for who, status in (("buyer", 403), ("admin", 403), ("service", 403)):
        assert (await client.get(f"{M}/stores", headers=people[who])).status_code == status
        answer = await client.post(f"{M}/verifications", headers={**people[who], "Idempotency-Key": "k"}, json={
            "code": ids["code"], "store_id": ids["store"], "minus_value": 100, "currency": "CNY"})
        assert answer.status_code == status
    for who in ("a", "buyer", "service"):
        assert (await client.get(f"{A}/reviews", headers=people[who])).status_code == 403
    assert (await client.get(f"{A}/verifications", params={"business_id": 194},
                             headers=people["admin"])).json()["total"] == 1
