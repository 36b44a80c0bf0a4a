"""The cart page, GET /app-api/cart: priced by one call to the real pricing service (with its
demo promotions, and the real coupon service for a member's coupons), and still answering with
plain prices when pricing is down, slow or refuses."""

from __future__ import annotations

import asyncio
import contextlib
import re

import pytest

from services.cart.clients import PricingClient
from services.cart.flows import CartContext
from services.cart.schemas import CartPageOut
from shared.http import ServiceClient
from tests.cart.conftest import NOWHERE
from tests.cart.helpers import add, device, fill, item

CART = "/app-api/cart"
CJK = re.compile(r"[\u4e00-\u9fff]")


def keeps_to_its_schema(page: dict) -> dict:
    assert CartPageOut.model_validate(page).model_dump(mode="json") == page, "the prebuilt page keeps to its schema"
    return page


@pytest.fixture
def pricing_calls(cart_app, monkeypatch) -> list[str]:
    """Every HTTP call the cart makes to pricing, by path."""
    calls: list[str] = []
    pricing = cart_app.state.cart.pricing
    for client in (pricing.as_service, pricing.anonymous):
        original = client.post

        async def post(path, body=None, *, locale="en", _original=original):
            calls.append(path)
            return await _original(path, body, locale=locale)

        monkeypatch.setattr(client, "post", post)
    return calls


@contextlib.asynccontextmanager
async def pricing_at(cart_app, url: str, seconds: float = 3.0):
    """The cart app calling pricing at `url` for a while."""
    kept = cart_app.state.cart
    client = PricingClient(ServiceClient("pricing", url, "token", timeout_seconds=seconds),
                           ServiceClient("pricing", url, "", timeout_seconds=seconds))
    cart_app.state.cart = CartContext(kept.engine, client)
    try:
        yield
    finally:
        cart_app.state.cart = kept
        await client.close()


# --- priced ---------------------------------------------------------------------------------------

async def test_a_device_cart_is_priced_with_the_demo_promotions(client, pricing_calls):
    await fill(client, device(), item(1001, 1, 19900), item(1002, 2, 5900), item(1003, 1, 2900, selected=False))
    answer = await client.get(CART, headers=device())
    assert answer.status_code == 200
    page = keeps_to_its_schema(answer.json())
    assert pricing_calls == ["/app-api/pricing/quote"], "a device's page: the anonymous quote, once"
    assert [x["sku_id"] for x in page["lines"]] == [1003, 1002, 1001], "the latest added first"
    by_sku = {x["sku_id"]: x for x in page["lines"]}
    assert [a["kind"] for a in by_sku[1001]["adjustments"]] == ["discount", "reward"]
    assert by_sku[1001]["adjustments"][0]["amount"] == 19900 * 15 // 100  # the demo's 85%
    assert by_sku[1002]["adjustments"][0]["amount"] == 2 * 500  # the demo's 5 yuan off each
    assert by_sku[1003]["adjustments"] == [] and by_sku[1003]["pay_amount"] == 2900, "unselected: at its price"
    totals = page["totals"]
    assert totals["original"] == 19900 + 11800, "the selected lines only"
    assert totals["discount"] == 2985 + 1000 and totals["reward"] == 2500  # 满200减25 reached
    assert totals["pay"] == 31700 - 3985 - 2500 == sum(by_sku[s]["pay_amount"] for s in (1001, 1002))
    assert {p["name"] for p in page["promotions"] if p["applied"]} == {"双11 限时折扣", "全场满减"}
    assert page["grants"]["free_delivery"] is True
    assert page["count"] == {"lines": 3, "quantity": 4, "selected_lines": 2}
    assert page["promotions_available"] is True and page["notice"] is None
    assert page["coupons"]["usable"] == [], "no coupons for a device"


