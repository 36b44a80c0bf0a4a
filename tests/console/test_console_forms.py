"""Every create form of the console against the real suite: each activity, the seckill slot, a
merchant's store and voucher product, the content pages. After each save the service's API holds
exactly what was typed (yuan in, fen stored) and the list shows it in yuan with the activity's state;
activities are edited (a discount, a group buy, a points mall activity with a unit held) and one is
closed; a voucher issued by `order.paid` is verified on the merchant's verification page (expected
to fail until that page sends the Idempotency-Key and the currency the service requires)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from shared.auth import Role
from tests.conftest import bearer
from tests.console.test_console_browser import (
    ZONE,
    confirm_prompt,
    dialog_input,
    field,
    list_text,
    login_as_admin,
    open_list,
    save,
    shot,
    type_time,
)

pytestmark = pytest.mark.e2e

MERCHANT = 7  # the business the merchant tests act as


@pytest.fixture
def admin(dev_settings):
    return bearer(dev_settings, Role.ADMIN, 1)


@pytest.fixture
def merchant(dev_settings):
    return bearer(dev_settings, Role.MERCHANT, 2007, business_id=MERCHANT)


def open_create(page, suite, name: str) -> None:
    open_list(page, suite, name)
    page.click(f"[data-resource={name}] [data-action=create]")
    page.locator(".resource-dialog").wait_for()


def number(locator, value) -> None:
    """An el-input-number takes what is typed when it loses the focus."""
    locator.fill(str(value))
    locator.press("Tab")


def cell(page, prop: str, column: str):
    return field(page, f"data-field={column}", f".resource-dialog [data-form-item={prop}]")


def choose(page, within: str, label: str) -> None:
    page.locator(f"{within} .el-select").first.click()
    page.locator(".el-select-dropdown__item:visible", has_text=label).first.click()


def type_date(page, prop: str, day: str) -> None:
    box = dialog_input(page, prop)
    box.fill(day)
    box.press("Enter")
    page.locator(".resource-dialog .el-dialog__title").click()


def saved(page, shot_name: str) -> None:
    """Save, and the dialog closes (a refusal keeps it open: its message then fails the test)."""
    shot(page, f"form-{shot_name}")
    save(page)
    try:
        page.locator(".resource-dialog").wait_for(state="hidden", timeout=10_000)
    except Exception:
        message = page.locator(".resource-dialog").inner_text()
        raise AssertionError(f"the form was refused: {message}") from None
    page.wait_for_load_state("networkidle")


def one(url: str, headers: dict, name: str, key: str = "name") -> dict:
    listed = httpx.get(url, headers=headers, params={"size": 100})
    assert listed.status_code == 200, listed.text
    items = listed.json() if isinstance(listed.json(), list) else listed.json()["items"]  # slots: one plain list
    found = [item for item in items if item[key] == name]
    assert len(found) == 1, items
    return found[0]


def row(page, resource: str, text: str):
    return page.locator(f"[data-resource={resource}] .el-table__body tr", has_text=text).first


def state_of(page, resource: str, text: str) -> str:
    # the fixed actions column renders the row twice; the state tag is in the main one
    return row(page, resource, text).locator("[data-cell=state]").first.inner_text().strip()


def as_merchant(page, suite, business_id: int) -> None:
    login_as_admin(page, suite)
    number(field(page, "data-field=switch-business-id"), business_id)
    page.click("[data-action=switch-merchant]")
    page.locator("[data-who]").filter(has_text=f"商家 {business_id}").wait_for()


def now_plus(**delta) -> datetime:
    return datetime.now(ZONE) + timedelta(**delta)


def test_a_limited_time_discount_with_a_percent_row_then_edited(page, console_suite, admin):
    suite = console_suite
    login_as_admin(page, suite)
    open_create(page, suite, "discounts")
    dialog_input(page, "name").fill("表单限时折扣")
    type_time(page, "start_at", now_plus(hours=-1))
    type_time(page, "end_at", now_plus(days=3))
    number(cell(page, "products", "spu_id"), 301)
    number(cell(page, "products", "sku_id"), 3011)
    choose(page, ".resource-dialog [data-form-item=products]", "打折")
    cell(page, "products", "pay_bp").fill("80")
    saved(page, "discount")
    stored = one(f"{suite['pricing']}/admin-api/pricing/discounts", admin, "表单限时折扣")
    assert stored["business_id"] is None and stored["state"] == "running"
    assert stored["products"] == [{"spu_id": 301, "sku_id": 3011, "discount_type": 2, "amount_off": None,
                                   "pay_bp": 8000}]
    assert state_of(page, "discounts", "表单限时折扣") == "进行中"
    assert "80%" in row(page, "discounts", "表单限时折扣").inner_text()
    shot(page, "forms-discounts")

    # edited: the row becomes ¥12.50 off each unit
    row(page, "discounts", "表单限时折扣").locator("[data-action=edit]:visible").first.click()
    page.locator(".resource-dialog").wait_for()
    assert cell(page, "products", "pay_bp").input_value() == "80"
    choose(page, ".resource-dialog [data-form-item=products]", "减价")
    cell(page, "products", "amount_off").fill("12.5")
    saved(page, "discount-edit")
    stored = one(f"{suite['pricing']}/admin-api/pricing/discounts", admin, "表单限时折扣")
    assert stored["products"] == [{"spu_id": 301, "sku_id": 3011, "discount_type": 1, "amount_off": 1250,
                                   "pay_bp": None}]
    assert "¥12.50" in row(page, "discounts", "表单限时折扣").inner_text()


def test_a_seckill_slot_and_an_activity_in_it_then_closed(page, console_suite, admin):
    suite = console_suite
    login_as_admin(page, suite)
    open_create(page, suite, "seckillSlots")
    dialog_input(page, "name").fill("表单时段")
    for prop, wall in (("start_time", "10:00:00"), ("end_time", "12:00:00")):
        box = dialog_input(page, prop)
        box.click()  # typed before its panel is open, the picker appends the time now to the text
        page.locator(".el-time-panel:visible").wait_for()
        box.fill(wall)
        box.press("Enter")
        page.locator(".resource-dialog .el-dialog__title").click()
        page.locator(".el-time-panel:visible").wait_for(state="hidden")
    saved(page, "seckill-slot")
    slot = one(f"{suite['seckill']}/admin-api/seckill/slots", admin, "表单时段")
    assert (slot["start_time"], slot["end_time"], slot["status"]) == ("10:00:00", "12:00:00", 0)
    assert "10:00:00" in row(page, "seckillSlots", "表单时段").inner_text()
    shot(page, "forms-seckill-slots")

    today = datetime.now(ZONE).date()
    open_create(page, suite, "seckillActivities")
    dialog_input(page, "name").fill("表单秒杀")
    number(dialog_input(page, "spu_id"), 401)
    dialog_input(page, "slot_ids").fill(str(slot["id"]))
    type_date(page, "start_date", today.isoformat())
    type_date(page, "end_date", (today + timedelta(days=7)).isoformat())
    number(dialog_input(page, "user_limit"), 2)
    number(cell(page, "products", "sku_id"), 4011)
    cell(page, "products", "price").fill("9.90")
    number(cell(page, "products", "stock"), 10)
    saved(page, "seckill-activity")
    stored = one(f"{suite['seckill']}/admin-api/seckill/activities", admin, "表单秒杀")
    assert (stored["spu_id"], stored["slot_ids"], stored["start_date"], stored["end_date"], stored["user_limit"]) == (
        401, [slot["id"]], today.isoformat(), (today + timedelta(days=7)).isoformat(), 2)
    assert stored["products"] == [{"sku_id": 4011, "price": 990, "stock": 10, "total_stock": 10}]
    listed = row(page, "seckillActivities", "表单秒杀").inner_text()
    assert state_of(page, "seckillActivities", "表单秒杀") == "进行中" and "¥9.90" in listed
    shot(page, "forms-seckill-activities")

    row(page, "seckillActivities", "表单秒杀").locator("[data-action=close]:visible").first.click()
    confirm_prompt(page)
    # the list reloads after the close (the create's success message may still be showing)
    expect(row(page, "seckillActivities", "表单秒杀").locator("[data-cell=state]").first).to_have_text("已关闭")
    assert one(f"{suite['seckill']}/admin-api/seckill/activities", admin, "表单秒杀")["status"] == 1
    shot(page, "forms-seckill-closed")


def test_a_group_buy_with_a_leader_price_then_edited(page, console_suite, admin):
    suite = console_suite
    login_as_admin(page, suite)
    open_create(page, suite, "groupbuy")
    dialog_input(page, "name").fill("表单拼团")
    number(dialog_input(page, "spu_id"), 501)
    start, end = now_plus(hours=-1).replace(microsecond=0), now_plus(days=5).replace(microsecond=0)
    type_time(page, "start_at", start)
    type_time(page, "end_at", end)
    number(dialog_input(page, "group_size"), 3)
    number(cell(page, "products", "sku_id"), 5011)
    cell(page, "products", "group_price").fill("19.90")
    cell(page, "products", "leader_price").fill("17.90")
    saved(page, "groupbuy")
    url = f"{suite['groupbuy']}/admin-api/groupbuy/activities"
    stored = one(url, admin, "表单拼团")
    assert (stored["spu_id"], stored["group_size"], stored["limit_hours"], stored["business_id"]) == (501, 3, 24, None)
    assert stored["products"] == [{"sku_id": 5011, "group_price": 1990, "leader_price": 1790}]
    assert (datetime.fromisoformat(stored["start_at"]), datetime.fromisoformat(stored["end_at"])) == (start, end)
    listed = row(page, "groupbuy", "表单拼团").inner_text()
    assert state_of(page, "groupbuy", "表单拼团") == "进行中" and "¥19.90" in listed
    shot(page, "forms-groupbuy")

    row(page, "groupbuy", "表单拼团").locator("[data-action=edit]:visible").first.click()
    page.locator(".resource-dialog").wait_for()
    assert cell(page, "products", "group_price").input_value() == "19.90"
    cell(page, "products", "group_price").fill("18.80")
    saved(page, "groupbuy-edit")
    assert one(url, admin, "表单拼团")["products"] == [{"sku_id": 5011, "group_price": 1880, "leader_price": 1790}]
    assert "¥18.80" in row(page, "groupbuy", "表单拼团").inner_text()


def test_a_bargain(page, console_suite, admin):
    suite = console_suite
    login_as_admin(page, suite)
    open_create(page, suite, "bargain")
    dialog_input(page, "name").fill("表单砍价")
    number(dialog_input(page, "spu_id"), 601)
    number(dialog_input(page, "sku_id"), 6011)
    type_time(page, "start_at", now_plus(days=1))
    type_time(page, "end_at", now_plus(days=8))
    dialog_input(page, "first_price").fill("100")
    dialog_input(page, "floor_price").fill("10")
    number(dialog_input(page, "stock"), 50)
    number(dialog_input(page, "help_max_count"), 20)
    number(dialog_input(page, "bargain_count"), 3)
    number(dialog_input(page, "total_limit_count"), 2)
    dialog_input(page, "random_min_price").fill("1")
    dialog_input(page, "random_max_price").fill("5")
    saved(page, "bargain")
    stored = one(f"{suite['bargain']}/admin-api/bargain/activities", admin, "表单砍价")
    assert {k: stored[k] for k in ("spu_id", "sku_id", "first_price", "floor_price", "stock", "total_stock",
                                   "help_max_count", "bargain_count", "total_limit_count", "random_min_price",
                                   "random_max_price")} == {
        "spu_id": 601, "sku_id": 6011, "first_price": 10000, "floor_price": 1000, "stock": 50, "total_stock": 50,
        "help_max_count": 20, "bargain_count": 3, "total_limit_count": 2, "random_min_price": 100,
        "random_max_price": 500}
    listed = row(page, "bargain", "表单砍价").inner_text()
    assert state_of(page, "bargain", "表单砍价") == "未开始" and "¥100.00" in listed and "¥10.00" in listed
    shot(page, "forms-bargain")


def test_a_points_mall_activity_edited_after_a_unit_is_held(page, console_suite, admin, dev_settings):
    suite = console_suite
    login_as_admin(page, suite)
    open_create(page, suite, "points")
    dialog_input(page, "name").fill("表单积分兑换")
    number(dialog_input(page, "spu_id"), 701)
    type_time(page, "start_at", now_plus(hours=-1))
    type_time(page, "end_at", now_plus(days=30))
    number(cell(page, "products", "sku_id"), 7011)
    number(cell(page, "products", "points"), 1000)
    cell(page, "products", "price").fill("9.90")
    number(cell(page, "products", "stock"), 20)
    # a second row of the same SKU: the service's refusal shows on the products table, naming the row
    page.click(".resource-dialog [data-form-item=products] .add-row")
    rows = page.locator(".resource-dialog [data-form-item=products] .el-table__body tr")
    number(rows.nth(1).locator("[data-field=sku_id] input"), 7011)
    number(rows.nth(1).locator("[data-field=points] input"), 500)
    number(rows.nth(1).locator("[data-field=stock] input"), 5)
    save(page)
    error = page.locator(".resource-dialog [data-form-item=products] .el-form-item__error")
    error.wait_for()
    assert "第 2 行" in error.inner_text() and "7011" in error.inner_text(), error.inner_text()
    assert page.locator(".resource-dialog .form-error").count() == 0
    shot(page, "form-points-row-error")
    rows.nth(1).locator("button", has_text="移除").click()
    saved(page, "points")  # the per-buyer limit left at the form's default
    stored = one(f"{suite['points']}/admin-api/points/activities", admin, "表单积分兑换")
    assert stored["products"] == [{"sku_id": 7011, "points": 1000, "price": 990, "stock": 20, "total_stock": 20,
                                   "limit_count": 1}]
    listed = row(page, "points", "表单积分兑换").inner_text()
    assert state_of(page, "points", "表单积分兑换") == "进行中" and "¥9.90" in listed and "1000" in listed
    shot(page, "forms-points")

    # an order holds one unit; the operator then changes the cash price: the 20 units offered stay 20
    order_service = bearer(dev_settings, Role.SERVICE, "order-service")
    held = httpx.post(f"{suite['points']}/internal/points/holds", headers=order_service,
                      json={"order_id": 940001, "user_id": 9401, "activity_id": stored["id"], "sku_id": 7011,
                            "count": 1})
    assert held.status_code == 201, held.text
    page.reload()
    page.wait_for_load_state("networkidle")
    row(page, "points", "表单积分兑换").locator("[data-action=edit]:visible").first.click()
    page.locator(".resource-dialog").wait_for()
    cell(page, "products", "price").fill("8.80")
    saved(page, "points-edit")
    stored = one(f"{suite['points']}/admin-api/points/activities", admin, "表单积分兑换")
    assert stored["products"] == [{"sku_id": 7011, "points": 1000, "price": 880, "stock": 19, "total_stock": 20,
                                   "limit_count": 1}]


def test_a_merchant_creates_a_store_and_a_voucher_product(page, console_suite, merchant):
    suite = console_suite
    as_merchant(page, suite, MERCHANT)
    open_create(page, suite, "voucherStores")
    dialog_input(page, "name").fill("表单门店")
    dialog_input(page, "address").fill("上海市黄浦区人民大道 200 号")
    dialog_input(page, "phone").fill("021-12345678")
    number(dialog_input(page, "lat"), "31.230416")
    number(dialog_input(page, "lon"), "121.473701")
    saved(page, "voucher-store")
    store = one(f"{suite['voucher']}/merchant-api/voucher/stores", merchant, "表单门店")
    assert (store["lat"], store["lon"], store["phone"], store["review_status"]) == (31.230416, 121.473701,
                                                                                   "021-12345678", 1)
    assert "31.230416" in row(page, "voucherStores", "表单门店").inner_text()
    shot(page, "forms-voucher-stores")

    open_create(page, suite, "voucherProducts")
    dialog_input(page, "name").fill("表单储值券")
    dialog_input(page, "value").fill("50")
    dialog_input(page, "cost").fill("45.5")
    number(dialog_input(page, "valid_days"), 60)
    number(dialog_input(page, "selling_store_id"), store["id"])
    dialog_input(page, "store_ids").fill(str(store["id"]))
    number(dialog_input(page, "spu_id"), 801)
    number(dialog_input(page, "sku_id"), 8011)
    saved(page, "voucher-product")
    product = one(f"{suite['voucher']}/merchant-api/voucher/products", merchant, "表单储值券")
    assert {k: product[k] for k in ("kind", "value", "cost", "max_using_times", "validity_type", "valid_days",
                                    "selling_store_id", "store_ids", "spu_id", "sku_id")} == {
        "kind": 1, "value": 5000, "cost": 4550, "max_using_times": 1, "validity_type": 2, "valid_days": 60,
        "selling_store_id": store["id"], "store_ids": [store["id"]], "spu_id": 801, "sku_id": 8011}
    assert "¥50.00" in row(page, "voucherProducts", "表单储值券").inner_text()
    shot(page, "forms-voucher-products")



def test_an_article_category_an_article_and_a_banner(page, console_suite, admin):
    suite = console_suite
    login_as_admin(page, suite)
    base = f"{suite['content']}/admin-api/content"
    open_create(page, suite, "articleCategories")
    dialog_input(page, "name").fill("表单分类")
    number(dialog_input(page, "sort"), 3)
    saved(page, "article-category")
    category = one(f"{base}/article-categories", admin, "表单分类")
    assert (category["sort"], category["status"], category["pic_url"]) == (3, 0, "")
    assert "表单分类" in list_text(page, "articleCategories")
    shot(page, "forms-article-categories")

    open_create(page, suite, "articles")
    dialog_input(page, "title").fill("表单文章")
    number(dialog_input(page, "category_id"), category["id"])
    dialog_input(page, "pic_url").fill("https://img.example.com/a.png")
    page.locator(".resource-dialog [data-form-item=content] textarea").fill("<p>正文</p>")
    page.locator(".resource-dialog [data-form-item=recommend_hot] .el-switch").click()
    saved(page, "article")
    article = one(f"{base}/articles", admin, "表单文章", key="title")
    assert (article["category_id"], article["pic_url"], article["content"], article["recommend_hot"],
            article["spu_id"]) == (category["id"], "https://img.example.com/a.png", "<p>正文</p>", True, None)
    assert "表单文章" in list_text(page, "articles")
    shot(page, "forms-articles")

    open_create(page, suite, "banners")
    dialog_input(page, "title").fill("表单轮播")
    dialog_input(page, "pic_url").fill("https://img.example.com/b.png")
    dialog_input(page, "url").fill("/pages/seckill")
    choose(page, ".resource-dialog [data-form-item=position]", "秒杀页")
    saved(page, "banner")
    banner = one(f"{base}/banners", admin, "表单轮播", key="title")
    assert (banner["pic_url"], banner["url"], banner["position"], banner["status"]) == (
        "https://img.example.com/b.png", "/pages/seckill", 2, 0)
    assert "秒杀页" in row(page, "banners", "表单轮播").inner_text()
    shot(page, "forms-banners")


# --- a voucher bought: `order.paid` published into the console suite's Kafka --------------------

def test_the_merchant_verifies_a_bought_voucher_on_the_verification_page(
        page, console_suite, admin, dev_settings, tmp_path_factory):
    suite, business_id = console_suite, 8
    staff = bearer(dev_settings, Role.MERCHANT, 2008, business_id=business_id)
    base = f"{suite['voucher']}/merchant-api/voucher"
    store = httpx.post(f"{base}/stores", headers=staff, json={
        "name": "核销门店", "address": "上海市徐汇区漕溪北路 1 号", "lat": 31.19, "lon": 121.43})
    assert store.status_code == 201, store.text
    product = httpx.post(f"{base}/products", headers=staff, json={
        "name": "核销储值券", "kind": 1, "value": 5000, "validity_type": 2, "valid_days": 30,
        "selling_store_id": store.json()["id"], "store_ids": [store.json()["id"]], "spu_id": 901, "sku_id": 9011})
    assert product.status_code == 201, product.text
    reviews = httpx.get(f"{suite['voucher']}/admin-api/voucher/reviews", headers=admin,
                        params={"business_id": business_id, "status": 1, "size": 100}).json()["items"]
    for kind in (1, 2):  # the store first: a product is approved with its stores approved
        for review in (r for r in reviews if r["kind"] == kind):
            approved = httpx.post(f"{suite['voucher']}/admin-api/voucher/reviews/{review['id']}/approve", headers=admin)
            assert approved.status_code == 200, approved.text
    publish(suite, tmp_path_factory, "order.paid", {
        "order_id": 930001, "user_id": 9301, "pay_price": 5000,
        "items": [{"sku_id": 9011, "spu_id": 901, "count": 1, "pay_price": 5000}]})
    code = wait_for_voucher_code(suite, bearer(dev_settings, Role.MEMBER, 9301))

    as_merchant(page, suite, business_id)
    page.goto(f"{suite['console']}/voucher/verify")
    page.locator("[data-field=code] input, input[data-field=code]").first.fill(code)
    page.click("[data-action=lookup]")
    page.locator("[data-card=voucher] [data-figure=surplus_value]").wait_for()
    assert page.locator("[data-figure=surplus_value]").inner_text() == "¥50.00"
    page.locator("[data-field=amount] input, input[data-field=amount]").first.fill("12.30")
    shot(page, "form-voucher-verify")
    page.click("[data-action=verify]")
    page.locator("[data-card=result], [data-error]").first.wait_for()
    shot(page, "voucher-verified")
    assert page.locator("[data-error]").count() == 0, page.locator("[data-error]").inner_text()
    assert page.locator("[data-figure=actual_minus_value]").inner_text() == "¥12.30"
    records = httpx.get(f"{base}/verifications", headers=staff).json()["items"]
    assert [(r["kind"], r["store_id"], r["actual_minus_value"], r["surplus_value_after"]) for r in records] == [
        (1, store.json()["id"], 1230, 3770)]


def publish(suite, tmp_path_factory, event_type: str, data: dict) -> None:
    port = suite["console"].rsplit(":", 1)[1]
    var_dirs = {run.parent.resolve() for run in Path(tmp_path_factory.getbasetemp()).glob("console-suite*/run.json")
                if str(json.loads(run.read_text())["ports"]["console"]) == port}
    assert len(var_dirs) == 1, var_dirs
    env = {k: v for k, v in os.environ.items() if k not in ("ENV", "KAFKA_BOOTSTRAP_SERVERS")}
    done = subprocess.run([sys.executable, "-m", "promo", "publish", event_type, json.dumps(data), "--var-dir",
                           str(var_dirs.pop())], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr


def wait_for_voucher_code(suite, buyer: dict) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = httpx.get(f"{suite['voucher']}/app-api/voucher/vouchers", headers=buyer).json()["items"]
        if items:
            detail = httpx.get(f"{suite['voucher']}/app-api/voucher/vouchers/{items[0]['id']}", headers=buyer)
            return detail.json()["code"]
        time.sleep(0.3)
    raise AssertionError("no voucher was issued for the payment")
