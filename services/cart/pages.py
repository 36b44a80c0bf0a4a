"""The cart page as plain data (CartPageOut's shape, serialized once: see shared.responses): the
lines with their price since added, priced by pricing's quote, or at plain prices when pricing
could not answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from services.cart import domain

NO_COUPONS = {"available": False, "usable": [], "unusable": [], "best_coupon_id": None, "best_discount": 0,
              "applied_coupon_id": None, "best_coupon_ids": [], "applied_coupon_ids": []}
NO_GRANTS = {"points": 0, "coupons": {}, "free_delivery": False}
TOTALS = ("original", "special", "discount", "member", "reward", "coupon", "points", "pay", "points_used",
          "points_spent", "points_granted")


class Line(Protocol):
    """A cart line as the page reads it (repository.page_lines' rows)."""

    sku_id: int
    spu_id: int
    category_id: int
    business_id: int | None
    quantity: int
    selected: bool
    unit_price: int
    added_price: int
    added_at: datetime
    updated_at: datetime


def quote_lines(lines: Sequence[Line]) -> list[dict[str, Any]]:
    """The cart as pricing's quote takes it, in the page's order (quote line i is page line i)."""
    return [{"sku_id": x.sku_id, "spu_id": x.spu_id, "category_id": x.category_id, "business_id": x.business_id,
             "unit_price": x.unit_price, "count": x.quantity, "selected": x.selected} for x in lines]


def count_of(lines: Sequence[Line]) -> dict[str, int]:
    return {"lines": len(lines), "quantity": sum(x.quantity for x in lines),
            "selected_lines": sum(1 for x in lines if x.selected)}


def _line(line: Line, locale: str, original: int, adjustments: list, pay: int) -> dict[str, Any]:
    change = domain.price_change(line.added_price, line.unit_price)
    return {"sku_id": line.sku_id, "spu_id": line.spu_id, "category_id": line.category_id,
            "business_id": line.business_id, "quantity": line.quantity, "selected": line.selected,
            "unit_price": line.unit_price, "added_price": line.added_price, "added_at": line.added_at,
            "updated_at": line.updated_at,
            "price_change": None if change is None else {"direction": change.direction.value, "amount": change.amount,
                                                         "text": change.text(locale)},
            "original_amount": original, "adjustments": adjustments, "pay_amount": pay}


def priced(lines: Sequence[Line], quote: dict[str, Any], locale: str) -> dict[str, Any]:
    """The page from pricing's answer to `quote_lines(lines)`."""
    page_lines = [_line(line, locale, q["original_amount"], q["adjustments"], q["pay_amount"])
                  for line, q in zip(lines, quote["lines"], strict=True)]
    totals = quote["totals"]
    return {"lines": page_lines, "shops": quote["shops"], "totals": {name: totals[name] for name in TOTALS},
            "promotions": quote["promotions"],
            "coupons": quote["coupons"], "grants": quote["grants"], "count": count_of(lines),
            "promotions_available": True, "notice": None, "notice_code": None}


def plain_shops(lines: Sequence[Line]) -> list[dict[str, Any]]:
    """The lines grouped by shop without promotions, in the order each shop's first line appears."""
    by_shop: dict[int | None, list[int]] = {}
    for index, line in enumerate(lines):
        by_shop.setdefault(line.business_id, []).append(index)
    return [{"business_id": shop, "line_indexes": indexes,
             "subtotal": domain.plain_total((lines[i].unit_price, lines[i].quantity, lines[i].selected)
                                            for i in indexes),
             "promotions": [], "hints": [], "coupons": [], "best_coupon_id": None, "applied_coupon_id": None,
             "free_delivery": False} for shop, indexes in by_shop.items()]


def plain(lines: Sequence[Line], locale: str, *, available: bool) -> dict[str, Any]:
    """The lines at their unit prices. `available` false: pricing could not be asked (the page
    says so); true: there was nothing to price (no line selected)."""
    total = domain.plain_total((x.unit_price, x.quantity, x.selected) for x in lines)
    page_lines = [_line(x, locale, x.unit_price * x.quantity, [], x.unit_price * x.quantity) for x in lines]
    notice = None if available else domain.PROMOTIONS_UNAVAILABLE
    return {"lines": page_lines, "shops": plain_shops(lines),
            "totals": {**dict.fromkeys(TOTALS, 0), "original": total, "pay": total},
            "promotions": [], "coupons": NO_COUPONS, "grants": NO_GRANTS, "count": count_of(lines),
            "promotions_available": available, "notice": notice and notice.render(locale),
            "notice_code": notice and notice.code}
