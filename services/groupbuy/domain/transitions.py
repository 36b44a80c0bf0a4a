"""Every change of a group's or a seat's state, as pure functions: the current states (plain
values), the activity's terms and the time in; a `Step` out (the new states and what else must
happen), or None when there is nothing to do (a redelivery, another replica got there first).
The caller locks the rows, reads them afresh, calls one of these and writes the step, with its
events, in the same transaction.

    PENDING ──leader pays──► IN_PROGRESS ──last seat paid / robots fill it──► SUCCESS
       │                        │
       │                        └─ time is up ─┬─ virtual completion, enough real paid members ─► SUCCESS
       │                                       └─ otherwise ─► FAILED (paid members are refunded)
       └─ the leader's order is cancelled or not paid in time ─► VOID

A seat is PENDING from checkout, JOINED once paid, then SUCCESS or FAILED with its group; a seat
given back before the group ended (order cancelled, hold expired) is VOID. `seats_taken` counts
the seats pending or paid; a group succeeds when all `size` seats are paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.groupbuy.domain.model import (
    ENDED_GROUP,
    HOLDING_SEAT,
    GroupState,
    GroupStatus,
    MemberKind,
    MemberStatus,
    SeatState,
    Terms,
)
from services.groupbuy.domain.rules import can_complete_without_buyers, expires_at, robots_due_at
from shared.enums import CommonStatus

# Why an order gets a failure event (the `reason` of promo.groupbuy.group-failed).
EXPIRED = "expired"  # its group's time was up before it filled
PAID_AFTER_SEAT_RELEASED = "paid_after_seat_released"  # paid for a seat already given back
PAID_ORDER_CANCELLED = "paid_order_cancelled"  # its payment came first, then its cancel as unpaid


@dataclass(frozen=True)
class StandIns:
    """Paid seats without an order: robots, or placeholders of virtual completion."""

    kind: MemberKind
    count: int


@dataclass(frozen=True)
class Step:
    """What a transition decided, written in this order: the seat (if any), the group, the
    stand-ins; when the group `ended` now (SUCCESS or FAILED), every seat of it ends too
    (`end_seats`) and the end is announced; last, `refund` says why the seat's own order gets a
    failure event of its own."""

    group: GroupState
    seat: SeatState | None = None
    stand_ins: StandIns | None = None
    ended: GroupStatus | None = None
    refund: str | None = None


# --- opening and taking seats ---------------------------------------------------------------------

def open_group(terms: Terms) -> GroupState:
    """A buyer's checkout opens a group: pending (not listed, not joinable) until its leader pays;
    the leader's seat is taken."""
    return GroupState(id=0, activity_id=terms.id, status=GroupStatus.PENDING, size=terms.group_size, seats_taken=1,
                      expires_at=None)


def open_robot_group(terms: Terms, now: datetime) -> GroupState:
    """A robot leads a group: in progress at once, its leader's seat paid (by nobody real)."""
    return GroupState(id=0, activity_id=terms.id, status=GroupStatus.IN_PROGRESS, size=terms.group_size,
                      seats_taken=1, expires_at=expires_at(now, terms.limit_hours), paid_count=1, virtual=True,
                      started_at=now, robots_at=robots_due_at(now, terms.robot_join_after_hours))


def robot_groups_to_open(terms: Terms, joinable: int, now: datetime) -> int:
    """How many robot-led groups an activity needs so that `keep_open_groups` can be joined: none
    unless it is enabled and running now."""
    if terms.status != CommonStatus.ENABLED or not terms.start_at <= now < terms.end_at:
        return 0
    return max(0, terms.keep_open_groups - joinable)


def join(group: GroupState) -> GroupState:
    """A seat of the group is taken (the checks passed: `rules.check_can_join`)."""
    return replace(group, seats_taken=group.seats_taken + 1)


