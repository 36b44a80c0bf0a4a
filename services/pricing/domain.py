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

from services.pricing.calculator import ConditionType, DiscountType, ProductScope, RewardLevel, SpecialKind
from shared.enums import CommonStatus, scope_problems
from shared.errors import Conflict, NotFound, Reason, RuleViolation


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


START_NOT_BEFORE_END = Reason("START_NOT_BEFORE_END", en="start_at must be before end_at",
                              zh="开始时间必须早于结束时间")
END_IN_PAST = Reason("END_IN_PAST", en="end_at must be in the future", zh="结束时间必须晚于当前时间")
SKU_TWICE = Reason("SKU_TWICE", en="SKU {sku_id} is listed twice", zh="SKU {sku_id} 重复出现")
AMOUNT_NEEDS_AMOUNT_OFF = Reason("AMOUNT_NEEDS_AMOUNT_OFF", en="SKU {sku_id}: a fixed discount needs amount_off "
                                 "and no pay_bp", zh="SKU {sku_id}：固定金额折扣需填写减免金额，且不填折扣比例")
PERCENT_NEEDS_PAY_BP = Reason("PERCENT_NEEDS_PAY_BP", en="SKU {sku_id}: a percentage discount needs pay_bp and "
                              "no amount_off", zh="SKU {sku_id}：比例折扣需填写折扣比例，且不填减免金额")
THRESHOLDS_NOT_ASCENDING = Reason("THRESHOLDS_NOT_ASCENDING", en="level thresholds must strictly ascend",
                                  zh="各档门槛必须逐级递增")
LEVEL_GIVES_NOTHING = Reason("LEVEL_GIVES_NOTHING", en="level {level} gives nothing", zh="第 {level} 档没有任何优惠")
LEVEL_OFF_NOT_BELOW_THRESHOLD = Reason("LEVEL_OFF_NOT_BELOW_THRESHOLD", en="level {level}: amount_off must be less "
                                       "than the threshold", zh="第 {level} 档：减免金额必须小于门槛金额")
LEVEL_COUPON_MISSING = Reason("LEVEL_COUPON_MISSING", en="level {level}: coupon template {template_id} does not "
                              "exist", zh="第 {level} 档：赠送的优惠券模板 {template_id} 不存在")
LEVEL_COUPON_NOT_GIVEABLE = Reason("LEVEL_COUPON_NOT_GIVEABLE", en="level {level}: coupon template {template_id} "
                                   "cannot be given by the system (its take type must be admin give)",
                                   zh="第 {level} 档：优惠券模板 {template_id} 不能由系统发放（领取方式须为后台发放）")
LEVEL_COUPON_EXPIRED = Reason("LEVEL_COUPON_EXPIRED", en="level {level}: coupon template {template_id} has "
                              "expired", zh="第 {level} 档：优惠券模板 {template_id} 已过期")


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

def check_window(start: datetime, end: datetime, now: datetime) -> list[Reason]:
    problems = []
    if start >= end:
        problems.append(START_NOT_BEFORE_END)
    if end <= now:
        problems.append(END_IN_PAST)
    return problems


@dataclass(frozen=True)
class DiscountItem:
    spu_id: int
    sku_id: int
    discount_type: DiscountType
    amount_off: int | None
    pay_bp: int | None


def check_discount_items(items: Sequence[DiscountItem]) -> list[Reason]:
    problems = []
    seen: set[int] = set()
    for item in items:
        if item.sku_id in seen:
            problems.append(SKU_TWICE.with_(sku_id=item.sku_id))
        seen.add(item.sku_id)
        if item.discount_type is DiscountType.AMOUNT and (item.amount_off is None or item.pay_bp is not None):
            problems.append(AMOUNT_NEEDS_AMOUNT_OFF.with_(sku_id=item.sku_id))
        if item.discount_type is DiscountType.PERCENT and (item.pay_bp is None or item.amount_off is not None):
            problems.append(PERCENT_NEEDS_PAY_BP.with_(sku_id=item.sku_id))
    return problems


