"""Errors of the coupon service (the suite's tree: see shared/errors.py), each with a stable
code and its zh-CN and en messages. The reasons inside them are `Reason`s declared beside the
rules that give them (domain.py)."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, RuleViolation


class InvalidTemplate(RuleViolation):
    code = "COUPON_TEMPLATE_INVALID"
    messages = {"en": "Invalid coupon template: {reason}", "zh-CN": "优惠券模板不合法：{reason}"}


class TotalBelowTaken(Conflict):
    code = "COUPON_TEMPLATE_TOTAL_COUNT_TOO_SMALL"
    messages = {"en": "Total count cannot be below the {take_count} already taken",
                "zh-CN": "发放数量不能小于已领取数量（{take_count}）"}


class TemplateDisabled(Conflict):
    code = "COUPON_TEMPLATE_DISABLED"
    messages = {"en": "This coupon is not available", "zh-CN": "该优惠券已停用"}


class WrongTakeType(Conflict):
    code = "COUPON_TEMPLATE_CANNOT_TAKE"
    messages = {"en": "This coupon cannot be obtained this way", "zh-CN": "领取方式不正确"}


class TemplateExpired(Conflict):
    code = "COUPON_TEMPLATE_EXPIRED"
    messages = {"en": "This coupon has expired", "zh-CN": "优惠券已过期"}


class TakeLimitReached(Conflict):
    code = "COUPON_TAKE_LIMIT_REACHED"
    messages = {"en": "You already have the most of this coupon you can take ({limit})",
                "zh-CN": "每人限领 {limit} 张，您已领完"}


class OutOfStock(Conflict):
    code = "COUPON_TEMPLATE_NOT_ENOUGH"
    messages = {"en": "This coupon is all gone", "zh-CN": "优惠券已被领完"}


class CouponNotUsable(Conflict):
    code = "COUPON_NOT_USABLE"
    messages = {"en": "Coupon {coupon_id} cannot be used now (used, expired, not yet valid or not yours)",
                "zh-CN": "优惠券 {coupon_id} 当前不可用（已使用、已过期、未到使用时间或不属于您）"}


class TemplateNotFound(NotFound):
    code = "COUPON_TEMPLATE_NOT_FOUND"
    messages = {"en": "Coupon template {id} does not exist", "zh-CN": "优惠券模板 {id} 不存在"}


class TemplateInUse(Conflict):
    code = "COUPON_TEMPLATE_HAS_UNUSED_COUPONS"
    messages = {"en": "Coupon template {id} still has unused coupons; disable it instead",
                "zh-CN": "优惠券模板 {id} 还有未使用的优惠券，不能删除，可先停用"}


class CouponNotFound(NotFound):
    code = "COUPON_NOT_FOUND"
    messages = {"en": "Coupon {id} does not exist", "zh-CN": "优惠券 {id} 不存在"}


class CouponInUse(Conflict):
    code = "COUPON_IN_USE"
    messages = {"en": "Coupon {id} was used by the paid order {order_id} and cannot be recalled",
                "zh-CN": "优惠券 {id} 已被订单 {order_id} 使用（已支付），不能回收"}


class CouponHeld(CouponInUse):
    """The same refusal (same code) for a coupon an unpaid order holds: it is not used (yet)."""

    messages = {"en": "Coupon {id} is held by the unpaid order {order_id} and cannot be recalled",
                "zh-CN": "优惠券 {id} 正被未支付的订单 {order_id} 占用，不能回收"}


class OrderCancelled(Conflict):
    code = "COUPON_ORDER_CANCELLED"
    messages = {"en": "Order {order_id} was cancelled: no coupon can be held for it",
                "zh-CN": "订单 {order_id} 已取消，不能再占用优惠券"}


class CouponTakenBack(Conflict):
    code = "COUPON_ALREADY_TAKEN_BACK"
    messages = {"en": "Coupon {id} was already taken back", "zh-CN": "优惠券 {id} 已被收回"}


class CodeNotFound(NotFound):
    code = "COUPON_CODE_NOT_FOUND"
    messages = {"en": "This code is not valid", "zh-CN": "兑换码无效"}


class CodeAlreadyRedeemed(Conflict):
    code = "COUPON_CODE_ALREADY_REDEEMED"
    messages = {"en": "This code has already been used", "zh-CN": "兑换码已被使用"}


class TakeTypePlatformOnly(RuleViolation):
    code = "COUPON_TAKE_TYPE_PLATFORM_ONLY"
    messages = {"en": "Only the platform may issue coupons this way (take_type {take_type}); a shop's coupons are "
                      "taken by buyers (take_type 1) or given by its spend-and-save (take_type 2)",
                "zh-CN": "该领取方式（领取类型 {take_type}）仅限平台使用，店铺优惠券须由买家领取（领取类型 1）"
                         "或由店铺满减送赠送（领取类型 2）"}


class OneCouponPerOwner(RuleViolation):
    code = "COUPON_ONE_PER_OWNER"
    messages = {"en": "An order may use one coupon per shop and one of the platform; coupons {coupon_ids} are of "
                      "the same owner",
                "zh-CN": "每个订单每个店铺限用 1 张优惠券，平台券限用 1 张；优惠券 {coupon_ids} 属于同一发券方"}