def hold_seat(user_id: int, order_id: int, now: datetime, hold_seconds: int) -> SeatState:
    """A buyer's new seat: pending payment until `hold_seconds` from now, the buyer busy in the
    activity meanwhile."""
    return SeatState(status=MemberStatus.PENDING, busy_user_id=user_id, order_id=order_id,
                     hold_expires_at=now + timedelta(seconds=hold_seconds))


# --- seats given back -----------------------------------------------------------------------------

def free_seat(group: GroupState, seat: SeatState, now: datetime) -> Step:
    """The seat goes back and no longer counts, paid or not; a group only its unpaid leader was
    in never opened (VOID)."""
    paid = seat.status == MemberStatus.JOINED
    group = replace(group, seats_taken=group.seats_taken - 1, paid_count=group.paid_count - paid,
                    real_paid_count=group.real_paid_count - paid)
    if group.status == GroupStatus.PENDING:
        group = replace(group, status=GroupStatus.VOID, ended_at=now)
    return Step(group, _end(seat, MemberStatus.VOID, now))


def release(group: GroupState, seat: SeatState, now: datetime, *, due_by: datetime | None = None) -> Step | None:
    """A seat not paid yet goes back: its checkout failed, or (`due_by`) its hold ran out by then.
    A paid seat, or one of an ended group, stays as it is."""
    if seat.status != MemberStatus.PENDING or group.status in ENDED_GROUP:
        return None
    if due_by is not None and (seat.hold_expires_at is None or seat.hold_expires_at > due_by):
        return None
    return free_seat(group, seat, now)


def cancel(group: GroupState, seat: SeatState, now: datetime, *, paid: bool) -> Step | None:
    """order.cancelled: the seat of a running group goes back, paid or not; nothing changes in an
    ended group. A paid seat of an order cancelled as unpaid (`paid` False: its payment was
    handled first) is refunded by an event of its own; the order service refunds the others."""
    if seat.status not in HOLDING_SEAT or group.status in ENDED_GROUP:
        return None
    step = free_seat(group, seat, now)
    if seat.status == MemberStatus.JOINED and not paid:
        return replace(step, refund=PAID_ORDER_CANCELLED)
    return step


# --- payments -------------------------------------------------------------------------------------

def pay(group: GroupState, seat: SeatState, terms: Terms | None, paid_at: datetime, now: datetime) -> Step | None:
    """order.paid: the seat is paid; the leader's payment opens the group for `limit_hours`; the
    last seat paid makes it succeed. Paid after the group's time was up, the group ends first (as
    the job would); a payment for a seat given back is not counted: its order is refunded alone.
    None: this payment was handled before. `terms`: the activity (None once deleted)."""
    ending = None
    if seat.status == MemberStatus.PENDING and is_time_up(group, paid_at):
        ending = time_up(group, terms, now)
        group, seat = ending.group, _end(seat, MemberStatus.VOID, now)  # unpaid: given back with its group
    if seat.status == MemberStatus.VOID and seat.paid_at is None:
        seat = replace(seat, paid_at=paid_at)
        if ending is not None:
            return replace(ending, seat=seat, refund=PAID_AFTER_SEAT_RELEASED)
        return Step(group, seat, refund=PAID_AFTER_SEAT_RELEASED)
    if seat.status != MemberStatus.PENDING:
        return None
    seat = replace(seat, status=MemberStatus.JOINED, paid_at=paid_at)
    group = replace(group, paid_count=group.paid_count + 1, real_paid_count=group.real_paid_count + 1)
    if group.status == GroupStatus.PENDING:
        assert terms is not None  # an activity with a running group cannot be deleted
        group = replace(group, status=GroupStatus.IN_PROGRESS, started_at=paid_at,
                        expires_at=expires_at(paid_at, terms.limit_hours),
                        robots_at=robots_due_at(paid_at, terms.robot_join_after_hours))
    if group.paid_count >= group.size:
        return Step(_ended_as(group, GroupStatus.SUCCESS, now), seat, ended=GroupStatus.SUCCESS)
    return Step(group, seat)


# --- the group's end, robots ----------------------------------------------------------------------

