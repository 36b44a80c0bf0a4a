"""The pure rules of group buying: activity checks, opening and joining, limits, prices, robots."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.groupbuy import domain
from services.groupbuy.domain import GroupState, GroupStatus, MemberKind, MemberStatus, SeatState, Step, Terms
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


def test_activities_at_the_edge_of_each_rule_are_valid():
    domain.check_activity(replace(TERMS, start_at=NOW, end_at=NOW + timedelta(seconds=1)), [1])
    domain.check_activity(replace(TERMS, least_population=2), [1])  # below the size of 3
    domain.check_activity(replace(TERMS, robot_join_after_hours=23), [1])  # before the 24 hours are up
    domain.check_activity(replace(TERMS, order_limit=3), [1])  # the user limit
    domain.check_activity(replace(TERMS, user_limit=0, order_limit=5), [1])  # 0 = no user limit


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
    assert not domain.windows_overlap(NOW + day, NOW + 2 * day, NOW, NOW + day)
    assert domain.windows_overlap(NOW, NOW + 2 * day, NOW + day / 2, NOW + day)  # one inside the other


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
    domain.check_can_open(TERMS, TERMS.start_at)
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
        with pytest.raises(error) as refused:
            domain.check_can_join(TERMS, group, NOW)
        if error in (domain.GroupNotJoinable, domain.WrongActivity):
            assert refused.value.body("en")["error"]["details"] == {"id": 9}
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
    with pytest.raises(domain.OrderLimitExceeded) as refused:
        domain.check_counts(TERMS, 3, 0)
    assert refused.value.body("en")["error"]["details"] == {"limit": 2}
    with pytest.raises(domain.UserLimitReached) as refused:
        domain.check_counts(TERMS, 2, 2)
    assert refused.value.body("en")["error"]["details"] == {"limit": 3}
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


# --- the state machine (domain.transitions) -------------------------------------------------------

RUNNING = GroupState(id=9, activity_id=1, status=GroupStatus.IN_PROGRESS, size=3, seats_taken=2,
                     expires_at=NOW + timedelta(hours=2), paid_count=1, real_paid_count=1,
                     started_at=NOW - timedelta(hours=22))
WAITING = SeatState(status=MemberStatus.PENDING, busy_user_id=12, order_id=2,
                    hold_expires_at=NOW + timedelta(minutes=9))
PAID = replace(WAITING, status=MemberStatus.JOINED, paid_at=NOW - timedelta(minutes=5))
LATER = NOW + timedelta(minutes=1)
VIRTUAL = replace(TERMS, virtual_completion=True, least_population=1)


def given_back(seat: SeatState, at=LATER) -> SeatState:
    return replace(seat, status=MemberStatus.VOID, busy_user_id=None, ended_at=at)


def test_a_buyer_opens_a_pending_group_and_joins_take_seats():
    assert domain.open_group(TERMS) == GroupState(id=0, activity_id=1, status=GroupStatus.PENDING, size=3,
                                                  seats_taken=1, expires_at=None)
    assert domain.join(RUNNING) == replace(RUNNING, seats_taken=3)
    assert domain.hold_seat(12, 2, NOW, 900) == SeatState(
        status=MemberStatus.PENDING, busy_user_id=12, order_id=2, hold_expires_at=NOW + timedelta(seconds=900))


def test_a_robot_opens_a_group_in_progress_with_its_own_seat_paid():
    robots = replace(TERMS, robot_join_after_hours=3)
    assert domain.open_robot_group(robots, NOW) == GroupState(
        id=0, activity_id=1, status=GroupStatus.IN_PROGRESS, size=3, seats_taken=1,
        expires_at=NOW + timedelta(hours=24), paid_count=1, real_paid_count=0, virtual=True, started_at=NOW,
        robots_at=NOW + timedelta(hours=3))
    assert domain.open_robot_group(TERMS, NOW).robots_at is None


def test_robot_leaders_open_what_is_missing_while_the_activity_runs():
    keep = replace(TERMS, keep_open_groups=2)
    assert [domain.robot_groups_to_open(keep, joinable, NOW) for joinable in (0, 1, 2, 3)] == [2, 1, 0, 0]
    assert domain.robot_groups_to_open(keep, 0, keep.start_at) == 2
    assert domain.robot_groups_to_open(keep, 0, keep.end_at - timedelta(seconds=1)) == 2
    assert domain.robot_groups_to_open(keep, 0, keep.start_at - timedelta(seconds=1)) == 0
    assert domain.robot_groups_to_open(keep, 0, keep.end_at) == 0
    assert domain.robot_groups_to_open(replace(keep, status=CommonStatus.DISABLED), 0, NOW) == 0
    assert domain.robot_groups_to_open(TERMS, 0, NOW) == 0  # 0 = off


def test_a_seat_given_back_stops_counting_paid_or_not():
    assert domain.free_seat(RUNNING, WAITING, LATER) == Step(replace(RUNNING, seats_taken=1), given_back(WAITING))
    assert domain.free_seat(RUNNING, PAID, LATER) == Step(
        replace(RUNNING, seats_taken=1, paid_count=0, real_paid_count=0), given_back(PAID))
    leaders = GroupState(id=9, activity_id=1, status=GroupStatus.PENDING, size=3, seats_taken=1, expires_at=None)
    assert domain.free_seat(leaders, WAITING, LATER).group == replace(
        leaders, seats_taken=0, status=GroupStatus.VOID, ended_at=LATER)  # it never opened


def test_release_gives_back_only_an_unpaid_seat_of_a_running_group_when_due():
    assert domain.release(RUNNING, WAITING, LATER) == domain.free_seat(RUNNING, WAITING, LATER)
    assert domain.release(RUNNING, PAID, LATER) is None
    assert domain.release(RUNNING, given_back(WAITING), LATER) is None
    for ended in (GroupStatus.SUCCESS, GroupStatus.FAILED, GroupStatus.VOID):
        assert domain.release(replace(RUNNING, status=ended), WAITING, LATER) is None
    due = WAITING.hold_expires_at
    assert domain.release(RUNNING, WAITING, LATER, due_by=due) is not None
    assert domain.release(RUNNING, WAITING, LATER, due_by=due - timedelta(seconds=1)) is None  # paid meanwhile?
    assert domain.release(RUNNING, replace(WAITING, hold_expires_at=None), LATER, due_by=due) is None


def test_a_cancel_gives_the_seat_back_and_refunds_a_payment_the_order_service_does_not_know_of():
    assert domain.cancel(RUNNING, WAITING, LATER, paid=False) == domain.free_seat(RUNNING, WAITING, LATER)
    assert domain.cancel(RUNNING, PAID, LATER, paid=True) == domain.free_seat(RUNNING, PAID, LATER)
    assert domain.cancel(RUNNING, PAID, LATER, paid=False) == replace(
        domain.free_seat(RUNNING, PAID, LATER), refund=domain.PAID_ORDER_CANCELLED)
    assert domain.cancel(RUNNING, given_back(PAID), LATER, paid=False) is None
    assert domain.cancel(replace(RUNNING, status=GroupStatus.SUCCESS), PAID, LATER, paid=False) is None
    assert domain.cancel(replace(RUNNING, status=GroupStatus.VOID), WAITING, LATER, paid=False) is None


def test_the_leaders_payment_opens_the_group_for_its_hours():
    leaders = GroupState(id=9, activity_id=1, status=GroupStatus.PENDING, size=3, seats_taken=1, expires_at=None)
    step = domain.pay(leaders, WAITING, replace(TERMS, robot_join_after_hours=6), NOW, LATER)
    assert step == Step(replace(leaders, status=GroupStatus.IN_PROGRESS, paid_count=1, real_paid_count=1,
                                started_at=NOW, expires_at=NOW + timedelta(hours=24),
                                robots_at=NOW + timedelta(hours=6)),
                        replace(WAITING, status=MemberStatus.JOINED, paid_at=NOW))
    with pytest.raises(AssertionError):  # a pending group's activity cannot be gone
        domain.pay(leaders, WAITING, None, NOW, LATER)


def test_a_members_payment_counts_and_the_last_one_makes_the_group_succeed():
    assert domain.pay(RUNNING, WAITING, TERMS, NOW, LATER) == Step(
        replace(RUNNING, paid_count=2, real_paid_count=2), replace(WAITING, status=MemberStatus.JOINED, paid_at=NOW))
    full = replace(RUNNING, seats_taken=3, paid_count=2, real_paid_count=2)
    assert domain.pay(full, WAITING, None, NOW, LATER) == Step(
        replace(full, paid_count=3, real_paid_count=3, status=GroupStatus.SUCCESS, ended_at=LATER),
        replace(WAITING, status=MemberStatus.JOINED, paid_at=NOW), ended=GroupStatus.SUCCESS)
    assert domain.pay(RUNNING, PAID, TERMS, NOW, LATER) is None  # handled before


def test_a_payment_for_a_seat_given_back_is_refunded_alone_once():
    released = given_back(WAITING, NOW)
    assert domain.pay(RUNNING, released, TERMS, LATER, LATER) == Step(
        RUNNING, replace(released, paid_at=LATER), refund=domain.PAID_AFTER_SEAT_RELEASED)
    assert domain.pay(RUNNING, replace(released, paid_at=LATER), TERMS, LATER, LATER) is None


def test_a_payment_after_the_groups_time_ends_the_group_first():
    due = RUNNING.expires_at
    on_time = domain.pay(RUNNING, WAITING, TERMS, due - timedelta(seconds=1), LATER)
    assert on_time is not None and on_time.ended is None and on_time.refund is None
    late = domain.pay(RUNNING, WAITING, TERMS, due, LATER)
    assert late == Step(replace(RUNNING, status=GroupStatus.FAILED, ended_at=LATER),
                        replace(given_back(WAITING), paid_at=due), ended=GroupStatus.FAILED,
                        refund=domain.PAID_AFTER_SEAT_RELEASED)
    completed = domain.pay(RUNNING, WAITING, VIRTUAL, due, LATER)
    assert (completed.group.status, completed.stand_ins, completed.ended, completed.refund) == (
        GroupStatus.SUCCESS, domain.StandIns(MemberKind.VIRTUAL, 2), GroupStatus.SUCCESS,
        domain.PAID_AFTER_SEAT_RELEASED)
    pending = replace(RUNNING, status=GroupStatus.PENDING)  # not open yet: no clock to run out
    assert domain.pay(pending, WAITING, TERMS, due, LATER).group.status == GroupStatus.IN_PROGRESS


def test_time_up_completes_virtually_with_enough_real_buyers_or_fails():
    filled = replace(RUNNING, seats_taken=3, paid_count=3, virtual=True, status=GroupStatus.SUCCESS, ended_at=LATER)
    assert domain.time_up(RUNNING, VIRTUAL, LATER) == Step(
        filled, stand_ins=domain.StandIns(MemberKind.VIRTUAL, 2), ended=GroupStatus.SUCCESS)
    one_pending = replace(RUNNING, seats_taken=3)  # its pending seat is given back: a placeholder takes it
    assert domain.time_up(one_pending, VIRTUAL, LATER).stand_ins == domain.StandIns(MemberKind.VIRTUAL, 2)
    failed = Step(replace(RUNNING, status=GroupStatus.FAILED, ended_at=LATER), ended=GroupStatus.FAILED)
    assert domain.time_up(RUNNING, TERMS, LATER) == failed  # no virtual completion
    assert domain.time_up(RUNNING, replace(VIRTUAL, least_population=2), LATER) == failed
    assert domain.time_up(replace(RUNNING, real_paid_count=2), replace(VIRTUAL, least_population=2),
                          LATER).ended == GroupStatus.SUCCESS
    assert domain.time_up(RUNNING, None, LATER) == failed  # the activity was deleted


def test_the_job_ends_a_group_only_once_its_time_is_up():
    due = RUNNING.expires_at
    assert domain.end_if_due(RUNNING, TERMS, due - timedelta(seconds=1)) is None
    assert domain.end_if_due(RUNNING, TERMS, due) == domain.time_up(RUNNING, TERMS, due)
    assert domain.end_if_due(RUNNING, VIRTUAL, due).ended == GroupStatus.SUCCESS  # the activity's terms apply
    for status in (GroupStatus.PENDING, GroupStatus.SUCCESS, GroupStatus.FAILED, GroupStatus.VOID):
        assert domain.end_if_due(replace(RUNNING, status=status), TERMS, due) is None
    assert not domain.is_time_up(replace(RUNNING, expires_at=None), due)


def test_robots_fill_the_free_seats_when_due():
    due = replace(RUNNING, robots_at=NOW, seats_taken=1)  # the leader alone, paid
    assert domain.robots_join(due, TERMS, NOW) == Step(
        replace(due, seats_taken=3, paid_count=3, virtual=True, status=GroupStatus.SUCCESS, ended_at=NOW),
        stand_ins=domain.StandIns(MemberKind.ROBOT, 2), ended=GroupStatus.SUCCESS)
    waiting = replace(due, seats_taken=2)  # a buyer's seat is pending: the group succeeds when it is paid
    assert domain.robots_join(waiting, TERMS, NOW) == Step(
        replace(waiting, seats_taken=3, paid_count=2, virtual=True), stand_ins=domain.StandIns(MemberKind.ROBOT, 1))
    for group in (replace(due, robots_at=None), replace(due, robots_at=NOW + timedelta(seconds=1)),
                  replace(due, seats_taken=3), replace(due, status=GroupStatus.PENDING),
                  replace(due, expires_at=NOW), replace(due, expires_at=None), replace(due, real_paid_count=0)):
        assert domain.robots_join(group, TERMS, NOW) is None, group
    for terms in (None, replace(TERMS, status=CommonStatus.DISABLED), replace(TERMS, least_population=2)):
        assert domain.robots_join(due, terms, NOW) is None, terms


def test_every_seat_ends_with_its_group_and_the_paid_orders_are_named():
    robot = SeatState(status=MemberStatus.JOINED, busy_user_id=None, paid_at=NOW)
    seats = [PAID, WAITING, given_back(WAITING, NOW), robot, replace(PAID, order_id=7, busy_user_id=13)]
    ended, orders = domain.end_seats(seats, GroupStatus.SUCCESS, LATER)
    assert ended == [replace(given_back(PAID), status=MemberStatus.SUCCESS), given_back(WAITING),
                     given_back(WAITING, NOW), replace(robot, status=MemberStatus.SUCCESS, ended_at=LATER),
                     replace(given_back(PAID), order_id=7, status=MemberStatus.SUCCESS)]
    assert orders == [2, 7]
    failed, orders = domain.end_seats(seats, GroupStatus.FAILED, LATER)
    assert [s.status for s in failed] == [MemberStatus.FAILED, MemberStatus.VOID, MemberStatus.VOID,
                                          MemberStatus.FAILED, MemberStatus.FAILED] and orders == [2, 7]
    done = replace(PAID, status=MemberStatus.SUCCESS)
    assert domain.end_seat(done, GroupStatus.FAILED, LATER) == done


def test_a_success_is_always_announced_a_failure_only_with_orders_to_refund():
    assert domain.announced(GroupStatus.SUCCESS, [])
    assert domain.announced(GroupStatus.FAILED, [5])
    assert not domain.announced(GroupStatus.FAILED, [])


def test_a_retried_checkout_gets_its_seat_only_for_the_same_cart():
    held = domain.SeatRequest(order_id=2, user_id=12, activity_id=1, group_id=9, sku_id=3001, count=1)
    domain.check_same_seat(held, MemberStatus.PENDING, held)
    domain.check_same_seat(held, MemberStatus.JOINED, replace(held, group_id=None))
    for other in (replace(held, user_id=13), replace(held, activity_id=2), replace(held, sku_id=3002),
                  replace(held, count=2), replace(held, group_id=10)):
        with pytest.raises(domain.OrderHoldsAnotherSeat) as refused:
            domain.check_same_seat(held, MemberStatus.PENDING, other)
        assert refused.value.body("en")["error"]["details"] == {"order_id": 2}
    for status in (MemberStatus.VOID, MemberStatus.FAILED):
        with pytest.raises(domain.GroupNotJoinable) as refused:
            domain.check_same_seat(held, status, held)
        assert refused.value.body("en")["error"]["details"] == {"id": 9}
    domain.check_same_seat(held, MemberStatus.SUCCESS, held)


def test_a_seat_is_the_asking_orders_own_in_the_group_it_asks_for():
    assert domain.is_own_seat(MemberStatus.PENDING, False, (1, 9), (1, 9))
    assert domain.is_own_seat(MemberStatus.JOINED, True, (1, 9), (1, None))  # opening: the group it leads
    assert not domain.is_own_seat(MemberStatus.JOINED, False, (1, 9), (1, None))
    assert not domain.is_own_seat(MemberStatus.PENDING, False, (1, 9), (1, 10))
    assert not domain.is_own_seat(MemberStatus.PENDING, False, (1, 9), (2, 9))
    assert not domain.is_own_seat(MemberStatus.VOID, True, (1, 9), (1, 9))
