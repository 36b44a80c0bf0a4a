"""The bargain service's refusals, each under a stable code, in zh-CN and en."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, RuleViolation


class ActivityNotFound(NotFound):
    code = "BARGAIN_ACTIVITY_NOT_FOUND"
    messages = {"en": "Bargain activity {id} does not exist", "zh-CN": "砍价活动 {id} 不存在"}


class ActivityInvalid(RuleViolation):
    code = "BARGAIN_ACTIVITY_INVALID"
    messages = {"en": "Invalid bargain activity: {reason}", "zh-CN": "砍价活动无效：{reason}"}


class SpuConflict(Conflict):
    code = "BARGAIN_ACTIVITY_SPU_CONFLICT"
    messages = {"en": "SPU {spu_id} is already in bargain activity {other_name} at an overlapping time",
                "zh-CN": "商品 {spu_id} 已参加砍价活动 {other_name}，活动时间冲突"}


class SpuConflictElsewhere(SpuConflict):
    """The same conflict told to a merchant whose SPU clashes with another owner's activity: it
    says so without naming that activity."""

    messages = {"en": "SPU {spu_id} is already in another bargain activity at an overlapping time",
                "zh-CN": "商品 {spu_id} 已参加其他砍价活动，活动时间冲突"}


class ActivityClosed(Conflict):
    code = "BARGAIN_ACTIVITY_CLOSED"
    messages = {"en": "The bargain activity is closed", "zh-CN": "砍价活动已关闭"}


class AlreadyClosed(Conflict):
    code = "BARGAIN_ACTIVITY_ALREADY_CLOSED"
    messages = {"en": "The bargain activity is already closed", "zh-CN": "砍价活动已关闭，不能重复关闭"}


class DeleteRefused(Conflict):
    code = "BARGAIN_ACTIVITY_DELETE_REFUSED"
    messages = {"en": "Only a closed or ended bargain activity can be deleted",
                "zh-CN": "砍价活动未关闭或未结束，不能删除"}


class NotStarted(Conflict):
    code = "BARGAIN_NOT_STARTED"
    messages = {"en": "The bargain activity has not started", "zh-CN": "砍价活动未开始"}


class Ended(Conflict):
    code = "BARGAIN_ENDED"
    messages = {"en": "The bargain activity has ended", "zh-CN": "砍价活动已经结束"}


class SoldOut(Conflict):
    code = "BARGAIN_STOCK_NOT_ENOUGH"
    messages = {"en": "The bargain activity is sold out", "zh-CN": "砍价活动库存不足"}


class RecordInProgress(Conflict):
    code = "BARGAIN_RECORD_IN_PROGRESS"
    messages = {"en": "You already have a bargain in progress in this activity",
                "zh-CN": "您在该活动已有进行中的砍价"}


class SuccessLimitReached(Conflict):
    code = "BARGAIN_RECORD_LIMIT_REACHED"
    messages = {"en": "You can succeed at most {limit} times in this activity",
                "zh-CN": "该活动每人最多砍价成功 {limit} 次"}


class RecordNotFound(NotFound):
    code = "BARGAIN_RECORD_NOT_FOUND"
    messages = {"en": "Bargain record {id} does not exist", "zh-CN": "砍价记录 {id} 不存在"}


class RecordNotInProgress(Conflict):
    code = "BARGAIN_RECORD_NOT_IN_PROGRESS"
    messages = {"en": "This bargain is no longer in progress", "zh-CN": "该砍价已结束，不能再帮砍"}


class OwnRecord(Conflict):
    code = "BARGAIN_HELP_OWN_RECORD"
    messages = {"en": "You cannot help your own bargain", "zh-CN": "不能帮自己砍价"}


class AlreadyHelped(Conflict):
    code = "BARGAIN_HELP_ALREADY_HELPED"
    messages = {"en": "You have already helped this bargain", "zh-CN": "您已经帮砍过了"}


class HelpLimitReached(Conflict):
    code = "BARGAIN_HELP_LIMIT_REACHED"
    messages = {"en": "You can help at most {limit} times in this activity",
                "zh-CN": "该活动每人最多帮砍 {limit} 次"}


class RecordNotSucceeded(Conflict):
    code = "BARGAIN_RECORD_NOT_SUCCEEDED"
    messages = {"en": "Only a successful bargain can be ordered", "zh-CN": "砍价未成功，不能下单"}


class RecordOrdered(Conflict):
    code = "BARGAIN_RECORD_ALREADY_ORDERED"
    messages = {"en": "This bargain is already ordered", "zh-CN": "该砍价已下单"}


class RecordOfAnotherUser(RuleViolation):
    code = "BARGAIN_RECORD_OF_ANOTHER_USER"
    messages = {"en": "Bargain record {id} is not this buyer's", "zh-CN": "砍价记录 {id} 不属于该用户"}


class SkuNotInActivity(RuleViolation):
    code = "BARGAIN_SKU_NOT_IN_ACTIVITY"
    messages = {"en": "SKU {sku_id} is not this bargain's", "zh-CN": "商品 {sku_id} 不是该砍价的商品"}


class OrderHoldsAnotherRecord(Conflict):
    code = "BARGAIN_ORDER_HOLDS_ANOTHER_RECORD"
    messages = {"en": "Order {order_id} already holds another bargain", "zh-CN": "订单 {order_id} 已占用其它砍价"}


class OrderHoldEnded(Conflict):
    code = "BARGAIN_ORDER_HOLD_ENDED"
    messages = {"en": "Order {order_id} held a bargain that has ended (cancelled, failed or not paid in time): "
                      "it cannot be held again",
                "zh-CN": "订单 {order_id} 的砍价占用已结束（已取消、失败或超时未支付），不能再次占用"}


class OrderCancelled(Conflict):
    code = "BARGAIN_ORDER_CANCELLED"
    messages = {"en": "Order {order_id} was cancelled: no bargain can be held for it",
                "zh-CN": "订单 {order_id} 已取消，不能再占用砍价"}