async def test_a_multi_shop_cart_is_grouped_by_shop_and_sent_with_each_line_s_shop(client, cart_app):
    """Lines of two shops and the platform's own: pricing is told each line's shop, and the page
    groups the lines as pricing does (the demo's platform promotions span the shops)."""
    await fill(client, device(), item(1001, 1, 19900, business_id=7), item(1002, 2, 5900, business_id=8),
               item(1003, 1, 2900))
    page = keeps_to_its_schema((await client.get(CART, headers=device())).json())
    index = {x["sku_id"]: i for i, x in enumerate(page["lines"])}
    shops = {s["business_id"]: s for s in page["shops"]}
    assert [s["business_id"] for s in page["shops"]] == [None, 8, 7], "in the order each shop's first line shows"
    assert shops[7]["line_indexes"] == [index[1001]] and shops[8]["line_indexes"] == [index[1002]]
    assert sum(s["subtotal"] for s in page["shops"]) == page["totals"]["pay"]
    assert {p["name"] for p in page["promotions"] if p["applied"]} == {"双11 限时折扣", "全场满减"}
    assert all(p["business_id"] is None for p in page["promotions"]), "the demo's are the platform's"
    async with pricing_at(cart_app, NOWHERE):
        plain = keeps_to_its_schema((await client.get(CART, headers=device())).json())
    assert [(s["business_id"], s["subtotal"]) for s in plain["shops"]] == [(None, 2900), (8, 11800), (7, 19900)]


async def test_the_page_shows_a_near_miss(client):
    await fill(client, device(), item(1002, 2, 5900))  # 118.00 - 10.00 off: 满100减10, 再买 满200减25
    page = (await client.get(CART, headers=device())).json()
    reward = next(p for p in page["promotions"] if p["kind"] == "reward")
    assert reward["level"] == "满100减10" and reward["hint"].startswith("再买 ¥")


async def test_a_20_line_cart_costs_one_quote(client, pricing_calls):
    await fill(client, device(), *(item(sku, unit_price=1000 + sku) for sku in range(1, 21)))
    page = (await client.get(CART, headers=device())).json()
    assert len(page["lines"]) == 20 and page["promotions_available"] is True
    assert pricing_calls == ["/app-api/pricing/quote"]


async def test_a_members_page_has_their_coupons_and_the_best_one(client, tokens, coupons, pricing_calls):
    template = await coupons.post("/admin-api/coupon/templates", headers=tokens["admin"], json={
        "name": "满100减15", "take_type": 2, "total_count": -1, "take_limit_count": -1, "validity_type": 2,
        "fixed_start_term": 0, "fixed_end_term": 7, "use_price": 10000, "discount_type": 1, "discount_price": 1500})
    given = await coupons.post(f"/admin-api/coupon/templates/{template.json()['id']}/give",
                               json={"user_ids": [1001]}, headers=tokens["admin"])
    coupon_id = given.json()["given"][0]["coupon_id"]
    await fill(client, tokens["member"], item(1001, 1, 19900))
    page = keeps_to_its_schema((await client.get(CART, headers=tokens["member"])).json())
    assert pricing_calls == ["/internal/pricing/quote"], "a member's page: the service quote with the user id"
    assert [c["coupon_id"] for c in page["coupons"]["usable"]] == [coupon_id]
    assert page["coupons"]["best_coupon_id"] == coupon_id and page["coupons"]["best_discount"] == 1500
    assert page["totals"]["coupon"] == 0, "shown, not applied"


async def test_each_line_says_how_its_price_moved_since_it_was_added(client):
    await add(client, device(), sku_id=1001, unit_price=19900)
    await add(client, device(), sku_id=1001, unit_price=17900)  # the app sends the price it shows now
    await add(client, device(), sku_id=1002, unit_price=5900)
    await client.put("/app-api/cart/lines/1002", json={"quantity": 1, "unit_price": 6000}, headers=device())
    await add(client, device(), sku_id=1003, unit_price=2900)
    lines = {x["sku_id"]: x for x in (await client.get(CART, headers=device())).json()["lines"]}
    assert lines[1001]["price_change"] == {"direction": "down", "amount": 2000, "text": "比加入时降价 ¥20.00"}
    assert lines[1002]["price_change"] == {"direction": "up", "amount": 100, "text": "比加入时涨价 ¥1.00"}
    assert lines[1003]["price_change"] is None
    english = await client.get(CART, headers=device(**{"Accept-Language": "en"}))
    assert english.json()["lines"][-1]["price_change"]["text"] == "¥20.00 cheaper than when added"


