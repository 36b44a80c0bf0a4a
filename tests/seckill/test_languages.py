"""Every refusal of the reservation path, the checkout calls and the admin speaks the caller's
language, reasons included (issue 12, points 7, 8 and 10)."""

from __future__ import annotations

import re

from shared.auth import Role
from tests.conftest import bearer
from tests.seckill.conftest import activity, make_sale, slot
from tests.seckill.test_reservations import grab

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")


def speaks(message: str, language: str) -> bool:
    without_ids = message.replace("SKU", "")
    if language == "en":
        return not CJK.search(message)
    return bool(CJK.search(message)) and not LATIN.search(without_ids)


async def test_reservation_refusals_answer_in_english_and_in_chinese(client, tokens, dev_settings):
    activity_id = await make_sale(client, tokens["admin"], stock=3, user_limit=2, order_limit=2)
    member = tokens["member"]
    assert (await client.post("/app-api/seckill/reservations", json=grab(activity_id, 2), headers=member)).is_success
    cases = [  # (body, headers, status, code)
        (grab(activity_id, 3), member, 422, "SECKILL_ORDER_LIMIT_EXCEEDED"),
        (grab(activity_id, 1), member, 409, "SECKILL_USER_LIMIT_REACHED"),
        (grab(activity_id, 2), bearer(dev_settings, Role.MEMBER, 2001), 409, "SECKILL_STOCK_NOT_ENOUGH"),
        (grab(activity_id, 1, 999), member, 422, "SECKILL_SKU_NOT_IN_ACTIVITY"),
        (grab(activity_id + 100), member, 404, "SECKILL_ACTIVITY_NOT_FOUND"),
        ({"activity_id": activity_id}, member, 422, "VALIDATION_FAILED"),
        (grab(activity_id), {}, 401, "UNAUTHORIZED"),
        (grab(activity_id), tokens["admin"], 403, "FORBIDDEN"),
    ]
    for language, header in (("en", "en"), ("en", "en-US,en;q=0.9,zh;q=0.5"), ("zh-CN", "zh-CN"),
                             ("zh-CN", "zh;q=0.9,en;q=0.1")):
        for body, headers, status, code in cases:
            answer = await client.post("/app-api/seckill/reservations", json=body,
                                       headers={**headers, "Accept-Language": header})
            error = answer.json()["error"]
            assert (answer.status_code, error["code"]) == (status, code), answer.text
            assert speaks(error["message"], language), (header, error)
    assert (await client.post("/app-api/seckill/reservations", json=grab(activity_id, 1),
                              headers=bearer(dev_settings, Role.MEMBER, 2002))).is_success
    for header, message in (("en", "Sold out"), ("zh-CN", "秒杀失败，原因：已售罄")):
        gone = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 1),
                                 headers={**bearer(dev_settings, Role.MEMBER, 2003), "Accept-Language": header})
        assert gone.json()["error"] == {"code": "SECKILL_SOLD_OUT", "message": message, "details": {}}


async def test_checkout_refusals_and_their_reasons_speak_the_callers_language(client, tokens, dev_settings):
    activity_id = await make_sale(client, tokens["admin"], stock=3)
    other = await client.post("/app-api/seckill/reservations", json=grab(activity_id),
                              headers=bearer(dev_settings, Role.MEMBER, 2001))
    hold = {"order_id": 9101, "user_id": 1001, "activity_id": activity_id, "sku_id": 1001, "count": 1,
            "reservation_id": other.json()["id"]}
    expected = {"en": ("Reservation {id} cannot be used for this order: it is not your reservation"),
                "zh-CN": "秒杀资格 {id} 不能用于该订单：不是您的秒杀资格"}
    for language, message in expected.items():
        refused = await client.post("/internal/seckill/holds", json=hold,
                                    headers={**tokens["service"], "Accept-Language": language})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["message"] == message.format(id=other.json()["id"])
        assert refused.json()["error"]["details"]["reason_code"] == "NOT_YOUR_RESERVATION"
        too_many = await client.post("/internal/seckill/holds", json={**hold, "reservation_id": None, "count": 5},
                                     headers={**tokens["service"], "Accept-Language": language})
        assert too_many.json()["error"]["code"] == "SECKILL_STOCK_NOT_ENOUGH"
        assert speaks(too_many.json()["error"]["message"], language)


async def test_admin_mistakes_name_their_field_in_the_callers_language(client, tokens):
    admin = tokens["admin"]
    slot_id = (await client.post("/admin-api/seckill/slots", json=slot(), headers=admin)).json()["id"]
    free = activity([slot_id], skus=((1001, 0, 10),))
    zero = await client.post("/admin-api/seckill/activities", json=free, headers=admin)
    assert zero.status_code == 422 and zero.json()["error"]["code"] == "VALIDATION_FAILED"
    assert [e["loc"] for e in zero.json()["error"]["details"]["errors"]] == [["body", "products", "0", "price"]]
    limits = activity([slot_id], user_limit=2, order_limit=3)
    for language, message in (("en", "Invalid seckill activity: order_limit (3) is above user_limit (2)"),
                              ("zh-CN", "秒杀活动无效：单次限购（3 件）不能超过每人限购（2 件）")):
        refused = await client.post("/admin-api/seckill/activities", json=limits,
                                    headers={**admin, "Accept-Language": language})
        assert refused.status_code == 422 and refused.json()["error"]["message"] == message
        assert refused.json()["error"]["details"]["field"] == "order_limit"
    made = await client.post("/admin-api/seckill/activities", json=activity([slot_id], skus=((1001, 9900, 10),
                                                                                             (1002, 9900, 10))),
                             headers=admin)
    await client.post("/app-api/seckill/reservations", json=grab(made.json()["id"], 1, 1002), headers=tokens["member"])
    removed = await client.put(f"/admin-api/seckill/activities/{made.json()['id']}", headers={
        **admin, "Accept-Language": "zh-CN"}, json=activity([slot_id], skus=((1001, 9900, 10),)))
    assert removed.status_code == 422
    assert removed.json()["error"]["message"] == "秒杀活动无效：SKU 1002 已有售出，不能移除"
    assert removed.json()["error"]["details"]["reason_code"] == "SKU_HAS_SALES"


async def test_a_wrong_slot_time_says_what_is_expected_in_the_callers_language(client, tokens):
    for language, hint in (("en", 'should be a wall-clock time "HH:MM:SS" or "HH:MM"'),
                           ("zh-CN", "须为营业时区的时刻（时:分:秒 或 时:分，不带时区）")):
        refused = await client.post("/admin-api/seckill/slots", json=slot(start="10:00:00+08:00"),
                                    headers={**tokens["admin"], "Accept-Language": language})
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["error"]["details"]["errors"]
        assert error["loc"] == ["body", "start_time"] and error["type"] == "WALL_TIME"
        assert error["msg"].startswith(hint), error
        assert speaks(error["msg"].replace("HH:MM:SS", "").replace("HH:MM", ""), language), error
