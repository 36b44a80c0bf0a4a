"""Cart rules. Pure: plain values in, a decision or a domain error out.

A cart belongs to a buyer: a device (anonymous, by its X-Device-Id) or a member. It holds one
line per SKU; a line keeps the unit price the buyer saw when adding it (`added_price`) and the
last price the app sent (`unit_price`), so the page can say how the price moved since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.cart.errors import CartFull, QuantityOutOfRange
from shared.errors import Reason
from shared.money import format_yuan

MAX_LINES = 100  # products (SKUs) in one cart
MIN_QUANTITY = 1
MAX_QUANTITY = 999  # of one SKU in one cart


@dataclass(frozen=True)
class Owner:
    """Whose cart: a member's (`user_id`) or an anonymous device's (`device_id`), never both."""

    user_id: int | None = None
    device_id: str | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.device_id is None):
            raise ValueError("a cart belongs to a member or to a device")


# --- quantities and the line limit ----------------------------------------------------------

def check_quantity(quantity: int) -> None:
    """What a buyer may ask for one SKU, in an add or a quantity change."""
    if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        raise QuantityOutOfRange(quantity=quantity, min=MIN_QUANTITY, max=MAX_QUANTITY)


def check_room(line_count: int) -> None:
    """A new SKU may join a cart holding fewer than MAX_LINES lines."""
    if line_count >= MAX_LINES:
        raise CartFull(limit=MAX_LINES)


@dataclass(frozen=True)
class Added:
    quantity: int
    capped: bool  # the sum went past MAX_QUANTITY and stopped there


def add_quantity(current: int, more: int) -> Added:
    """Adding `more` of a SKU the cart holds `current` of (0: a new line): the sum, at most
    MAX_QUANTITY (adding never fails on a full line, it stops at the cap and says so)."""
    check_quantity(more)
    total = current + more
    return Added(min(total, MAX_QUANTITY), total > MAX_QUANTITY)


# --- merge on login ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LineState:
    sku_id: int
    quantity: int
    selected: bool
    added_at: datetime


@dataclass(frozen=True)
class Raised:
    """A member line the device's line of the same SKU adds to."""

    sku_id: int
    quantity: int
    selected: bool


@dataclass(frozen=True)
class MergePlan:
    raised: tuple[Raised, ...]  # member lines of a SKU the device had too
    moved: tuple[int, ...]  # device SKUs that become member lines
    left: tuple[int, ...]  # device SKUs that stay on the device: the member cart is full

    @property
    def taken(self) -> tuple[int, ...]:
        """Device SKUs that leave the device cart."""
        return tuple(r.sku_id for r in self.raised) + self.moved


def merge_line(member: LineState, device: LineState) -> Raised:
    """Quantities add up to at most MAX_QUANTITY; selected in either stays selected."""
    return Raised(member.sku_id, min(member.quantity + device.quantity, MAX_QUANTITY),
                  member.selected or device.selected)


def plan_merge(member: Mapping[int, LineState], device: Sequence[LineState], member_line_count: int) -> MergePlan:
    """The device cart into the member's. `member`: the member's lines of the device's SKUs;
    `member_line_count`: all of the member's lines. A SKU both have adds up; the others move
    while the member cart has room, the most recently added first; the rest stay on the device
    (nothing is dropped: a later merge, once there is room, moves them)."""
    raised = tuple(merge_line(member[line.sku_id], line) for line in device if line.sku_id in member)
    new = sorted((line for line in device if line.sku_id not in member), key=lambda x: (x.added_at, x.sku_id),
                 reverse=True)
    room = max(0, MAX_LINES - member_line_count)
    return MergePlan(raised, tuple(line.sku_id for line in new[:room]), tuple(line.sku_id for line in new[room:]))


# --- order.paid --------------------------------------------------------------------------------

def after_purchase(held: Mapping[int, int], bought: Iterable[tuple[int, int]]) -> dict[int, int]:
    """What is left of each cart line an order bought: {sku_id: quantity left}, 0 when the line
    leaves. `held`: the cart's quantity per SKU; `bought`: (sku_id, count) per order item (a SKU
    may come in several items). SKUs the cart does not hold are not in the answer."""
    counts: dict[int, int] = {}
    for sku_id, count in bought:
        counts[sku_id] = counts.get(sku_id, 0) + count
    return {sku_id: max(0, held[sku_id] - count) for sku_id, count in counts.items() if sku_id in held}


# --- expiry ------------------------------------------------------------------------------------

def device_carts_expire_before(now: datetime, ttl_days: int) -> datetime:
    """A device cart unchanged since before this is expired."""
    return now - timedelta(days=ttl_days)


# --- the page ----------------------------------------------------------------------------------

class Direction(StrEnum):
    DOWN = "down"
    UP = "up"


PRICE_DOWN = Reason("PRICE_DOWN", en="¥{amount} cheaper than when added", zh="比加入时降价 ¥{amount}")
PRICE_UP = Reason("PRICE_UP", en="¥{amount} more than when added", zh="比加入时涨价 ¥{amount}")
PROMOTIONS_UNAVAILABLE = Reason("PROMOTIONS_UNAVAILABLE", en="Promotions are unavailable right now: plain prices "
                                "are shown", zh="优惠信息暂时无法获取，以下为商品原价")


@dataclass(frozen=True)
class PriceChange:
    direction: Direction
    amount: int  # fen, > 0

    def text(self, locale: str) -> str:
        reason = PRICE_DOWN if self.direction is Direction.DOWN else PRICE_UP
        return reason.with_(amount=format_yuan(self.amount)).render(locale)


def price_change(added_price: int, unit_price: int) -> PriceChange | None:
    """How the unit price moved since the line was added; None when it did not."""
    if unit_price < added_price:
        return PriceChange(Direction.DOWN, added_price - unit_price)
    if unit_price > added_price:
        return PriceChange(Direction.UP, unit_price - added_price)
    return None


def plain_total(lines: Iterable[tuple[int, int, bool]]) -> int:
    """(unit_price, quantity, selected) per line: what the selected lines cost without promotions."""
    return sum(unit_price * quantity for unit_price, quantity, selected in lines if selected)