async def test_the_page_speaks_the_callers_language_pricing_included(client):
    await fill(client, device(), item(1002, 2, 5900))
    page = (await client.get(CART, headers=device(**{"Accept-Language": "en"}))).json()
    reward = next(p for p in page["promotions"] if p["kind"] == "reward")
    assert reward["level"] and not CJK.search(reward["level"]) and not CJK.search(reward["hint"])


async def test_nothing_selected_or_an_empty_cart_asks_pricing_nothing(client, pricing_calls):
    empty = keeps_to_its_schema((await client.get(CART, headers=device())).json())
    assert empty["lines"] == [] and empty["totals"]["pay"] == 0 and empty["promotions_available"] is True
    await fill(client, device(), item(1001, 2, 19900, selected=False))
    page = keeps_to_its_schema((await client.get(CART, headers=device())).json())
    assert page["lines"][0]["pay_amount"] == 39800 and page["totals"]["original"] == 0
    assert page["promotions_available"] is True and page["notice"] is None
    assert pricing_calls == []


# --- pricing cannot answer ----------------------------------------------------------------------------

async def plain_page_checks(client, headers: dict) -> dict:
    answer = await client.get(CART, headers=headers)
    assert answer.status_code == 200, answer.text
    page = keeps_to_its_schema(answer.json())
    assert page["promotions_available"] is False and page["notice_code"] == "PROMOTIONS_UNAVAILABLE"
    assert page["promotions"] == [] and page["coupons"]["available"] is False
    return page


async def test_pricing_down_the_page_shows_plain_prices_and_says_so(client, cart_app, tokens):
    await fill(client, device(), item(1001, 2, 19900), item(1002, 1, 5900, selected=False))
    await fill(client, tokens["member"], item(1001, 1, 19900))
    async with pricing_at(cart_app, NOWHERE):
        page = await plain_page_checks(client, device())
        assert page["notice"] == "优惠信息暂时无法获取，以下为商品原价"
        lines = {x["sku_id"]: x for x in page["lines"]}
        assert (lines[1001]["original_amount"], lines[1001]["pay_amount"], lines[1001]["adjustments"]) == (
            39800, 39800, [])
        assert lines[1002]["pay_amount"] == 5900
        assert page["totals"]["original"] == page["totals"]["pay"] == 39800 and page["totals"]["discount"] == 0
        english = await plain_page_checks(client, {**tokens["member"], "Accept-Language": "en"})
        assert english["notice"] == "Promotions are unavailable right now: plain prices are shown"
        assert (await add(client, device(), sku_id=1003)).status_code == 200, "the cart itself still works"


async def test_pricing_too_slow_the_page_shows_plain_prices(client, cart_app):
    async def never_answers(reader, writer):
        await reader.read(1 << 16)
        await asyncio.sleep(30)

    server = await asyncio.start_server(never_answers, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await fill(client, device(), item(1001))
    try:
        async with pricing_at(cart_app, f"http://127.0.0.1:{port}", seconds=0.3):
            await plain_page_checks(client, device())
    finally:
        server.close()


async def test_pricing_refusing_the_cart_the_page_shows_plain_prices(client):
    await fill(client, device(), item(1001, 2, 10**10))  # 200 million yuan: pricing's 422 PRICING_CART_TOO_LARGE
    page = await plain_page_checks(client, device())
    assert page["totals"]["pay"] == 2 * 10**10
