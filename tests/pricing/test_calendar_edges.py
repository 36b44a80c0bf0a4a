"""A window set at the calendar's edge (year 1 or 9999, with an offset) is a 422 naming the field
in every activity service and in a coupon template's fixed dates, not a 500 from converting it to
UTC (shared.validation.Moment)."""

from __future__ import annotations

import pytest

from tests.bargain.conftest import activity as bargain_activity
from tests.conftest import asgi_client
from tests.groupbuy.conftest import activity as groupbuy_activity
from tests.points.conftest import activity as points_activity
from tests.pricing.test_admin import discount

EDGES = ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1999-12-31T23:59:59+00:00")


def coupon_template() -> dict:
    return {"name": "券", "take_type": 1, "total_count": 10, "take_limit_count": 1, "validity_type": 1,
            "valid_start": "2026-12-01T00:00:00+08:00", "valid_end": "2026-12-31T00:00:00+08:00",
            "discount_type": 1, "discount_price": 500}


@pytest.fixture
def services(coupon_app, pricing_app, bargain_app, groupbuy_app, points_app):
    return {"coupon": (coupon_app, "/admin-api/coupon/templates", coupon_template),
            "pricing": (pricing_app, "/admin-api/pricing/discounts", discount),
            "bargain": (bargain_app, "/admin-api/bargain/activities", bargain_activity),
            "groupbuy": (groupbuy_app, "/admin-api/groupbuy/activities", groupbuy_activity),
            "points": (points_app, "/admin-api/points/activities", points_activity)}


@pytest.mark.parametrize(("service", "field"), [
    *((service, field) for service in ("pricing", "bargain", "groupbuy", "points") for field in ("start_at", "end_at")),
    ("coupon", "valid_start"), ("coupon", "valid_end")])
async def test_a_window_at_the_calendars_edge_is_refused(services, tokens, service, field):
    app, path, body = services[service]
    async with asgi_client(app) as client:
        for edge in EDGES:
            refused = await client.post(path, json={**body(), field: edge},
                                        headers={**tokens["admin"], "Accept-Language": "zh-CN"})
            assert refused.status_code == 422, (service, edge, refused.text)
            error = refused.json()["error"]
            assert error["code"] == "VALIDATION_FAILED", error
            assert [(e["loc"][-1], e["type"], e["msg"]) for e in error["details"]["errors"]] == [
                (field, "DATE_TIME_IN_RANGE", "须在 2000 年至 2100 年之间")], error
