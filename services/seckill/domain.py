"""Seckill rules. Pure: plain values and the business-local time in, a decision or a domain error out.

A time slot is a daily window of wall-clock time in the business timezone, half-open
[start, end): "10:00:00"-"12:00:00" is on at 10:00:00 and over at 12:00:00, so back-to-back
slots never both claim the same second. An end of "00:00:00" means midnight, the end of the day.
An activity runs on the business dates [start_date, end_date] (both included), in its slots.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from shared.enums import CommonStatus, DescribedIntEnum
from shared.errors import Conflict, NotFound, Reason, RuleViolation

DAY_SECONDS = 24 * 3600


class SlotState(StrEnum):
    ENDED = "ended"
    ON = "on"
    UPCOMING = "upcoming"


class ReservationStatus(DescribedIntEnum):
    """State of a flash reservation (the stock held for a buyer)."""

    HELD = 10, "held: the stock is taken, waiting for the order to be paid"
    COMMITTED = 20, "committed: the order was paid, the units are sold"
    RELEASED = 30, "released: the order was cancelled or its checkout failed, the stock went back"
    EXPIRED = 40, "expired: not paid in time, the stock went back"


LATE_PAYABLE = (ReservationStatus.RELEASED, ReservationStatus.EXPIRED)  # gave their stock back

# the promotion's name on an order line when its activity's own name is gone (deleted, and the
# reservation predates the name kept on it)
FLASH_SALE = Reason("FLASH_SALE", en="flash sale", zh="秒杀活动")


# --- errors ---------------------------------------------------------------------------------------

class SlotNotFound(NotFound):
    code = "SECKILL_SLOT_NOT_FOUND"
    messages = {"en": "Time slot {id} does not exist", "zh-CN": "秒杀时段 {id} 不存在"}


class SlotInvalid(RuleViolation):
    code = "SECKILL_SLOT_INVALID"
    messages = {"en": "A slot must start before it ends (an end of 00:00:00 is midnight)",
                "zh-CN": "秒杀时段的开始时间必须早于结束时间（结束时间 00:00:00 表示午夜）"}


class SlotOverlaps(Conflict):
    code = "SECKILL_SLOT_OVERLAPS"
    messages = {"en": "The slot overlaps slot {other_name} ({other_start}-{other_end})",
                "zh-CN": "与秒杀时段 {other_name}（{other_start}-{other_end}）冲突"}


class SlotDisabled(RuleViolation):
    code = "SECKILL_SLOT_DISABLED"
    messages = {"en": "Time slot {id} is disabled", "zh-CN": "秒杀时段 {id} 已关闭"}


class SlotInUse(Conflict):
    code = "SECKILL_SLOT_IN_USE"
    messages = {"en": "Time slot {id} is used by activity {activity_name}",
                "zh-CN": "秒杀时段 {id} 正被活动 {activity_name} 使用"}


class ActivityNotFound(NotFound):
    code = "SECKILL_ACTIVITY_NOT_FOUND"
    messages = {"en": "Seckill activity {id} does not exist", "zh-CN": "秒杀活动 {id} 不存在"}


class ActivityInvalid(RuleViolation):
    code = "SECKILL_ACTIVITY_INVALID"
    messages = {"en": "Invalid seckill activity: {reason}", "zh-CN": "秒杀活动无效：{reason}"}


class SpuConflict(Conflict):
    """Names the other activity (`other_id`, `other_name`) to the admin, and to a merchant its own."""

    code = "SECKILL_ACTIVITY_SPU_CONFLICT"
    messages = {"en": "SPU {spu_id} is already in seckill activity {other_name} in a shared slot on overlapping dates",
                "zh-CN": "商品 {spu_id} 已参加秒杀活动 {other_name}，秒杀时段与日期冲突"}


class SpuTaken(SpuConflict):
    """The same conflict, for a merchant whose SPU is in another owner's activity (another
    merchant's or the platform's): not named, so another owner's ids do not leak."""

    messages = {"en": "SPU {spu_id} is already in another seckill activity in a shared slot on overlapping dates",
                "zh-CN": "商品 {spu_id} 已参加其他秒杀活动，秒杀时段与日期冲突"}


class ActivityClosed(Conflict):
    code = "SECKILL_ACTIVITY_CLOSED"
    messages = {"en": "The seckill activity is closed", "zh-CN": "秒杀活动已关闭"}