def check_reward(condition: ConditionType, scope: ProductScope, scope_values: Sequence[int],
                 levels: Sequence[RewardLevel]) -> list[Reason]:
    problems = scope_problems(scope, scope_values)
    thresholds = [level.threshold for level in levels]
    if thresholds != sorted(set(thresholds)):
        problems.append(THRESHOLDS_NOT_ASCENDING)
    for n, level in enumerate(levels, 1):
        if not (level.amount_off or level.free_delivery or level.points or level.coupons):
            problems.append(LEVEL_GIVES_NOTHING.with_(level=n))
        if condition is ConditionType.AMOUNT and level.amount_off >= level.threshold:
            problems.append(LEVEL_OFF_NOT_BELOW_THRESHOLD.with_(level=n))
    return problems


@dataclass(frozen=True)
class GiftTemplate:
    """What the coupon service says of a template a reward level gives."""

    id: int
    giveable: bool  # the system may issue it (take type: admin give)
    expired: bool
    business_id: int | None = None  # the template's owner; None: the platform's


def check_reward_coupons(levels: Sequence[RewardLevel], templates: dict[int, GiftTemplate]) -> list[Reason]:
    """Every template a level gives exists, may be given by the system and has not expired."""
    problems = []
    for n, level in enumerate(levels, 1):
        for template_id, _ in level.coupons:
            found = templates.get(template_id)
            if found is None:
                problems.append(LEVEL_COUPON_MISSING.with_(level=n, template_id=template_id))
            elif not found.giveable:
                problems.append(LEVEL_COUPON_NOT_GIVEABLE.with_(level=n, template_id=template_id))
            elif found.expired:
                problems.append(LEVEL_COUPON_EXPIRED.with_(level=n, template_id=template_id))
    return problems


def raise_if(problems: list[Reason]) -> None:
    if problems:
        raise InvalidActivity(problems=problems)


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


OTHER_COVERS_ALL = Reason("OTHER_COVERS_ALL", en="the other activity covers all products",
                         zh="另一个活动适用于全部商品")
THIS_COVERS_ALL = Reason("THIS_COVERS_ALL", en="this activity covers all products", zh="本活动适用于全部商品")
SPUS_IN_BOTH = Reason("SPUS_IN_BOTH", en="SPUs in both: {ids}", zh="两个活动都包含商品 SPU：{ids}")
CATEGORIES_IN_BOTH = Reason("CATEGORIES_IN_BOTH", en="categories in both: {ids}", zh="两个活动都包含分类：{ids}")


def scope_conflict(existing: Scope, new: Scope) -> Reason | None:
    """Why two scopes would price the same product twice, or None. SPU against category cannot be
    decided here (the catalogue is the mall's); the calculator gives a SPU-scoped activity its
    lines first, so such a pair never touches one line twice."""
    if existing.kind is ProductScope.ALL:
        return OTHER_COVERS_ALL
    if new.kind is ProductScope.ALL:
        return THIS_COVERS_ALL
    if existing.kind is new.kind and existing.values & new.values:
        ids = ", ".join(str(v) for v in sorted(existing.values & new.values)[:10])
        return (SPUS_IN_BOTH if new.kind is ProductScope.SPU else CATEGORIES_IN_BOTH).with_(ids=ids)
    return None


def first_scope_conflict(new: Scope, others: Iterable[tuple[str, Scope]]) -> tuple[str, Reason] | None:
    for name, scope in others:
        why = scope_conflict(scope, new)
        if why:
            return name, why
    return None


# --- checkout -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SpecialOrder:
    """A special activity's order as the order service described it: which activity, and what
    its owner needs to hold for it (the group to join, the buyer's reservation, ...)."""

    type: SpecialKind
    activity_id: int
    group_id: int | None = None
    record_id: int | None = None
    reservation_id: int | None = None
    nickname: str = ""
    avatar: str = ""


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


# What buyers read for each hold owner and special activity kind (the errors below name them).
OWNER_NAMES = {
    "coupon": Reason("OWNER_COUPON", en="the coupon", zh="优惠券"),
    "seckill": Reason("OWNER_SECKILL", en="the flash sale stock", zh="秒杀库存"),
    "groupbuy": Reason("OWNER_GROUPBUY", en="the group-buy seat", zh="拼团名额"),
    "bargain": Reason("OWNER_BARGAIN", en="the bargain", zh="砍价记录"),
    "points_mall": Reason("OWNER_POINTS_MALL", en="the points-mall stock", zh="积分商城库存"),
}
ACTIVITY_KIND_NAMES = {
    "seckill": Reason("KIND_SECKILL", en="flash sale", zh="秒杀"),
    "groupbuy": Reason("KIND_GROUPBUY", en="group buy", zh="拼团"),
    "bargain": Reason("KIND_BARGAIN", en="bargain", zh="砍价"),
    "points_mall": Reason("KIND_POINTS_MALL", en="points mall", zh="积分商城"),
}
ONE_SKU_PER_ORDER = Reason("ONE_SKU_PER_ORDER",
                           en="a flash-sale, group-buy, bargain or points-mall order has exactly one SKU",
                           zh="秒杀、拼团、砍价或积分商城订单只能购买一个商品规格")
