"""The points service's refusals, each under a stable code, in zh-CN and en."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, RuleViolation


class ActivityNotFound(NotFound):
    code = "POINTS_ACTIVITY_NOT_FOUND"
    messages = {"en": "Points mall activity {id} does not exist", "zh-CN": "积分商城活动 {id} 不存在"}


class ActivityInvalid(RuleViolation):
    code = "POINTS_ACTIVITY_INVALID"
    messages = {"en": "Invalid points mall activity: {reason}", "zh-CN": "积分商城活动无效：{reason}"}


class SpuConflict(Conflict):
    code = "POINTS_ACTIVITY_SPU_CONFLICT"
    messages = {"en": "SPU {spu_id} is already in points mall activity {other_name} at an overlapping time",
                "zh-CN": "商品 {spu_id} 已参加积分商城活动 {other_name}，活动时间冲突"}


class SpuConflictElsewhere(SpuConflict):
    """The same conflict told to a merchant whose SPU clashes with another owner's activity: it
    says so without naming that activity."""

    messages = {"en": "SPU {spu_id} is already in another points mall activity at an overlapping time",
                "zh-CN": "商品 {spu_id} 已参加其他积分商城活动，活动时间冲突"}


class ActivityClosed(Conflict):
    code = "POINTS_ACTIVITY_CLOSED"
    messages = {"en": "The points mall activity is closed", "zh-CN": "积分商城活动已关闭"}


class AlreadyClosed(Conflict):
    code = "POINTS_ACTIVITY_ALREADY_CLOSED"
    messages = {"en": "The points mall activity is already closed", "zh-CN": "积分商城活动已关闭，不能重复关闭"}


class DeleteRefused(Conflict):
    code = "POINTS_ACTIVITY_DELETE_REFUSED"
    messages = {"en": "Only a closed or ended points mall activity can be deleted",
                "zh-CN": "积分商城活动未关闭或未结束，不能删除"}


class NotStarted(Conflict):
    code = "POINTS_NOT_STARTED"
    messages = {"en": "The points mall activity has not started", "zh-CN": "积分商城活动未开始"}


class Ended(Conflict):
    code = "POINTS_ENDED"
    messages = {"en": "The points mall activity has ended", "zh-CN": "积分商城活动已经结束"}


class SkuNotInActivity(RuleViolation):
    code = "POINTS_SKU_NOT_IN_ACTIVITY"
    messages = {"en": "SKU {sku_id} is not in this points mall activity", "zh-CN": "商品 {sku_id} 不在该积分商城活动中"}


class SoldOut(Conflict):
    code = "POINTS_SOLD_OUT"
    messages = {"en": "SKU {sku_id} has not enough stock left", "zh-CN": "商品 {sku_id} 库存不足"}


class LimitExceeded(Conflict):
    code = "POINTS_LIMIT_EXCEEDED"
    messages = {"en": "Each buyer may exchange at most {limit} of SKU {sku_id} ({remaining} left for you)",
                "zh-CN": "商品 {sku_id} 每人最多兑换 {limit} 件（您还可兑换 {remaining} 件）"}


class OrderHoldsAnother(Conflict):
    code = "POINTS_ORDER_HOLDS_ANOTHER"
    messages = {"en": "Order {order_id} already holds another points mall exchange",
                "zh-CN": "订单 {order_id} 已占用其它积分商城兑换"}


class OrderHoldEnded(Conflict):
    code = "POINTS_ORDER_HOLD_ENDED"
    messages = {"en": "Order {order_id} held a points mall exchange that has ended (cancelled, failed or not paid "
                      "in time): it cannot be held again",
                "zh-CN": "订单 {order_id} 的积分商城兑换已结束（已取消、失败或超时未支付），不能再次占用"}


class OrderCancelled(Conflict):
    code = "POINTS_ORDER_CANCELLED"
    messages = {"en": "Order {order_id} was cancelled: no points mall exchange can be held for it",
                "zh-CN": "订单 {order_id} 已取消，不能再占用积分商城兑换"}
