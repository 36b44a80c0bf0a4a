"""The points mall rules: an activity's own rules, its lifecycle, and an exchange of one SKU.
Pure: plain values and the time in, a value or a domain error out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.points.domain.errors import (
    ActivityClosed,
    ActivityInvalid,
    AlreadyClosed,
    DeleteRefused,
    Ended,
    LimitExceeded,
    NotStarted,
    SoldOut,
)
from services.points.domain.model import ProductDraft, Terms
from shared.errors import Reason
from shared.lifecycle import Lifecycle

START_NOT_BEFORE_END = Reason("START_NOT_BEFORE_END", en="start_at must be before end_at",
                              zh="开始时间必须早于结束时间")
NO_PRODUCTS = Reason("NO_PRODUCTS", en="at least one SKU is needed", zh="至少需要一个商品规格")
DUPLICATE_SKU = Reason("DUPLICATE_SKU", en="SKU {sku_id} is listed twice", zh="商品规格 {sku_id} 重复")
POINTS_NOT_POSITIVE = Reason("POINTS_NOT_POSITIVE", en="SKU {sku_id}: points must be above 0",
                             zh="商品规格 {sku_id} 所需积分必须大于 0")
PRICE_NEGATIVE = Reason("PRICE_NEGATIVE", en="SKU {sku_id}: the cash price cannot be negative",
                        zh="商品规格 {sku_id} 所需金额不能为负数")
STOCK_NEGATIVE = Reason("STOCK_NEGATIVE", en="SKU {sku_id}: stock cannot be negative",
                        zh="商品规格 {sku_id} 库存不能为负数")
LIMIT_NOT_POSITIVE = Reason("LIMIT_NOT_POSITIVE", en="SKU {sku_id}: the per-user limit must be at least 1",
                            zh="商品规格 {sku_id} 每人限兑数量至少为 1")
STOCK_BELOW_TAKEN = Reason(
    "STOCK_BELOW_TAKEN", en="SKU {sku_id}: stock {stock} is below the {taken} units already held or sold",
    zh="商品规格 {sku_id} 库存 {stock} 少于已占用或已售出的 {taken} 件")
SKU_HAS_ORDERS = Reason("SKU_HAS_ORDERS", en="SKU {sku_id} has held or sold units and cannot be removed",
                        zh="商品规格 {sku_id} 已有占用或售出，不能移除")


def check_activity(start_at: datetime, end_at: datetime, products: Sequence[ProductDraft]) -> None:
    """The activity's own rules; each refusal names the field at fault (`field`)."""
    if start_at >= end_at:
        raise ActivityInvalid(reason=START_NOT_BEFORE_END, field="end_at")
    if not products:
        raise ActivityInvalid(reason=NO_PRODUCTS, field="products")
    seen: set[int] = set()
    for index, product in enumerate(products):
        field, sku = f"products[{index}]", {"sku_id": product.sku_id}
        if product.sku_id in seen:
            raise ActivityInvalid(reason=DUPLICATE_SKU.with_(**sku), field=f"{field}.sku_id")
        seen.add(product.sku_id)
        if product.points <= 0:
            raise ActivityInvalid(reason=POINTS_NOT_POSITIVE.with_(**sku), field=f"{field}.points")
        if product.price < 0:
            raise ActivityInvalid(reason=PRICE_NEGATIVE.with_(**sku), field=f"{field}.price")
        if product.stock < 0:
            raise ActivityInvalid(reason=STOCK_NEGATIVE.with_(**sku), field=f"{field}.stock")
        if product.limit_count < 1:
            raise ActivityInvalid(reason=LIMIT_NOT_POSITIVE.with_(**sku), field=f"{field}.limit_count")


def stock_left(sku_id: int, offered: int, taken: int, index: int = 0) -> int:
    """A product's stock left when its operator offers `offered` units while `taken` are held or
    sold: never below what is taken (nothing held or sold is taken back by an edit)."""
    if offered < taken:
        raise ActivityInvalid(reason=STOCK_BELOW_TAKEN.with_(sku_id=sku_id, stock=offered, taken=taken),
                              field=f"products[{index}].stock")
    return offered - taken


def check_can_remove(sku_id: int, taken: int) -> None:
    if taken > 0:
        raise ActivityInvalid(reason=SKU_HAS_ORDERS.with_(sku_id=sku_id), field="products")


LIFECYCLE = Lifecycle(closed=ActivityClosed, already_closed=AlreadyClosed, delete_refused=DeleteRefused,
                      not_started=NotStarted, ended=Ended)
check_can_update, check_can_close = LIFECYCLE.check_can_update, LIFECYCLE.check_can_close
check_can_delete = LIFECYCLE.check_can_delete


def check_running(terms: Terms, now: datetime) -> None:
    LIFECYCLE.check_running(terms.status, terms.start_at, terms.end_at, now)


def remaining_for_user(limit_count: int, held: int, bought: int) -> int:
    """Units of the SKU the user may still exchange (never negative: a lowered limit leaves 0)."""
    return max(limit_count - held - bought, 0)


def check_exchange(*, sku_id: int, count: int, stock: int, limit_count: int, held: int, bought: int) -> None:
    """`count` units for one user: within the per-user limit (what they hold and bought counted),
    and within the stock left. The database guards the same two conditions again when it takes them."""
    remaining = remaining_for_user(limit_count, held, bought)
    if count > remaining:
        raise LimitExceeded(sku_id=sku_id, limit=limit_count, remaining=remaining)
    if count > stock:
        raise SoldOut(sku_id=sku_id)
