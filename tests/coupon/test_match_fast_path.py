"""`POST /internal/coupon/match` served by MatchFastPath ahead of FastAPI: the same answers as the
FastAPI route, anything else left to that route (its usual errors), a database error answered by
the route, one statement per call, metrics labelled by the route."""

from __future__ import annotations

import json

from sqlalchemy import event
from starlette.datastructures import Headers

from services.coupon.api import internal
from shared.auth import Role
from shared.db import create_engine
from tests.conftest import bearer
from tests.coupon.test_api import make_template, take

MATCH = "/internal/coupon/match"
CART = {"user_id": 1001, "lines": [{"spu_id": 1, "category_id": 10, "amount": 12000},
                                   {"spu_id": 2, "category_id": 20, "amount": 3000, "business_id": 1}]}


async def three_coupons(client, tokens) -> None:
    for name, overrides in (("满100减10", {}), ("满200减30", {"use_price": 20000, "discount_price": 3000}),
                            ("八折", {"use_price": 0, "discount_type": 2, "discount_price": None,
                                      "discount_percent": 80, "discount_limit_price": 500})):
        template = await make_template(client, tokens, name=name, **overrides)
        assert (await take(client, template["id"], tokens["member"])).status_code == 201


async def test_the_fast_path_answers_as_the_fastapi_route(client, tokens, coupon_app, monkeypatch):
    await three_coupons(client, tokens)
    for locale in ("en", "zh-CN"):
        headers = {**tokens["service"], "Accept-Language": locale}
        fast = await client.post(MATCH, json=CART, headers=headers)
        assert fast.status_code == 200 and len(fast.json()["coupons"]) == 3
        with monkeypatch.context() as patched:
            patched.setattr(internal.MatchFastPath, "answers", staticmethod(_leave_to_the_route))
            routed = await client.post(MATCH, json=CART, headers=headers)
        assert routed.status_code == 200
        assert fast.json() == routed.json() and fast.headers["content-type"] == routed.headers["content-type"]
        served = await internal.fast_match(coupon_app, Headers({k.lower(): v for k, v in headers.items()}),
                                           json.dumps(CART).encode())
        assert served is not None and json.loads(served.body) == routed.json(), "the fast path answered it itself"
    reasons = {c["reason_message"] for c in fast.json()["coupons"]}
    assert "再买 ¥50.00 可用" in reasons


async def _leave_to_the_route(*_args) -> None:
    return None


async def test_what_the_fast_path_does_not_serve_gets_the_route_s_usual_answers(client, tokens, dev_settings):
    await three_coupons(client, tokens)
    expired = bearer(dev_settings, Role.SERVICE, "pricing", ttl_seconds=-3600)
    cases = [({}, CART, 401, "UNAUTHORIZED"), (tokens["member"], CART, 403, "FORBIDDEN"),
             ({"Authorization": "Bearer not-a-token"}, CART, 401, "AUTH_INVALID_TOKEN"),
             (expired, CART, 401, "AUTH_INVALID_TOKEN"),
             (tokens["service"], {**CART, "user_id": "1001"}, 422, "VALIDATION_FAILED"),
             (tokens["service"], {**CART, "owners": "mine"}, 422, "VALIDATION_FAILED"),
             (tokens["service"], {**CART, "extra": 1}, 422, "VALIDATION_FAILED"),
             (tokens["service"], {"user_id": 1001, "lines": []}, 422, "VALIDATION_FAILED")]
    for headers, body, status, code in cases:
        answer = await client.post(MATCH, json=body, headers={**headers, "Accept-Language": "zh-CN"})
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), (body, answer.text)
    broken = await client.post(MATCH, content=b'{"user_id": 1001, "lines": [', headers={
        **tokens["service"], "Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "VALIDATION_FAILED"


async def test_a_database_error_on_the_fast_path_is_left_to_the_route(client, tokens, coupon_app):
    await three_coupons(client, tokens)
    expected = (await client.post(MATCH, json=CART, headers=tokens["service"])).json()
    engine, unreachable = coupon_app.state.engine, create_engine("mysql+asyncmy://root@127.0.0.1:1/nowhere")
    coupon_app.state.engine = unreachable  # the fast path's connections; the route's sessions keep theirs
    try:
        answer = await client.post(MATCH, json=CART, headers=tokens["service"])
    finally:
        coupon_app.state.engine = engine
        await unreachable.dispose()
    assert answer.status_code == 200 and answer.json() == expected


async def test_a_match_is_one_statement_and_counted_under_its_route(client, tokens, coupon_app):
    await three_coupons(client, tokens)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        # the app's outbox relay and jobs run on the same engine: a user's statements are the call's
        if "coupon.user_id = " in statement:
            statements.append(statement)

    engine = coupon_app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        answer = await client.post(MATCH, json={**CART, "owners": "platform", "order_id": 5}, headers=tokens["service"])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert answer.status_code == 200 and len(answer.json()["coupons"]) == 3
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")
    metrics = (await client.get("/metrics")).text
    line = next(x for x in metrics.splitlines()
                if x.startswith("http_requests_total{") and f'route="{MATCH}"' in x and 'status="200"' in x)
    assert float(line.rsplit(" ", 1)[1]) >= 1
    assert json.loads(answer.content)["best_coupon_id"] is not None
