"""The activity and checkout rules of pricing, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.pricing import domain
from services.pricing.calculator import ConditionType, DiscountType, ProductScope, RewardLevel
from services.pricing.domain import ActivityState, DiscountItem, GiftTemplate, Scope
from shared.enums import CommonStatus

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def codes(problems) -> list[str]:
    return [p.code for p in problems]


@pytest.mark.parametrize("status, start, end, state", [
    (CommonStatus.ENABLED, NOW + HOUR, NOW + 2 * HOUR, ActivityState.NOT_STARTED),
    (CommonStatus.ENABLED, NOW, NOW + HOUR, ActivityState.RUNNING),  # the start belongs to the window
    (CommonStatus.ENABLED, NOW - HOUR, NOW, ActivityState.ENDED),  # the end does not
    (CommonStatus.ENABLED, NOW - 2 * HOUR, NOW - HOUR, ActivityState.ENDED),
    (CommonStatus.DISABLED, NOW - HOUR, NOW + HOUR, ActivityState.CLOSED),
    (CommonStatus.DISABLED, NOW + HOUR, NOW + 2 * HOUR, ActivityState.CLOSED),
])
def test_activity_state_is_status_and_time_together(status, start, end, state):
    assert domain.activity_state(status, start, end, NOW) is state


def test_a_window_starts_before_it_ends_and_ends_in_the_future():
    assert domain.check_window(NOW, NOW + HOUR, NOW) == []
    assert codes(domain.check_window(NOW + HOUR, NOW + HOUR, NOW)) == ["START_NOT_BEFORE_END"]
    assert codes(domain.check_window(NOW - HOUR, NOW, NOW)) == ["END_IN_PAST"]
    assert codes(domain.check_window(NOW, NOW - HOUR, NOW)) == ["START_NOT_BEFORE_END", "END_IN_PAST"]


def test_discount_items_name_every_problem_with_its_sku():
    items = [DiscountItem(1, 10, DiscountType.AMOUNT, 500, None), DiscountItem(1, 10, DiscountType.PERCENT, None, 8000),
             DiscountItem(2, 20, DiscountType.AMOUNT, None, None), DiscountItem(2, 21, DiscountType.AMOUNT, 5, 9000),
             DiscountItem(3, 30, DiscountType.PERCENT, None, None), DiscountItem(3, 31, DiscountType.PERCENT, 5, 9000)]
    problems = domain.check_discount_items(items)
    assert codes(problems) == ["SKU_TWICE", "AMOUNT_NEEDS_AMOUNT_OFF", "AMOUNT_NEEDS_AMOUNT_OFF",
                               "PERCENT_NEEDS_PAY_BP", "PERCENT_NEEDS_PAY_BP"]
    assert [p.params["sku_id"] for p in problems] == [10, 20, 21, 30, 31]
    assert domain.check_discount_items(items[:1]) == []


def test_reward_levels_must_ascend_give_something_and_stay_below_their_threshold():
    ok = [RewardLevel(100, 10), RewardLevel(200, 0, free_delivery=True), RewardLevel(300, 0, points=5),
          RewardLevel(400, 0, coupons=((1, 1),))]
    assert domain.check_reward(ConditionType.AMOUNT, ProductScope.ALL, [], ok) == []
    problems = domain.check_reward(ConditionType.AMOUNT, ProductScope.ALL, [],
                                   [RewardLevel(200, 10), RewardLevel(200, 0), RewardLevel(100, 100)])
    assert codes(problems) == ["THRESHOLDS_NOT_ASCENDING", "LEVEL_GIVES_NOTHING", "LEVEL_OFF_NOT_BELOW_THRESHOLD"]
    assert [p.params.get("level") for p in problems] == [None, 2, 3]
    # on a count condition the threshold is items: any amount off may go with it
    assert domain.check_reward(ConditionType.COUNT, ProductScope.ALL, [], [RewardLevel(2, 5000)]) == []


def test_reward_scope_problems():
    level = [RewardLevel(100, 10)]
    assert codes(domain.check_reward(ConditionType.AMOUNT, ProductScope.ALL, [1], level)) == ["SCOPE_ALL_WITH_VALUES"]
    assert codes(domain.check_reward(ConditionType.AMOUNT, ProductScope.SPU, [], level)) == ["SCOPE_WITHOUT_VALUES"]
    assert codes(domain.check_reward(ConditionType.AMOUNT, ProductScope.CATEGORY, [3, 3], level)) == [
        "SCOPE_DUPLICATES"]


def test_gift_templates_must_exist_be_giveable_and_not_have_ended():
    levels = [RewardLevel(100, 10, coupons=((1, 1), (2, 1))), RewardLevel(200, 10, coupons=((3, 1), (4, 2)))]
    templates = {1: GiftTemplate(1, True, False), 2: GiftTemplate(2, False, False), 3: GiftTemplate(3, True, True)}
    problems = domain.check_reward_coupons(levels, templates)
    assert codes(problems) == ["LEVEL_COUPON_NOT_GIVEABLE", "LEVEL_COUPON_EXPIRED", "LEVEL_COUPON_MISSING"]
    assert [(p.params["level"], p.params["template_id"]) for p in problems] == [(1, 2), (2, 3), (2, 4)]
    assert domain.check_reward_coupons(levels[:1], {1: templates[1], 2: GiftTemplate(2, True, False)}) == []


def test_problems_are_raised_all_at_once():
    domain.raise_if([])
    with pytest.raises(domain.InvalidActivity) as raised:
        domain.raise_if(domain.check_window(NOW, NOW - HOUR, NOW))
    assert raised.value.details["problems"][1].code == "END_IN_PAST"


def test_lifecycle_checks():
    domain.check_can_update(CommonStatus.ENABLED)
    domain.check_can_close(CommonStatus.ENABLED)
    domain.check_can_delete(CommonStatus.DISABLED)
    with pytest.raises(domain.ActivityClosed):
        domain.check_can_update(CommonStatus.DISABLED)
    with pytest.raises(domain.ActivityAlreadyClosed):
        domain.check_can_close(CommonStatus.DISABLED)
    with pytest.raises(domain.ActivityNotClosed):
        domain.check_can_delete(CommonStatus.ENABLED)


@pytest.mark.parametrize("existing, new, why", [
    (Scope(ProductScope.ALL, frozenset()), Scope(ProductScope.SPU, frozenset({1})), "OTHER_COVERS_ALL"),
    (Scope(ProductScope.SPU, frozenset({1})), Scope(ProductScope.ALL, frozenset()), "THIS_COVERS_ALL"),
    (Scope(ProductScope.SPU, frozenset({1, 2})), Scope(ProductScope.SPU, frozenset({2, 3})), "SPUS_IN_BOTH"),
    (Scope(ProductScope.CATEGORY, frozenset({5})), Scope(ProductScope.CATEGORY, frozenset({5})), "CATEGORIES_IN_BOTH"),
    (Scope(ProductScope.SPU, frozenset({1})), Scope(ProductScope.SPU, frozenset({2})), None),
    (Scope(ProductScope.SPU, frozenset({1})), Scope(ProductScope.CATEGORY, frozenset({1})), None),
])
def test_scope_conflicts(existing, new, why):
    found = domain.scope_conflict(existing, new)
    assert (found.code if found else None) == why


def test_a_conflict_names_what_both_cover_and_the_first_other_activity():
    why = domain.scope_conflict(Scope(ProductScope.SPU, frozenset(range(1, 20))), Scope(ProductScope.SPU,
                                                                                        frozenset(range(5, 30))))
    assert why.params["ids"] == "5, 6, 7, 8, 9, 10, 11, 12, 13, 14"  # at most ten, in order
    others = [("A", Scope(ProductScope.SPU, frozenset({9}))), ("B", Scope(ProductScope.ALL, frozenset())),
              ("C", Scope(ProductScope.ALL, frozenset()))]
    name, reason = domain.first_scope_conflict(Scope(ProductScope.SPU, frozenset({1})), others)
    assert (name, reason.code) == ("B", "OTHER_COVERS_ALL")
    assert domain.first_scope_conflict(Scope(ProductScope.SPU, frozenset({1})), others[:1]) is None


def test_owners_and_kinds_are_named_in_both_languages():
    assert domain.owner_name("coupon").render("zh-CN") == "优惠券"
    assert domain.owner_name("seckill").render("en") == "the flash sale stock"
    assert domain.owner_name("elsewhere") == "elsewhere"
    assert domain.activity_kind_name("groupbuy").render("zh-CN") == "拼团"
    assert domain.activity_kind_name("other") == "other"
