"""Rules of the pricing service's two activity kinds (limited-time discounts and spend-and-save)
and of checkout. Pure: plain values in, a decision or a domain error out. The price calculator
itself lives in `calculator.py`.

Windows are half-open, [start, end): an activity ending at 10:00 and one starting at 10:00 do
not overlap, and an activity is running when start <= now < end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from services.pricing.calculator import ConditionType, DiscountType, ProductScope, RewardLevel
from shared.enums import CommonStatus
from shared.errors import Conflict, NotFound, RuleViolation


class ActivityState(StrEnum):
    """What an operator sees: status and time together."""

    NOT_STARTED = "not_started"
    RUNNING = "running"
    ENDED = "ended"
    CLOSED = "closed"


def activity_state(status: int, start: datetime, end: datetime, now: datetime) -> ActivityState:
    if status == CommonStatus.DISABLED:
        return ActivityState.CLOSED
    if now < start:
        return ActivityState.NOT_STARTED
    return ActivityState.RUNNING if now < end else ActivityState.ENDED


# --- errors ---------------------------------------------------------------------------------------

class InvalidActivity(RuleViolation):
    code = "PRICING_ACTIVITY_INVALID"
    messages = {"en": "The activity is not valid: {problems}", "zh-CN": "活动配置不正确：{problems}"}


class DiscountActivityNotFound(NotFound):
    code = "DISCOUNT_ACTIVITY_NOT_FOUND"
    messages = {"en": "Discount activity {id} does not exist", "zh-CN": "限时折扣活动 {id} 不存在"}


class RewardActivityNotFound(NotFound):
    code = "REWARD_ACTIVITY_NOT_FOUND"
    messages = {"en": "Spend-and-save activity {id} does not exist", "zh-CN": "满减送活动 {id} 不存在"}


class ActivityClosed(Conflict):
    code = "PRICING_ACTIVITY_CLOSED"
    messages = {"en": "The activity is closed and cannot be changed", "zh-CN": "活动已关闭，不能修改"}


class ActivityAlreadyClosed(Conflict):
    code = "PRICING_ACTIVITY_ALREADY_CLOSED"
    messages = {"en": "The activity is already closed", "zh-CN": "活动已关闭，不能重复关闭"}


class ActivityNotClosed(Conflict):
    code = "PRICING_ACTIVITY_NOT_CLOSED"
    messages = {"en": "Close the activity before deleting it", "zh-CN": "活动未关闭，不能删除"}


class DiscountSkuConflict(Conflict):
    code = "DISCOUNT_ACTIVITY_SKU_CONFLICT"
    messages = {"en": "SKU {sku_id} is already in discount activity 【{other_name}】 at an overlapping time",
                "zh-CN": "商品 SKU {sku_id} 已参加同时段的限时折扣活动【{other_name}】"}


class RewardScopeConflict(Conflict):
    code = "REWARD_ACTIVITY_SCOPE_CONFLICT"
    messages = {"en": "The products overlap spend-and-save activity 【{other_name}】 at an overlapping time: {why}",
                "zh-CN": "与该时间段满减送活动【{other_name}】商品范围冲突，原因：{why}"}


# --- validation -----------------------------------------------------------------------------------

def check_window(start: datetime, end: datetime, now: datetime) -> list[str]:
    problems = []
    if start >= end:
        problems.append("start_time must be before end_time")
    if end <= now:
        problems.append("end_time must be in the future")
    return problems


@dataclass(frozen=True)
class DiscountItem:
    spu_id: int
    sku_id: int
    discount_type: DiscountType
    amount_off: int | None
    pay_bp: int | None


def check_discount_items(items: Sequence[DiscountItem]) -> list[str]:
    problems = []
    seen: set[int] = set()
    for item in items:
        if item.sku_id in seen:
            problems.append(f"sku {item.sku_id} is listed twice")
        seen.add(item.sku_id)
        if item.discount_type is DiscountType.AMOUNT and (item.amount_off is None or item.pay_bp is not None):
            problems.append(f"sku {item.sku_id}: a fixed discount needs amount_off and no pay_bp")
        if item.discount_type is DiscountType.PERCENT and (item.pay_bp is None or item.amount_off is not None):
            problems.append(f"sku {item.sku_id}: a percentage discount needs pay_bp and no amount_off")
    return problems


def check_reward(condition: ConditionType, scope: ProductScope, scope_values: Sequence[int],
                 levels: Sequence[RewardLevel]) -> list[str]:
    problems = []
    if scope is ProductScope.ALL and scope_values:
        problems.append("product_scope_values must be empty when the scope is all products")
    if scope is not ProductScope.ALL and not scope_values:
        problems.append("product_scope_values is required for a SPU or category scope")
    if len(set(scope_values)) != len(scope_values):
        problems.append("product_scope_values has duplicates")
    thresholds = [level.threshold for level in levels]
    if thresholds != sorted(set(thresholds)):
        problems.append("level thresholds must strictly ascend")
    for n, level in enumerate(levels, 1):
        if not (level.amount_off or level.free_delivery or level.points or level.coupons):
            problems.append(f"level {n} gives nothing")
        if condition is ConditionType.AMOUNT and level.amount_off >= level.threshold:
            problems.append(f"level {n}: amount_off must be less than the threshold")
    return problems


def raise_if(problems: list[str]) -> None:
    if problems:
        raise InvalidActivity(problems="; ".join(problems))


def check_can_update(status: int) -> None:
    if status == CommonStatus.DISABLED:
        raise ActivityClosed()


def check_can_close(status: int) -> None:
    if status == CommonStatus.DISABLED:
        raise ActivityAlreadyClosed()


def check_can_delete(status: int) -> None:
    if status != CommonStatus.DISABLED:
        raise ActivityNotClosed()


# --- spend-and-save scope conflicts ---------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    kind: ProductScope
    values: frozenset[int]


def scope_conflict(existing: Scope, new: Scope) -> str | None:
    """Why two scopes would price the same product twice, or None. SPU against category cannot be
    decided here (the catalogue is the mall's); the calculator gives a SPU-scoped activity its
    lines first, so such a pair never touches one line twice."""
    if existing.kind is ProductScope.ALL:
        return "the other activity covers all products"
    if new.kind is ProductScope.ALL:
        return "this activity covers all products"
    if existing.kind is new.kind and existing.values & new.values:
        shared = ", ".join(str(v) for v in sorted(existing.values & new.values)[:10])
        return f"{'SPUs' if new.kind is ProductScope.SPU else 'categories'} in both: {shared}"
    return None


def first_scope_conflict(new: Scope, others: Iterable[tuple[str, Scope]]) -> tuple[str, str] | None:
    for name, scope in others:
        why = scope_conflict(scope, new)
        if why:
            return name, why
    return None


# --- checkout -------------------------------------------------------------------------------------

class CheckoutStatus(IntEnum):
    PENDING = 1  # holds being placed
    HELD = 2  # priced, every hold in place; waiting for payment
    PAID = 3
    CANCELLED = 4


CHECKOUT_STATUS_NAMES = {status: status.name.lower() for status in CheckoutStatus}


class CheckoutInProgress(Conflict):
    code = "PRICING_CHECKOUT_IN_PROGRESS"
    messages = {"en": "A checkout of order {order_id} is already running; retry shortly",
                "zh-CN": "订单 {order_id} 正在结算中，请稍后重试"}


class CheckoutMismatch(Conflict):
    code = "PRICING_CHECKOUT_MISMATCH"
    messages = {"en": "Order {order_id} was already checked out with a different cart",
                "zh-CN": "订单 {order_id} 已按不同的商品结算过"}


class OrderAlreadyCancelled(Conflict):
    code = "PRICING_ORDER_CANCELLED"
    messages = {"en": "Order {order_id} is cancelled", "zh-CN": "订单 {order_id} 已取消"}


class HoldFailed(Conflict):
    code = "PRICING_HOLD_FAILED"
    messages = {"en": "Could not reserve {owner} for the order: {reason}", "zh-CN": "{owner} 预占失败：{reason}"}


class CouponCannotBeUsed(RuleViolation):
    code = "PRICING_COUPON_CANNOT_BE_USED"
    messages = {"en": "This coupon cannot be used: {reason}", "zh-CN": "该优惠券无法使用，原因：{reason}"}


class ActivityTypeUnavailable(RuleViolation):
    code = "PRICING_ACTIVITY_TYPE_UNAVAILABLE"
    messages = {"en": "{type} orders cannot be priced yet", "zh-CN": "暂不支持 {type} 活动订单的计价"}


class ActivityRefused(Conflict):
    """The special activity's service would not price the order (no such activity, not on now,
    SKU not in it, ...): its own code and reason are in the details."""

    code = "PRICING_ACTIVITY_REFUSED"
    messages = {"en": "The {type} activity cannot be used: {reason}", "zh-CN": "{type} 活动不可用：{reason}"}


class SnapshotNotFound(NotFound):
    code = "PRICING_SNAPSHOT_NOT_FOUND"
    messages = {"en": "No checkout for order {order_id}", "zh-CN": "订单 {order_id} 没有结算记录"}
