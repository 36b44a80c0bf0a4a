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


@pytest.mark.parametrize(("change", "reason"), [
    ({"start_at": NOW, "end_at": NOW}, "start_at must be before end_at"),
    ({"least_population": 3}, "least_population must be below group_size"),
    ({"robot_join_after_hours": 24}, "robots must join before"),
    ({"order_limit": 4}, "order_limit cannot exceed user_limit"),
])
def test_invalid_activities_are_refused_with_the_reason(change, reason):
    with pytest.raises(domain.ActivityInvalid) as refused:
        domain.check_activity(replace(TERMS, **change), [1, 2])
    assert reason in refused.value.details["reason"]


def test_a_sku_listed_twice_is_refused():
    with pytest.raises(domain.ActivityInvalid):
        domain.check_activity(TERMS, [1, 1])
    domain.check_activity(TERMS, [1, 2])


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
