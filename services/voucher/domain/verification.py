"""Verification (核销) and what else moves a voucher: the checks a verification passes, each with
its own error, what it takes (value, one use, the merchant's settlement), its reversal (冲正),
refunds and expiry. The caller locks the voucher row, reads it afresh, calls these and writes the
result by one conditional UPDATE.

    ACTIVE --verification takes the last value or use--> USED_UP --reversal--> ACTIVE
    ACTIVE --validity ends (job)--> EXPIRED
    ACTIVE or EXPIRED, untouched --its order is refunded--> REFUNDED (final)
    partly used --its order is refunded--> unchanged, the refund is refused (promo.voucher.refund-refused)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from services.voucher.domain.errors import (
    CodeNotFound,
    CurrencyMismatch,
    NotActive,
    NothingLeft,
    NotReversible,
    OutsideValidity,
    ReversalWindowPassed,
    StoreNotAccepted,
    StoreNotFound,
    StoreUnavailable,
    WrongWay,
)
from services.voucher.domain.model import (
    RecordKind,
    StoreAtCheck,
    Surplus,
    Taking,
    VerifyRequest,
    VoucherKind,
    VoucherState,
    VoucherStatus,
)
from shared.errors import Reason

SHOWN_TIME = "%Y-%m-%d %H:%M"  # how a person reads a time, in the business timezone

STORE_NOT_APPROVED = Reason("STORE_NOT_APPROVED", en="it has not been approved by the platform yet",
                            zh="门店尚未通过平台审核")
STORE_DISABLED = Reason("STORE_DISABLED", en="it is closed (disabled by the merchant)", zh="门店已停用")
EXPIRED = Reason("EXPIRED", en="it has expired", zh="已过期")
REFUNDED = Reason("REFUNDED", en="it was refunded", zh="已退款")
NOT_YET_VALID = Reason("NOT_YET_VALID", en="it cannot be used yet", zh="尚未到使用时间")
VALIDITY_ENDED = Reason("VALIDITY_ENDED", en="its validity has ended", zh="已过有效期")
VALUE_REQUIRED = Reason("VALUE_REQUIRED", en="a stored-value voucher needs minus_value and currency",
                        zh="储值类代金券须填写核销金额和币种")
NO_VALUE_BY_TIMES = Reason("NO_VALUE_BY_TIMES", en="a voucher of uses takes one use per verification, no minus_value",
                           zh="计次类代金券每次核销一次，不能填写核销金额")
NOT_ACTIVE_REASONS = {VoucherStatus.EXPIRED: EXPIRED, VoucherStatus.REFUNDED: REFUNDED}


def shown(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime(SHOWN_TIME)


def check_verification(voucher: VoucherState | None, store_id: int, store: StoreAtCheck | None,
                       request: VerifyRequest, now: datetime, zone: tzinfo) -> Taking:
    """Every check in order, each with its own error; what the verification takes."""
    if voucher is None:
        raise CodeNotFound()
    if store is None:
        raise StoreNotFound(id=store_id)
    if not store.approved:
        raise StoreUnavailable(id=store_id, reason=STORE_NOT_APPROVED)
    if not store.enabled:
        raise StoreUnavailable(id=store_id, reason=STORE_DISABLED)
    if not store.accepts:
        raise StoreNotAccepted(store_id=store_id)
    check_usable(voucher, now, zone)
    return take(voucher, request)


def check_usable(voucher: VoucherState, now: datetime, zone: tzinfo) -> None:
    """Active, inside its validity, something left."""
    if voucher.status in NOT_ACTIVE_REASONS:
        raise NotActive(reason=NOT_ACTIVE_REASONS[voucher.status])
    window = {"valid_start": shown(voucher.valid_start_at, zone), "valid_end": shown(voucher.valid_end_at, zone)}
    if now < voucher.valid_start_at:
        raise OutsideValidity(reason=NOT_YET_VALID, **window)
    if now >= voucher.valid_end_at:
        raise OutsideValidity(reason=VALIDITY_ENDED, **window)
    if voucher.status is VoucherStatus.USED_UP or voucher.surplus.value <= 0 or voucher.surplus.times <= 0:
        raise NothingLeft()


def take(voucher: VoucherState, request: VerifyRequest) -> Taking:
    """By value: min(requested, value left) and one use; by uses: one use and its even share of the
    value left (the last use takes all that is left)."""
    left = voucher.surplus
    if voucher.kind is VoucherKind.BY_VALUE:
        if request.minus_value is None or request.currency is None:
            raise WrongWay(reason=VALUE_REQUIRED)
        value = min(request.minus_value, left.value)
    else:
        if request.minus_value is not None:
            raise WrongWay(reason=NO_VALUE_BY_TIMES)
        value = left.value // left.times
    if request.currency is not None and request.currency != voucher.currency:
        raise CurrencyMismatch(expected=voucher.currency, given=request.currency)
    after = Surplus(left.value - value, left.times - 1)
    status = VoucherStatus.USED_UP if after.value == 0 or after.times == 0 else VoucherStatus.ACTIVE
    cost = settlement(voucher.cost, voucher.value, voucher.value - after.value, voucher.cost_settled)
    return Taking(request.minus_value, value, 1, cost, left, after, status)


def settlement(cost: int, value: int, used_after: int, settled: int) -> int:
    """The merchant's settlement for a verification: the cost in proportion to the value used so far
    (rounded down; the whole cost once the whole value is used), less what was settled before,
    never below 0 (after a reversal more may have been settled than the value used now earns). The
    verifications of a voucher fully used add up to its cost exactly, reversals included."""
    return max(0, cost * used_after // value - settled)


@dataclass(frozen=True)
class RecordState:
    """A verification record as its reversal reads it (locked)."""

    id: int
    kind: RecordKind
    value: int
    times: int
    cost: int
    created_at: datetime


def check_reversal(record: RecordState, voucher: VoucherState, now: datetime, window_minutes: int,
                   zone: tzinfo) -> Taking:
    """A verification reversed within the window gives back exactly what it took (amounts negative
    in the reversal's record); an expired voucher stays expired, any other becomes active."""
    if record.kind is RecordKind.REVERSAL:
        raise NotReversible(id=record.id)
    until = record.created_at + timedelta(minutes=window_minutes)
    if now >= until:
        raise ReversalWindowPassed(minutes=window_minutes, until=shown(until, zone))
    if voucher.status is VoucherStatus.REFUNDED:
        raise NotActive(reason=REFUNDED)
    after = Surplus(voucher.surplus.value + record.value, voucher.surplus.times + record.times)
    status = VoucherStatus.EXPIRED if voucher.status is VoucherStatus.EXPIRED else VoucherStatus.ACTIVE
    return Taking(None, -record.value, -record.times, -record.cost, voucher.surplus, after, status)


class RefundVerdict(StrEnum):
    REFUND = "refund"  # untouched: refunded, can no longer be verified
    REFUSE = "refuse"  # something was used: the refund is refused and reported
    DONE = "done"  # refunded before


def refund_verdict(voucher: VoucherState) -> RefundVerdict:
    """What a refund of the voucher's order does to it. An untouched voucher is refunded even past
    its validity (it was never used); a reversed verification leaves it untouched again."""
    if voucher.status is VoucherStatus.REFUNDED:
        return RefundVerdict.DONE
    return RefundVerdict.REFUND if voucher.untouched else RefundVerdict.REFUSE


def is_expiry_due(status: VoucherStatus, valid_end_at: datetime, now: datetime) -> bool:
    """The job expires an active voucher from its end on (the repository applies it in SQL too)."""
    return status is VoucherStatus.ACTIVE and now >= valid_end_at
