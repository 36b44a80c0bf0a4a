"""Errors of the cart service (the suite's tree: see shared/errors.py), each with a stable code and
its zh-CN and en messages. A malformed X-Device-Id is shared.auth's INVALID_DEVICE_ID."""

from __future__ import annotations

from shared.errors import DomainError, NotFound, RuleViolation


class CartFull(RuleViolation):
    code = "CART_TOO_MANY_LINES"
    messages = {"en": "A cart holds at most {limit} products: remove some first",
                "zh-CN": "购物车最多放 {limit} 种商品，请先删除一些"}


class QuantityOutOfRange(RuleViolation):
    code = "CART_QUANTITY_OUT_OF_RANGE"
    messages = {"en": "The quantity of a product must be {min} to {max} (got {quantity})",
                "zh-CN": "每种商品的数量须为 {min} 到 {max} 件（收到 {quantity}）"}


class LineNotFound(NotFound):
    code = "CART_LINE_NOT_FOUND"
    messages = {"en": "SKU {sku_id} is not in the cart", "zh-CN": "购物车中没有 SKU {sku_id}"}


class DeviceIdRequired(DomainError):
    """400: a cart needs an owner; an anonymous caller names its device, and a merge names the
    device cart to merge."""

    status = 400
    code = "CART_DEVICE_ID_REQUIRED"
    messages = {"en": "Send X-Device-Id (this device's cart) or log in",
                "zh-CN": "请登录，或在 X-Device-Id 中传入本设备的标识"}