class AlreadyClosed(Conflict):
    code = "SECKILL_ACTIVITY_ALREADY_CLOSED"
    messages = {"en": "The seckill activity is already closed", "zh-CN": "秒杀活动已关闭，不能重复关闭"}


class DeleteRefused(Conflict):
    code = "SECKILL_ACTIVITY_DELETE_REFUSED"
    messages = {"en": "Only a closed or ended seckill activity can be deleted",
                "zh-CN": "秒杀活动未关闭或未结束，不能删除"}


class NotOnNow(Conflict):
    code = "SECKILL_NOT_ON_NOW"
    messages = {"en": "The seckill is not on now", "zh-CN": "秒杀失败，原因：不在活动时间范围内"}


class SkuNotInActivity(RuleViolation):
    code = "SECKILL_SKU_NOT_IN_ACTIVITY"
    messages = {"en": "SKU {sku_id} is not part of this seckill", "zh-CN": "秒杀失败，原因：商品 {sku_id} 不在活动中"}


class OrderLimitExceeded(RuleViolation):
    code = "SECKILL_ORDER_LIMIT_EXCEEDED"
    messages = {"en": "At most {limit} per order", "zh-CN": "秒杀失败，原因：单次限购 {limit} 件"}


class UserLimitReached(Conflict):
    code = "SECKILL_USER_LIMIT_REACHED"
    messages = {"en": "You can buy at most {limit} in this seckill", "zh-CN": "秒杀失败，原因：每人限购 {limit} 件"}


class SoldOut(Conflict):
    """Nothing left of the SKU (the only refusal that marks it sold out in-process)."""

    code = "SECKILL_SOLD_OUT"
    messages = {"en": "Sold out", "zh-CN": "秒杀失败，原因：已售罄"}


class StockNotEnough(Conflict):
    """Some stock is left, fewer than asked for: a smaller count may still be reserved."""

    code = "SECKILL_STOCK_NOT_ENOUGH"
    messages = {"en": "Not enough stock: only {left} left", "zh-CN": "秒杀失败，原因：库存不足，仅剩 {left} 件"}


class ReservationInProgress(Conflict):
    code = "SECKILL_RESERVATION_IN_PROGRESS"
    messages = {"en": "The same request is still being processed, retry shortly",
                "zh-CN": "相同的请求正在处理中，请稍后重试"}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class ReservationNotUsable(Conflict):
    code = "SECKILL_RESERVATION_NOT_USABLE"
    messages = {"en": "Reservation {id} cannot be used for this order: {reason}",
                "zh-CN": "秒杀资格 {id} 不能用于该订单：{reason}"}


NOT_YOUR_RESERVATION = Reason("NOT_YOUR_RESERVATION", en="it is not your reservation", zh="不是您的秒杀资格")
OTHER_SKU_OR_COUNT = Reason("OTHER_SKU_OR_COUNT", en="it is for another activity, SKU or count",
                            zh="它属于其他活动、商品或数量")
USED_OR_ENDED = Reason("USED_OR_ENDED", en="it is used by another order, released or expired",
                       zh="它已被其他订单使用、已释放或已过期")
ORDER_HOLDS_ANOTHER = Reason("ORDER_HOLDS_ANOTHER", en="the order holds another reservation",
                             zh="该订单已占用另一个秒杀资格")
RELEASED_OR_EXPIRED = Reason("RELEASED_OR_EXPIRED", en="it was released or expired", zh="它已释放或已过期")


class Unavailable(Conflict):
    code = "SECKILL_BUSY"
    messages = {"en": "The seckill is busy, try again", "zh-CN": "秒杀太火爆了，请稍后再试"}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


# --- time slots -----------------------------------------------------------------------------------

def seconds_of(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True)
class Slot:
    id: int
    name: str
    start: time
    end: time  # 00:00:00 = midnight
    status: CommonStatus = CommonStatus.ENABLED

    @property
    def start_s(self) -> int:
        return seconds_of(self.start)

    @property
    def end_s(self) -> int:
        return seconds_of(self.end) or DAY_SECONDS

    def contains(self, local: time) -> bool:
        return self.start_s <= seconds_of(local) < self.end_s

    def state(self, local: time) -> SlotState:
        now = seconds_of(local)
        if now >= self.end_s:
            return SlotState.ENDED
        return SlotState.ON if now >= self.start_s else SlotState.UPCOMING


