"""The operators' console in a real browser (headless Debian chromium) against the real suite:
forms that create a coupon template and a spend-and-save activity, a service's validation error on
the field it names, the price simulator's totals, merchants kept apart, the voucher review queue."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from shared.auth import Role
from tests.conftest import bearer
from tests.console.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

ZONE = ZoneInfo("Asia/Shanghai")


def shot(page, name: str) -> None:
    page.wait_for_timeout(300)  # let the table and the tags settle
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def login_as_admin(page, suite) -> None:
    page.goto(f"{suite['console']}/login")
    page.click("[data-action=login-admin]")
    page.wait_for_selector("[data-card=coupons]")


def open_list(page, suite, name: str) -> None:
    page.goto(f"{suite['console']}/r/{name}")
    page.wait_for_selector(f"[data-resource={name}] .el-table")
    page.wait_for_load_state("networkidle")


def dialog_input(page, prop: str):
    return page.locator(f".resource-dialog [data-form-item={prop}] input").first


def field(page, attribute: str, within: str = ""):
    """An input by its data attribute: Element Plus puts it on the <input> itself or on a wrapper."""
    return page.locator(f"{within} input[{attribute}], {within} [{attribute}] input").first


def pick(page, prop: str, label: str) -> None:
    page.locator(f".resource-dialog [data-form-item={prop}] .el-radio-button", has_text=label).click()


def save(page) -> None:
    page.click(".resource-dialog [data-action=save]")


def type_time(page, prop: str, moment: datetime) -> None:
    field = dialog_input(page, prop)
    field.fill(moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S"))
    field.press("Enter")
    page.locator(".resource-dialog .el-dialog__title").click()  # close the picker


def list_text(page, name: str) -> str:
    return page.locator(f"[data-resource={name}] .el-table__body").inner_text()


def confirm_prompt(page, value: str | None = None) -> None:
    box = page.locator(".el-message-box")
    if value is not None:
        box.locator("input").fill(value)
    box.locator(".el-message-box__btns .el-button--primary").click()


def test_admin_creates_a_coupon_and_a_spend_and_save_and_the_simulator_prices_a_cart_with_both(page, console_suite):
    suite = console_suite
    login_as_admin(page, suite)
    shot(page, "dashboard")

    # a coupon template: ¥10 off from ¥100, given by the platform, 7 days from when it is given
    open_list(page, suite, "couponTemplates")
    page.click("[data-resource=couponTemplates] [data-action=create]")
    dialog_input(page, "name").fill("满100减10")
    pick(page, "take_type", "后台发放")
    dialog_input(page, "use_price").fill("100")
    pick(page, "validity_type", "领取后天数")
    dialog_input(page, "discount_price").fill("10")
    # first with a product scope that lists nothing: the service's error shows on that field
    pick(page, "product_scope", "指定商品")
    save(page)
    error = page.locator(".resource-dialog [data-form-item=product_scope_values] .el-form-item__error")
    error.wait_for()
    assert error.inner_text().strip(), "the service's message is shown under the field it names"
    shot(page, "coupon-template-field-error")
    pick(page, "product_scope", "全部商品")
    save(page)
    page.locator(".resource-dialog").wait_for(state="hidden")
    page.wait_for_load_state("networkidle")
    assert "满100减10" in list_text(page, "couponTemplates")
    assert "¥10.00" in list_text(page, "couponTemplates")  # sent as 1000 fen, shown in yuan
    shot(page, "coupon-templates")

    # give it to buyer 5001 from the list
    page.locator("[data-resource=couponTemplates] [data-action=give]:visible").first.click()
    confirm_prompt(page, "5001")
    page.locator(".el-message--success").first.wait_for()

    # a spend-and-save: ¥20 off from ¥150, running now
    open_list(page, suite, "rewards")
    page.click("[data-resource=rewards] [data-action=create]")
    dialog_input(page, "name").fill("满150减20")
    now = datetime.now(ZONE)
    type_time(page, "start_at", now - timedelta(hours=1))
    type_time(page, "end_at", now + timedelta(days=7))
    field(page, "data-field=threshold", ".resource-dialog [data-form-item=levels]").fill("150")
    field(page, "data-field=amount_off", ".resource-dialog [data-form-item=levels]").fill("20")
    shot(page, "spend-and-save-form")
    save(page)
    page.locator(".resource-dialog").wait_for(state="hidden")
    page.wait_for_load_state("networkidle")
    rewards = list_text(page, "rewards")
    assert "满150减20" in rewards and "进行中" in rewards
    shot(page, "spend-and-save")

    # the simulator: ¥200 for buyer 5001 with the best coupons: 200 - 20 (spend-and-save) - 10 (coupon)
    page.goto(f"{suite['console']}/simulator")
    field(page, "data-col=price", "[data-field=lines]").fill("200")
    field(page, "data-field=user_id").fill("5001")
    page.locator("[data-field=best]").click()
    page.click("[data-action=simulate]")
    page.locator("[data-total=pay]").wait_for()
    totals = {key: page.locator(f"[data-total={key}]").inner_text() for key in ("original", "reward", "coupon", "pay")}
    assert totals == {"original": "¥200.00", "reward": "¥20.00", "coupon": "¥10.00", "pay": "¥170.00"}
    assert page.locator("[data-applied='满150减20']").inner_text().strip() == "生效"
    shot(page, "simulator")

    # every list page opens and is screenshotted, in English too
    page.click("[data-field=locale] .el-radio-button:has-text('English')")
    for name in ("discounts", "seckillSlots", "seckillActivities", "groupbuy", "bargain", "points",
                 "voucherStores", "voucherProducts", "voucherVerifications", "voucherReport", "articleCategories",
                 "articles", "banners"):
        open_list(page, suite, name)
        shot(page, f"list-{name}")
    assert "Promotions" in page.locator(".aside").inner_text()  # the menu follows the language


def test_a_merchant_sees_only_its_own_templates(page, console_suite):
    suite = console_suite
    login_as_admin(page, suite)
    for business_id, name in ((2, "B的券"), (1, "A的券")):
        field(page, "data-field=switch-business-id").fill(str(business_id))
        page.click("[data-action=switch-merchant]")
        page.locator("[data-who]").filter(has_text=f"商家 {business_id}").wait_for()
        open_list(page, suite, "couponTemplates")
        page.click("[data-resource=couponTemplates] [data-action=create]")
        dialog_input(page, "name").fill(name)
        dialog_input(page, "discount_price").fill("5")
        pick(page, "validity_type", "领取后天数")
        save(page)
        page.locator(".resource-dialog").wait_for(state="hidden")
        page.wait_for_load_state("networkidle")
    listed = list_text(page, "couponTemplates")  # merchant 1's list
    assert "A的券" in listed and "B的券" not in listed
    shot(page, "merchant-coupon-templates")
    page.click("[data-action=switch-admin]")
    page.locator("[data-who]").filter(has_text="平台管理员").wait_for()
    open_list(page, suite, "couponTemplates")
    assert "A的券" in list_text(page, "couponTemplates") and "B的券" in list_text(page, "couponTemplates")


def test_the_platform_approves_a_store_from_the_review_queue(page, console_suite, dev_settings):
    suite = console_suite
    merchant = bearer(dev_settings, Role.MERCHANT, 2003, business_id=3)
    store = httpx.post(f"{suite['voucher']}/merchant-api/voucher/stores", headers=merchant, json={
        "name": "静安门店", "address": "上海市静安区南京西路 1 号", "lat": 31.2304, "lon": 121.4737}).json()
    assert store["review_status"] == 1, store
    login_as_admin(page, suite)
    open_list(page, suite, "voucherReviews")
    row = page.locator("[data-resource=voucherReviews] .el-table__body tr", has_text="静安门店").first
    row.wait_for()
    shot(page, "voucher-reviews")
    row.locator("[data-action=approve]:visible").first.click()
    page.locator(".el-message--success").first.wait_for()
    after = httpx.get(f"{suite['voucher']}/merchant-api/voucher/stores/{store['id']}", headers=merchant).json()
    assert after["review_status"] == 2


def test_money_and_times_convert_exactly_in_the_page(page, console_suite):
    login_as_admin(page, console_suite)
    results = page.evaluate("""() => {
      const { money, forms } = window.__console
      const shown = (r) => (Number.isNaN(r) ? 'NaN' : r)
      return {
        fen: ['19.9', '0.01', '100', '1.005', '-1', 'abc', ''].map((v) => shown(money.yuanToFen(v))),
        yuan: [1990, 1, 0, 123456789].map(money.fenToYuan),
        bp: ['95', '99.5', '100.001'].map((v) => shown(money.percentToBp(v))),
        payload: forms.toPayload(
          [{ prop: 'price', type: 'money', required: true }, { prop: 'at', type: 'datetime' },
           { prop: 'ids', type: 'ids' }], { price: '0.10', at: '2026-12-02 08:00:00', ids: '1, 2，3' }),
      }
    }""")
    assert results["fen"] == [1990, 1, 10000, "NaN", "NaN", "NaN", None]
    assert results["yuan"] == ["19.90", "0.01", "0.00", "1234567.89"]
    assert results["bp"] == [9500, 9950, "NaN"]
    assert results["payload"] == {"price": 10, "at": "2026-12-02T08:00:00+08:00", "ids": [1, 2, 3]}
