"""Tables owned by the cart service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigId, UTCDateTime, make_metadata
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


class Cart(Base):
    """One cart per owner: a member (`user_id`) or an anonymous device (`device_id`). Every change
    of a cart's lines first locks this row, so one cart's writers run one after the other."""

    __tablename__ = "cart_cart"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the last change: device carts expire by it

    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (device_id IS NULL)", name="one_owner"),
                      Index(None, "updated_at"))


class Line(Base):
    """One SKU in one cart (the seed's mall_cart_goods_device, for devices and members alike)."""

    __tablename__ = "cart_line"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cart_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cart_cart.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(BigInteger)
    spu_id: Mapped[int] = mapped_column(BigInteger)
    category_id: Mapped[int] = mapped_column(BigInteger)
    business_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the shop; none: the platform's
    quantity: Mapped[int] = mapped_column(Integer)
    added_price: Mapped[int] = mapped_column(BigInteger)  # fen, the unit price the buyer saw when adding it
    unit_price: Mapped[int] = mapped_column(BigInteger)  # fen, the last unit price the app sent
    selected: Mapped[bool] = mapped_column(Boolean)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("cart_id", "sku_id"),)


class PaidOrder(Base):
    """Orders whose bought lines already left their member's cart: `order.paid` removes them once
    per order, even when the order service republishes the event with a new id."""

    __tablename__ = "cart_paid_order"

    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger)
    lines_changed: Mapped[int] = mapped_column(Integer)  # cart lines reduced or removed
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())


outbox = outbox_table(Base.metadata, "cart")
inbox = inbox_table(Base.metadata, "cart")
