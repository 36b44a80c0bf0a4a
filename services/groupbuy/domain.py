"""Group-buy (拼团) rules. Pure: plain values and the time in, a decision or a domain error out.

A group is opened by its leader's order and lives through these states:

    PENDING ──leader pays──► IN_PROGRESS ──last seat paid / robots fill it──► SUCCESS
       │                        │
       │                        └─ time is up ─┬─ virtual completion, enough real paid members ─► SUCCESS
       │                                       └─ otherwise ─► FAILED (paid members are refunded)
       └─ the leader's order is cancelled or not paid in time ─► VOID

A member (a seat) is PENDING from order creation, JOINED once paid, then SUCCESS or FAILED with
its group; a seat given back before the group ended (order cancelled, hold expired) is VOID.
Seats count members that are PENDING or paid; a group succeeds when all `size` seats are paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.enums import CommonStatus, DescribedIntEnum
from shared.errors import Conflict, NotFound, Reason, RuleViolation


class GroupStatus(DescribedIntEnum):
    """State of a group (拼团)."""

    PENDING = 0, "opened by an order that is not paid yet: not listed, cannot be joined"
    IN_PROGRESS = 10, "the leader paid: open to join until it fills or its time is up"
    SUCCESS = 20, "every seat paid (by buyers, robots or placeholders): the paid orders ship"
    FAILED = 30, "time was up before it filled: the paid orders are refunded"
    VOID = 40, "the leader's order was cancelled or never paid: the group never opened"


class MemberStatus(DescribedIntEnum):
    """State of a seat (a member of a group)."""

    PENDING = 0, "taken at checkout, waiting for the order's payment"
    JOINED = 10, "paid; the group is still filling"
    SUCCESS = 20, "the group succeeded: the order ships"
    FAILED = 30, "the group failed: the order is refunded"
    VOID = 40, "given back before the group ended (order cancelled or not paid in time)"


class MemberKind(DescribedIntEnum):
    """Who holds a seat."""

    REAL = 1, "a buyer with an order"
    ROBOT = 2, "a robot that joined or leads a group (shown like any buyer)"
    VIRTUAL = 3, "a placeholder added by virtual completion when the group's time was up"


ENDED_GROUP = (GroupStatus.SUCCESS, GroupStatus.FAILED, GroupStatus.VOID)
HOLDING_SEAT = (MemberStatus.PENDING, MemberStatus.JOINED)


# --- errors ---------------------------------------------------------------------------------------

class ActivityNotFound(NotFound):
    code = "GROUPBUY_ACTIVITY_NOT_FOUND"
    messages = {"en": "Group-buy activity {id} does not exist", "zh-CN": "拼团活动 {id} 不存在"}


class ActivityInvalid(RuleViolation):
    code = "GROUPBUY_ACTIVITY_INVALID"
    messages = {"en": "Invalid group-buy activity: {reason}", "zh-CN": "拼团活动无效：{reason}"}


class SpuConflict(Conflict):
    code = "GROUPBUY_ACTIVITY_SPU_CONFLICT"
    messages = {"en": "SPU {spu_id} is already in group-buy activity {other_name} at an overlapping time",
                "zh-CN": "商品 {spu_id} 已参加拼团活动 {other_name}，活动时间冲突"}


class ActivityClosed(Conflict):
    code = "GROUPBUY_ACTIVITY_CLOSED"
    messages = {"en": "The group-buy activity is closed", "zh-CN": "拼团失败，原因：拼团活动已关闭"}


class AlreadyClosed(Conflict):
    code = "GROUPBUY_ACTIVITY_ALREADY_CLOSED"
    messages = {"en": "The group-buy activity is already closed", "zh-CN": "拼团活动已关闭，不能重复关闭"}


class DeleteRefused(Conflict):
    code = "GROUPBUY_ACTIVITY_DELETE_REFUSED"
    messages = {"en": "Only a closed or ended group-buy activity without running groups can be deleted",
                "zh-CN": "拼团活动未关闭或未结束，或仍有进行中的拼团，不能删除"}


class NotStarted(Conflict):
    code = "GROUPBUY_NOT_STARTED"
    messages = {"en": "The group-buy activity has not started", "zh-CN": "拼团失败，活动未开始"}


class Ended(Conflict):
    code = "GROUPBUY_ENDED"
    messages = {"en": "The group-buy activity has ended", "zh-CN": "拼团失败，活动已经结束"}


class SkuNotInActivity(RuleViolation):
    code = "GROUPBUY_SKU_NOT_IN_ACTIVITY"
    messages = {"en": "SKU {sku_id} is not part of this group buy",
                "zh-CN": "拼团失败，原因：商品 {sku_id} 不在拼团活动中"}


class OrderLimitExceeded(RuleViolation):
    code = "GROUPBUY_ORDER_LIMIT_EXCEEDED"
    messages = {"en": "At most {limit} per order", "zh-CN": "拼团失败，原因：单次限购 {limit} 件"}


class UserLimitReached(Conflict):
    code = "GROUPBUY_USER_LIMIT_REACHED"
    messages = {"en": "You can buy at most {limit} in this group buy", "zh-CN": "拼团失败，原因：每人限购 {limit} 件"}


class GroupNotFound(NotFound):
    code = "GROUPBUY_GROUP_NOT_FOUND"
    messages = {"en": "Group {id} does not exist", "zh-CN": "拼团 {id} 不存在"}


class GroupNotJoinable(Conflict):
    code = "GROUPBUY_GROUP_NOT_JOINABLE"
    messages = {"en": "Group {id} cannot be joined: it has ended or is not open yet",
                "zh-CN": "拼团 {id} 已结束或尚未开团，不能参团"}


class GroupFull(Conflict):
    code = "GROUPBUY_GROUP_FULL"
    messages = {"en": "The group is full", "zh-CN": "拼团失败，拼团人数已满"}


class GroupExpired(Conflict):
    code = "GROUPBUY_GROUP_EXPIRED"
    messages = {"en": "The group's time is up", "zh-CN": "拼团失败，拼团已过期"}


class AlreadyInGroup(Conflict):
    code = "GROUPBUY_ALREADY_IN_GROUP"
    messages = {"en": "You already have a group in progress in this activity",
                "zh-CN": "拼团失败，原因：存在该活动正在进行的拼团记录"}


class WrongActivity(RuleViolation):
    code = "GROUPBUY_GROUP_OF_ANOTHER_ACTIVITY"
    messages = {"en": "Group {id} belongs to another activity", "zh-CN": "拼团 {id} 不属于该活动"}


class OrderHoldsAnotherSeat(Conflict):
    code = "GROUPBUY_ORDER_HOLDS_ANOTHER_SEAT"
    messages = {"en": "Order {order_id} already holds another group-buy seat",
                "zh-CN": "订单 {order_id} 已占用其它拼团名额"}


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


@dataclass(frozen=True)
class Terms:
    """What opening or joining a group is checked against."""

    id: int
    status: CommonStatus
    start_at: datetime
    end_at: datetime
    group_size: int
    limit_hours: int
    user_limit: int  # 0 = no limit
    order_limit: int  # 0 = no limit
    virtual_completion: bool
    least_population: int  # real paid members needed for virtual completion or robots
    robot_join_after_hours: int  # 0 = robots never join
    keep_open_groups: int  # 0 = no robot-led groups


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


def windows_overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open windows [start, end)."""
    return a_start < b_end and b_start < a_end


def check_can_update(status: CommonStatus) -> None:
    if status != CommonStatus.ENABLED:
        raise ActivityClosed()


def check_can_close(status: CommonStatus) -> None:
    if status != CommonStatus.ENABLED:
        raise AlreadyClosed()


def check_can_delete(status: CommonStatus, end_at: datetime, now: datetime, running_groups: int) -> None:
    if (status == CommonStatus.ENABLED and end_at > now) or running_groups:
        raise DeleteRefused()


def check_can_open(terms: Terms, now: datetime) -> None:
    """A new group: the activity is enabled and running now."""
    if terms.status != CommonStatus.ENABLED:
        raise ActivityClosed()
    if now < terms.start_at:
        raise NotStarted()
    if now >= terms.end_at:
        raise Ended()


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


# --- groups ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupState:
    id: int
    activity_id: int
    status: GroupStatus
    size: int
    seats_taken: int  # pending + paid members, robots and placeholders included
    expires_at: datetime | None  # set when the leader pays


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
