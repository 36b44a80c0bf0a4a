"""Tables owned by the pricing service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigId, UTCDateTime, make_metadata
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


class ActivityColumns:
    business_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)  # None: the platform's
    name: Mapped[str] = mapped_column(String(50))
    status: Mapped[int] = mapped_column(SmallInteger)  # CommonStatus: DISABLED = closed for good
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    remark: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DiscountActivity(ActivityColumns, Base):
    """限时折扣: per-SKU prices for a time window."""

    __tablename__ = "pricing_discount_activity"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)

    __table_args__ = (Index(None, "status", "end_at"),)


class DiscountProduct(Base):
    __tablename__ = "pricing_discount_product"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("pricing_discount_activity.id", ondelete="CASCADE"))
    spu_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(BigInteger, index=True)
    discount_type: Mapped[int] = mapped_column(SmallInteger)
    amount_off: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # fen off each unit
    pay_bp: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 8500 = pay 85%

    __table_args__ = (UniqueConstraint("activity_id", "sku_id"),)


class RewardActivity(ActivityColumns, Base):
    """满减送: levels of spend-and-save over a product scope."""

    __tablename__ = "pricing_reward_activity"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    condition_type: Mapped[int] = mapped_column(SmallInteger)
    product_scope: Mapped[int] = mapped_column(SmallInteger)
    product_scope_values: Mapped[list[int]] = mapped_column(JSON)
    # [{threshold, amount_off, free_delivery, points, coupons: {template_id: count}}], ascending
    levels: Mapped[list[dict]] = mapped_column(JSON)

    __table_args__ = (Index(None, "status", "end_at"),)


class Mutex(Base):
    """One row per activity kind ("discount", "reward"). Every write of that kind bumps its version
    (quotes reload the kind's promotions when it changes: catalog.py), which also locks the row, so
    conflict checks of one kind run one after the other."""

    __tablename__ = "pricing_mutex"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Checkout(Base):
    """One order's checkout: the request, the promotions it used, the priced result and the holds
    placed for it. Keyed by order id, so a retried checkout finds it."""

    __tablename__ = "pricing_checkout"

    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    snapshot_id: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[int] = mapped_column(SmallInteger)  # CheckoutStatus
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the request
    request: Mapped[dict] = mapped_column(JSON)
    offers: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the promotions' terms, as priced
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    holds: Mapped[list[dict]] = mapped_column(JSON)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


outbox = outbox_table(Base.metadata, "pricing")
inbox = inbox_table(Base.metadata, "pricing")
