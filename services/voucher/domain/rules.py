"""What a voucher product may say, how a store's or a product's review status moves, the report's
dates, and how an order's paid lines become vouchers (one per unit, numbered, with the window
each voucher gets and its redemption code)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from services.voucher.domain.errors import ProductInvalid, ReportRangeInvalid, ReviewDecided
from services.voucher.domain.model import ProductTerms, ReviewOutcome, ReviewStatus, ValidityType, VoucherKind
from shared.errors import Reason
from shared.money import apportion

# --- a product's terms ----------------------------------------------------------------------------

WINDOW_REQUIRED = Reason("WINDOW_REQUIRED", en="a fixed window needs valid_start_at and valid_end_at",
                         zh="固定有效期须填写开始时间和结束时间")
WINDOW_END_NOT_AFTER_START = Reason("WINDOW_END_NOT_AFTER_START", en="valid_end_at must be after valid_start_at",
                                    zh="结束时间须晚于开始时间")
WINDOW_END_PAST = Reason("WINDOW_END_PAST", en="valid_end_at is already past", zh="结束时间已过")
DAYS_REQUIRED = Reason("DAYS_REQUIRED", en="a validity in days needs valid_days", zh="按天计算的有效期须填写有效天数")
MIXED_VALIDITY = Reason("MIXED_VALIDITY", en="give either a window (valid_start_at, valid_end_at) or valid_days, "
                        "as validity_type says", zh="有效期须按类型填写：固定时间段或有效天数，不能同时填写")
COST_ABOVE_VALUE = Reason("COST_ABOVE_VALUE", en="the settlement cost exceeds the face value",
                          zh="结算成本不能高于面值")
USES_ABOVE_VALUE = Reason("USES_ABOVE_VALUE", en="each use must be worth at least one unit of money: "
                          "max_using_times exceeds the value", zh="每次使用至少价值 1 分：使用次数不能大于面值")
SELLING_STORE_NOT_LISTED = Reason("SELLING_STORE_NOT_LISTED", en="the selling store must be one of store_ids",
                                  zh="发售门店须在适用门店之中")
STORES_TWICE = Reason("STORES_TWICE", en="store_ids lists a store twice", zh="适用门店有重复")


def product_problems(terms: ProductTerms, now: datetime) -> list[tuple[str, Reason]]:
    """What is wrong with a product's terms (field bounds are the schema's job), each with its field."""
    return [*_validity_problems(terms, now), *_value_problems(terms), *_store_problems(terms)]


def check_product(terms: ProductTerms, now: datetime) -> None:
    """The first problem, naming its field."""
    problems = product_problems(terms, now)
    if problems:
        field, reason = problems[0]
        raise ProductInvalid(reason=reason, field=field)


def _validity_problems(terms: ProductTerms, now: datetime) -> list[tuple[str, Reason]]:
    window = (terms.valid_start_at, terms.valid_end_at)
    if terms.validity_type is ValidityType.DAYS:
        if window != (None, None):
            return [("validity_type", MIXED_VALIDITY)]
        return [("valid_days", DAYS_REQUIRED)] if terms.valid_days is None else []
    if terms.valid_days is not None:
        return [("validity_type", MIXED_VALIDITY)]
    if terms.valid_start_at is None or terms.valid_end_at is None:
        return [("valid_start_at" if terms.valid_start_at is None else "valid_end_at", WINDOW_REQUIRED)]
    if terms.valid_end_at <= terms.valid_start_at:
        return [("valid_end_at", WINDOW_END_NOT_AFTER_START)]
    return [("valid_end_at", WINDOW_END_PAST)] if terms.valid_end_at <= now else []


def _value_problems(terms: ProductTerms) -> list[tuple[str, Reason]]:
    problems = []
    if terms.cost > terms.value:
        problems.append(("cost", COST_ABOVE_VALUE))
    if terms.kind is VoucherKind.BY_TIMES and terms.max_using_times > terms.value:
        problems.append(("max_using_times", USES_ABOVE_VALUE))
    return problems


def _store_problems(terms: ProductTerms) -> list[tuple[str, Reason]]:
    problems = []
    if len(set(terms.store_ids)) != len(terms.store_ids):
        problems.append(("store_ids", STORES_TWICE))
    if terms.selling_store_id not in terms.store_ids:
        problems.append(("selling_store_id", SELLING_STORE_NOT_LISTED))
    return problems


# --- reviews --------------------------------------------------------------------------------------

OUTCOME_TEXTS = {
    ReviewOutcome.APPROVED: Reason("APPROVED", en="approved", zh="已通过"),
    ReviewOutcome.REJECTED: Reason("REJECTED", en="rejected", zh="已驳回"),
    ReviewOutcome.SUPERSEDED: Reason("SUPERSEDED", en="replaced by a later change", zh="已被之后提交的修改取代"),
}


def status_after_submission(status: ReviewStatus) -> ReviewStatus:
    """A store or product changed by its merchant: an approved one stays approved (its approved
    terms stay live while the change waits); one never approved waits again."""
    return ReviewStatus.APPROVED if status is ReviewStatus.APPROVED else ReviewStatus.PENDING


def status_after_decision(status: ReviewStatus, approved: bool) -> ReviewStatus:
    """Approving makes the change's terms live; rejecting leaves approved terms live, and marks one
    never approved as rejected."""
    if approved or status is ReviewStatus.APPROVED:
        return ReviewStatus.APPROVED
    return ReviewStatus.REJECTED


def check_undecided(review_id: int, outcome: ReviewOutcome) -> None:
    if outcome is not ReviewOutcome.PENDING:
        raise ReviewDecided(id=review_id, outcome=OUTCOME_TEXTS[outcome])


# --- report dates -------------------------------------------------------------------------------

MAX_REPORT_DAYS = 366
TO_BEFORE_FROM = Reason("TO_BEFORE_FROM", en="date_to is before date_from", zh="结束日期早于开始日期")
RANGE_TOO_LONG = Reason("RANGE_TOO_LONG", en="at most {days} days at once", zh="一次最多 {days} 天")
DEFAULT_REPORT_DAYS = 31


def report_range(date_from: date | None, date_to: date | None, today: date) -> tuple[date, date]:
    """The business dates a report covers: by default the 31 days up to today."""
    end = date_to or today
    start = date_from or date.fromordinal(max(1, end.toordinal() - (DEFAULT_REPORT_DAYS - 1)))
    if end < start:
        raise ReportRangeInvalid(reason=TO_BEFORE_FROM)
    if (end - start).days + 1 > MAX_REPORT_DAYS:
        raise ReportRangeInvalid(reason=RANGE_TOO_LONG.with_(days=MAX_REPORT_DAYS))
    return start, end


# --- issuing ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaidLine:
    sku_id: int
    spu_id: int
    count: int
    pay_price: int


@dataclass(frozen=True)
class Unit:
    """One unit bought: one voucher. `unit_no` counts the order's units of the SKU from 1, across its
    lines in the event's order, so the same event always numbers them alike."""

    sku_id: int
    spu_id: int
    unit_no: int
    pay_price: int


def units(lines: Sequence[PaidLine]) -> list[Unit]:
    numbered: dict[int, int] = {}
    out = []
    for line in lines:
        for price in apportion(line.pay_price, [1] * line.count):
            numbered[line.sku_id] = numbered.get(line.sku_id, 0) + 1
            out.append(Unit(line.sku_id, line.spu_id, numbered[line.sku_id], price))
    return out


def validity_window(terms: ProductTerms, paid_at: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The voucher's own window, fixed when it is issued (UTC); the terms passed `check_product`."""
    if terms.validity_type is ValidityType.WINDOW:
        return terms.valid_start_at.astimezone(UTC), terms.valid_end_at.astimezone(UTC)  # type: ignore[union-attr]
    last_day = paid_at.astimezone(zone).date() + timedelta(days=terms.valid_days)  # type: ignore[arg-type]
    return paid_at.astimezone(UTC), datetime.combine(last_day, time(0), tzinfo=zone).astimezone(UTC)


# Letters and digits nobody confuses reading a code aloud or off a screen (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 31^12: about 59 bits


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """What staff type or a scanner reads: any case, spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")
