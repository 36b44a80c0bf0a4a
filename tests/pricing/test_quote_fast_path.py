"""`POST /app-api/pricing/quote` served by QuoteFastPath ahead of FastAPI: byte for byte the FastAPI
route's answers (both languages, members and anonymous callers, with and without coupons, one shop
or several), everything else left to that route (its usual errors), metrics labelled by the route."""

from __future__ import annotations

import json

import pytest
from starlette.datastructures import Headers

from services.pricing.api import quote_route
from shared.auth import Role
from tests.conftest import bearer
from tests.pricing.conftest import give_coupon
from tests.pricing.test_quote import CART, setup_promotions
from tests.pricing.test_quote_shops import SHOPS_CART, shop_coupon

QUOTE = "/app-api/pricing/quote"


async def _leave_to_the_route(*_args) -> None:
    return None


async def routed(client, monkeypatch, body: dict, headers: dict):
    with monkeypatch.context() as patched:
        patched.setattr(quote_route.QuoteFastPath, "answers", staticmethod(_leave_to_the_route))
        return await client.post(QUOTE, json=body, headers=headers)


async def served_by_the_fast_path(pricing_app, body: dict, headers: dict) -> bytes:
    answer = await quote_route.fast_quote(pricing_app, Headers({k.lower(): v for k, v in headers.items()}),
                                          json.dumps(body).encode())
    assert answer is not None, "the fast path answered it itself"
    return answer.body


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
async def test_the_fast_path_answers_as_the_fastapi_route(client, coupons, coupon_app, pricing_app, tokens,
                                                          monkeypatch, locale):
    await setup_promotions(client, tokens, coupons)
    big = await give_coupon(coupons, tokens, name="减8", discount_type=1, discount_price=800)
    await give_coupon(coupons, tokens, name="满500减50", discount_type=1, use_price=50000, discount_price=5000)
    await shop_coupon(coupons, coupon_app, tokens, 1, name="店铺减5", discount_type=1, discount_price=500)
    member, anonymous = {**tokens["member"], "Accept-Language": locale}, {"Accept-Language": locale}
    cases = [({"lines": CART}, anonymous), ({"lines": CART}, member),
             ({"lines": CART, "use_best_coupon": True}, member), ({"lines": CART, "coupon_id": big}, member),
             ({"lines": CART, "use_points": True, "points_balance": 100, "member_pay_bp": 9500}, member),
             ({"lines": CART}, {**tokens["other_member"], "Accept-Language": locale}),  # a member with no coupon
             ({"lines": SHOPS_CART, "use_best_coupon": True}, member), ({"lines": SHOPS_CART}, anonymous)]
    for body, headers in cases:
        fast = await client.post(QUOTE, json=body, headers=headers)
        assert fast.status_code == 200, (body, fast.text)
        route = await routed(client, monkeypatch, body, headers)
        assert route.status_code == 200
        assert fast.content == route.content, body
        assert {k: v for k, v in fast.headers.items() if k != "x-request-id"} == \
               {k: v for k, v in route.headers.items() if k != "x-request-id"}
        assert await served_by_the_fast_path(pricing_app, body, headers) == fast.content
    coupons_offered = (await client.post(QUOTE, json={"lines": CART}, headers=member)).json()["coupons"]
    assert big in {c["coupon_id"] for c in coupons_offered["usable"]}
    assert any(c["reason_message"] for c in coupons_offered["unusable"]), "a reason in the caller's language"


async def test_what_the_fast_path_does_not_serve_gets_the_route_s_usual_answers(client, pricing_app, tokens,
                                                                                dev_settings):
    expired = bearer(dev_settings, Role.MEMBER, 1001, ttl_seconds=-3600)
    nothing = {"lines": [{**CART[0], "selected": False}]}
    cases = [(tokens["admin"], {"lines": CART}, 403, "FORBIDDEN"),
             (tokens["service"], {"lines": CART}, 403, "FORBIDDEN"),
             ({"Authorization": "Bearer not-a-token"}, {"lines": CART}, 401, "AUTH_INVALID_TOKEN"),
             (expired, {"lines": CART}, 401, "AUTH_INVALID_TOKEN"),
             ({}, {"lines": CART, "coupon_id": 5}, 401, "UNAUTHORIZED"),
             (tokens["member"], nothing, 422, "PRICING_NOTHING_SELECTED"),
             (tokens["member"], {"lines": CART, "extra": 1}, 422, "VALIDATION_FAILED"),
             (tokens["member"], {"lines": [{**CART[0], "count": "1"}]}, 422, "VALIDATION_FAILED"),
             (tokens["member"], {"lines": []}, 422, "VALIDATION_FAILED")]
    for headers, body, status, code in cases:
        answer = await client.post(QUOTE, json=body, headers={**headers, "Accept-Language": "zh-CN"})
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), (body, answer.text)
        assert await quote_route.fast_quote(pricing_app, Headers({k.lower(): v for k, v in headers.items()}),
                                            json.dumps(body).encode()) is None, body
    for broken in (b'{"lines": [', b"[]", b"null"):
        answer = await client.post(QUOTE, content=broken, headers={**tokens["member"],
                                                                   "Content-Type": "application/json"})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "VALIDATION_FAILED", broken


async def test_a_coupon_service_down_is_answered_alike(pricing_app, client, tokens, monkeypatch):
    coupons = pricing_app.state.pricing.coupons.client
    real_url = coupons.base_url
    coupons.base_url = "http://127.0.0.1:9"  # nothing listens there
    try:
        page = await client.post(QUOTE, json={"lines": CART}, headers=tokens["member"])
        assert page.status_code == 200 and page.json()["coupons"]["available"] is False
        assert page.content == (await routed(client, monkeypatch, {"lines": CART}, tokens["member"])).content
        chosen = await client.post(QUOTE, json={"lines": CART, "coupon_id": 1}, headers=tokens["member"])
        assert chosen.status_code == 503 and chosen.json()["error"]["code"] == "DEPENDENCY_UNAVAILABLE"
    finally:
        coupons.base_url = real_url


async def test_metrics_label_fast_quotes_by_the_route(client, tokens):
    def served() -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.text.splitlines()
                   if line.startswith("http_requests_total{") and f'route="{QUOTE}"' in line and 'status="200"' in line)

    metrics = await client.get("/metrics")
    before = served()
    assert (await client.post(QUOTE, json={"lines": CART}, headers=tokens["member"])).status_code == 200
    metrics = await client.get("/metrics")
    assert served() == before + 1