RECORD_OF_ANOTHER_ACTIVITY = Reason("BARGAIN_RECORD_OF_ANOTHER_ACTIVITY",
                                    en="the bargain record belongs to another bargain activity",
                                    zh="该砍价记录不属于此砍价活动")
BARGAIN_RECORD_REQUIRED = Reason("BARGAIN_RECORD_REQUIRED", en="name the bargain record (activity.record_id)",
                                 zh="请指定砍价记录")
BARGAIN_ONE_UNIT = Reason("BARGAIN_ONE_UNIT", en="it buys exactly one unit of one SKU",
                          zh="只能购买一个 SKU 的一件商品")
BARGAIN_SIGN_IN = Reason("BARGAIN_SIGN_IN", en="sign in: a bargain record is priced for its buyer",
                         zh="请先登录：砍价记录只为发起人计价")
POINTS_ONE_LINE = Reason("POINTS_ONE_LINE",
                         en="a points-mall order holds only its own line: check the other goods out in their own order",
                         zh="积分商城订单只能包含兑换的商品，其他商品请另行下单")
NOT_YOUR_COUPON = Reason("NOT_YOUR_COUPON", en="not one of your unused coupons", zh="不是您可用的优惠券")
COUPONS_UNAVAILABLE = Reason("COUPONS_UNAVAILABLE", en="coupons cannot be checked right now",
                             zh="暂时无法查询优惠券")


def owner_name(owner: str) -> Reason | str:
    return OWNER_NAMES.get(owner, owner)


def activity_kind_name(kind: str) -> Reason | str:
    return ACTIVITY_KIND_NAMES.get(kind, kind)


class HoldFailed(Conflict):
    """An owner refused its hold: `reason` is the owner's own message, in the caller's language;
    its code and details are in `owner_code` / `owner_details`."""

    code = "PRICING_HOLD_FAILED"
    messages = {"en": "Could not reserve {owner_name} for the order: {reason}",
                "zh-CN": "{owner_name}预占失败：{reason}"}


class CouponCannotBeUsed(RuleViolation):
    code = "PRICING_COUPON_CANNOT_BE_USED"
    messages = {"en": "This coupon cannot be used: {reason}", "zh-CN": "该优惠券无法使用，原因：{reason}"}


class BargainOrderInvalid(RuleViolation):
    """A bargain order is one unit of one SKU, of the buyer's bargain record: `reason` says which
    part is missing."""

    code = "PRICING_BARGAIN_ORDER_INVALID"
    messages = {"en": "This bargain order cannot be priced: {reason}", "zh-CN": "无法计算该砍价订单的价格：{reason}"}


class PointsOrderInvalid(RuleViolation):
    """A points-mall order is one line: the exchanged SKU, at its points and cash price."""

    code = "PRICING_POINTS_ORDER_INVALID"
    messages = {"en": "This points-mall order cannot be priced: {reason}",
                "zh-CN": "无法计算该积分商城订单的价格：{reason}"}


class ActivityRefused(Conflict):
    """The special activity's service would not price the order (no such activity, not on now,
    SKU not in it, ...): its own code and reason are in the details."""

    code = "PRICING_ACTIVITY_REFUSED"
    messages = {"en": "The {type_name} activity cannot be used: {reason}", "zh-CN": "{type_name}活动不可用：{reason}"}


class CartTooLarge(RuleViolation):
    code = "PRICING_CART_TOO_LARGE"
    messages = {"en": "The order comes to more than ¥{limit}, the most one order may cost",
                "zh-CN": "订单金额超过单笔上限 ¥{limit}"}


class SnapshotNotFound(NotFound):
    code = "PRICING_SNAPSHOT_NOT_FOUND"
    messages = {"en": "No checkout for order {order_id}", "zh-CN": "订单 {order_id} 没有结算记录"}
