"""/merchant-api/points: a merchant runs its own points mall activities with the admin's rules and
reads its own holds and figures; another merchant's and the platform's activities are "not found"
on every route and never listed; the SPU conflict stays global without naming another owner's
activity; the admin sees and changes merchants' activities, which stay theirs."""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.conftest import bearer
from tests.points.conftest import ADMIN, HOLDS, MINE, activity, hold_body, make_activity, product


@pytest.fixture(scope="module")
def shops(dev_settings) -> dict[str, dict[str, str]]:
    return {"a": bearer(dev_settings, Role.MERCHANT, 2001, business_id=1),
            "a_staff": bearer(dev_settings, Role.MERCHANT, 2009, business_id=1),
            "b": bearer(dev_settings, Role.MERCHANT, 2002, business_id=2)}


async def test_a_merchant_creates_reads_lists_updates_closes_and_deletes_its_own(client, shops, tokens):
    a = shops["a"]
    body = await make_activity(client, a, prefix=MINE)
    assert body["business_id"] == 1 and body["status"] == 0
    url = f"{MINE}/activities/{body['id']}"
    read = await client.get(url, headers=shops["a_staff"])
    assert read.status_code == 200 and read.json() == body
    changed = await client.put(url, headers=a, json=activity(name="店铺兑换", products=[product(stock=20)]))
    assert changed.status_code == 200 and changed.json()["business_id"] == 1 and changed.json()["total_stock"] == 20
    page = (await client.get(f"{MINE}/activities", headers=a, params={"name": "店铺"})).json()
    assert [x["id"] for x in page["items"]] == [body["id"]]
    assert (await client.post(HOLDS, headers=tokens["service"], json=hold_body(5, body["id"]))).status_code == 201
    figures = (await client.get(f"{url}/stats", headers=a)).json()
    assert (figures["orders_held"], figures["stock"], figures["total_stock"]) == (1, 19, 20)
    mine = (await client.get(f"{MINE}/stats", headers=a)).json()
    assert (mine["activity_id"], mine["orders_held"]) == (None, 1)
    holds = (await client.get(f"{MINE}/holds", headers=a)).json()
    assert [h["order_id"] for h in holds["items"]] == [5]

    refused = await client.delete(url, headers=a)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "POINTS_ACTIVITY_DELETE_REFUSED"
    assert (await client.post(f"{url}/close", headers=a)).status_code == 204
    assert (await client.get(url, headers=a)).json()["closed_by"] == "merchant:2001"
    assert (await client.delete(url, headers=a)).status_code == 204
    assert (await client.get(url, headers=a)).status_code == 404
    kept = await client.get(f"{ADMIN}/holds", headers=tokens["admin"])
    assert kept.json()["total"] == 1  # the hold stays with its activity deleted


async def test_another_owners_activity_is_not_found_on_every_route_and_never_listed(client, shops, tokens):
    theirs = await make_activity(client, shops["b"], prefix=MINE)
    platform = await make_activity(client, tokens["admin"], spu_id=602)
    a = shops["a"]
    for activity_id in (theirs["id"], platform["id"]):
        url = f"{MINE}/activities/{activity_id}"
        for method, path, kwargs in (("GET", url, {}), ("PUT", url, {"json": activity(spu_id=609)}),
                                     ("POST", f"{url}/close", {}), ("DELETE", url, {}), ("GET", f"{url}/stats", {}),
                                     ("GET", f"{MINE}/holds?activity_id={activity_id}", {})):
            answer = await client.request(method, path, headers=a, **kwargs)
            assert answer.status_code == 404, (method, path, answer.text)
            assert answer.json()["error"]["code"] == "POINTS_ACTIVITY_NOT_FOUND"
    assert (await client.get(f"{MINE}/activities", headers=a)).json()["total"] == 0
    assert (await client.get(f"{ADMIN}/activities/{theirs['id']}", headers=tokens["admin"])).status_code == 200
    assert (await client.get(f"{ADMIN}/activities", headers=tokens["admin"],
                             params={"business_id": 2})).json()["total"] == 1
    assert (await client.get(f"{ADMIN}/activities", headers=tokens["admin"],
                             params={"platform": "true"})).json()["items"][0]["id"] == platform["id"]


