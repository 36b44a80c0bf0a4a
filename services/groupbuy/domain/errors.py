"""The group-buy service's refusals, each under a stable code, in zh-CN and en."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, RuleViolation


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


class SpuConflictElsewhere(SpuConflict):
    """The same conflict told to a merchant whose SPU clashes with another owner's activity (the
    platform's or another merchant's): it says so without naming that activity."""

    messages = {"en": "SPU {spu_id} is already in another group-buy activity at an overlapping time",
                "zh-CN": "商品 {spu_id} 已参加其他拼团活动，活动时间冲突"}


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
