"""The event envelope and the contracts of the events this suite consumes.

Envelope (CloudEvents-shaped; JSON, UTF-8):

    {"id": "<uuid>", "type": "order.paid", "source": "mall-order",
     "time": "2026-11-22T10:00:00+08:00", "subject": "<order id>", "data": {...}}

The Kafka topic is the event type (`order.paid`), the message key is the subject (the order
or user id) so one aggregate's events stay ordered. `docs/events.md` documents the contracts
below for the mall's order and user systems.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=128)
    time: AwareDatetime
    subject: str = Field(min_length=1, max_length=128)
    data: dict[str, Any]


class InvalidEvent(ValueError):
    pass


def new_event(type: str, *, source: str, subject: str | int, data: BaseModel | dict[str, Any],
              time: datetime) -> Envelope:
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    return Envelope(id=str(uuid.uuid4()), type=type, source=source, time=time,
                    subject=str(subject), data=payload)


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


def decode(raw: bytes | None) -> Envelope:
    try:
        return Envelope.model_validate_json(raw or b"")
    except (ValidationError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(str(exc)) from exc


# --- Contracts of consumed events -----------------------------------------------------------

class Contract(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class OrderType(StrEnum):
    NORMAL = "normal"
    SECKILL = "seckill"
    BARGAIN = "bargain"
    GROUPBUY = "groupbuy"
    POINTS = "points"


class OrderItem(Contract):
    sku_id: int = Field(gt=0)
    spu_id: int = Field(gt=0)
    count: int = Field(gt=0)
    pay_price: int = Field(ge=0, description="what the buyer paid for this line, fen")


class OrderPaid(Contract):
    """`order.paid`: the order service took the buyer's money."""

    order_id: int = Field(gt=0)
    user_id: int = Field(gt=0)
    order_type: OrderType = OrderType.NORMAL
    pay_price: int = Field(ge=0, description="total paid, fen")
    paid_at: AwareDatetime
    items: list[OrderItem] = Field(min_length=1)
    pricing_snapshot_id: str | None = Field(default=None, description="from /internal/pricing/checkout")
    give_coupons: dict[int, int] = Field(default_factory=dict, description="{template_id: count} to grant")
    give_points: int = Field(default=0, ge=0)


class CancelReason(StrEnum):
    PAY_TIMEOUT = "pay_timeout"
    MEMBER_CANCEL = "member_cancel"
    ADMIN_CANCEL = "admin_cancel"
    AFTER_SALE_CLOSE = "after_sale_close"
    GROUPBUY_CLOSE = "groupbuy_close"


class OrderCancelled(Contract):
    """`order.cancelled`: the order will never be (or no longer is) paid; release its holds."""

    order_id: int = Field(gt=0)
    user_id: int = Field(gt=0)
    cancelled_at: AwareDatetime
    reason: CancelReason = CancelReason.MEMBER_CANCEL
    paid: bool = Field(default=False, description="true when it was paid before (a refund follows)")


class UserRegistered(Contract):
    """`user.registered`: a new member account exists."""

    user_id: int = Field(gt=0)
    registered_at: AwareDatetime
    nickname: str | None = Field(default=None, max_length=64)
    channel: str | None = Field(default=None, max_length=32, description="app, h5, mini-program...")


CONTRACTS: dict[str, type[Contract]] = {
    "order.paid": OrderPaid,
    "order.cancelled": OrderCancelled,
    "user.registered": UserRegistered,
}


def parse_data(envelope: Envelope) -> Contract:
    contract = CONTRACTS.get(envelope.type)
    if contract is None:
        raise InvalidEvent(f"no contract for event type {envelope.type!r}")
    try:
        return contract.model_validate(envelope.data)
    except ValidationError as exc:
        raise InvalidEvent(str(exc)) from exc
