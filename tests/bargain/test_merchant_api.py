"""/merchant-api/bargain and the admin's owner filter: a merchant runs its own bargains with the
admin's rules and reads its own records and figures; another merchant's and the platform's
activities are "not found" on every route and never listed; the SPU conflict stays global without
naming another owner's activity; the admin sees and closes everything and filters by owner."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.auth import Role
from tests.bargain.conftest import ADMIN, APP, MINE, NOW, PRICES, activity, help_, make_activity, start
from tests.conftest import bearer


@pytest.fixture(scope="module")
def shops(dev_settings) -> dict[str, dict[str, str]]:
    return {"a": bearer(dev_settings, Role.MERCHANT, 2001, business_id=1),
            "a_staff": bearer(dev_settings, Role.MERCHANT, 2009, business_id=1),
            "b": bearer(dev_settings, Role.MERCHANT, 2002, business_id=2)}


async def test_a_merchant_creates_reads_lists_updates_closes_and_deletes_its_own(client, shops, members, tokens):
    a = shops["a"]
    made = await client.post(f"{MINE}/activities", headers=a, json=activity())
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["business_id"] == 1 and body["status"] == 0 and body["total_stock"] == 10
    url = f"{MINE}/activities/{body['id']}"
    read = await client.get(url, headers=shops["a_staff"])
    assert read.status_code == 200 and read.json() == body
    changed = await client.put(url, headers=a, json=activity(name="五人砍", helpers=5, rmin=1_000, rmax=3_000))
    assert changed.status_code == 200, changed.text
    assert changed.json()["help_max_count"] == 5 and changed.json()["business_id"] == 1
    page = (await client.get(f"{MINE}/activities", headers=a, params={"name": "五人"})).json()
    assert page["total"] == 1 and page["items"][0]["id"] == body["id"]

    record = await start(client, members[1001], body["id"])
    assert (await help_(client, members[1002], record["id"])).status_code == 201
    figures = await client.get(f"{url}/stats", headers=a)
    assert figures.status_code == 200, figures.text
    assert figures.json() == {"activity_id": body["id"], "records_started": 1, "records_in_progress": 1,
                                   "records_succeeded": 0, "records_failed": 0, "records_ordered": 0,
                                   "orders_held": 0, "helps": 1, "sales": 0}
    records = (await client.get(f"{MINE}/records", headers=a)).json()
    assert [r["id"] for r in records["items"]] == [record["id"]]

    refused = await client.delete(url, headers=a)  # still running
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "BARGAIN_ACTIVITY_DELETE_REFUSED"
    assert (await client.post(f"{url}/close", headers=a)).status_code == 204
    again = await client.post(f"{url}/close", headers=a)
    assert again.status_code == 409 and again.json()["error"]["code"] == "BARGAIN_ACTIVITY_ALREADY_CLOSED"
    closed = await client.put(url, headers=a, json=activity())
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "BARGAIN_ACTIVITY_CLOSED"
    assert (await client.get(url, headers=a)).json()["closed_by"] == "merchant:2001"
    assert (await client.delete(url, headers=a)).status_code == 204
    assert (await client.get(url, headers=a)).status_code == 404
    kept = await client.get(f"{ADMIN}/records", headers=tokens["admin"])
    assert kept.json()["total"] == 1  # the record stays with its activity deleted


@pytest.mark.parametrize(("changes", "reason"), [
    ({"floor": 10_000}, "below first_price"), ({"rmin": 0}, "random_min_price must be above 0"),
    ({"rmin": 5_000, "rmax": 4_000}, "is above random_max_price"),
    ({"rmax": 2_500}, "3 helpers cutting at most 2500 each cannot bring 10000 down to 1000"),
    ({"rmin": 3_500}, "would go below the floor price"),
    ({"start": NOW, "end": NOW - timedelta(hours=1)}, "start_at must be before end_at"),
])
async def test_the_same_rules_as_the_admin_refuse_an_activity_that_could_never_succeed(client, shops, tokens,
                                                                                       changes, reason):
    for prefix, token in ((MINE, shops["a"]), (ADMIN, tokens["admin"])):
        refused = await client.post(f"{prefix}/activities", headers={**token, "Accept-Language": "en"},
                                    json=activity(**changes))
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "BARGAIN_ACTIVITY_INVALID"
        assert reason in refused.json()["error"]["message"], refused.text
    extra = await client.post(f"{MINE}/activities", headers=shops["a"], json={**activity(), "business_id": 2})
    assert extra.status_code == 422
    assert (await client.get(f"{ADMIN}/activities", headers=tokens["admin"])).json()["total"] == 0


async def test_another_owners_activity_is_not_found_on_every_route_and_never_listed(client, shops, tokens,
                                                                                    members):
    a, admin = shops["a"], tokens["admin"]
    platform = await make_activity(client, admin, name="平台砍", spu_id=501)
    theirs = await make_activity(client, shops["b"], MINE, name="B 店砍", spu_id=502)
    mine = await make_activity(client, a, MINE, name="A 店砍", spu_id=503)
    await start(client, members[1001], platform)
    await start(client, members[1001], theirs)
    missing = max(platform, theirs, mine) + 100

    for other in (platform, theirs, missing):
        url = f"{MINE}/activities/{other}"
        for answer in (await client.get(url, headers=a), await client.put(url, headers=a, json=activity(spu_id=509)),
                       await client.post(f"{url}/close", headers=a), await client.delete(url, headers=a),
                       await client.get(f"{url}/stats", headers=a),
                       await client.get(f"{MINE}/records", headers=a, params={"activity_id": other})):
            assert answer.status_code == 404, answer.text
            assert answer.json()["error"] == {"code": "BARGAIN_ACTIVITY_NOT_FOUND",
                                              "message": f"砍价活动 {other} 不存在", "details": {"id": other}}
    listed = (await client.get(f"{MINE}/activities", headers=a)).json()
    assert [item["id"] for item in listed["items"]] == [mine]
    assert (await client.get(f"{MINE}/records", headers=a)).json()["total"] == 0
    assert (await client.get(f"{MINE}/activities/{platform}", headers=admin)).status_code == 403
    for other in (platform, theirs):  # the others' are untouched
        assert (await client.get(f"{ADMIN}/activities/{other}", headers=admin)).json()["status"] == 0


async def test_members_anonymous_callers_cannot_use_the_merchant_api(client, tokens):
    for method, url in (("GET", f"{MINE}/activities"), ("POST", f"{MINE}/activities"),
                        ("GET", f"{MINE}/activities/1"), ("POST", f"{MINE}/activities/1/close"),
                        ("DELETE", f"{MINE}/activities/1"), ("GET", f"{MINE}/activities/1/stats"),
                        ("GET", f"{MINE}/records")):
        body = activity() if method == "POST" and url.endswith("activities") else None
        anonymous = await client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, url, anonymous.text)
        for role in ("member", "admin", "service"):
            refused = await client.request(method, url, json=body, headers=tokens[role])
            assert refused.status_code == 403, (role, method, url, refused.text)
    assert (await client.get(f"{ADMIN}/activities", headers=tokens["merchant"])).status_code == 403


async def test_the_admin_sees_and_closes_everything_and_filters_by_owner(client, shops, tokens, members):
    admin = tokens["admin"]
    platform = await make_activity(client, admin, spu_id=501)
    a = await make_activity(client, shops["a"], MINE, spu_id=502)
    b = await make_activity(client, shops["b"], MINE, spu_id=503)
    for activity_id in (platform, a, b):
        await start(client, members[1001], activity_id)

    async def ids(path, **params) -> list[int]:
        found = await client.get(f"{ADMIN}/{path}", headers=admin, params=params)
        assert found.status_code == 200, found.text
        key = "id" if path == "activities" else "activity_id"
        return sorted(item[key] for item in found.json()["items"])

    assert await ids("activities") == sorted([platform, a, b])
    assert await ids("activities", business_id=1) == [a]
    assert await ids("activities", platform="true") == [platform]
    assert await ids("records", business_id=2) == [b]
    assert await ids("records", platform="true") == [platform]
    both = await client.get(f"{ADMIN}/activities", headers=admin, params={"business_id": 1, "platform": "true"})
    assert both.status_code == 422 and both.json()["error"]["code"] == "OWNER_FILTER_CONFLICT"
    figures = (await client.get(f"{ADMIN}/stats", headers=admin, params={"business_id": 1})).json()
    assert figures["records_started"] == 1
    assert (await client.post(f"{ADMIN}/activities/{a}/close", headers=admin)).status_code == 204
    read = (await client.get(f"{MINE}/activities/{a}", headers=shops["a"])).json()
    assert read["status"] == 1 and read["closed_by"] == "admin:1"


async def test_the_spu_conflict_is_global_and_names_only_the_callers_own_activity(client, shops, tokens):
    await make_activity(client, tokens["admin"], name="平台砍", spu_id=501)
    mine = await make_activity(client, shops["a"], MINE, name="A 店砍", spu_id=502)
    refused = await client.post(f"{MINE}/activities", headers=shops["a"], json=activity(spu_id=501))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "BARGAIN_ACTIVITY_SPU_CONFLICT"
    assert "平台砍" not in refused.text and "other_name" not in refused.json()["error"]["details"]
    own = await client.post(f"{MINE}/activities", headers=shops["a"], json=activity(spu_id=502))
    assert own.status_code == 409 and "A 店砍" in own.json()["error"]["message"]
    b = await client.post(f"{MINE}/activities", headers=shops["b"], json=activity(spu_id=502))
    assert b.status_code == 409 and "A 店砍" not in b.text
    later = activity(spu_id=502, start=NOW + timedelta(days=4), end=NOW + timedelta(days=5))
    assert (await client.post(f"{MINE}/activities", headers=shops["b"], json=later)).status_code == 201
    assert mine


async def test_prices_and_buyers_pages_carry_the_activitys_owner(client, shops, tokens, members):
    activity_id = await make_activity(client, shops["a"], MINE)
    shown = (await client.get(f"{APP}/activities/{activity_id}")).json()
    assert shown["business_id"] == 1
    record = await start(client, members[1001], activity_id)
    for helper in (1002, 1003, 1004):
        assert (await help_(client, members[helper], record["id"])).status_code == 201
    priced = await client.post(PRICES, headers=tokens["service"],
                               json={"user_id": 1001, "record_id": record["id"], "sku_ids": [5001]})
    assert priced.status_code == 200, priced.text
    assert priced.json() == {"activity_id": activity_id, "activity_name": "好友砍价", "business_id": 1,
                             "record_id": record["id"], "prices": {"5001": 1_000}}


async def test_the_admin_changes_a_merchants_activity_and_it_stays_the_merchants(client, shops, tokens):
    theirs = await make_activity(client, shops["a"], MINE)
    changed = await client.put(f"{ADMIN}/activities/{theirs}", headers=tokens["admin"],
                               json=activity(name="平台改过", stock=20))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["business_id"], changed.json()["stock"]) == (1, 20)
    assert (await client.get(f"{MINE}/activities/{theirs}", headers=shops["a"])).json()["name"] == "平台改过"


async def test_the_openapi_document_lists_the_merchant_routes_and_the_owner(client):
    document = (await client.get("/openapi.json")).json()
    paths = {path for path in document["paths"] if path.startswith(MINE)}
    assert paths == {f"{MINE}/activities", f"{MINE}/activities/{{activity_id}}",
                     f"{MINE}/activities/{{activity_id}}/close", f"{MINE}/activities/{{activity_id}}/stats",
                     f"{MINE}/records"}
    schemas = document["components"]["schemas"]
    for name in ("ActivityOut", "AppActivityOut", "PricesOut"):
        assert "business_id" in schemas[name]["properties"], name
        assert "platform" in schemas[name]["properties"]["business_id"]["description"]


async def test_an_activitys_figures_count_its_own_records_by_outcome_for_the_merchant_and_the_admin(
        client, shops, members, tokens, bargain_app):
    from services.bargain import consumers, jobs
    from shared.events import new_event
    from tests.bargain.conftest import HOLDS, succeeded_record

    admin, clock, bg = tokens["admin"], bargain_app.state.test_clock, bargain_app.state.bargain
    mine = await make_activity(client, shops["a"], prefix=MINE, spu_id=501)
    platforms = await make_activity(client, admin, spu_id=502)
    bought = await succeeded_record(client, admin, members, user=1001, activity_id=mine, helpers=(1002, 1003, 1004))
    held = await client.post(HOLDS, headers=tokens["service"],
                             json={"order_id": 71, "user_id": 1001, "record_id": bought["id"], "sku_id": 5001})
    assert held.status_code == 201, held.text
    paid = new_event("order.paid", source="mall-order", subject=71, time=NOW, data={
        "order_id": 71, "user_id": 1001, "order_type": "bargain", "pay_price": 1_000, "paid_at": NOW.isoformat(),
        "items": [{"sku_id": 5001, "spu_id": 501, "count": 1, "pay_price": 1_000}]})
    async with bargain_app.state.sessionmaker() as session, session.begin():
        await consumers.HANDLERS["order.paid"](session, paid)
    failing = await start(client, members[1005], mine)
    assert (await help_(client, members[1006], failing["id"])).status_code == 201
    elsewhere = await start(client, members[1005], platforms)  # another activity's: not counted
    assert (await help_(client, members[1006], elsewhere["id"])).status_code == 201
    clock.at = NOW + timedelta(hours=2)
    later = await start(client, members[1007], mine)
    assert (await help_(client, members[1008], later["id"])).status_code == 201
    await start(client, members[1009], mine)
    assert (await jobs.run_once(bg, NOW + timedelta(days=1)))["records_failed"] == 2  # failing, elsewhere

    async def figures() -> list[dict]:
        read = [await client.get(f"{MINE}/activities/{mine}/stats", headers=shops["a"]),
                await client.get(f"{ADMIN}/activities/{mine}/stats", headers=admin),
                await client.get(f"{ADMIN}/stats", headers=admin, params={"business_id": 1})]
        assert all(r.status_code == 200 for r in read), [r.text for r in read]
        return [{k: v for k, v in r.json().items() if k != "activity_id"} for r in read]

    expected = {"records_started": 4, "records_in_progress": 2, "records_succeeded": 1, "records_failed": 1,
                "records_ordered": 1, "orders_held": 0, "helps": 5, "sales": 1_000}
    assert await figures() == [expected] * 3
    platform = (await client.get(f"{ADMIN}/activities/{platforms}/stats", headers=admin)).json()
    assert (platform["records_started"], platform["records_failed"], platform["records_succeeded"],
            platform["helps"]) == (1, 1, 0, 1)

    assert (await jobs.run_once(bg, NOW + timedelta(days=1, hours=2)))["records_failed"] == 2
    assert await figures() == [{**expected, "records_in_progress": 0, "records_failed": 3}] * 3
