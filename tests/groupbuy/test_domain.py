"""The pure rules of group buying: activity checks, opening and joining, limits, prices, robots."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.groupbuy import domain
from services.groupbuy.domain import GroupState, GroupStatus, Terms
from shared.enums import CommonStatus

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TERMS = Terms(id=1, status=CommonStatus.ENABLED, start_at=NOW - timedelta(hours=1), end_at=NOW + timedelta(days=1),
              group_size=3, limit_hours=24, user_limit=3, order_limit=2, virtual_completion=False,
              least_population=1, robot_join_after_hours=0, keep_open_groups=0)
GROUP = GroupState(id=9, activity_id=1, status=GroupStatus.IN_PROGRESS, size=3, seats_taken=2,
                   expires_at=NOW + timedelta(hours=2))


@pytest.mark.parametrize(("change", "reason", "field", "en"), [
    ({"start_at": NOW, "end_at": NOW}, domain.START_NOT_BEFORE_END, "end_at", "start_at must be before end_at"),
    ({"least_population": 3}, domain.LEAST_POPULATION_NOT_BELOW_SIZE, "least_population",
     "least_population must be below group_size"),
    ({"robot_join_after_hours": 24}, domain.ROBOTS_AFTER_TIME_UP, "robot_join_after_hours", "robots must join before"),
    ({"order_limit": 4}, domain.ORDER_LIMIT_ABOVE_USER_LIMIT, "order_limit", "order_limit cannot exceed user_limit"),
])
def test_invalid_activities_are_refused_with_the_reason_and_the_field(change, reason, field, en):
    with pytest.raises(domain.ActivityInvalid) as refused:
        domain.check_activity(replace(TERMS, **change), [1, 2])
    details = refused.value.body("en")["error"]["details"]
    assert (details["reason_code"], details["field"]) == (reason.code, field)
    assert en in details["reason"]


def test_a_sku_listed_twice_is_refused():
    with pytest.raises(domain.ActivityInvalid) as refused:
        domain.check_activity(TERMS, [1, 2, 1])
    assert refused.value.body("zh-CN")["error"]["details"] == {
        "reason": "SKU 1 重复出现", "reason_code": "SKU_TWICE", "field": "products[2].sku_id"}
    domain.check_activity(TERMS, [1, 2])


def test_the_leader_pays_at_most_the_group_price():
    domain.check_prices([domain.SkuPrice(1, 5900, 4900), domain.SkuPrice(2, 5900, 5900),
                         domain.SkuPrice(3, 5900, None)])
    with pytest.raises(domain.ActivityInvalid) as refused:
        domain.check_prices([domain.SkuPrice(1, 5900, 4900), domain.SkuPrice(2, 5900, 5901)])
    assert refused.value.body("en")["error"]["details"] == {
        "reason": "SKU 2: leader_price 5901 is above group_price 5900 (the leader pays at most the group price)",
        "reason_code": "LEADER_PRICE_ABOVE_GROUP_PRICE", "field": "products[1].leader_price"}


def test_windows_overlap_is_half_open():
    day = timedelta(days=1)
    assert domain.windows_overlap(NOW, NOW + day, NOW + day / 2, NOW + 2 * day)
    assert not domain.windows_overlap(NOW, NOW + day, NOW + day, NOW + 2 * day)  # back to back


def test_lifecycle_close_once_update_refused_when_closed_delete_only_closed_or_ended_and_idle():
    domain.check_can_update(CommonStatus.ENABLED)
    domain.check_can_close(CommonStatus.ENABLED)
    with pytest.raises(domain.ActivityClosed):
        domain.check_can_update(CommonStatus.DISABLED)
    with pytest.raises(domain.AlreadyClosed):
        domain.check_can_close(CommonStatus.DISABLED)
    with pytest.raises(domain.DeleteRefused):
        domain.check_can_delete(CommonStatus.ENABLED, NOW + timedelta(hours=1), NOW, 0)
    with pytest.raises(domain.DeleteRefused):  # closed, but a group is still running
        domain.check_can_delete(CommonStatus.DISABLED, NOW + timedelta(hours=1), NOW, 1)
    domain.check_can_delete(CommonStatus.DISABLED, NOW + timedelta(hours=1), NOW, 0)
    domain.check_can_delete(CommonStatus.ENABLED, NOW, NOW, 0)  # ended


def test_opening_needs_an_enabled_activity_inside_its_window():
    domain.check_can_open(TERMS, NOW)
    with pytest.raises(domain.ActivityClosed):
        domain.check_can_open(replace(TERMS, status=CommonStatus.DISABLED), NOW)
    with pytest.raises(domain.NotStarted):
        domain.check_can_open(TERMS, TERMS.start_at - timedelta(seconds=1))
    with pytest.raises(domain.Ended):
        domain.check_can_open(TERMS, TERMS.end_at)


def test_joining_needs_a_group_in_progress_with_a_free_seat_and_time_left():
    domain.check_can_join(TERMS, GROUP, NOW)
    # a group opened before the activity ended may still be joined after it, until its own time is up
    domain.check_can_join(replace(TERMS, end_at=NOW - timedelta(minutes=1)), GROUP, NOW)
    cases = [(replace(GROUP, seats_taken=3), domain.GroupFull),
             (replace(GROUP, expires_at=NOW), domain.GroupExpired),
             (replace(GROUP, status=GroupStatus.PENDING), domain.GroupNotJoinable),
             (replace(GROUP, status=GroupStatus.SUCCESS), domain.GroupNotJoinable),
             (replace(GROUP, status=GroupStatus.FAILED), domain.GroupNotJoinable),
             (replace(GROUP, activity_id=2), domain.WrongActivity)]
    for group, error in cases:
        with pytest.raises(error):
            domain.check_can_join(TERMS, group, NOW)
    with pytest.raises(domain.ActivityClosed):
        domain.check_can_join(replace(TERMS, status=CommonStatus.DISABLED), GROUP, NOW)


def test_a_seat_the_asking_order_holds_is_its_own_not_a_full_group():
    full = replace(GROUP, seats_taken=3)
    domain.check_can_join(TERMS, full, NOW, holds_seat=True)  # the retried order's seat is the last one
    with pytest.raises(domain.GroupExpired):  # the other rules still hold
        domain.check_can_join(TERMS, replace(full, expires_at=NOW), NOW, holds_seat=True)
    with pytest.raises(domain.GroupFull):
        domain.check_can_join(TERMS, replace(full, seats_taken=4), NOW, holds_seat=True)


def test_per_order_and_per_user_limits():
    domain.check_counts(TERMS, 2, 1)  # 1 bought before + 2 = 3 = the limit
    with pytest.raises(domain.OrderLimitExceeded):
        domain.check_counts(TERMS, 3, 0)
    with pytest.raises(domain.UserLimitReached):
        domain.check_counts(TERMS, 2, 2)
    domain.check_counts(replace(TERMS, user_limit=0, order_limit=0), 10_000, 10_000)  # 0 = no limit


def test_leader_pays_the_leader_price_which_defaults_to_the_group_price():
    assert domain.unit_price(5900, 4900, leader=True) == 4900
    assert domain.unit_price(5900, 4900, leader=False) == 5900
    assert domain.unit_price(5900, None, leader=True) == 5900


def test_virtual_completion_and_robots_need_enough_real_paid_members():
    assert not domain.can_complete_without_buyers(1, 2)
    assert domain.can_complete_without_buyers(2, 2)
    assert not domain.can_complete_without_buyers(0, 0)  # a robot-only group ships to nobody
    assert domain.can_complete_without_buyers(1, 1)


def test_times():
    assert domain.expires_at(NOW, 24) == NOW + timedelta(hours=24)
    assert domain.robots_due_at(NOW, 0) is None
    assert domain.robots_due_at(NOW, 3) == NOW + timedelta(hours=3)
    assert domain.time_left_seconds(NOW + timedelta(minutes=1), NOW) == 60
    assert domain.time_left_seconds(NOW - timedelta(minutes=1), NOW) == 0
    assert domain.time_left_seconds(None, NOW) is None
