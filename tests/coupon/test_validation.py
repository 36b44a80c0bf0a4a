"""What an operator or a caller gets wrong is a 422 naming the field, in the caller's language,
never a 500 (issue 12, points 5, 6, 8 and the token check of point 8)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from shared.auth import Role
from tests.conftest import bearer
from tests.coupon.test_api import TEMPLATES, make_template, template_body

PAST = (datetime.now(UTC) - timedelta(days=1)).isoformat()
DATES = {"validity_type": 1, "fixed_start_term": None, "fixed_end_term": None}


@pytest.mark.parametrize("overrides, field, reason_code", [
    ({**DATES, "valid_start": "2020-01-01T00:00:00+08:00", "valid_end": PAST}, "valid_end", "END_IN_PAST"),
    ({"take_limit_count": 0}, "take_limit_count", "TAKE_LIMIT_ZERO"),
    ({"total_count": 0, "take_limit_count": -1}, "total_count", "TOTAL_COUNT_ZERO"),
    ({"use_price": 10000, "discount_price": 20000}, "discount_price", "DISCOUNT_ABOVE_THRESHOLD"),
])
async def test_template_mistakes_are_refused_naming_the_field(client, tokens, overrides, field, reason_code):
    response = await client.post(TEMPLATES, json=template_body(**overrides), headers=tokens["admin"])
    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "COUPON_TEMPLATE_INVALID", response.text
    assert error["details"]["field"] == field and error["details"]["reason_code"] == reason_code


async def test_an_update_cannot_move_the_end_into_the_past(client, tokens):
    template = await make_template(client, tokens)
    body = template_body(**DATES, valid_start="2020-01-01T00:00:00+08:00", valid_end=PAST)
    response = await client.put(f"{TEMPLATES}/{template['id']}", json=body, headers=tokens["admin"])
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "valid_end"


async def test_a_discount_without_threshold_or_up_to_it_is_accepted(client, tokens):
    await make_template(client, tokens, use_price=0, discount_price=100_000)  # capped when matched
    await make_template(client, tokens, use_price=10000, discount_price=10000)


async def test_template_reasons_speak_chinese_under_zh_cn(client, tokens):
    body = template_body(**DATES, valid_start="2031-02-01T00:00:00+08:00", valid_end="2031-01-01T00:00:00+08:00")
    response = await client.post(TEMPLATES, json=body, headers={**tokens["admin"], "Accept-Language": "zh-CN"})
    error = response.json()["error"]
    assert error["message"] == "优惠券模板不合法：结束时间必须晚于开始时间"
    assert not re.search("[A-Za-z]", error["message"]), error["message"]
    english = await client.post(TEMPLATES, json=body, headers={**tokens["admin"], "Accept-Language": "en"})
    assert english.json()["error"]["message"] == "Invalid coupon template: valid_end must be after valid_start"


async def test_give_refusals_speak_the_callers_language(client, tokens):
    template = await make_template(client, tokens, take_type=2, total_count=1, take_limit_count=1)
    body = {"user_ids": [21, 22]}
    zh = await client.post(f"{TEMPLATES}/{template['id']}/give", json=body,
                           headers={**tokens["admin"], "Accept-Language": "zh-CN"})
    assert zh.json()["refused"] == [{"user_id": 22, "code": "COUPON_TEMPLATE_NOT_ENOUGH", "message": "优惠券已被领完"}]


@pytest.mark.parametrize("path", ["/internal/coupon/match", "/app-api/coupon/match"])
@pytest.mark.parametrize("lines", [
    [{"spu_id": 1, "category_id": 1, "amount": 20_000_000_000}],  # 200 million yuan on one line
    [{"spu_id": 1, "category_id": 1, "amount": 10**30}],
    [{"spu_id": 1, "category_id": 1, "amount": 100}] * 201,
    [{"spu_id": 1, "category_id": 1, "amount": 10_000_000_000}] * 5000,
])
async def test_a_cart_out_of_range_is_a_clean_422(client, tokens, path, lines):
    headers = tokens["service"] if path.startswith("/internal") else tokens["member"]
    body = {"lines": lines, **({"user_id": 1001} if path.startswith("/internal") else {})}
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_FAILED"


async def test_the_largest_cart_accepted_is_matched(client, tokens):
    lines = [{"spu_id": 1, "category_id": 1, "amount": 10_000_000_000}] * 200
    response = await client.post("/app-api/coupon/match", json={"lines": lines}, headers=tokens["member"])
    assert response.status_code == 200


@pytest.mark.parametrize("subject", ["0", str(2**63)])
async def test_a_member_token_whose_subject_is_no_id_is_refused(client, dev_settings, subject):
    response = await client.get("/app-api/coupon/coupons", headers=bearer(dev_settings, Role.MEMBER, subject))
    assert response.status_code == 401 and response.json()["error"]["code"] == "AUTH_INVALID_TOKEN"
