"""/app-api/points: the points mall, public: running activities only (paged, by SPU), each SKU
with its points, cash, units left, and what the viewer may still exchange with a member token
(null anonymously or for other roles); one activity's page."""

from __future__ import annotations

from datetime import timedelta

from tests.points.conftest import ADMIN, APP, HOLDS, NOW, hold_body, make_activity


def by_sku(activity: dict) -> dict[int, dict]:
    return {p["sku_id"]: p for p in activity["products"]}


async def test_the_mall_lists_running_activities_with_their_skus(client, tokens, members):
    admin = tokens["admin"]
    running = await make_activity(client, admin, sort=1)
    later = await make_activity(client, admin, spu_id=602, start=NOW + timedelta(hours=1))
    closed = await make_activity(client, admin, spu_id=603)
    await make_activity(client, admin, spu_id=604, start=NOW - timedelta(days=2), end=NOW)  # ended
    assert (await client.post(f"{ADMIN}/activities/{closed['id']}/close", headers=admin)).status_code == 204
    page = (await client.get(f"{APP}/activities")).json()
    assert page["total"] == 1 and [a["id"] for a in page["items"]] == [running["id"]]
    shown = page["items"][0]
    assert (shown["stock"], shown["total_stock"], shown["spu_id"]) == (15, 15, 601)
    assert by_sku(shown) == {
        6001: {"sku_id": 6001, "points": 500, "price": 1_000, "stock": 10, "limit_count": 2, "my_remaining": None},
        6002: {"sku_id": 6002, "points": 800, "price": 0, "stock": 5, "limit_count": 1, "my_remaining": None}}
    assert (await client.get(f"{APP}/activities", params={"spu_id": 602})).json()["total"] == 0
    assert (await client.get(f"{APP}/activities", params={"spu_id": 601})).json()["total"] == 1
    assert later["id"] not in [a["id"] for a in page["items"]]


async def test_a_member_sees_what_they_may_still_exchange(client, tokens, members):
    body = await make_activity(client, tokens["admin"])
    held = await client.post(HOLDS, headers=tokens["service"], json=hold_body(1, body["id"], count=1))
    assert held.status_code == 201
    mine = (await client.get(f"{APP}/activities", headers=members[1001])).json()["items"][0]
    assert {s: p["my_remaining"] for s, p in by_sku(mine).items()} == {6001: 1, 6002: 1}
    assert by_sku(mine)[6001]["stock"] == 9
    other = (await client.get(f"{APP}/activities", headers=members[1002])).json()["items"][0]
    assert {s: p["my_remaining"] for s, p in by_sku(other).items()} == {6001: 2, 6002: 1}
    as_admin = (await client.get(f"{APP}/activities", headers=tokens["admin"])).json()["items"][0]
    assert by_sku(as_admin)[6001]["my_remaining"] is None
    detail = await client.get(f"{APP}/activities/{body['id']}", headers=members[1001])
    assert detail.status_code == 200 and by_sku(detail.json())[6001]["my_remaining"] == 1
    anonymous = await client.get(f"{APP}/activities/{body['id']}")
    assert anonymous.status_code == 200 and by_sku(anonymous.json())[6001]["my_remaining"] is None


async def test_one_activitys_page_missing_closed_or_deleted(client, tokens):
    admin = tokens["admin"]
    missing = await client.get(f"{APP}/activities/999999", headers={"Accept-Language": "zh-CN"})
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "积分商城活动 999999 不存在"
    body = await make_activity(client, admin)
    assert (await client.post(f"{ADMIN}/activities/{body['id']}/close", headers=admin)).status_code == 204
    closed = await client.get(f"{APP}/activities/{body['id']}")
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "POINTS_ACTIVITY_CLOSED"
    assert (await client.delete(f"{ADMIN}/activities/{body['id']}", headers=admin)).status_code == 204
    assert (await client.get(f"{APP}/activities/{body['id']}")).status_code == 404


async def test_a_bad_token_is_refused_even_on_public_pages(client):
    answer = await client.get(f"{APP}/activities", headers={"Authorization": "Bearer not-a-token"})
    assert answer.status_code == 401
