"""Pricing's side over HTTP: prices and holds for a checkout retried after a crash (the order's own
seat is its own), the activity's name in the prices, refusals in the caller's language, and the
integer enums described in the OpenAPI schema."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from services.groupbuy import service
from services.groupbuy.models import Group, Member
from tests.groupbuy.conftest import NOW, activity, make_activity

PRICES, HOLDS = "/internal/groupbuy/prices", "/internal/groupbuy/holds"
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]+")
ALLOWED_LATIN = {"SKU", "SPU", "ID"}


def hold_body(order_id: int, user_id: int, activity_id: int, group_id: int | None = None, count: int = 1,
              sku_id: int = 3001) -> dict:
    return {"order_id": order_id, "user_id": user_id, "activity_id": activity_id, "group_id": group_id,
            "sku_id": sku_id, "count": count, "nickname": f"user{user_id}"}


async def seat_count(app, group_id: int) -> tuple[int, int]:
    """(the group's seats_taken, its members)"""
    async with app.state.sessionmaker() as session:
        group = await session.get(Group, group_id)
        members = await session.scalar(select(func.count()).select_from(Member).where(Member.group_id == group_id))
        return group.seats_taken, members


async def pay(app, order_id: int) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        assert await service.pay(session, order_id, NOW, NOW)


async def test_a_retried_checkout_whose_seat_filled_the_group_is_priced_and_holds_the_same_seat(
        client, tokens, groupbuy_app):
    service_token = tokens["service"]
    activity_id = await make_activity(client, tokens["admin"], size=2)
    opened = await client.post(HOLDS, json=hold_body(1, 11, activity_id), headers=service_token)
    assert opened.status_code == 201, opened.text
    group_id = opened.json()["group_id"]
    await pay(groupbuy_app, 1)
    joined = await client.post(HOLDS, json=hold_body(2, 12, activity_id, group_id), headers=service_token)
    assert joined.status_code == 201, joined.text
    assert await seat_count(groupbuy_app, group_id) == (2, 2)  # full: the leader's paid seat and order 2's

    ask = {"user_id": 12, "activity_id": activity_id, "group_id": group_id, "sku_ids": [3001]}
    refused = await client.post(PRICES, json=ask, headers=service_token)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "GROUPBUY_GROUP_FULL"
    other = await client.post(PRICES, json={**ask, "user_id": 13, "order_id": 3}, headers=service_token)
    assert other.status_code == 409 and other.json()["error"]["code"] == "GROUPBUY_GROUP_FULL"
    retried = await client.post(PRICES, json={**ask, "order_id": 2}, headers=service_token)
    assert retried.status_code == 200, retried.text
    assert retried.json() == {"activity_id": activity_id, "activity_name": "三人团", "business_id": None,
                              "group_id": group_id,
                              "leader": False, "prices": {"3001": 5900}}

    again = await client.post(HOLDS, json=hold_body(2, 12, activity_id, group_id), headers=service_token)
    assert again.status_code == 201, again.text
    assert (again.json()["id"], again.json()["group_id"]) == (joined.json()["id"], group_id)
    assert await seat_count(groupbuy_app, group_id) == (2, 2)  # no second seat


async def test_a_retried_checkout_is_priced_at_the_price_its_seat_was_taken_at(client, tokens, groupbuy_app):
    service_token = tokens["service"]
    activity_id = await make_activity(client, tokens["admin"])
    opened = await client.post(HOLDS, json=hold_body(1, 11, activity_id), headers=service_token)
    assert opened.json()["unit_price"] == 4900
    changed = await client.put(f"/admin-api/groupbuy/activities/{activity_id}", headers=tokens["admin"],
                               json=activity(skus=((3001, 6900, 5900),)))
    assert changed.status_code == 200, changed.text
    ask = {"user_id": 11, "activity_id": activity_id, "sku_ids": [3001]}
    assert (await client.post(PRICES, json=ask, headers=service_token)).json()["prices"] == {"3001": 5900}
    retried = await client.post(PRICES, json={**ask, "order_id": 1}, headers=service_token)
    assert retried.json()["prices"] == {"3001": 4900}  # what the seat (and the hold again) says


async def test_a_retried_checkout_of_a_buyer_at_their_limit_is_priced_and_holds_the_same_seat(
        client, tokens, groupbuy_app):
    service_token = tokens["service"]
    activity_id = await make_activity(client, tokens["admin"], user_limit=1)
    opened = await client.post(HOLDS, json=hold_body(5, 11, activity_id), headers=service_token)
    assert opened.status_code == 201, opened.text
    # the seat makes user 11 "in a group of this activity" and at the limit: another order is refused
    busy = await client.post(HOLDS, json=hold_body(6, 11, activity_id), headers=service_token)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "GROUPBUY_ALREADY_IN_GROUP"
    retried = await client.post(PRICES, json={"user_id": 11, "activity_id": activity_id, "sku_ids": [3001],
                                              "order_id": 5}, headers=service_token)
    assert retried.status_code == 200 and retried.json()["prices"] == {"3001": 4900}, retried.text
    again = await client.post(HOLDS, json=hold_body(5, 11, activity_id), headers=service_token)
    assert again.status_code == 201 and again.json() == opened.json()
    assert await seat_count(groupbuy_app, opened.json()["group_id"]) == (1, 1)


def assert_chinese(message: str) -> None:
    assert CJK.search(message), message
    assert not set(LATIN.findall(message)) - ALLOWED_LATIN, message


async def test_every_refusal_of_prices_and_holds_answers_in_the_language_asked(client, tokens, groupbuy_app):
    service_token = tokens["service"]
    activity_id = await make_activity(client, tokens["admin"], size=2, user_limit=3, order_limit=2)
    opened = (await client.post(HOLDS, json=hold_body(1, 11, activity_id), headers=service_token)).json()
    pending = (await client.post(HOLDS, json=hold_body(2, 12, activity_id), headers=service_token)).json()
    await pay(groupbuy_app, 1)
    await client.post(HOLDS, json=hold_body(3, 13, activity_id, opened["group_id"]), headers=service_token)
    ask = {"activity_id": activity_id, "sku_ids": [3001]}
    refusals = [
        (PRICES, {**ask, "activity_id": 999_999}, "GROUPBUY_ACTIVITY_NOT_FOUND"),
        (PRICES, {**ask, "sku_ids": [9999]}, "GROUPBUY_SKU_NOT_IN_ACTIVITY"),
        (PRICES, {**ask, "group_id": 999_999}, "GROUPBUY_GROUP_NOT_FOUND"),
        (PRICES, {**ask, "group_id": pending["group_id"]}, "GROUPBUY_GROUP_NOT_JOINABLE"),
        (PRICES, {**ask, "group_id": opened["group_id"]}, "GROUPBUY_GROUP_FULL"),
        (HOLDS, hold_body(4, 14, activity_id, opened["group_id"]), "GROUPBUY_GROUP_FULL"),
        (HOLDS, hold_body(4, 12, activity_id), "GROUPBUY_ALREADY_IN_GROUP"),
        (HOLDS, hold_body(4, 14, activity_id, count=3), "GROUPBUY_ORDER_LIMIT_EXCEEDED"),
        (HOLDS, hold_body(4, 14, activity_id, sku_id=9999), "GROUPBUY_SKU_NOT_IN_ACTIVITY"),
        (HOLDS, hold_body(1, 11, activity_id, count=2), "GROUPBUY_ORDER_HOLDS_ANOTHER_SEAT"),
    ]
    for path, body, code in refusals:
        answers = {}
        for language in ("zh-CN", "en"):
            answer = await client.post(path, json=body, headers={**service_token, "Accept-Language": language})
            assert answer.json()["error"]["code"] == code, (path, body, answer.text)
            answers[language] = answer.json()["error"]["message"]
        assert_chinese(answers["zh-CN"])
        assert not CJK.search(answers["en"]) and "groupbuy" not in answers["en"], answers["en"]
    await client.post(f"/admin-api/groupbuy/activities/{activity_id}/close", headers=tokens["admin"])
    for language, expected in (("zh-CN", "拼团失败，原因：拼团活动已关闭"), ("en", "The group-buy activity is closed")):
        closed = await client.post(PRICES, json=ask, headers={**service_token, "Accept-Language": language})
        assert closed.json()["error"]["message"] == expected


async def test_an_invalid_activity_names_the_field_and_its_reason_in_the_language_asked(client, tokens):
    admin = tokens["admin"]
    dear_leader = activity(skus=((3001, 5900, 4900), (3002, 5900, 6000)))
    for language, message in (
            ("zh-CN", "拼团活动无效：SKU 3002：开团价 6000 高于参团价 5900（团长最多支付参团价）"),
            ("en", "Invalid group-buy activity: SKU 3002: leader_price 6000 is above group_price 5900 "
                   "(the leader pays at most the group price)")):
        refused = await client.post("/admin-api/groupbuy/activities", json=dear_leader,
                                    headers={**admin, "Accept-Language": language})
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["message"]) == ("GROUPBUY_ACTIVITY_INVALID", message)
        assert (error["details"]["field"], error["details"]["reason_code"]) == (
            "products[1].leader_price", "LEADER_PRICE_ABOVE_GROUP_PRICE")
    made = await make_activity(client, admin)
    refused = await client.put(f"/admin-api/groupbuy/activities/{made}", json=dear_leader, headers=admin)
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "products[1].leader_price"

    for change, field in (({"start": NOW, "end": NOW}, "end_at"), ({"least_population": 3}, "least_population"),
                          ({"robot_join_after_hours": 24}, "robot_join_after_hours"),
                          ({"user_limit": 1, "order_limit": 2}, "order_limit"),
                          ({"skus": ((3001, 5900, None), (3001, 5900, None))}, "products[1].sku_id")):
        answers = {}
        for language in ("zh-CN", "en"):
            refused = await client.post("/admin-api/groupbuy/activities", json=activity(spu_id=399, **change),
                                        headers={**admin, "Accept-Language": language})
            assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == field, refused.text
            answers[language] = refused.json()["error"]["message"]
        assert_chinese(answers["zh-CN"])
        assert answers["en"].startswith("Invalid group-buy activity: ") and not CJK.search(answers["en"])


async def test_integer_enums_are_described_in_the_openapi_schema(client):
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for name, values in (("GroupStatus", [0, 10, 20, 30, 40]), ("MemberStatus", [0, 10, 20, 30, 40]),
                         ("MemberKind", [1, 2, 3]), ("CommonStatus", [0, 1])):
        schema = schemas[name]
        assert schema["enum"] == values and len(schema["x-enum-descriptions"]) == len(values), schema
        assert all(schema["x-enum-descriptions"]), schema
        assert all(f"{value} = " in schema["description"] for value in values), schema
    assert "activity_name" in schemas["PricesOut"]["required"]
    assert "order_id" in schemas["PricesIn"]["properties"]