async def test_the_spu_conflict_is_global_and_does_not_name_another_owners_activity(client, shops, tokens):
    await make_activity(client, shops["b"], prefix=MINE, name="乙店的活动")
    clash = await client.post(f"{MINE}/activities", headers={**shops["a"], "Accept-Language": "en"}, json=activity())
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "POINTS_ACTIVITY_SPU_CONFLICT"
    message = clash.json()["error"]["message"]
    assert message == "SPU 601 is already in another points mall activity at an overlapping time"
    admin_clash = await client.post(f"{ADMIN}/activities", headers=tokens["admin"], json=activity())
    assert admin_clash.status_code == 409 and "乙店的活动" in admin_clash.json()["error"]["message"]


async def test_the_admin_changes_a_merchants_activity_and_it_stays_the_merchants(client, shops, tokens):
    body = await make_activity(client, shops["a"], prefix=MINE)
    changed = await client.put(f"{ADMIN}/activities/{body['id']}", headers=tokens["admin"],
                               json=activity(name="平台改"))
    assert changed.status_code == 200 and changed.json()["business_id"] == 1
    assert (await client.get(f"{MINE}/activities/{body['id']}", headers=shops["a"])).json()["name"] == "平台改"


async def test_only_a_merchant_uses_the_merchant_api(client, tokens):
    assert (await client.get(f"{MINE}/activities")).status_code == 401
    for role in ("member", "admin", "service"):
        assert (await client.get(f"{MINE}/activities", headers=tokens[role])).status_code == 403, role


async def test_the_openapi_document_lists_the_routes_their_errors_and_the_owner(client):
    document = (await client.get("/openapi.json")).json()
    paths = {path for path in document["paths"] if path.startswith(MINE)}
    assert paths == {f"{MINE}/activities", f"{MINE}/activities/{{activity_id}}",
                     f"{MINE}/activities/{{activity_id}}/close", f"{MINE}/activities/{{activity_id}}/stats",
                     f"{MINE}/stats", f"{MINE}/holds"}
    schemas = document["components"]["schemas"]
    for name in ("ActivityOut", "AppActivityOut", "PricesOut"):
        assert "platform" in schemas[name]["properties"]["business_id"]["description"], name
    hold = document["paths"]["/internal/points/holds"]["post"]["responses"]
    assert {"POINTS_SOLD_OUT", "POINTS_LIMIT_EXCEEDED", "POINTS_ORDER_HOLDS_ANOTHER"} <= set(
        hold["409"]["description"].split(" | "))
    assert "POINTS_ACTIVITY_INVALID" in document["paths"][f"{MINE}/activities"]["post"]["responses"]["422"][
        "description"]


async def test_my_holds_and_stats_without_an_activity_are_mine_only(client, shops, tokens, points_app):
    """Merchant A's /holds and /stats over all its activities leave out merchant B's and the
    platform's holds; the admin narrows /holds with ?business_id=."""
    service = tokens["service"]
    mine = await make_activity(client, shops["a"], prefix=MINE, products=[product(stock=10, limit=5)])
    theirs = await make_activity(client, shops["b"], prefix=MINE, spu_id=602, products=[product(stock=7, limit=5)])
    platform = await make_activity(client, tokens["admin"], spu_id=603, products=[product(stock=5, limit=5)])
    for order_id, activity_id, count in ((1, mine["id"], 2), (2, theirs["id"], 3), (3, platform["id"], 4)):
        held = await client.post(HOLDS, headers=service, json=hold_body(order_id, activity_id, count=count))
        assert held.status_code == 201, held.text
    holds = (await client.get(f"{MINE}/holds", headers=shops["a"])).json()
    assert (holds["total"], [h["order_id"] for h in holds["items"]]) == (1, [1])
    stats = (await client.get(f"{MINE}/stats", headers=shops["a"])).json()
    assert (stats["total_stock"], stats["stock"], stats["orders_held"], stats["units_held"]) == (10, 8, 1, 2)
    b_stats = (await client.get(f"{MINE}/stats", headers=shops["b"])).json()
    assert (b_stats["total_stock"], b_stats["units_held"]) == (7, 3)
    b_holds = (await client.get(f"{ADMIN}/holds", params={"business_id": 2}, headers=tokens["admin"])).json()
    assert [h["order_id"] for h in b_holds["items"]] == [2]
    platform_holds = (await client.get(f"{ADMIN}/holds", params={"platform": "true"}, headers=tokens["admin"])).json()
    assert [h["order_id"] for h in platform_holds["items"]] == [3]
    every = (await client.get(f"{ADMIN}/holds", headers=tokens["admin"])).json()
    assert sorted(h["order_id"] for h in every["items"]) == [1, 2, 3]
    admin_stats = (await client.get(f"{ADMIN}/stats", params={"business_id": 1}, headers=tokens["admin"])).json()
    assert (admin_stats["total_stock"], admin_stats["units_held"]) == (10, 2)
