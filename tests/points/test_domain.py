"""The points mall rules, pure: an activity's validation with its reasons, stock edits that never
take back what is held or sold, the lifecycle, and an exchange within the per-user limit and the
stock (a property test: what is granted never exceeds either)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.points import domain
from services.points.domain import ProductDraft, Terms
from shared.enums import CommonStatus

NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)
START, END = NOW - timedelta(hours=1), NOW + timedelta(days=1)


def draft(sku_id=1, points=100, price=990, stock=10, limit_count=2) -> ProductDraft:
    return ProductDraft(sku_id=sku_id, points=points, price=price, stock=stock, limit_count=limit_count)


def test_a_valid_activity_passes_with_a_points_only_sku_and_zero_stock():
    domain.check_activity(START, END, [draft(), draft(sku_id=2, price=0, stock=0, limit_count=1)])


@pytest.mark.parametrize(("start", "end", "products", "code", "field"), [
    (END, START, [draft()], "START_NOT_BEFORE_END", "end_at"),
    (START, START, [draft()], "START_NOT_BEFORE_END", "end_at"),
    (START, END, [], "NO_PRODUCTS", "products"),
    (START, END, [draft(), draft(sku_id=2), draft(sku_id=1)], "DUPLICATE_SKU", "products[2].sku_id"),
    (START, END, [draft(points=0)], "POINTS_NOT_POSITIVE", "products[0].points"),
    (START, END, [draft(), draft(sku_id=2, points=-5)], "POINTS_NOT_POSITIVE", "products[1].points"),
    (START, END, [draft(price=-1)], "PRICE_NEGATIVE", "products[0].price"),
    (START, END, [draft(stock=-1)], "STOCK_NEGATIVE", "products[0].stock"),
    (START, END, [draft(limit_count=0)], "LIMIT_NOT_POSITIVE", "products[0].limit_count"),
])
def test_an_invalid_activity_is_refused_with_its_reason_and_field(start, end, products, code, field):
    with pytest.raises(domain.ActivityInvalid) as refused:
        domain.check_activity(start, end, products)
    assert refused.value.details["reason"].code == code and refused.value.details["field"] == field
    assert refused.value.code == "POINTS_ACTIVITY_INVALID" and refused.value.status == 422
    assert refused.value.message("zh-CN").startswith("积分商城活动无效")


def test_a_stock_edit_keeps_what_is_held_or_sold():
    assert domain.stock_left(7, offered=10, taken=3) == 7
    assert domain.stock_left(7, offered=3, taken=3) == 0
    with pytest.raises(domain.ActivityInvalid) as refused:
        domain.stock_left(7, offered=2, taken=3, index=1)
    assert refused.value.details["reason"].code == "STOCK_BELOW_TAKEN"
    assert refused.value.details["field"] == "products[1].stock"


def test_a_sku_with_held_or_sold_units_cannot_be_removed():
    domain.check_can_remove(7, 0)
    with pytest.raises(domain.ActivityInvalid) as refused:
        domain.check_can_remove(7, 1)
    assert refused.value.details["reason"].code == "SKU_HAS_ORDERS"


def test_windows_overlap_only_when_they_share_time():
    day = timedelta(days=1)
    assert domain.windows_overlap(NOW, NOW + day, NOW + day / 2, NOW + 2 * day)
    assert domain.windows_overlap(NOW, NOW + 3 * day, NOW + day, NOW + 2 * day)
    assert not domain.windows_overlap(NOW, NOW + day, NOW + day, NOW + 2 * day)  # touching ends
    assert not domain.windows_overlap(NOW + day, NOW + 2 * day, NOW, NOW + day)


def test_lifecycle_close_once_no_update_after_close_delete_only_closed_or_ended():
    domain.check_can_update(CommonStatus.ENABLED)
    domain.check_can_close(CommonStatus.ENABLED)
    with pytest.raises(domain.ActivityClosed):
        domain.check_can_update(CommonStatus.DISABLED)
    with pytest.raises(domain.AlreadyClosed):
        domain.check_can_close(CommonStatus.DISABLED)
    domain.check_can_delete(CommonStatus.DISABLED, END, NOW)
    domain.check_can_delete(CommonStatus.ENABLED, NOW, NOW)  # ended at this very moment
    with pytest.raises(domain.DeleteRefused):
        domain.check_can_delete(CommonStatus.ENABLED, END, NOW)


@pytest.mark.parametrize(("terms", "error"), [
    (Terms(CommonStatus.DISABLED, START, END), domain.ActivityClosed),
    (Terms(CommonStatus.ENABLED, NOW + timedelta(seconds=1), END), domain.NotStarted),
    (Terms(CommonStatus.ENABLED, START, NOW), domain.Ended),
])
def test_only_a_running_activity_takes_exchanges(terms, error):
    with pytest.raises(error):
        domain.check_running(terms, NOW)


def test_a_running_activity_takes_exchanges_from_its_first_instant():
    domain.check_running(Terms(CommonStatus.ENABLED, NOW, END), NOW)


def test_an_exchange_within_limit_and_stock_passes_and_each_refusal_has_its_code():
    domain.check_exchange(sku_id=1, count=2, stock=2, limit_count=3, held=1, bought=0)
    with pytest.raises(domain.LimitExceeded) as over:
        domain.check_exchange(sku_id=1, count=2, stock=10, limit_count=3, held=1, bought=1)
    assert over.value.details == {"sku_id": 1, "limit": 3, "remaining": 1}
    assert over.value.message("en") == "Each buyer may exchange at most 3 of SKU 1 (1 left for you)"
    with pytest.raises(domain.SoldOut):
        domain.check_exchange(sku_id=1, count=3, stock=2, limit_count=5, held=0, bought=0)


def test_what_a_buyer_may_still_exchange_is_never_negative():
    assert domain.remaining_for_user(3, 1, 1) == 1
    assert domain.remaining_for_user(2, 2, 1) == 0  # the limit was lowered after they bought


@given(count=st.integers(1, 20), stock=st.integers(0, 20), limit=st.integers(1, 20), held=st.integers(0, 20),
       bought=st.integers(0, 20))
def test_an_exchange_passes_exactly_when_it_fits_both_the_limit_and_the_stock(count, stock, limit, held, bought):
    fits = held + bought + count <= limit and count <= stock
    try:
        domain.check_exchange(sku_id=1, count=count, stock=stock, limit_count=limit, held=held, bought=bought)
    except (domain.LimitExceeded, domain.SoldOut):
        assert not fits
    else:
        assert fits
