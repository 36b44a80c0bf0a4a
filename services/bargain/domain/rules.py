"""The bargain rules: an activity's own rules, starting a record, helping one (砍一刀) and the
cut planning. Pure: plain values and the time in, a value or a domain error out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from services.bargain.domain.errors import (
    ActivityClosed,
    ActivityInvalid,
    AlreadyClosed,
    AlreadyHelped,
    DeleteRefused,
    Ended,
    HelpLimitReached,
    NotStarted,
    OwnRecord,
    RecordInProgress,
    RecordNotInProgress,
    SoldOut,
    SuccessLimitReached,
)
from services.bargain.domain.model import Plan, RecordStatus, Terms
from shared.errors import Reason
from shared.lifecycle import Lifecycle

START_NOT_BEFORE_END = Reason("START_NOT_BEFORE_END", en="start_at must be before end_at",
                              zh="开始时间必须早于结束时间")
FLOOR_NOT_BELOW_START = Reason(
    "FLOOR_NOT_BELOW_START", en="floor_price {floor_price} must be below first_price {first_price}",
    zh="砍价底价 {floor_price} 必须低于起始价 {first_price}")
RANDOM_MIN_NOT_POSITIVE = Reason("RANDOM_MIN_NOT_POSITIVE", en="random_min_price must be above 0",
                                 zh="每次砍价的最小金额必须大于 0")
RANDOM_MIN_ABOVE_MAX = Reason(
    "RANDOM_MIN_ABOVE_MAX", en="random_min_price {min} is above random_max_price {max}",
    zh="每次砍价的最小金额 {min} 大于最大金额 {max}")
HELPERS_CANNOT_REACH_FLOOR = Reason(
    "HELPERS_CANNOT_REACH_FLOOR",
    en="{helpers} helpers cutting at most {max} each cannot bring {first_price} down to {floor_price}",
    zh="{helpers} 位好友每人最多砍 {max}，无法从 {first_price} 砍到底价 {floor_price}")
HELPERS_OVERSHOOT_FLOOR = Reason(
    "HELPERS_OVERSHOOT_FLOOR",
    en="{helpers} helpers cutting at least {min} each would go below the floor price {floor_price} "
       "(start {first_price})",
    zh="{helpers} 位好友每人至少砍 {min}，会低于底价 {floor_price}（起始价 {first_price}）")
STOCK_ABOVE_TOTAL = Reason("STOCK_ABOVE_TOTAL", en="stock cannot exceed total_stock",
                           zh="剩余库存不能超过总库存")


def check_activity(terms: Terms, total_stock: int) -> None:
    """The activity's own rules; each refusal names the field at fault (`field`). The helpers
    needed must be able to reach exactly the floor with cuts within the random range, else the
    activity could never succeed (or would go below the floor)."""
    if terms.start_at >= terms.end_at:
        raise ActivityInvalid(reason=START_NOT_BEFORE_END, field="end_at")
    if terms.floor_price >= terms.first_price:
        raise ActivityInvalid(reason=FLOOR_NOT_BELOW_START.with_(
            floor_price=terms.floor_price, first_price=terms.first_price), field="floor_price")
    if terms.random_min_price <= 0:
        raise ActivityInvalid(reason=RANDOM_MIN_NOT_POSITIVE, field="random_min_price")
    if terms.random_min_price > terms.random_max_price:
        raise ActivityInvalid(reason=RANDOM_MIN_ABOVE_MAX.with_(
            min=terms.random_min_price, max=terms.random_max_price), field="random_max_price")
    to_cut, helpers = terms.first_price - terms.floor_price, terms.help_max_count
    prices = {"helpers": helpers, "first_price": terms.first_price, "floor_price": terms.floor_price}
    if helpers * terms.random_max_price < to_cut:
        raise ActivityInvalid(reason=HELPERS_CANNOT_REACH_FLOOR.with_(max=terms.random_max_price, **prices),
                              field="help_max_count")
    if helpers * terms.random_min_price > to_cut:
        raise ActivityInvalid(reason=HELPERS_OVERSHOOT_FLOOR.with_(min=terms.random_min_price, **prices),
                              field="help_max_count")
    if terms.stock > total_stock:
        raise ActivityInvalid(reason=STOCK_ABOVE_TOTAL, field="stock")


LIFECYCLE = Lifecycle(closed=ActivityClosed, already_closed=AlreadyClosed, delete_refused=DeleteRefused,
                      not_started=NotStarted, ended=Ended)
check_can_update, check_can_close = LIFECYCLE.check_can_update, LIFECYCLE.check_can_close
check_can_delete = LIFECYCLE.check_can_delete


def check_running(terms: Terms, now: datetime) -> None:
    LIFECYCLE.check_running(terms.status, terms.start_at, terms.end_at, now)


def check_can_start(terms: Terms, now: datetime, *, in_progress: bool, succeeded: int) -> None:
    """A buyer starts a record: a running activity with stock, no record of theirs in progress,
    and fewer than total_limit_count successful ones."""
    check_running(terms, now)
    if terms.stock <= 0:
        raise SoldOut()
    if in_progress:
        raise RecordInProgress()
    if succeeded >= terms.total_limit_count:
        raise SuccessLimitReached(limit=terms.total_limit_count)


def record_expires_at(started_at: datetime, activity_end_at: datetime, lifetime_seconds: int) -> datetime:
    """A record fails when its lifetime or the activity's window ends, whichever comes first."""
    return min(started_at + timedelta(seconds=lifetime_seconds), activity_end_at)


def check_can_help(*, status: RecordStatus, owner_id: int, helper_id: int, helped: bool, helps_given: int,
                   bargain_count: int, expires_at: datetime, now: datetime, activity_open: bool) -> None:
    """A friend helps: not one's own record, once per record, at most bargain_count helps per
    activity, while the record is in progress and not past its time, and while its activity is
    neither closed nor deleted (`activity_open`): a record that could never be ordered must not
    succeed."""
    if status != RecordStatus.IN_PROGRESS or now >= expires_at:
        raise RecordNotInProgress()
    if not activity_open:
        raise ActivityClosed()
    if owner_id == helper_id:
        raise OwnRecord()
    if helped:
        raise AlreadyHelped()
    if helps_given >= bargain_count:
        raise HelpLimitReached(limit=bargain_count)


def cut_bounds(plan: Plan, price: int, helps: int) -> tuple[int, int]:
    """The cuts the next helper may take on a record at `price` after `helps` helps, so that the
    helpers left can still reach exactly the floor within the range: the last one takes what is
    left. Never 0, never below the floor."""
    left = price - plan.floor_price
    helpers_left = plan.helps_needed - helps
    if helpers_left <= 1 or left <= plan.random_min:
        return left, left
    low = max(plan.random_min, left - (helpers_left - 1) * plan.random_max)
    high = min(plan.random_max, left - (helpers_left - 1) * plan.random_min)
    if high < low:  # not reachable from a valid plan; still never 0 and never below the floor
        low = high = min(max(low, 1), left)
    return max(low, 1), min(max(high, 1), left)


def plan_cut(plan: Plan, price: int, helps: int, pick: Callable[[int, int], int]) -> int:
    """The next helper's cut: `pick(low, high)` (random.randint in the service) within `cut_bounds`."""
    low, high = cut_bounds(plan, price, helps)
    return low if low == high else min(max(pick(low, high), low), high)


def succeeds(plan: Plan, price: int, helps: int) -> bool:
    """Reached the floor, or its required helpers."""
    return price <= plan.floor_price or helps >= plan.helps_needed
