"""The rules checked before anything changes: an activity's own rules, and what opening or
joining a group, the buyer's limits and a retried checkout are checked against. Pure: plain values
and the time in, nothing or a domain error out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.groupbuy.domain.errors import (
    ActivityClosed,
    ActivityInvalid,
    AlreadyClosed,
    DeleteRefused,
    Ended,
    GroupExpired,
    GroupFull,
    GroupNotJoinable,
    NotStarted,
    OrderHoldsAnotherSeat,
    OrderLimitExceeded,
    UserLimitReached,
    WrongActivity,
)
from services.groupbuy.domain.model import HOLDING_SEAT, GroupState, GroupStatus, MemberStatus, SeatRequest, Terms
from shared.enums import CommonStatus
from shared.errors import Reason
from shared.lifecycle import Lifecycle

# --- activities -----------------------------------------------------------------------------------

START_NOT_BEFORE_END = Reason("START_NOT_BEFORE_END", en="start_at must be before end_at",
                              zh="开始时间必须早于结束时间")
SKU_TWICE = Reason("SKU_TWICE", en="SKU {sku_id} appears twice", zh="SKU {sku_id} 重复出现")
LEAST_POPULATION_NOT_BELOW_SIZE = Reason(
    "LEAST_POPULATION_NOT_BELOW_SIZE", en="least_population must be below group_size",
    zh="虚拟成团的最少真实人数必须小于成团人数")
ROBOTS_AFTER_TIME_UP = Reason(
    "ROBOTS_AFTER_TIME_UP", en="robots must join before the group's time is up (robot_join_after_hours below "
                               "limit_hours)",
    zh="机器人必须在拼团到期前加入（机器人参团时间须小于成团时限）")
ORDER_LIMIT_ABOVE_USER_LIMIT = Reason("ORDER_LIMIT_ABOVE_USER_LIMIT", en="order_limit cannot exceed user_limit",
                                      zh="单次限购数量不能超过每人限购数量")
LEADER_PRICE_ABOVE_GROUP_PRICE = Reason(
    "LEADER_PRICE_ABOVE_GROUP_PRICE",
    en="SKU {sku_id}: leader_price {leader_price} is above group_price {group_price} (the leader pays at most "
       "the group price)",
    zh="SKU {sku_id}：开团价 {leader_price} 高于参团价 {group_price}（团长最多支付参团价）")


def check_activity(terms: Terms, skus: Sequence[int]) -> None:
    """The activity's own rules; each refusal names the field at fault (`field`)."""
    if terms.start_at >= terms.end_at:
        raise ActivityInvalid(reason=START_NOT_BEFORE_END, field="end_at")
    for index, sku_id in enumerate(skus):
        if sku_id in skus[:index]:
            raise ActivityInvalid(reason=SKU_TWICE.with_(sku_id=sku_id), field=f"products[{index}].sku_id")
    if terms.least_population >= terms.group_size:
        raise ActivityInvalid(reason=LEAST_POPULATION_NOT_BELOW_SIZE, field="least_population")
    if terms.robot_join_after_hours and terms.robot_join_after_hours >= terms.limit_hours:
        raise ActivityInvalid(reason=ROBOTS_AFTER_TIME_UP, field="robot_join_after_hours")
    if terms.order_limit and terms.user_limit and terms.order_limit > terms.user_limit:
        raise ActivityInvalid(reason=ORDER_LIMIT_ABOVE_USER_LIMIT, field="order_limit")


@dataclass(frozen=True)
class SkuPrice:
    sku_id: int
    group_price: int  # 参团价
    leader_price: int | None  # 开团价; None = the group price


def check_prices(products: Sequence[SkuPrice]) -> None:
    """The leader pays at most the group price (开团价 <= 参团价)."""
    for index, p in enumerate(products):
        if p.leader_price is not None and p.leader_price > p.group_price:
            raise ActivityInvalid(reason=LEADER_PRICE_ABOVE_GROUP_PRICE.with_(
                sku_id=p.sku_id, leader_price=p.leader_price, group_price=p.group_price),
                field=f"products[{index}].leader_price")


