"""The cart's pure rules: quantities and the line limit, merge, what a purchase leaves, expiry, the
price since added and the plain totals. No I/O (make mutate runs these)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.cart import domain
from services.cart.domain import (
    MAX_LINES,
    MAX_QUANTITY,
    Direction,
    LineState,
    Owner,
    PriceChange,
    Raised,
)
from services.cart.errors import CartFull, QuantityOutOfRange

T0 = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)


def state(sku_id: int, quantity: int = 1, selected: bool = True, minutes: int = 0) -> LineState:
    return LineState(sku_id, quantity, selected, T0 + timedelta(minutes=minutes))


# --- owner ---------------------------------------------------------------------------------------

def test_a_cart_belongs_to_a_member_or_a_device():
    assert Owner(user_id=7).user_id == 7 and Owner(device_id="d-12345678").device_id == "d-12345678"


@pytest.mark.parametrize("kwargs", [{}, {"user_id": 7, "device_id": "d-12345678"}])
def test_a_cart_does_not_belong_to_both_or_neither(kwargs):
    with pytest.raises(ValueError, match=r"^a cart belongs to a member or to a device$"):
        Owner(**kwargs)


# --- quantities and the line limit ---------------------------------------------------------------

@pytest.mark.parametrize("quantity", [1, 2, 998, 999])
def test_quantities_1_to_999_are_allowed(quantity):
    domain.check_quantity(quantity)


@pytest.mark.parametrize("quantity", [-1, 0, 1000, 10**12])
def test_quantities_outside_1_to_999_are_refused_with_their_code(quantity):
    with pytest.raises(QuantityOutOfRange) as refused:
        domain.check_quantity(quantity)
    assert refused.value.code == "CART_QUANTITY_OUT_OF_RANGE" and refused.value.status == 422
    assert refused.value.details == {"quantity": quantity, "min": 1, "max": 999}
    assert refused.value.message("en") == f"The quantity of a product must be 1 to 999 (got {quantity})"


def test_a_new_sku_fits_below_100_lines():
    domain.check_room(0)
    domain.check_room(MAX_LINES - 1)


@pytest.mark.parametrize("lines", [MAX_LINES, MAX_LINES + 1])
def test_a_new_sku_is_refused_at_100_lines_with_its_code(lines):
    with pytest.raises(CartFull) as refused:
        domain.check_room(lines)
    assert refused.value.code == "CART_TOO_MANY_LINES" and refused.value.status == 422
    assert refused.value.details == {"limit": 100}
    assert refused.value.message("zh-CN") == "购物车最多放 100 种商品，请先删除一些"


def test_the_limits_are_100_lines_and_999_of_a_sku():
    assert (domain.MAX_LINES, domain.MIN_QUANTITY, domain.MAX_QUANTITY) == (100, 1, 999)


def test_adding_to_a_line_adds_the_quantities():
    assert domain.add_quantity(3, 4) == domain.Added(7, False)


def test_adding_a_new_line_takes_the_quantity_asked():
    assert domain.add_quantity(0, 1) == domain.Added(1, False)


def test_adding_up_to_999_exactly_is_not_capped():
    assert domain.add_quantity(990, 9) == domain.Added(999, False)


def test_adding_past_999_stops_at_999_and_says_so():
    assert domain.add_quantity(990, 10) == domain.Added(999, True)
    assert domain.add_quantity(999, 999) == domain.Added(999, True)


@pytest.mark.parametrize("more", [0, 1000])
def test_adding_checks_the_quantity_asked(more):
    with pytest.raises(QuantityOutOfRange):
        domain.add_quantity(1, more)


# --- merge -----------------------------------------------------------------------------------------

def test_merging_a_sku_both_have_adds_the_quantities():
    assert domain.merge_line(state(5, 2), state(5, 3)) == Raised(5, 5, True)


def test_merging_caps_the_quantity_at_999():
    assert domain.merge_line(state(5, 600), state(5, 500)).quantity == MAX_QUANTITY
    assert domain.merge_line(state(5, 500), state(5, 499)).quantity == MAX_QUANTITY


@pytest.mark.parametrize("member, device, selected", [(True, False, True), (False, True, True),
                                                      (True, True, True), (False, False, False)])
def test_a_line_selected_in_either_cart_stays_selected(member, device, selected):
    assert domain.merge_line(state(5, selected=member), state(5, selected=device)).selected is selected


def test_merge_plan_raises_shared_skus_and_moves_the_others():
    plan = domain.plan_merge({5: state(5, 2, selected=False)}, [state(5, 1), state(6, 4)], member_line_count=1)
    assert plan.raised == (Raised(5, 3, True),)
    assert plan.moved == (6,) and plan.left == ()
    assert plan.taken == (5, 6)


def test_merge_plan_of_an_empty_device_cart_does_nothing():
    plan = domain.plan_merge({}, [], member_line_count=MAX_LINES)
    assert (plan.raised, plan.moved, plan.left, plan.taken) == ((), (), (), ())


def test_merge_moves_new_lines_while_the_member_cart_has_room_the_latest_added_first():
    device = [state(1, minutes=1), state(2, minutes=3), state(3, minutes=2), state(4, minutes=0)]
    plan = domain.plan_merge({}, device, member_line_count=MAX_LINES - 2)
    assert plan.moved == (2, 3)
    assert plan.left == (1, 4)
    assert plan.taken == (2, 3)


def test_merge_breaks_a_tie_of_added_times_by_sku():
    plan = domain.plan_merge({}, [state(1), state(3), state(2)], member_line_count=MAX_LINES - 1)
    assert plan.moved == (3,) and plan.left == (2, 1)


def test_a_full_member_cart_still_takes_the_skus_it_has():
    plan = domain.plan_merge({5: state(5)}, [state(5), state(6)], member_line_count=MAX_LINES)
    assert plan.raised == (Raised(5, 2, True),) and plan.moved == () and plan.left == (6,)


def test_an_overfull_member_cart_moves_nothing_new():
    plan = domain.plan_merge({}, [state(6)], member_line_count=MAX_LINES + 5)
    assert plan.moved == () and plan.left == (6,)


def test_merge_fills_the_member_cart_to_exactly_100_lines():
    device = [state(sku, minutes=sku) for sku in range(1, 11)]
    plan = domain.plan_merge({}, device, member_line_count=95)
    assert len(plan.moved) == 5 and plan.moved == (10, 9, 8, 7, 6) and plan.left == (5, 4, 3, 2, 1)


# --- order.paid ------------------------------------------------------------------------------------

def test_bought_lines_leave_the_cart():
    assert domain.after_purchase({5: 2, 6: 1}, [(5, 2), (6, 1)]) == {5: 0, 6: 0}


def test_buying_fewer_than_the_cart_holds_leaves_the_rest():
    assert domain.after_purchase({5: 5}, [(5, 2)]) == {5: 3}


def test_buying_more_than_the_cart_holds_removes_the_line():
    assert domain.after_purchase({5: 2}, [(5, 3)]) == {5: 0}


def test_a_sku_in_several_items_counts_once_with_their_sum():
    assert domain.after_purchase({5: 5}, [(5, 2), (5, 1)]) == {5: 2}


def test_skus_the_cart_does_not_hold_are_left_out():
    assert domain.after_purchase({5: 1}, [(6, 1), (5, 1)]) == {5: 0}
    assert domain.after_purchase({}, [(6, 1)]) == {}


# --- expiry ----------------------------------------------------------------------------------------

def test_device_carts_expire_after_the_ttl_in_days():
    assert domain.device_carts_expire_before(T0, 30) == T0 - timedelta(days=30)
    assert domain.device_carts_expire_before(T0, 1) == T0 - timedelta(days=1)


# --- the page ---------------------------------------------------------------------------------------

def test_a_price_that_went_down_says_by_how_much():
    change = domain.price_change(added_price=19900, unit_price=17900)
    assert change == PriceChange(Direction.DOWN, 2000)
    assert change.text("zh-CN") == "比加入时降价 ¥20.00"
    assert change.text("en") == "¥20.00 cheaper than when added"


def test_a_price_that_went_up_says_by_how_much():
    change = domain.price_change(added_price=100, unit_price=101)
    assert change == PriceChange(Direction.UP, 1)
    assert change.text("zh-CN") == "比加入时涨价 ¥0.01"
    assert change.text("en") == "¥0.01 more than when added"


def test_an_unchanged_price_says_nothing():
    assert domain.price_change(added_price=500, unit_price=500) is None


def test_the_notice_without_promotions_is_in_both_languages():
    assert domain.PROMOTIONS_UNAVAILABLE.code == "PROMOTIONS_UNAVAILABLE"
    assert domain.PROMOTIONS_UNAVAILABLE.render("zh-CN") == "优惠信息暂时无法获取，以下为商品原价"
    assert domain.PROMOTIONS_UNAVAILABLE.render("en") == "Promotions are unavailable right now: plain prices are shown"


def test_the_plain_total_counts_the_selected_lines_only():
    assert domain.plain_total([(1000, 2, True), (500, 3, False), (1, 1, True)]) == 2001


def test_the_plain_total_of_nothing_selected_is_zero():
    assert domain.plain_total([(1000, 2, False)]) == 0
    assert domain.plain_total([]) == 0