def is_time_up(group: GroupState, at: datetime) -> bool:
    """A group in progress whose time is up at `at`."""
    return group.status == GroupStatus.IN_PROGRESS and group.expires_at is not None and group.expires_at <= at


def end_if_due(group: GroupState, terms: Terms | None, now: datetime) -> Step | None:
    """The job: a group whose time is up ends (`time_up`); None when it is not due (any more)."""
    return time_up(group, terms, now) if is_time_up(group, now) else None


def time_up(group: GroupState, terms: Terms | None, now: datetime) -> Step:
    """Time is up: when the activity allows virtual completion and enough real buyers paid,
    placeholders take every unpaid seat (pending ones are given back) and the group succeeds;
    otherwise it fails and its paid orders are refunded."""
    if terms is not None and terms.virtual_completion and can_complete_without_buyers(
            group.real_paid_count, terms.least_population):
        placeholders = group.size - group.paid_count
        filled = replace(group, seats_taken=group.size, paid_count=group.size, virtual=True)
        return Step(_ended_as(filled, GroupStatus.SUCCESS, now), stand_ins=StandIns(MemberKind.VIRTUAL, placeholders),
                    ended=GroupStatus.SUCCESS)
    return Step(_ended_as(group, GroupStatus.FAILED, now), ended=GroupStatus.FAILED)


def robots_join(group: GroupState, terms: Terms | None, now: datetime) -> Step | None:
    """Robots take the free seats once the group's robots are due, while its time runs and its
    activity is enabled, when enough real buyers paid; the group succeeds when no seat is left
    pending, or later when its pending seats are paid. None: nothing to do (any more)."""
    if (group.status != GroupStatus.IN_PROGRESS or group.seats_taken >= group.size or group.robots_at is None
            or group.robots_at > now or group.expires_at is None or group.expires_at <= now):
        return None
    if terms is None or terms.status != CommonStatus.ENABLED or not can_complete_without_buyers(
            group.real_paid_count, terms.least_population):
        return None  # a closed activity takes no new member, robots included
    robots = StandIns(MemberKind.ROBOT, group.size - group.seats_taken)
    group = replace(group, seats_taken=group.size, paid_count=group.paid_count + robots.count, virtual=True)
    if group.paid_count >= group.size:
        return Step(_ended_as(group, GroupStatus.SUCCESS, now), stand_ins=robots, ended=GroupStatus.SUCCESS)
    return Step(group, stand_ins=robots)


def end_seats(seats: Sequence[SeatState], ended: GroupStatus,
              now: datetime) -> tuple[list[SeatState], list[int]]:
    """Every seat of a group that just ended (`end_seat`), and the paid orders: to ship when it
    succeeded, to refund when it failed."""
    orders = [s.order_id for s in seats if s.status == MemberStatus.JOINED and s.order_id is not None]
    return [end_seat(s, ended, now) for s in seats], orders


def end_seat(seat: SeatState, ended: GroupStatus, now: datetime) -> SeatState:
    """A seat when its group ends: paid, it succeeds or fails with the group; pending, it is given
    back; a seat given back before stays as it is."""
    if seat.status == MemberStatus.JOINED:
        return _end(seat, MemberStatus.SUCCESS if ended == GroupStatus.SUCCESS else MemberStatus.FAILED, now)
    if seat.status == MemberStatus.PENDING:
        return _end(seat, MemberStatus.VOID, now)
    return seat


def announced(ended: GroupStatus, orders: Sequence[int]) -> bool:
    """A success is always announced; a failure only with orders to refund (a robot-led group
    nobody paid into fails silently)."""
    return ended == GroupStatus.SUCCESS or bool(orders)


def _ended_as(group: GroupState, status: GroupStatus, now: datetime) -> GroupState:
    return replace(group, status=status, ended_at=now)


def _end(seat: SeatState, status: MemberStatus, now: datetime) -> SeatState:
    """The seat no longer holds its buyer in the activity."""
    return replace(seat, status=status, busy_user_id=None, ended_at=now)