LIFECYCLE = Lifecycle(closed=ActivityClosed, already_closed=AlreadyClosed, delete_refused=DeleteRefused,
                      not_started=NotStarted, ended=Ended)
check_can_update, check_can_close = LIFECYCLE.check_can_update, LIFECYCLE.check_can_close


def check_can_delete(status: CommonStatus, end_at: datetime, now: datetime, running_groups: int) -> None:
    if running_groups:
        raise DeleteRefused()
    LIFECYCLE.check_can_delete(status, end_at, now)


# --- seats -----------------------------------------------------------------------------------------

def check_can_open(terms: Terms, now: datetime) -> None:
    """A new group: the activity is enabled and running now."""
    LIFECYCLE.check_running(terms.status, terms.start_at, terms.end_at, now)


def check_counts(terms: Terms, count: int, bought_before: int) -> None:
    """The per-order limit, and the user's total across this activity (failed and given-back seats
    do not count)."""
    if terms.order_limit and count > terms.order_limit:
        raise OrderLimitExceeded(limit=terms.order_limit)
    if terms.user_limit and bought_before + count > terms.user_limit:
        raise UserLimitReached(limit=terms.user_limit)


def unit_price(group_price: int, leader_price: int | None, leader: bool) -> int:
    """The leader pays the leader price (开团价), defaulting to the group price (参团价)."""
    return leader_price if leader and leader_price is not None else group_price


def check_can_join(terms: Terms, group: GroupState, now: datetime, *, holds_seat: bool = False) -> None:
    """Joining needs the activity enabled (a group opened before the activity's end may still be
    joined after it, until the group's own time is up), a group in progress, a free seat and time.
    `holds_seat`: the order asking already holds a seat of this group (a retried checkout), which
    counts as its own, not as a seat taken by someone else."""
    if group.activity_id != terms.id:
        raise WrongActivity(id=group.id)
    if terms.status != CommonStatus.ENABLED:
        raise ActivityClosed()
    if group.status != GroupStatus.IN_PROGRESS:
        raise GroupNotJoinable(id=group.id)
    if group.expires_at is not None and now >= group.expires_at:
        raise GroupExpired()
    if group.seats_taken - holds_seat >= group.size:
        raise GroupFull()


def check_same_seat(held: SeatRequest, status: MemberStatus, asked: SeatRequest) -> None:
    """An order asking again for the seat it holds (a retried checkout) gets it: the same buyer,
    activity, SKU and count, and the same group when it names one; a seat given back, or of a
    group that failed, is not joinable any more."""
    same = (held.user_id, held.activity_id, held.sku_id, held.count) == (
        asked.user_id, asked.activity_id, asked.sku_id, asked.count)
    if not same or (asked.group_id is not None and asked.group_id != held.group_id):
        raise OrderHoldsAnotherSeat(order_id=asked.order_id)
    if status in (MemberStatus.VOID, MemberStatus.FAILED):
        raise GroupNotJoinable(id=held.group_id)


def is_own_seat(status: MemberStatus, leader: bool, held: tuple[int, int], asked: tuple[int, int | None]) -> bool:
    """A seat (`held`: its activity and group) is the asking order's own for what it asks
    (`asked`: the activity, and the group it joins or None to open one): still holding, in the
    same activity, and in that group (or, opening one, the group it leads)."""
    if status not in HOLDING_SEAT or held[0] != asked[0]:
        return False
    return leader if asked[1] is None else held[1] == asked[1]


# --- a group's clock ------------------------------------------------------------------------------

def expires_at(paid_at: datetime, limit_hours: int) -> datetime:
    return paid_at + timedelta(hours=limit_hours)


def robots_due_at(started_at: datetime, robot_join_after_hours: int) -> datetime | None:
    return started_at + timedelta(hours=robot_join_after_hours) if robot_join_after_hours else None


def can_complete_without_buyers(real_paid: int, least_population: int) -> bool:
    """Virtual completion and robot filling both need this many real paid members (a robot-led
    group needs at least one real buyer too: nobody ships to a robot)."""
    return real_paid >= max(1, least_population)


def time_left_seconds(expires: datetime | None, now: datetime) -> int | None:
    return None if expires is None else max(0, int((expires - now).total_seconds()))
