"""Merchants run their own flash sales (issue 16): /merchant-api/seckill with the admin's paths and
rules, in the platform's slots; another owner's activity (another merchant's, the platform's) is the
same 404 as a missing id on every route and never listed; the admin sees and filters every owner's;
the SPU conflict stays global without naming another owner's activity; a merchant's activity sells
through the crowd path like the platform's, and pricing learns its owner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.seckill.flows import orders
from services.seckill.models import Reservation
from shared.auth import Role
from tests.conftest import bearer
from tests.seckill.conftest import TODAY, activity, slot

LATE = timedelta(seconds=301)  # past SECKILL_HOLD_SECONDS in the tests
MERCHANT, ADMIN = "/merchant-api/seckill/activities", "/admin-api/seckill/activities"
MISSING = 987_654


@pytest.fixture
def owners(tokens, dev_settings) -> dict[str, dict[str, str]]:
    """Merchant A (business 1, the suite's merchant token), merchant B (business 2), the admin."""
    return {"a": tokens["merchant"], "b": bearer(dev_settings, Role.MERCHANT, 2002, business_id=2),
            "admin": tokens["admin"]}


async def a_slot(client, admin) -> int:
    made = await client.post("/admin-api/seckill/slots", json=slot(), headers=admin)
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def create(client, headers, slot_id: int, path: str = MERCHANT, **extra) -> dict:
    made = await client.post(path, json=activity([slot_id], **extra), headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


def not_found(answer, activity_id: int) -> None:
    """The very answer a missing id gets: nothing says the activity exists."""
    assert answer.status_code == 404, answer.text
    assert answer.json() == {"error": {"code": "SECKILL_ACTIVITY_NOT_FOUND",
                                       "message": f"秒杀活动 {activity_id} 不存在", "details": {"id": activity_id}}}


async def test_a_merchant_runs_its_own_flash_sale(client, owners):
    slot_id = await a_slot(client, owners["admin"])
    mine = owners["a"]
    slots = await client.get("/merchant-api/seckill/slots", headers=mine)
    assert slots.status_code == 200 and [s["id"] for s in slots.json()] == [slot_id]
    assert (await client.post("/merchant-api/seckill/slots", json=slot(), headers=mine)).status_code == 405, \
        "slots are the platform's: read only"
    made = await client.post("/merchant-api/seckill/activities", headers=mine,
                             json=activity([slot_id], name="店铺秒杀", skus=((1001, 9900, 10), (1002, 5000, 5))))
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["business_id"], body["status"], body["stock"], body["total_stock"]) == (1, 0, 15, 15)
    activity_id = body["id"]
    listed = (await client.get("/merchant-api/seckill/activities", headers=mine)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == activity_id
    assert (await client.get("/merchant-api/seckill/activities", params={"name": "店铺"}, headers=mine)).json()[
        "total"] == 1
    read = await client.get(f"/merchant-api/seckill/activities/{activity_id}", headers=mine)
    assert read.status_code == 200 and read.json() == body
    edit = activity([slot_id], name="店铺秒杀二", skus=((1001, 8800, 20),))
    updated = await client.put(f"/merchant-api/seckill/activities/{activity_id}", json=edit, headers=mine)
    assert updated.status_code == 200, updated.text
    changed = updated.json()
    assert (changed["name"], changed["business_id"], changed["total_stock"]) == ("店铺秒杀二", 1, 20)
    stats = await client.get(f"/merchant-api/seckill/activities/{activity_id}/stats", headers=mine)
    assert stats.status_code == 200 and stats.json() == {
        "activity_id": activity_id, "reserved": 0, "held": 0, "sold": 0, "released": 0, "expired": 0,
        "orders_paid": 0, "sales_amount": 0, "stock": 20, "total_stock": 20}
    refused = await client.delete(f"/merchant-api/seckill/activities/{activity_id}", headers=mine)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "SECKILL_ACTIVITY_DELETE_REFUSED"
    assert (await client.post(f"/merchant-api/seckill/activities/{activity_id}/close", headers=mine)).status_code == 204
    again = await client.post(f"/merchant-api/seckill/activities/{activity_id}/close", headers=mine)
    assert again.status_code == 409 and again.json()["error"]["code"] == "SECKILL_ACTIVITY_ALREADY_CLOSED"
    closed = await client.put(f"/merchant-api/seckill/activities/{activity_id}", json=edit, headers=mine)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "SECKILL_ACTIVITY_CLOSED"
    assert (await client.delete(f"/merchant-api/seckill/activities/{activity_id}", headers=mine)).status_code == 204
    not_found(await client.get(f"/merchant-api/seckill/activities/{activity_id}", headers=mine), activity_id)


async def test_a_merchants_activity_follows_the_admins_rules(client, owners):
    slot_id = await a_slot(client, owners["admin"])
    disabled = await client.post("/admin-api/seckill/slots", json=slot("夜场", "22:00:00", "00:00:00", status=1),
                                 headers=owners["admin"])
    wrong = {"start": TODAY + timedelta(days=3), "end": TODAY}
    backwards = await client.post("/merchant-api/seckill/activities", json=activity([slot_id], **wrong),
                                  headers=owners["a"])
    assert backwards.status_code == 422 and backwards.json()["error"]["details"]["reason_code"] == "START_AFTER_END"
    off = await client.post("/merchant-api/seckill/activities", json=activity([disabled.json()["id"]]),
                            headers=owners["a"])
    assert off.status_code == 422 and off.json()["error"]["code"] == "SECKILL_SLOT_DISABLED"
    free = await client.post("/merchant-api/seckill/activities", json=activity([slot_id], skus=((1001, 0, 5),)),
                             headers=owners["a"])
    assert free.status_code == 422 and free.json()["error"]["code"] == "VALIDATION_FAILED"
    owned = await client.post("/merchant-api/seckill/activities", json={**activity([slot_id]), "business_id": 2},
                              headers=owners["a"])
    assert owned.status_code == 422, "the owner is the token's business, never the body's"


async def test_another_owners_activity_is_a_404_everywhere_and_never_listed(client, owners):
    slot_id = await a_slot(client, owners["admin"])
    platform = await create(client, owners["admin"], slot_id, ADMIN, name="平台秒杀", spu_id=101)
    theirs = await create(client, owners["b"], slot_id, name="B 店秒杀", spu_id=102)
    mine = await create(client, owners["a"], slot_id, name="A 店秒杀", spu_id=103)
    assert (platform["business_id"], theirs["business_id"], mine["business_id"]) == (None, 2, 1)
    a = owners["a"]
    for other in (platform, theirs, {"id": MISSING}):
        oid = other["id"]
        base = f"/merchant-api/seckill/activities/{oid}"
        not_found(await client.get(base, headers=a), oid)
        not_found(await client.get(f"{base}/stats", headers=a), oid)
        not_found(await client.put(base, json=activity([slot_id], spu_id=104), headers=a), oid)
        not_found(await client.post(f"{base}/close", headers=a), oid)
        not_found(await client.delete(base, headers=a), oid)
    listed = (await client.get("/merchant-api/seckill/activities", headers=a)).json()
    assert [item["id"] for item in listed["items"]] == [mine["id"]] and listed["total"] == 1
    assert (await client.get("/merchant-api/seckill/activities", params={"spu_id": 101}, headers=a)).json()[
        "total"] == 0
    for other in (platform, theirs):  # untouched by A's attempts
        after = (await client.get(f"/admin-api/seckill/activities/{other['id']}", headers=owners["admin"])).json()
        assert after == other
    b_listed = (await client.get("/merchant-api/seckill/activities", headers=owners["b"])).json()
    assert [item["id"] for item in b_listed["items"]] == [theirs["id"]]


async def test_only_a_merchant_token_reaches_the_merchant_api(client, tokens, owners):
    slot_id = await a_slot(client, owners["admin"])
    mine = await create(client, owners["a"], slot_id)
    routes = [("GET", "/merchant-api/seckill/slots"), ("GET", "/merchant-api/seckill/activities"),
              ("POST", "/merchant-api/seckill/activities"), ("GET", f"/merchant-api/seckill/activities/{mine['id']}"),
              ("GET", f"/merchant-api/seckill/activities/{mine['id']}/stats"),
              ("PUT", f"/merchant-api/seckill/activities/{mine['id']}"),
              ("POST", f"/merchant-api/seckill/activities/{mine['id']}/close"),
              ("DELETE", f"/merchant-api/seckill/activities/{mine['id']}")]
    for method, path in routes:
        body = activity([slot_id], spu_id=999) if method == "PUT" or path.endswith("activities") else None
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        for who in ("member", "admin", "service"):
            refused = await client.request(method, path, json=body, headers=tokens[who])
            assert refused.status_code == 403, (who, method, path, refused.text)
    assert (await client.get("/admin-api/seckill/activities", headers=owners["a"])).status_code == 403
    still = (await client.get(f"/merchant-api/seckill/activities/{mine['id']}", headers=owners["a"])).json()
    assert still == mine


async def test_the_admin_sees_every_owner_and_filters_by_owner(client, owners):
    admin = owners["admin"]
    slot_id = await a_slot(client, admin)
    platform = await create(client, admin, slot_id, ADMIN, spu_id=101)
    a = await create(client, owners["a"], slot_id, spu_id=102)
    b = await create(client, owners["b"], slot_id, spu_id=103)

    async def ids(**params) -> list[int]:
        answer = await client.get("/admin-api/seckill/activities", params=params, headers=admin)
        assert answer.status_code == 200, answer.text
        return sorted(item["id"] for item in answer.json()["items"])

    assert await ids() == sorted([platform["id"], a["id"], b["id"]])
    assert await ids(business_id=1) == [a["id"]] and await ids(business_id=2) == [b["id"]]
    assert await ids(platform="true") == [platform["id"]] and await ids(business_id=3) == []
    both = await client.get("/admin-api/seckill/activities", params={"business_id": 1, "platform": "true"},
                            headers=admin)
    assert both.status_code == 422 and both.json()["error"]["code"] == "OWNER_FILTER_CONFLICT"
    read = await client.get(f"/admin-api/seckill/activities/{a['id']}", headers=admin)
    assert read.status_code == 200 and read.json()["business_id"] == 1
    stats = await client.get(f"/admin-api/seckill/activities/{a['id']}/stats", headers=admin)
    assert stats.status_code == 200 and stats.json()["stock"] == 100
    edited = await client.put(f"/admin-api/seckill/activities/{b['id']}", headers=admin,
                              json=activity([slot_id], name="平台改过", spu_id=103))
    assert edited.status_code == 200 and edited.json()["business_id"] == 2, "the owner stays"
    assert (await client.post(f"/admin-api/seckill/activities/{b['id']}/close", headers=admin)).status_code == 204
    assert (await client.delete(f"/admin-api/seckill/activities/{b['id']}", headers=admin)).status_code == 204


async def test_the_spu_conflict_is_global_and_names_only_the_callers_own(client, owners):
    admin = owners["admin"]
    slot_id = await a_slot(client, admin)
    platform = await create(client, admin, slot_id, ADMIN, name="平台的秘密活动", spu_id=101)

    async def clash(path: str, headers: dict, body: dict, method: str = "POST") -> dict:
        answer = await client.request(method, path, json=body, headers={**headers, "Accept-Language": "en"})
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert error["code"] == "SECKILL_ACTIVITY_SPU_CONFLICT"
        return error

    hidden = await clash("/merchant-api/seckill/activities", owners["a"], activity([slot_id], spu_id=101))
    assert hidden["details"] == {"spu_id": 101} and "秘密" not in hidden["message"], "the platform's is not named"
    assert str(platform["id"]) not in hidden["message"]
    mine = await create(client, owners["a"], slot_id, name="A 的活动", spu_id=102)
    own = await clash("/merchant-api/seckill/activities", owners["a"], activity([slot_id], spu_id=102))
    assert own["details"] == {"spu_id": 102, "other_id": mine["id"], "other_name": "A 的活动"}
    theirs = await clash("/merchant-api/seckill/activities", owners["b"], activity([slot_id], spu_id=102))
    assert theirs["details"] == {"spu_id": 102}, "A's is not named to B"
    moved = await clash(f"/merchant-api/seckill/activities/{mine['id']}", owners["a"],
                        activity([slot_id], spu_id=101), method="PUT")
    assert moved["details"] == {"spu_id": 101}
    by_admin = await clash("/admin-api/seckill/activities", admin, activity([slot_id], spu_id=102))
    assert by_admin["details"]["other_id"] == mine["id"], "the admin sees every owner's"
    later = await client.post("/merchant-api/seckill/activities", headers=owners["a"],
                              json=activity([slot_id], spu_id=101, start=TODAY + timedelta(days=5)))
    assert later.status_code == 201, "other dates: no conflict"


async def test_a_merchants_sale_runs_on_the_crowd_path_and_pricing_learns_its_owner(client, tokens, owners,
                                                                                      seckill_app):
    slot_id = await a_slot(client, owners["admin"])
    sale = await create(client, owners["a"], slot_id, skus=((1001, 9900, 10),))
    activity_id, seckill, service = sale["id"], seckill_app.state.seckill, tokens["service"]
    shown = (await client.get(f"/app-api/seckill/activities/{activity_id}")).json()
    assert (shown["business_id"], shown["stock"]) == (1, 10)
    assert [a["id"] for a in (await client.get(f"/app-api/seckill/slots/{slot_id}/activities")).json()] == [activity_id]
    now = seckill_app.state.test_clock.now()

    def hold(order_id: int, count: int) -> dict:
        return {"order_id": order_id, "user_id": 1001, "activity_id": activity_id, "sku_id": 1001, "count": count}

    assert (await client.post("/internal/seckill/holds", json=hold(9103, 3), headers=service)).status_code == 201
    assert await orders.expire_due(seckill, now + LATE) == 1
    assert (await client.post("/internal/seckill/holds", json=hold(9101, 2), headers=service)).status_code == 201
    assert await orders.commit_order(seckill, 9101, now)
    assert (await client.post("/internal/seckill/holds", json=hold(9102, 1), headers=service)).status_code == 201
    assert (await client.post("/internal/seckill/holds/9102/release", headers=service)).json()["released"]
    reserved = await client.post("/app-api/seckill/reservations", headers=tokens["member"],
                                 json={"activity_id": activity_id, "sku_id": 1001})
    assert reserved.status_code == 201, reserved.text
    live = (await client.get(f"/app-api/seckill/activities/{activity_id}")).json()
    assert live["stock"] == 7, "Redis counted it"
    stats = await client.get(f"/merchant-api/seckill/activities/{activity_id}/stats", headers=owners["a"])
    assert stats.json() == {"activity_id": activity_id, "reserved": 7, "held": 1, "sold": 2, "released": 1,
                            "expired": 3, "orders_paid": 1, "sales_amount": 19800, "stock": 7, "total_stock": 10}
    async with seckill_app.state.sessionmaker() as session:
        owners_kept = set((await session.scalars(select(Reservation.business_id)
                                                 .where(Reservation.activity_id == activity_id))).all())
    assert owners_kept == {1}
    prices = await client.post("/internal/seckill/prices", headers=service,
                               json={"user_id": 1001, "activity_id": activity_id, "sku_ids": [1001]})
    assert prices.status_code == 200 and prices.json() == {"activity_id": activity_id, "activity_name": "秒杀",
                                                           "business_id": 1, "prices": {"1001": 9900}}
    assert (await client.post("/internal/seckill/holds", json=hold(9104, 1), headers=service)).status_code == 201
    assert (await client.post(f"/merchant-api/seckill/activities/{activity_id}/close",
                              headers=owners["a"])).status_code == 204
    retried = await client.post("/internal/seckill/prices", headers=service,
                                json={"activity_id": activity_id, "sku_ids": [1001], "order_id": 9104})
    assert retried.status_code == 200 and retried.json()["business_id"] == 1, "a retried checkout keeps the owner"
    assert (await client.delete(f"/merchant-api/seckill/activities/{activity_id}",
                                headers=owners["a"])).status_code == 204
    deleted = await client.post("/internal/seckill/prices", headers=service,
                                json={"activity_id": activity_id, "sku_ids": [1001], "order_id": 9104})
    assert deleted.status_code == 200 and deleted.json()["business_id"] == 1, "kept on the reservation"
