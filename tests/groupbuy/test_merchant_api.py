"""/merchant-api/groupbuy: a merchant runs its own group buys with the admin's rules and reads its
own groups, seats and figures; another merchant's and the platform's activities (and their groups)
are "not found" on every route and never listed; the SPU conflict stays global without naming
another owner's activity; the admin sees and closes everything and filters by owner; the prices
pricing asks for carry the activity's owner."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.groupbuy import service
from shared.auth import Role
from tests.conftest import bearer
from tests.groupbuy.conftest import NOW, activity, make_activity

MINE, ADMIN = "/merchant-api/groupbuy", "/admin-api/groupbuy"
PRICES, HOLDS = "/internal/groupbuy/prices", "/internal/groupbuy/holds"


@pytest.fixture(scope="module")
def shops(dev_settings) -> dict[str, dict[str, str]]:
    """Two merchants: A (business 1, two staff tokens) and B (business 2)."""
    return {"a": bearer(dev_settings, Role.MERCHANT, 2001, business_id=1),
            "a_staff": bearer(dev_settings, Role.MERCHANT, 2009, business_id=1),
            "b": bearer(dev_settings, Role.MERCHANT, 2002, business_id=2)}


async def merchant_activity(client, token, **kwargs) -> int:
    made = await client.post(f"{MINE}/activities", json=activity(**kwargs), headers=token)
    assert made.status_code == 201, made.text
    return made.json()["id"]


def hold_body(order_id: int, user_id: int, activity_id: int, group_id: int | None = None, sku_id: int = 3001,
              count: int = 1) -> dict:
    return {"order_id": order_id, "user_id": user_id, "activity_id": activity_id, "group_id": group_id,
            "sku_id": sku_id, "count": count, "nickname": f"user{user_id}"}


async def paid_seat(client, app, service_token, order_id: int, user_id: int, activity_id: int,
                    group_id: int | None = None, count: int = 1) -> dict:
    held = await client.post(HOLDS, json=hold_body(order_id, user_id, activity_id, group_id, count=count),
                             headers=service_token)
    assert held.status_code == 201, held.text
    async with app.state.sessionmaker() as session, session.begin():
        assert await service.pay(session, order_id, NOW, NOW)
    return held.json()


async def test_a_merchant_creates_reads_lists_updates_closes_and_deletes_its_own(client, shops):
    a = shops["a"]
    made = await client.post(f"{MINE}/activities", headers=a, json=activity(skus=((3001, 5900, 4900),)))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["business_id"] == 1 and body["status"] == 0
    assert body["products"] == [{"sku_id": 3001, "group_price": 5900, "leader_price": 4900}]
    url = f"{MINE}/activities/{body['id']}"

    read = await client.get(url, headers=shops["a_staff"])  # any staff token of the business
    assert read.status_code == 200 and read.json() == body
    changed = await client.put(url, headers=a, json=activity(name="五人团", size=5, skus=((3002, 6500, None),)))
    assert changed.status_code == 200, changed.text
    assert changed.json()["group_size"] == 5 and changed.json()["business_id"] == 1
    assert changed.json()["products"] == [{"sku_id": 3002, "group_price": 6500, "leader_price": 6500}]
    page = (await client.get(f"{MINE}/activities", headers=a, params={"name": "五人"})).json()
    assert page["total"] == 1 and page["items"][0]["id"] == body["id"]

    figures = await client.get(f"{url}/stats", headers=a)
    assert figures.status_code == 200, figures.text
    assert figures.json()["activity_id"] == body["id"] and figures.json()["groups_opened"] == 0

    refused = await client.delete(url, headers=a)  # still running
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "GROUPBUY_ACTIVITY_DELETE_REFUSED"
    assert (await client.post(f"{url}/close", headers=a)).status_code == 204
    again = await client.post(f"{url}/close", headers=a)
    assert again.status_code == 409 and again.json()["error"]["code"] == "GROUPBUY_ACTIVITY_ALREADY_CLOSED"
    closed = await client.put(url, headers=a, json=activity())
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "GROUPBUY_ACTIVITY_CLOSED"
    assert (await client.delete(url, headers=a)).status_code == 204
    assert (await client.get(url, headers=a)).status_code == 404


async def test_the_same_rules_as_the_admin_refuse_bad_input_and_write_nothing(client, shops, tokens):
    a = shops["a"]
    for body in (activity(size=1), activity(least_population=3), activity(start=NOW, end=NOW - timedelta(hours=1)),
                 activity(skus=((3001, 100, 200),)), {**activity(), "business_id": 2}):
        refused = await client.post(f"{MINE}/activities", headers=a, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["error"]["code"] in ("VALIDATION_FAILED", "GROUPBUY_ACTIVITY_INVALID")
    assert (await client.get(f"{ADMIN}/activities", headers=tokens["admin"])).json()["total"] == 0


async def test_another_owners_activity_is_not_found_on_every_route_and_never_listed(client, shops, tokens):
    a, admin = shops["a"], tokens["admin"]
    platform = await make_activity(client, admin, name="平台团", spu_id=301)
    theirs = await merchant_activity(client, shops["b"], name="B 店团", spu_id=302)
    mine = await merchant_activity(client, a, name="A 店团", spu_id=303)
    missing = max(platform, theirs, mine) + 100

    def not_found(answer, activity_id: int) -> None:
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == "GROUPBUY_ACTIVITY_NOT_FOUND"
        assert answer.json()["error"]["details"] == {"id": activity_id}  # exactly what a missing id says

    for other in (platform, theirs, missing):
        url = f"{MINE}/activities/{other}"
        not_found(await client.get(url, headers=a), other)
        not_found(await client.put(url, headers=a, json=activity(spu_id=304)), other)
        not_found(await client.post(f"{url}/close", headers=a), other)
        not_found(await client.delete(url, headers=a), other)
        not_found(await client.get(f"{url}/stats", headers=a), other)

    listed = (await client.get(f"{MINE}/activities", headers=a)).json()
    assert listed["total"] == 1 and [item["id"] for item in listed["items"]] == [mine]
    assert (await client.get(f"{MINE}/activities", headers=a, params={"spu_id": 301})).json()["total"] == 0
    for other, name in ((platform, "平台团"), (theirs, "B 店团")):  # untouched by A's attempts
        row = (await client.get(f"{ADMIN}/activities/{other}", headers=admin)).json()
        assert (row["status"], row["name"]) == (0, name)
    b_list = (await client.get(f"{MINE}/activities", headers=shops["b"])).json()
    assert [item["id"] for item in b_list["items"]] == [theirs]


async def test_groups_seats_and_figures_only_of_my_activities(client, shops, tokens, groupbuy_app):
    a, admin, service_token = shops["a"], tokens["admin"], tokens["service"]
    mine = await merchant_activity(client, a, spu_id=303, size=2, skus=((3001, 5900, 4900),))
    platform = await make_activity(client, admin, spu_id=301, size=2, skus=((3001, 5900, 4900),))
    theirs = await merchant_activity(client, shops["b"], spu_id=302, size=2, skus=((3001, 5900, 4900),))
    led = await paid_seat(client, groupbuy_app, service_token, 1, 11, mine, count=2)  # leader: 2 x 4900
    await paid_seat(client, groupbuy_app, service_token, 2, 12, mine, led["group_id"])  # joins: 5900, succeeds
    await paid_seat(client, groupbuy_app, service_token, 3, 13, mine)  # a second group, filling
    other_group = (await paid_seat(client, groupbuy_app, service_token, 4, 14, platform))["group_id"]
    await paid_seat(client, groupbuy_app, service_token, 5, 15, theirs)

    groups = (await client.get(f"{MINE}/groups", headers=a)).json()
    assert groups["total"] == 2 and {g["activity_id"] for g in groups["items"]} == {mine}
    succeeded = (await client.get(f"{MINE}/groups", headers=a, params={"status": 20})).json()
    assert [g["id"] for g in succeeded["items"]] == [led["group_id"]]
    assert (await client.get(f"{MINE}/groups", headers=a, params={"activity_id": platform})).json()["total"] == 0
    group = await client.get(f"{MINE}/groups/{led['group_id']}", headers=a)
    assert group.status_code == 200 and [m["order_id"] for m in group.json()["members"]] == [1, 2]
    hidden = await client.get(f"{MINE}/groups/{other_group}", headers=a)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "GROUPBUY_GROUP_NOT_FOUND"
    members = (await client.get(f"{MINE}/members", headers=a)).json()
    assert sorted(m["order_id"] for m in members["items"]) == [1, 2, 3]
    assert (await client.get(f"{MINE}/members", headers=a, params={"order_id": 4})).json()["total"] == 0

    figures = (await client.get(f"{MINE}/activities/{mine}/stats", headers=a)).json()
    assert figures == {"activity_id": mine, "groups_opened": 2, "groups_in_progress": 1, "groups_succeeded": 1,
                       "groups_failed": 0, "members_paid": 3, "members_succeeded": 2, "members_failed": 0,
                       "members_pending": 0, "sales_amount": 2 * 4900 + 5900 + 4900, "refunded_amount": 0,
                       "robots": 0, "placeholders": 0}
    everything = (await client.get(f"{ADMIN}/stats", headers=admin)).json()
    assert everything["groups_opened"] == 4 and everything["members_paid"] == 5
    assert (await client.get(f"{ADMIN}/stats", headers=admin, params={"business_id": 1})).json() == {
        **figures, "activity_id": None}
    platform_only = (await client.get(f"{ADMIN}/stats", headers=admin, params={"platform": "true"})).json()
    assert platform_only["groups_opened"] == 1 and platform_only["sales_amount"] == 4900
    owned = (await client.get(f"{ADMIN}/groups", headers=admin, params={"business_id": 2})).json()
    assert [g["activity_id"] for g in owned["items"]] == [theirs]
    seats = (await client.get(f"{ADMIN}/members", headers=admin, params={"platform": "true"})).json()
    assert [m["order_id"] for m in seats["items"]] == [4]
    assert (await client.get(f"{ADMIN}/groups", headers=admin)).json()["total"] == 4


async def test_members_anonymous_callers_and_the_admin_cannot_use_the_merchant_api(client, tokens):
    routes = [("GET", f"{MINE}/activities", None), ("POST", f"{MINE}/activities", activity()),
              ("GET", f"{MINE}/activities/1", None), ("PUT", f"{MINE}/activities/1", activity()),
              ("POST", f"{MINE}/activities/1/close", None), ("DELETE", f"{MINE}/activities/1", None),
              ("GET", f"{MINE}/activities/1/stats", None), ("GET", f"{MINE}/groups", None),
              ("GET", f"{MINE}/groups/1", None), ("GET", f"{MINE}/members", None)]
    for method, url, body in routes:
        anonymous = await client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, url, anonymous.text)
        for role in ("member", "admin", "service"):
            refused = await client.request(method, url, json=body, headers=tokens[role])
            assert refused.status_code == 403, (role, method, url, refused.text)
    assert (await client.get(f"{ADMIN}/activities", headers=tokens["merchant"])).status_code == 403


async def test_the_admin_sees_and_closes_everything_and_filters_by_owner(client, shops, tokens):
    admin = tokens["admin"]
    platform = await make_activity(client, admin, spu_id=301)
    ours = await merchant_activity(client, shops["a"], spu_id=302)
    theirs = await merchant_activity(client, shops["b"], spu_id=303)

    async def ids(**params) -> list[int]:
        answer = await client.get(f"{ADMIN}/activities", headers=admin, params=params)
        assert answer.status_code == 200, answer.text
        return sorted(item["id"] for item in answer.json()["items"])

    assert await ids() == sorted([platform, ours, theirs])
    assert await ids(business_id=1) == [ours] and await ids(business_id=2) == [theirs]
    assert await ids(platform="true") == [platform] and await ids(business_id=99) == []
    both = await client.get(f"{ADMIN}/activities", headers=admin, params={"business_id": 1, "platform": "true"})
    assert both.status_code == 422 and both.json()["error"]["code"] == "OWNER_FILTER_CONFLICT"

    read = (await client.get(f"{ADMIN}/activities/{ours}", headers=admin)).json()
    assert read["business_id"] == 1
    assert (await client.get(f"{ADMIN}/activities/{platform}", headers=admin)).json()["business_id"] is None
    changed = await client.put(f"{ADMIN}/activities/{ours}", headers=admin, json=activity(spu_id=302, name="改名"))
    assert changed.status_code == 200 and changed.json()["business_id"] == 1  # the owner stays
    assert (await client.post(f"{ADMIN}/activities/{theirs}/close", headers=admin)).status_code == 204
    closed = (await client.get(f"{MINE}/activities/{theirs}", headers=shops["b"])).json()
    assert closed["status"] == 1


async def test_the_spu_conflict_is_global_and_names_only_the_callers_own_activity(client, shops, tokens):
    a, b, admin = shops["a"], shops["b"], tokens["admin"]
    await make_activity(client, admin, name="平台秘密团", spu_id=301, end=NOW + timedelta(days=2))
    mine = await merchant_activity(client, a, name="A 店团", spu_id=302)

    for body, token, hidden in ((activity(spu_id=301, start=NOW + timedelta(days=1)), a, "平台秘密团"),
                                (activity(spu_id=302), b, "A 店团")):  # A's, tried by B
        for language in ("en", "zh-CN"):
            clash = await client.post(f"{MINE}/activities", headers={**token, "Accept-Language": language},
                                      json=body)
            assert clash.status_code == 409 and clash.json()["error"]["code"] == "GROUPBUY_ACTIVITY_SPU_CONFLICT"
            error = clash.json()["error"]
            assert error["details"] == {"spu_id": body["spu_id"]} and hidden not in error["message"]
    zh = await client.post(f"{MINE}/activities", headers={**a, "Accept-Language": "zh-CN"}, json=activity(spu_id=301))
    assert zh.json()["error"]["message"] == "商品 301 已参加其他拼团活动，活动时间冲突"

    own = await client.post(f"{MINE}/activities", headers=a, json=activity(name="A 店二团", spu_id=302))
    assert own.status_code == 409 and own.json()["error"]["details"]["other_name"] == "A 店团"  # its own: named
    other = await merchant_activity(client, a, name="A 店三团", spu_id=305)
    moved = await client.put(f"{MINE}/activities/{other}", headers=a, json=activity(name="A 店三团", spu_id=301))
    assert moved.status_code == 409 and "other_name" not in moved.json()["error"]["details"]
    admin_clash = await client.post(f"{ADMIN}/activities", headers=admin, json=activity(spu_id=302))
    assert admin_clash.status_code == 409 and admin_clash.json()["error"]["details"]["other_name"] == "A 店团"
    back_to_back = await client.post(f"{MINE}/activities", headers=a,  # no overlap with the platform's: fine
                                     json=activity(spu_id=301, start=NOW + timedelta(days=2)))
    assert back_to_back.status_code == 201, back_to_back.text
    assert (await client.get(f"{MINE}/activities/{mine}", headers=a)).json()["name"] == "A 店团"


async def test_prices_and_buyers_pages_carry_the_activitys_owner(client, shops, tokens):
    mine = await merchant_activity(client, shops["a"], spu_id=302)
    platform = await make_activity(client, tokens["admin"], spu_id=301)
    for activity_id, owner in ((mine, 1), (platform, None)):
        priced = await client.post(PRICES, headers=tokens["service"],
                                   json={"user_id": 11, "activity_id": activity_id, "sku_ids": [3001]})
        assert priced.status_code == 200, priced.text
        assert priced.json()["business_id"] == owner
        shown = await client.get(f"/app-api/groupbuy/activities/{activity_id}")
        assert shown.json()["business_id"] == owner
    running = (await client.get("/app-api/groupbuy/activities")).json()
    assert {item["id"]: item["business_id"] for item in running["items"]} == {mine: 1, platform: None}


async def test_the_openapi_document_lists_the_merchant_routes_and_the_owner(client):
    document = (await client.get("/openapi.json")).json()
    paths = {path for path in document["paths"] if path.startswith(MINE)}
    assert paths == {f"{MINE}/activities", f"{MINE}/activities/{{activity_id}}",
                     f"{MINE}/activities/{{activity_id}}/close", f"{MINE}/activities/{{activity_id}}/stats",
                     f"{MINE}/groups", f"{MINE}/groups/{{group_id}}", f"{MINE}/members"}
    schemas = document["components"]["schemas"]
    for name in ("ActivityOut", "AppActivityOut", "PricesOut"):
        assert "business_id" in schemas[name]["properties"], name
        assert "platform" in schemas[name]["properties"]["business_id"]["description"]
