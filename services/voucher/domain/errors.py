"""The voucher service's refusals, each under a stable code, in zh-CN and en. The reasons inside
them are `Reason`s declared beside the rules that give them."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, RuleViolation


class StoreNotFound(NotFound):
    """Also another merchant's store: it is never visible."""

    code = "VOUCHER_STORE_NOT_FOUND"
    messages = {"en": "Store {id} does not exist", "zh-CN": "门店 {id} 不存在"}


class ProductNotFound(NotFound):
    code = "VOUCHER_PRODUCT_NOT_FOUND"
    messages = {"en": "Voucher product {id} does not exist", "zh-CN": "代金券商品 {id} 不存在"}


class ReviewNotFound(NotFound):
    code = "VOUCHER_REVIEW_NOT_FOUND"
    messages = {"en": "Review {id} does not exist", "zh-CN": "审核记录 {id} 不存在"}


class VoucherNotFound(NotFound):
    code = "VOUCHER_NOT_FOUND"
    messages = {"en": "Voucher {id} does not exist", "zh-CN": "代金券 {id} 不存在"}


class CodeNotFound(NotFound):
    """Also a code of another merchant's voucher."""

    code = "VOUCHER_CODE_NOT_FOUND"
    messages = {"en": "No voucher has this code", "zh-CN": "券码无效，未找到对应的代金券"}


class RecordNotFound(NotFound):
    code = "VOUCHER_VERIFICATION_NOT_FOUND"
    messages = {"en": "Verification {id} does not exist", "zh-CN": "核销记录 {id} 不存在"}


class ProductInvalid(RuleViolation):
    code = "VOUCHER_PRODUCT_INVALID"
    messages = {"en": "Invalid voucher product: {reason}", "zh-CN": "代金券商品不合法：{reason}"}


class SkuTaken(Conflict):
    code = "VOUCHER_SKU_TAKEN"
    messages = {"en": "SKU {sku_id} is already a voucher product", "zh-CN": "SKU {sku_id} 已是代金券商品"}


class ReviewDecided(Conflict):
    code = "VOUCHER_REVIEW_ALREADY_DECIDED"
    messages = {"en": "Review {id} was already decided ({outcome})", "zh-CN": "审核记录 {id} 已处理（{outcome}）"}


class StoreUnavailable(Conflict):
    code = "VOUCHER_STORE_UNAVAILABLE"
    messages = {"en": "Store {id} cannot verify vouchers: {reason}", "zh-CN": "门店 {id} 不能核销：{reason}"}


class StoreNotAccepted(RuleViolation):
    code = "VOUCHER_STORE_NOT_ACCEPTED"
    messages = {"en": "This voucher cannot be used at store {store_id}", "zh-CN": "该代金券不能在门店 {store_id} 使用"}


class NotActive(Conflict):
    code = "VOUCHER_NOT_ACTIVE"
    messages = {"en": "This voucher cannot be used: {reason}", "zh-CN": "该代金券不可使用：{reason}"}


class OutsideValidity(Conflict):
    code = "VOUCHER_OUTSIDE_VALIDITY"
    messages = {"en": "This voucher is valid from {valid_start} to {valid_end}: {reason}",
                "zh-CN": "该代金券有效期为 {valid_start} 至 {valid_end}：{reason}"}


class NothingLeft(Conflict):
    code = "VOUCHER_NOTHING_LEFT"
    messages = {"en": "Nothing is left on this voucher", "zh-CN": "该代金券已用完"}


class CurrencyMismatch(RuleViolation):
    code = "VOUCHER_CURRENCY_MISMATCH"
    messages = {"en": "This voucher is in {expected}, not {given}", "zh-CN": "该代金券币种为 {expected}，不是 {given}"}


class WrongWay(RuleViolation):
    code = "VOUCHER_VERIFY_MODE_MISMATCH"
    messages = {"en": "Wrong way to verify this voucher: {reason}", "zh-CN": "核销方式不正确：{reason}"}


class KeyReused(Conflict):
    code = "VOUCHER_IDEMPOTENCY_KEY_REUSED"
    messages = {"en": "This Idempotency-Key was used for another verification ({id})",
                "zh-CN": "该 Idempotency-Key 已用于另一笔核销（{id}）"}


class NotReversible(Conflict):
    code = "VOUCHER_NOT_REVERSIBLE"
    messages = {"en": "Record {id} is a reversal itself and cannot be reversed",
                "zh-CN": "记录 {id} 本身是冲正记录，不能冲正"}


class ReversalWindowPassed(Conflict):
    code = "VOUCHER_REVERSAL_WINDOW_PASSED"
    messages = {"en": "A verification can be reversed within {minutes} minutes only (until {until})",
                "zh-CN": "核销后 {minutes} 分钟内才可冲正（截至 {until}）"}


class LocationIncomplete(RuleViolation):
    code = "VOUCHER_LOCATION_INCOMPLETE"
    messages = {"en": "Send both lat and lon, or neither", "zh-CN": "经度和纬度须同时提供或都不提供"}


class ReportRangeInvalid(RuleViolation):
    code = "VOUCHER_REPORT_RANGE_INVALID"
    messages = {"en": "Invalid report dates: {reason}", "zh-CN": "报表日期不正确：{reason}"}


class VoucherBusy(Conflict):
    """The voucher changed between the decision and its write: only possible if its row lock were
    missing (the conditional UPDATE is the last guard). Nothing was taken; try again."""

    code = "VOUCHER_BUSY"
    messages = {"en": "The voucher changed meanwhile; nothing was taken, try again",
                "zh-CN": "代金券状态刚刚发生变化，本次未扣减，请重试"}