def check_slot(start: time, end: time) -> None:
    if seconds_of(start) >= (seconds_of(end) or DAY_SECONDS):
        raise SlotInvalid()


def overlaps(a: Slot, b: Slot) -> bool:
    return a.start_s < b.end_s and b.start_s < a.end_s


def first_overlap(slot: Slot, others: Iterable[Slot]) -> Slot | None:
    """Slots may not overlap, whatever their status (a disabled slot can be enabled again)."""
    return next((other for other in others if other.id != slot.id and overlaps(slot, other)), None)


def current_slot(slots: Iterable[Slot], local: time) -> Slot | None:
    return next((s for s in sorted(slots, key=lambda s: s.start_s)
                 if s.status == CommonStatus.ENABLED and s.contains(local)), None)


# --- activities -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Terms:
    """What a purchase is checked against."""

    id: int
    name: str
    spu_id: int
    status: CommonStatus
    slot_ids: frozenset[int]
    start_date: date
    end_date: date
    user_limit: int  # 0 = no limit
    order_limit: int  # 0 = no limit
    business_id: int | None = None  # the owner: None = the platform


START_AFTER_END = Reason("START_AFTER_END", en="start_date is after end_date", zh="开始日期晚于结束日期")
NO_SLOT = Reason("NO_SLOT", en="at least one time slot is needed", zh="至少选择一个秒杀时段")
SKU_TWICE = Reason("SKU_TWICE", en="SKU {sku_id} appears twice", zh="SKU {sku_id} 重复出现")
ORDER_LIMIT_ABOVE_USER_LIMIT = Reason(
    "ORDER_LIMIT_ABOVE_USER_LIMIT", en="order_limit ({order_limit}) is above user_limit ({user_limit})",
    zh="单次限购（{order_limit} 件）不能超过每人限购（{user_limit} 件）")
SKU_HAS_SALES = Reason("SKU_HAS_SALES", en="SKU {sku_id} has sales and cannot be removed",
                       zh="SKU {sku_id} 已有售出，不能移除")


def check_activity(start_date: date, end_date: date, slot_ids: Sequence[int], skus: Sequence[int], *,
                   user_limit: int, order_limit: int) -> None:
    """Cross-field rules (bounds are the schema's): the first problem, naming its field."""
    if start_date > end_date:
        raise ActivityInvalid(reason=START_AFTER_END, field="end_date")
    if not slot_ids:
        raise ActivityInvalid(reason=NO_SLOT, field="slot_ids")
    twice = next((sku for n, sku in enumerate(skus) if sku in skus[:n]), None)
    if twice is not None:
        raise ActivityInvalid(reason=SKU_TWICE.with_(sku_id=twice), field="products")
    if user_limit and order_limit > user_limit:  # 0 = no limit
        raise ActivityInvalid(reason=ORDER_LIMIT_ABOVE_USER_LIMIT.with_(order_limit=order_limit,
                                                                      user_limit=user_limit), field="order_limit")


def dates_overlap(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    return a_start <= b_end and b_start <= a_end


def check_can_update(status: CommonStatus) -> None:
    if status != CommonStatus.ENABLED:
        raise ActivityClosed()


def check_can_close(status: CommonStatus) -> None:
    if status != CommonStatus.ENABLED:
        raise AlreadyClosed()


def check_can_delete(status: CommonStatus, end_date: date, today: date) -> None:
    if status == CommonStatus.ENABLED and end_date >= today:
        raise DeleteRefused()


def check_on_now(terms: Terms, slots: Iterable[Slot], local: datetime) -> Slot:
    """The activity is enabled, today is one of its dates and now is in one of its slots."""
    if terms.status != CommonStatus.ENABLED:
        raise ActivityClosed()
    if not terms.start_date <= local.date() <= terms.end_date:
        raise NotOnNow()
    slot = current_slot((s for s in slots if s.id in terms.slot_ids), local.time())
    if slot is None:
        raise NotOnNow()
    return slot


def check_order_limit(terms: Terms, count: int) -> None:
    if terms.order_limit and count > terms.order_limit:
        raise OrderLimitExceeded(limit=terms.order_limit)
