"""Operators' side: activities (validation, conflicts, lifecycle), roles, groups and stats pages."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.groupbuy import flows, service
from tests.groupbuy.conftest import NOW, activity, make_activity, seat


async def test_create_read_update_with_leader_price_defaulting_to_group_price(client, tokens):
    admin = tokens["admin"]
    made = await client.post("/admin-api/groupbuy/activities", headers=admin, json=activity(
        skus=((3001, 5900, 4900), (3002, 6900, None)), user_limit=2, order_limit=1, virtual_completion=True,
        least_population=2, robot_join_after_hours=12, keep_open_groups=2))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == 0 and body["group_size"] == 3 and body["joined_count"] == 0
    assert body["products"] == [{"sku_id": 3001, "group_price": 5900, "leader_price": 4900},
                                {"sku_id": 3002, "group_price": 6900, "leader_price": 6900}]
    changed = await client.put(f"/admin-api/groupbuy/activities/{body['id']}", headers=admin,
                               json=activity(name="五人团", size=5, skus=((3002, 6500, 6000),)))
    assert changed.status_code == 200, changed.text
    assert changed.json()["products"] == [{"sku_id": 3002, "group_price": 6500, "leader_price": 6000}]
    page = await client.get("/admin-api/groupbuy/activities", headers=admin, params={"name": "五人"})
    assert page.json()["total"] == 1 and page.json()["items"][0]["group_size"] == 5


async def test_bad_input_is_a_clear_4xx_and_writes_nothing(client, tokens):
    admin = tokens["admin"]
    cases = [(activity(size=1), 422), (activity(least_population=3), 422),
             (activity(robot_join_after_hours=24, hours=24), 422),
             (activity(start=NOW, end=NOW - timedelta(hours=1)), 422),
             (activity(skus=((3001, 0, None),)), 422), (activity(skus=((3001, 100, None), (3001, 200, None))), 422)]
    for body, status in cases:
        refused = await client.post("/admin-api/groupbuy/activities", headers=admin, json=body)
        assert refused.status_code == status, (body, refused.text)
        assert refused.json()["error"]["code"] in ("VALIDATION_FAILED", "GROUPBUY_ACTIVITY_INVALID")
    assert (await client.get("/admin-api/groupbuy/activities", headers=admin)).json()["total"] == 0


async def test_one_spu_in_one_enabled_activity_at_a_time(client, tokens):
    admin = tokens["admin"]
    first = await make_activity(client, admin, end=NOW + timedelta(days=2))
    clash = await client.post("/admin-api/groupbuy/activities", headers=admin,
                              json=activity(start=NOW + timedelta(days=1), end=NOW + timedelta(days=5)))
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "GROUPBUY_ACTIVITY_SPU_CONFLICT"
    later = await client.post("/admin-api/groupbuy/activities", headers=admin,  # back to back: no overlap
                              json=activity(start=NOW + timedelta(days=2), end=NOW + timedelta(days=5)))
    assert later.status_code == 201
    assert (await client.post(f"/admin-api/groupbuy/activities/{first}/close", headers=admin)).status_code == 204
    assert (await client.post("/admin-api/groupbuy/activities", headers=admin, json=activity(
        end=NOW + timedelta(days=2)))).status_code == 201  # the closed one no longer blocks


async def test_lifecycle_close_once_no_update_after_delete_only_when_idle(client, tokens, groupbuy_app):
    admin = tokens["admin"]
    activity_id = await make_activity(client, admin)
    url = f"/admin-api/groupbuy/activities/{activity_id}"
    assert (await client.delete(url, headers=admin)).json()["error"]["code"] == "GROUPBUY_ACTIVITY_DELETE_REFUSED"
    await flows.hold(groupbuy_app.state.groupbuy, seat(1, 11, activity_id), NOW)  # a group now runs
    assert (await client.post(f"{url}/close", headers=admin)).status_code == 204
    again = await client.post(f"{url}/close", headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "GROUPBUY_ACTIVITY_ALREADY_CLOSED"
    assert (await client.put(url, headers=admin, json=activity())).json()["error"]["code"] == "GROUPBUY_ACTIVITY_CLOSED"
    assert (await client.delete(url, headers=admin)).status_code == 409  # its group is still pending
    await flows.release_order(groupbuy_app.state.groupbuy, 1, NOW)
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert (await client.get(url, headers=admin)).json()["error"]["code"] == "GROUPBUY_ACTIVITY_NOT_FOUND"


async def test_roles_every_part_checks_its_own(client, tokens):
    assert (await client.get("/admin-api/groupbuy/activities")).status_code == 401
    assert (await client.get("/admin-api/groupbuy/activities", headers=tokens["member"])).status_code == 403
    assert (await client.get("/app-api/groupbuy/my-groups")).status_code == 401
    assert (await client.post("/internal/groupbuy/holds/1/release", headers=tokens["member"])).status_code == 403
    assert (await client.post("/internal/groupbuy/holds/1/release", headers=tokens["service"])).json() == {
        "order_id": 1, "released": False}


async def test_groups_members_pages_and_stats(client, tokens, groupbuy_app):
    admin, gb = tokens["admin"], groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, admin)
    await flows.hold(gb, seat(1, 11, activity_id), NOW)
    async with groupbuy_app.state.sessionmaker() as session, session.begin():
        await service.pay(session, 1, NOW, NOW)
    await flows.hold(gb, seat(2, 12, activity_id), NOW)  # another leader, unpaid
    groups = (await client.get("/admin-api/groupbuy/groups", headers=admin,
                               params={"activity_id": activity_id, "status": 10})).json()
    assert groups["total"] == 1 and groups["items"][0]["leader_user_id"] == 11
    detail = (await client.get(f"/admin-api/groupbuy/groups/{groups['items'][0]['id']}", headers=admin)).json()
    assert [(m["user_id"], m["order_id"], m["status"], m["unit_price"]) for m in detail["members"]] == [
        (11, 1, 10, 4900)]
    members = (await client.get("/admin-api/groupbuy/members", headers=admin, params={"user_id": 12})).json()
    assert members["total"] == 1 and members["items"][0]["status"] == 0
    stats = (await client.get("/admin-api/groupbuy/stats", headers=admin, params={"activity_id": activity_id})).json()
    assert (stats["groups_opened"], stats["groups_in_progress"], stats["members_paid"], stats["members_pending"]) == (
        1, 1, 1, 1)


async def test_concurrent_creates_of_one_spu_let_exactly_one_through(client, tokens):
    """The conflict check reads, then the create writes: concurrent creates take turns."""
    answers = await asyncio.gather(*[client.post("/admin-api/groupbuy/activities", headers=tokens["admin"],
                                                 json=activity(name=f"并发{n}")) for n in range(5)])
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"GROUPBUY_ACTIVITY_SPU_CONFLICT"}
