"""A business day's coupon figures (the console's dashboard): issued that day, per owner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.auth import Role
from tests.conftest import bearer
from tests.coupon.test_api import make_template, take
from tests.coupon.test_merchant_api import shop_template, shops  # noqa: F401 (fixture)

DAILY = "/admin-api/coupon/stats/daily"


async def test_the_day_s_issued_coupons_by_owner(client, tokens, shops, dev_settings):  # noqa: F811
    platform = await make_template(client, tokens, take_limit_count=-1)
    mine = await shop_template(client, shops["a"], take_limit_count=-1)
    for user in (1001, 1002):
        assert (await take(client, platform["id"], bearer(dev_settings, Role.MEMBER, user))).status_code == 201
    assert (await take(client, mine["id"], tokens["member"])).status_code == 201

    async def issued(path: str, headers, **params) -> int:
        answer = await client.get(path, headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["issued"]

    assert await issued(DAILY, tokens["admin"]) == 3
    assert await issued(DAILY, tokens["admin"], business_id=1) == 1
    assert await issued(DAILY, tokens["admin"], platform="true") == 2
    assert await issued("/merchant-api/coupon/stats/daily", shops["a"]) == 1
    assert await issued("/merchant-api/coupon/stats/daily", shops["b"]) == 0
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    answer = (await client.get(DAILY, headers=tokens["admin"], params={"day": str(today)})).json()
    assert answer == {"day": str(today), "issued": 3, "used": 0, "discount_given": 0}
    assert await issued(DAILY, tokens["admin"], day=str(today - timedelta(days=1))) == 0
    assert (await client.get(DAILY, headers=shops["a"])).status_code == 403
